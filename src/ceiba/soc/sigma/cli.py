"""``ceiba soc scan``: hunt over files with Sigma rules (what Chainsaw/Hayabusa/Zircolite do).

``main(["scan", PATH..., "--rules", DIR, ...])`` returns the exit status: 0 when the run completed
(whether or not anything matched), 2 on usage errors. Skipped rules and events are listed on
stderr with file and line, and counted in the summary.
"""

from __future__ import annotations

import argparse
import csv
import json
import multiprocessing
import sys
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from tqdm import tqdm

from ceiba.soc.sigma.engine import Engine
from ceiba.soc.sigma.errors import Problem
from ceiba.soc.sigma.reader import iter_paths, read_events
from ceiba.soc.sigma.rules import LEVEL_RANK, LEVELS, load_rules

_MAX_PROBLEMS_SHOWN = 50


@dataclass
class _FileResult:
    events: int = 0
    evaluations: int = 0
    matches: list[dict[str, Any]] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ceiba soc", description="Sigma detection over files.")
    sub = parser.add_subparsers(dest="command", required=True)
    scan = sub.add_parser("scan", help="evaluate Sigma rules over event files")
    scan.add_argument("paths", nargs="+", metavar="PATH", help="files or folders of events")
    scan.add_argument(
        "--rules", action="append", required=True, metavar="DIR", help="rule file or folder"
    )
    scan.add_argument("--format", choices=("table", "json", "csv"), default="table")
    scan.add_argument("--min-level", choices=LEVELS, default=None)
    scan.add_argument("--jobs", type=int, default=1, help="worker processes (default 1)")
    scan.add_argument("--no-progress", action="store_true", help="no progress bar")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(list(argv) if argv is not None else None)
    except SystemExit as e:
        return int(e.code or 0)
    if args.command == "scan":
        return _scan(args, sys.stdout, sys.stderr)
    return 2  # pragma: no cover - argparse enforces the sub-command


def _scan(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    if args.jobs < 1:
        err.write("--jobs must be at least 1\n")
        return 2
    missing = [p for p in [*args.rules, *args.paths] if not Path(p).exists()]
    if missing:
        err.write(f"no such file or folder: {', '.join(missing)}\n")
        return 2
    ruleset = load_rules(args.rules)
    min_rank = LEVEL_RANK[args.min_level] if args.min_level else -1
    files = [str(p) for p in iter_paths(args.paths)]
    started = time.perf_counter()
    results: list[_FileResult] = []
    progress = tqdm(
        total=len(files), unit="file", disable=args.no_progress or len(files) < 2, file=err
    )
    if args.jobs == 1:
        engine = Engine(ruleset.rules)
        for f in files:
            results.append(_scan_file(engine, f, min_rank))
            progress.update()
    else:
        ctx = multiprocessing.get_context("spawn")
        with ctx.Pool(args.jobs, initializer=_init_worker, initargs=(args.rules,)) as pool:
            for res in pool.imap(_worker_scan, [(f, min_rank) for f in files]):
                results.append(res)
                progress.update()
    progress.close()
    elapsed = time.perf_counter() - started
    matches = [m for r in results for m in r.matches]
    _write_matches(matches, args.format, out)
    problems = ruleset.problems + [p for r in results for p in r.problems]
    for p in problems[:_MAX_PROBLEMS_SHOWN]:
        err.write(f"skipped: {p}\n")
    if len(problems) > _MAX_PROBLEMS_SHOWN:
        err.write(f"... and {len(problems) - _MAX_PROBLEMS_SHOWN} more\n")
    events = sum(r.events for r in results)
    evaluations = sum(r.evaluations for r in results)
    by_level = Counter(m["level"] or "none" for m in matches)
    by_rule = Counter(f"{m['title']} ({m['rule_id']})" for m in matches)
    err.write(
        f"rules: {len(ruleset.rules)} loaded, {ruleset.skipped} skipped "
        f"{dict(ruleset.skipped_by_code())} in {ruleset.seconds:.1f}s\n"
        f"events: {events} from {len(files)} files, "
        f"{sum(len(r.problems) for r in results)} skipped or flagged items, "
        f"{events / elapsed if elapsed else 0:.0f} events/s, "
        f"{evaluations / events if events else 0:.1f} rules evaluated per event\n"
        f"matches: {len(matches)}; by level: {dict(by_level)}\n"
    )
    for name, n in by_rule.most_common(20):
        err.write(f"  {n:6d}  {name}\n")
    return 0


_worker_engine: Engine | None = None


def _init_worker(rule_paths: list[str]) -> None:
    global _worker_engine
    _worker_engine = Engine(load_rules(rule_paths).rules)


def _worker_scan(job: tuple[str, int]) -> _FileResult:
    assert _worker_engine is not None
    return _scan_file(_worker_engine, *job)


def _scan_file(engine: Engine, path: str, min_rank: int) -> _FileResult:
    res = _FileResult()
    before = engine.stats.evaluations
    for item in read_events(path):
        if isinstance(item, Problem):
            # An encoding problem is followed by its event, decoded with replacement.
            res.problems.append(item)
            continue
        res.events += 1
        for rule in engine.match(item.profile, item.fields):
            if LEVEL_RANK.get(rule.level or "", -1) < min_rank:
                continue
            res.matches.append(
                {
                    "timestamp": _timestamp(item.fields),
                    "rule_id": rule.id,
                    "title": rule.title,
                    "level": rule.level,
                    "author": rule.author,
                    "tags": ",".join(rule.attack_tags),
                    "source": item.source,
                    "line": item.line,
                    "event": item.fields,
                }
            )
    res.evaluations = engine.stats.evaluations - before
    return res


def _timestamp(fields: dict[str, Any]) -> str:
    for key in ("@timestamp", "TimeCreated", "UtcTime", "EventTime", "timestamp", "date"):
        v = fields.get(key)
        if v is not None:
            return str(v)
    return ""


def _write_matches(matches: list[dict[str, Any]], fmt: str, out: TextIO) -> None:
    if fmt == "json":
        for m in matches:
            out.write(json.dumps(m, default=str, ensure_ascii=False) + "\n")
        return
    columns = ["timestamp", "level", "title", "rule_id", "author", "tags", "source", "line"]
    if fmt == "csv":
        writer = csv.writer(out)
        writer.writerow(columns)
        for m in matches:
            writer.writerow([m[c] for c in columns])
        return
    for line in _table(matches, columns):
        out.write(line + "\n")


def _table(matches: list[dict[str, Any]], columns: list[str]) -> Iterator[str]:
    rows = [[_cell(m[c]) for c in columns] for m in matches]
    widths = [max([len(c), *(len(r[i]) for r in rows)]) for i, c in enumerate(columns)]
    yield "  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True))
    for r in rows:
        yield "  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True))


def _cell(v: Any) -> str:
    text = "" if v is None else str(v)
    return text if len(text) <= 80 else text[:77] + "..."

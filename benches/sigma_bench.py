"""Sigma engine benchmark: all SigmaHQ ``rules/`` over the OTRF atomic Windows events, one core.

Reports, next to pySigma's SQLite backend configured as Zircolite configures it (log-source
conditions added by a processing pipeline, events in an in-memory ``TEXT COLLATE NOCASE`` table):
events/s per core (matching only: JSON parsing, rule conversion and table inserts are reported
separately), rules evaluated per event, rule-set load time and peak memory.

    python benches/sigma_bench.py [--limit N] [--agreement]

``--limit`` caps the number of events (default: all); ``--agreement`` also compares the match sets
with the backend routed like the engine (as the agreement test does on a subset).
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from ceiba.soc.sigma import Engine, Event, Problem, load_rules, read_events  # noqa: E402
from ceiba.soc.sigma.logsource import SourceProfile  # noqa: E402
from ceiba.soc.sigma.rules import rule_files  # noqa: E402


def shared_data() -> Path:
    env = os.environ.get("CEIBA_SHARED_DATA")
    return Path(env) if env else (ROOT.parent / "shared" / "data").resolve()


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--limit", type=int, default=0, help="max events (0: all)")
    parser.add_argument("--agreement", action="store_true")
    parser.add_argument("--no-sqlite", action="store_true")
    args = parser.parse_args()
    data = shared_data()
    rules_dir = data / "sigma" / "rules"
    otrf = data / "events" / "otrf-atomic-windows"
    if not rules_dir.exists() or not otrf.exists():
        print(f"shared data missing under {data} (set CEIBA_SHARED_DATA)")
        return 1

    t0 = time.perf_counter()
    ruleset = load_rules([rules_dir])
    load_s = time.perf_counter() - t0
    mem_rules = peak_mb()
    print(f"rules: {len(ruleset.rules)} loaded, {ruleset.skipped} skipped in {load_s:.2f}s")

    t0 = time.perf_counter()
    events: list[tuple[SourceProfile, dict[str, Any]]] = []
    problems: Counter[str] = Counter()
    for path in sorted(otrf.glob("*.zip")):
        for item in read_events(path):
            if isinstance(item, Problem):
                problems[item.code.value] += 1
            elif isinstance(item, Event):
                events.append((item.profile, item.fields))
        if args.limit and len(events) >= args.limit:
            del events[args.limit :]
            break
    read_s = time.perf_counter() - t0
    print(f"events: {len(events)} read+normalized in {read_s:.1f}s; problems {dict(problems)}")

    engine = Engine(ruleset.rules)
    t0 = time.perf_counter()
    ours: set[tuple[int, str]] = set()
    for i, (profile, ev) in enumerate(events):
        for rule in engine.match(profile, ev):
            ours.add((i, rule.id))
    match_s = time.perf_counter() - t0
    eps = len(events) / match_s
    print(
        f"ceiba: {eps:,.0f} events/s, {engine.stats.rules_per_event:.2f} rules evaluated/event, "
        f"{len(ours)} matches, {match_s:.1f}s, peak RSS {peak_mb():.0f} MB "
        f"(after rule load {mem_rules:.0f} MB)"
    )
    if args.no_sqlite:
        return 0

    from sigma.backends.sqlite import sqliteBackend

    from ceiba.soc.sigma.sqlite_reference import (
        _run,
        build_table,
        parse_rules,
        reference_matches,
        zircolite_pipeline,
    )

    texts = [p.read_text() for p in rule_files([rules_dir])]
    t0 = time.perf_counter()
    backend = sqliteBackend(processing_pipeline=zircolite_pipeline())
    sigma_rules = parse_rules(texts)
    queries: list[tuple[str, str]] = []
    unconverted = 0
    for srule in sigma_rules:
        try:
            queries.extend((str(srule.id), q) for q in backend.convert_rule(srule))
        except Exception:
            unconverted += 1
    convert_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    db = build_table(events, {})
    insert_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    sql_matches = 0
    failed = 0
    for _rid, q in queries:
        try:
            sql_matches += len(_run(db, q.replace("SELECT *", "SELECT _row", 1)))
        except Exception:
            failed += 1
    query_s = time.perf_counter() - t0
    sql_eps = len(events) / query_s
    print(
        f"sqlite (zircolite-style): {sql_eps:,.0f} events/s, {sql_matches} matches, "
        f"{len(queries)} queries ({unconverted} rules not converted, {failed} failed); "
        f"convert {convert_s:.1f}s, insert {insert_s:.1f}s, match {query_s:.1f}s"
    )
    print(f"speed-up: {eps / sql_eps:.1f}x")
    db.close()

    if args.agreement:
        # Conversion with a pipeline mutates the rules (added conditions): parse them afresh.
        run = reference_matches(parse_rules(texts), events)
        excluded = set(run.unconverted) | set(run.failed)
        mine = {m for m in ours if m[1] not in excluded}
        print(
            f"agreement: ceiba {len(mine)} / sqlite {len(run.matches)} matches; "
            f"only ceiba {len(mine - run.matches)}, only sqlite {len(run.matches - mine)}; "
            f"excluded rules {len(excluded)}"
        )
        for rid, n in Counter(r for _, r in mine ^ run.matches).most_common(20):
            print(f"  differs: {rid} x{n}")

    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

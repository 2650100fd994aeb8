"""Sigma engine benchmark: all SigmaHQ ``rules/`` over the OTRF atomic Windows events, one core.

Reports, next to pySigma's SQLite backend configured as Zircolite configures it (log-source
conditions added by a processing pipeline, events in an in-memory ``TEXT COLLATE NOCASE`` table):
events/s per core (matching only: JSON parsing, rule conversion and table inserts are reported
separately), rules evaluated per event, rule-set load time and peak memory. Events/s per core is
events over the process's CPU time (the machine may be shared); wall-clock rates are printed too.

    python benches/sigma_bench.py [--limit N] [--sqlite-limit N] [--agreement] [--no-sqlite]

``--limit`` caps the number of events (default: all); ``--sqlite-limit`` runs the SQLite peer on
the first N of them only; ``--agreement`` also compares the match sets with the backend routed
like the engine (as the agreement test does on a subset).
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
from ceiba.soc.sigma.sqlite_reference import UNMAPPED  # noqa: E402


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
    parser.add_argument(
        "--sqlite-limit", type=int, default=0, help="run the SQLite peer on the first N events"
    )
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
    t0, c0 = time.perf_counter(), time.process_time()
    ours: set[tuple[int, str]] = set()
    for i, (profile, ev) in enumerate(events):
        for rule in engine.match(profile, ev):
            ours.add((i, rule.id))
    match_s, match_cpu = time.perf_counter() - t0, time.process_time() - c0
    eps, eps_cpu = len(events) / match_s, len(events) / match_cpu
    print(
        f"ceiba ({engine.scanner}): {eps_cpu:,.0f} events/s per core (CPU time; "
        f"{eps:,.0f} wall-clock), {engine.stats.rules_per_event:.2f} rules evaluated/event, "
        f"{len(ours)} matches, {match_s:.1f}s wall / {match_cpu:.1f}s CPU, "
        f"peak RSS {peak_mb():.0f} MB (after rule load {mem_rules:.0f} MB)"
    )
    if args.no_sqlite:
        return 0

    from ceiba.soc.sigma.sqlite_reference import parse_rules, reference_matches, zircolite_matches

    texts = [p.read_text() for p in rule_files([rules_dir])]
    peer_events = events[: args.sqlite_limit] if args.sqlite_limit else events
    run = zircolite_matches(parse_rules(texts), peer_events)
    sql_eps = len(peer_events) / run.query_seconds
    sql_eps_cpu = len(peer_events) / run.query_cpu_seconds
    unmapped = sum(1 for reason in run.unconverted.values() if reason == UNMAPPED)
    print(
        f"sqlite (zircolite-style) on {len(peer_events)} events: {sql_eps_cpu:,.0f} events/s "
        f"per core (CPU time; {sql_eps:,.0f} wall-clock), {len(run.matches)} matches, "
        f"{run.queries} queries ({unmapped} rules not for Windows log sources, "
        f"{len(run.unconverted) - unmapped} not convertible, {len(run.failed)} failed); "
        f"convert {run.convert_seconds:.1f}s, insert {run.insert_seconds:.1f}s, "
        f"match {run.query_seconds:.1f}s wall / {run.query_cpu_seconds:.1f}s CPU"
    )
    print(f"speed-up: {eps_cpu / sql_eps_cpu:.1f}x (CPU time), {eps / sql_eps:.1f}x (wall-clock)")

    if args.agreement:
        # Conversion with a pipeline mutates the rules (added conditions): parse them afresh.
        # The routed comparison is cheap (an index on the route): it covers every event.
        routed = reference_matches(parse_rules(texts), events)
        excluded = set(routed.unconverted) | set(routed.failed)
        mine = {m for m in ours if m[1] not in excluded}
        routed_part = {m for m in routed.matches if m[0] < len(peer_events)}
        print(
            f"agreement on {len(events)} events: ceiba {len(mine)} / sqlite routed "
            f"{len(routed.matches)} matches; only ceiba {len(mine - routed.matches)}, only routed "
            f"{len(routed.matches - mine)}; excluded rules {len(excluded)}: "
            + ", ".join(
                f"{rid} ({reason[:40]})" for rid, reason in sorted(routed.unconverted.items())
            )
        )
        print(
            f"zircolite-style on its {len(peer_events)} events: {len(run.matches)} matches, routed "
            f"{len(routed_part)}; identical: {run.matches == routed_part}"
        )
        diffs = Counter(r for _, r in mine ^ routed.matches)
        diffs.update(r for _, r in run.matches ^ routed_part)
        for rid, n in diffs.most_common(20):
            print(f"  differs: {rid} x{n}")

    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Agreement with pySigma's SQLite backend (Zircolite's engine) on OTRF events, same routing.

Subset (fixed, to stay within the test budget): all SigmaHQ ``rules/`` over the two OTRF
recordings in ``SUBSET`` (6,320 events). The full corpus comparison runs in
``benches/sigma_bench.py --agreement``.
Excluded: rules the backend cannot convert (keyword rules) or run; listed in docs/soc.md.
"""

from __future__ import annotations

import pytest

from ceiba.soc.sigma import Engine, Event, load_rules, read_events
from ceiba.soc.sigma.rules import rule_files

from .conftest import require, shared_data, sigma_data

SUBSET = (
    "collection__host__msf_record_mic.zip",
    "credential_access__host__cmd_lsass_memory_dumpert_syscalls.zip",
)


@pytest.mark.slow
def test_matches_equal_sqlite_backend_on_otrf_subset() -> None:
    pytest.importorskip("sigma.backends.sqlite", reason="needs the dev extra")
    from ceiba.soc.sigma.sqlite_reference import parse_rules, reference_matches

    rules_dir = require(sigma_data() / "rules")
    otrf = require(shared_data() / "events" / "otrf-atomic-windows")
    # given
    ruleset = load_rules([rules_dir])
    events = [
        (e.profile, e.fields)
        for name in SUBSET
        for e in read_events(otrf / name)
        if isinstance(e, Event)
    ]
    # when
    engine = Engine(ruleset.rules)
    ours = {(i, r.id) for i, (p, ev) in enumerate(events) for r in engine.match(p, ev)}
    run = reference_matches(parse_rules(p.read_text() for p in rule_files([rules_dir])), events)
    # then
    excluded = set(run.unconverted) | set(run.failed)
    assert all("Keyword search" in reason for reason in run.unconverted.values())
    assert not run.failed, run.failed
    assert len(events) == 6320
    assert {m for m in ours if m[1] not in excluded} == run.matches
    assert run.matches  # the subset does contain detections

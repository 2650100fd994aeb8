"""Agreement with pySigma's SQLite backend (Zircolite's engine) on OTRF events.

Subset (fixed, to stay within the test budget): all SigmaHQ ``rules/`` over the two OTRF
recordings in ``SUBSET`` (6,320 events). The full corpus comparison runs in
``benches/sigma_bench.py --agreement``.
Excluded: rules the backend cannot convert (keyword rules) or run; listed in docs/soc.md.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ceiba.soc.sigma import Engine, Event, load_rules, read_events
from ceiba.soc.sigma.logsource import SourceProfile
from ceiba.soc.sigma.rules import rule_files

from .conftest import require, shared_data, sigma_data

pytest.importorskip("sigma.backends.sqlite", reason="needs the dev extra")

from ceiba.soc.sigma.sqlite_reference import (
    UNMAPPED,
    parse_rules,
    reference_matches,
    zircolite_matches,
)

SUBSET = (
    "collection__host__msf_record_mic.zip",
    "credential_access__host__cmd_lsass_memory_dumpert_syscalls.zip",
)

Events = list[tuple[SourceProfile, dict[str, Any]]]


@pytest.fixture(scope="module")
def rules_dir() -> Path:
    return require(sigma_data() / "rules")


@pytest.fixture(scope="module")
def subset_events() -> Events:
    otrf = require(shared_data() / "events" / "otrf-atomic-windows")
    return [
        (e.profile, e.fields)
        for name in SUBSET
        for e in read_events(otrf / name)
        if isinstance(e, Event)
    ]


@pytest.mark.slow
def test_matches_equal_sqlite_backend_on_otrf_subset(
    rules_dir: Path, subset_events: Events
) -> None:
    # given
    ruleset = load_rules([rules_dir])
    # when
    engine = Engine(ruleset.rules)
    ours = {(i, r.id) for i, (p, ev) in enumerate(subset_events) for r in engine.match(p, ev)}
    run = reference_matches(
        parse_rules(p.read_text() for p in rule_files([rules_dir])), subset_events
    )
    # then
    excluded = set(run.unconverted) | set(run.failed)
    assert all("Keyword search" in reason for reason in run.unconverted.values())
    assert not run.failed, run.failed
    assert len(subset_events) == 6320
    assert {m for m in ours if m[1] not in excluded} == run.matches
    assert run.matches  # the subset does contain detections


@pytest.mark.slow
def test_zircolite_pipeline_restricts_each_rule_to_its_log_source(
    rules_dir: Path, subset_events: Events
) -> None:
    # given
    texts = [p.read_text() for p in rule_files([rules_dir])]
    # when: every query over the whole table, log-source conditions added by the pipeline
    zircolite = zircolite_matches(parse_rules(texts), subset_events)
    routed = reference_matches(parse_rules(texts), subset_events)
    # then
    assert not zircolite.failed, zircolite.failed
    assert all(
        reason == UNMAPPED or "Keyword search" in reason
        for reason in zircolite.unconverted.values()
    )
    assert zircolite.matches == routed.matches
    assert zircolite.matches

"""The literal prefilter only skips rules that cannot match: results equal evaluating every rule.

Events: every SigmaHQ regression event (each makes some rule fire) and the first 2,000 events of
one OTRF recording, under all SigmaHQ rules; each available scanner against ``prefilter=False``.
"""

from __future__ import annotations

from itertools import islice
from typing import Any

import pytest

from ceiba.soc.sigma import Engine, Event, RuleSet, read_events
from ceiba.soc.sigma.engine import SCANNERS
from ceiba.soc.sigma.logsource import SourceProfile

from .conftest import require, shared_data, sigma_data

OTRF_RECORDING = "credential_access__host__cmd_lsass_memory_dumpert_syscalls.zip"


@pytest.fixture(scope="module")
def events() -> list[tuple[SourceProfile, dict[str, Any]]]:
    regression = require(sigma_data() / "regression_data")
    otrf = require(shared_data() / "events" / "otrf-atomic-windows" / OTRF_RECORDING)
    out = [
        (e.profile, e.fields)
        for path in sorted(regression.rglob("*.json"))
        for e in read_events(path)
        if isinstance(e, Event)
    ]
    out += [(e.profile, e.fields) for e in islice(read_events(otrf), 2000) if isinstance(e, Event)]
    return out


@pytest.mark.slow
@pytest.mark.parametrize("scanner", sorted(SCANNERS))
def test_prefilter_gives_the_same_matches_as_evaluating_every_rule(
    scanner: str, sigmahq_rules: RuleSet, events: list[tuple[SourceProfile, dict[str, Any]]]
) -> None:
    # given
    filtered = Engine(sigmahq_rules.rules, scanner=scanner)
    exhaustive = Engine(sigmahq_rules.rules, prefilter=False)
    # when
    got = [[r.id for r in filtered.match(p, ev)] for p, ev in events]
    want = [[r.id for r in exhaustive.match(p, ev)] for p, ev in events]
    # then
    assert got == want
    assert sum(map(len, want)) >= 142  # every regression case fires at least once
    assert filtered.stats.evaluations < exhaustive.stats.evaluations / 20


def test_hyperscan_is_the_default_scanner_where_installed() -> None:
    pytest.importorskip("hyperscan")
    assert Engine([]).scanner == "hyperscan"

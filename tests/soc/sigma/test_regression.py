"""Conformance: every SigmaHQ rule with regression data fires on its recorded events."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from ceiba.soc.sigma import Engine, Problem, RuleSet, read_events
from ceiba.soc.sigma.logsource import SourceProfile

from .conftest import sigma_data


def _cases() -> list[object]:
    root = sigma_data() / "regression_data"
    if not root.exists():
        return [pytest.param(None, id="no-data")]
    cases: list[object] = []
    for info in sorted(root.rglob("info.yml")):
        cases.append(pytest.param(info, id=info.parent.name))
    return cases


@pytest.mark.parametrize("info", _cases())
def test_rule_fires_on_its_regression_events(info: Path | None, sigmahq_rules: RuleSet) -> None:
    if info is None:
        pytest.skip("shared test data missing: sigma/regression_data (set CEIBA_SHARED_DATA)")
    # given
    meta = yaml.safe_load(info.read_text())
    rule_id = meta["rule_metadata"][0]["id"]
    rules = {r.id: r for r in sigmahq_rules.rules}
    assert rule_id in rules, f"rule {rule_id} was not loaded"
    rule = rules[rule_id]
    engine = Engine(sigmahq_rules.rules)
    event_files = sorted(info.parent.glob("*.json"))
    raw_files = sorted(info.parent.glob("*.raw"))
    assert event_files or raw_files, f"no events next to {info}"
    # when
    fired = 0
    for path in event_files:
        for item in read_events(path):
            assert not isinstance(item, Problem), str(item)
            fired += rule in engine.match(item.profile, item.fields)
    for path in raw_files:
        # Raw device logs (Cisco CLI) have no normalizer: evaluate the rule on the raw line.
        for line in path.read_text().splitlines():
            fired += engine.evaluate(rule, {"Message": line})
    # then
    assert fired >= 1


def test_evtx_files_parse_like_their_json_exports() -> None:
    root = sigma_data() / "regression_data"
    if not root.exists():
        pytest.skip("shared test data missing: sigma/regression_data (set CEIBA_SHARED_DATA)")
    evtx = sorted(root.rglob("*.evtx"))[:5]
    for path in evtx:
        from_evtx = [e for e in read_events(path) if not isinstance(e, Problem)]
        from_json = [
            e for e in read_events(path.with_suffix(".json")) if not isinstance(e, Problem)
        ]
        assert from_evtx
        assert from_json
        assert from_evtx[0].profile == from_json[0].profile
        assert from_evtx[0].fields["EventID"] == from_json[0].fields["EventID"]


def test_unknown_profile_only_gets_unconstrained_rules(sigmahq_rules: RuleSet) -> None:
    engine = Engine(sigmahq_rules.rules)
    rules = engine.route_rules(SourceProfile(product=None))
    assert all(
        r.logsource.product is None and r.logsource.category is None and r.logsource.service is None
        for r in rules
    )

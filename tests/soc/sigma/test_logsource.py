"""The embedded Windows routing table agrees with SigmaHQ's thor.yml, and routing behaves."""

from __future__ import annotations

import yaml
from sigma.rule import SigmaLogSource

from ceiba.soc.sigma import logsource
from ceiba.soc.sigma.logsource import ceiba_profile, rule_applies, windows_profile

from .conftest import require, sigma_data


def test_table_matches_thor_yml() -> None:
    thor = yaml.safe_load(require(sigma_data() / "tests" / "thor.yml").read_text())
    categories = []
    channels = {}
    for entry in thor["logsources"].values():
        if "conditions" in entry:
            ids = entry["conditions"]["EventID"]
            categories.append(
                (
                    entry["category"],
                    entry["rewrite"]["service"],
                    tuple(ids) if isinstance(ids, list) else (ids,),
                    entry["conditions"].get("EventType"),
                    entry.get("fieldmappings") or {},
                )
            )
        elif entry.get("product") == "windows":
            channels[entry["service"]] = tuple(s.split(":", 1)[1] for s in entry["sources"])
    assert list(logsource._CATEGORY_EVENTS) == categories
    assert channels == logsource._SERVICE_CHANNELS


def test_security_4688_is_process_creation_with_field_aliases() -> None:
    profile = windows_profile("Security", 4688, None)
    assert profile.categories == {"process_creation"}
    assert profile.services == {"security"}
    assert ("Image", "NewProcessName") in profile.aliases


def test_sysmon_registry_event_type_selects_category() -> None:
    assert (
        "registry_add"
        in windows_profile("Microsoft-Windows-Sysmon/Operational", 12, "CreateKey").categories
    )
    assert (
        "registry_add"
        not in windows_profile("Microsoft-Windows-Sysmon/Operational", 12, "DeleteKey").categories
    )


def test_rule_applies_requires_every_attribute() -> None:
    sysmon1 = windows_profile("Microsoft-Windows-Sysmon/Operational", 1, None)
    assert rule_applies(SigmaLogSource(product="windows", category="process_creation"), sysmon1)
    assert rule_applies(SigmaLogSource(product="windows"), sysmon1)
    assert not rule_applies(SigmaLogSource(product="windows", service="security"), sysmon1)
    assert not rule_applies(SigmaLogSource(product="linux"), sysmon1)
    assert rule_applies(
        SigmaLogSource(product="ceiba", category="authentication"), ceiba_profile("authentication")
    )
    assert not rule_applies(
        SigmaLogSource(product="ceiba", category="iam"), ceiba_profile("authentication")
    )

from decimal import Decimal
from pathlib import Path

import pytest

from ceiba.catalog.definition import REQUIRED_LANGUAGES, ServiceDefinition, load_paths

PACKS = Path(__file__).resolve().parents[2] / "packs"
PACK_FILES = sorted(PACKS.rglob("*.yaml"))
INSTITUTIONS = {
    "civil-registry": "GOV/70000001",
    "commerce-registry": "GOV/70000002",
    "education": "GOV/70000003",
    "agriculture": "GOV/70000004",
    "tax": "GOV/70000005",
}


def test_five_packs_one_folder_per_sector() -> None:
    assert {path.parent.name for path in PACK_FILES} == set(INSTITUTIONS)
    assert len(PACK_FILES) == 5


@pytest.fixture(scope="module")
def definitions() -> dict[str, ServiceDefinition]:
    return {Path(d.source).parent.name: d for d in load_paths([PACKS])}


@pytest.mark.parametrize("sector", sorted(INSTITUTIONS))
def test_pack_is_complete(definitions: dict[str, ServiceDefinition], sector: str) -> None:
    definition = definitions[sector]
    assert definition.institution == INSTITUTIONS[sector]
    assert definition.sector == sector
    assert set(REQUIRED_LANGUAGES) <= set(definition.languages)
    assert any(section.condition is not None for section in definition.form.sections)
    assert all(hints.label for hints in definition.form.fields.values())
    assert definition.documents
    assert definition.fees is not None
    assert definition.fees.items
    workflow = definition.workflow
    names = {t.name for t in workflow.transitions}
    assert {"request_information", "approve", "reject"} <= names
    assert "reason" in workflow.transition("reject").inputs
    assert any(state.sla_working_days for state in workflow.states.values())
    output_states = {output.state for output in definition.outputs}
    assert workflow.transition("approve").target in output_states


def test_business_services_are_for_businesses(definitions: dict[str, ServiceDefinition]) -> None:
    assert definitions["commerce-registry"].applicants == ("business",)
    assert definitions["tax"].applicants == ("business",)


def test_tax_due_is_computed_from_the_answers(definitions: dict[str, ServiceDefinition]) -> None:
    fees = definitions["tax"].fees
    assert fees is not None
    answers = {
        "regime": "standard",
        "turnover": 250_000_000,
        "taxable_profit": 12_345_678.5,
        "instalments_paid": 1_000_000,
        "filed_late": True,
        "months_late": 3,
    }
    breakdown = {item.id: amount for item, amount in fees.breakdown(answers)}
    # 25% of profit = 3 086 419.625, rounded, less instalments; surcharge 3 months x 2%
    assert breakdown == {
        "corporate_tax": Decimal(2_086_420),
        "late_filing_surcharge": Decimal(185_185),
    }
    loss = {**answers, "taxable_profit": -5, "turnover": 8_000_000, "regime": "simplified"}
    assert fees.total({**loss, "filed_late": False, "instalments_paid": 0}) == Decimal(50_000)
    assert fees.total({**loss, "filed_late": False, "instalments_paid": 90_000}) == Decimal(0)


def test_subsidy_contribution_and_guard(definitions: dict[str, ServiceDefinition]) -> None:
    definition = definitions["agriculture"]
    answers = {"hectares": 2.5, "fertiliser_bags": 10, "seed_kg": 50}
    assert definition.fees is not None
    assert definition.fees.total(answers) == Decimal(52_500)
    guard = definition.workflow.transition("approve").guard
    assert guard is not None
    assert guard.evaluate_condition(answers)
    assert not guard.evaluate_condition({**answers, "fertiliser_bags": 11})
    assert definition.workflow.transition("check_registry").hook == (
        "agriculture.farmer_registry_check"
    )

from __future__ import annotations

import threading
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.core import mail
from django.db import connection
from django.utils import timezone

from ceiba.accounts.roles import Role
from ceiba.cases import actions, tasks
from ceiba.cases.errors import CaseError, CaseErrorCode
from ceiba.cases.models import Case, EventKind, FarmerRegistration
from ceiba.catalog.actions import do_load_service_definitions
from ceiba.catalog.models import Service
from ceiba.notify.models import Notification
from tests.cases.conftest import AGRICULTURE, agriculture_institution, pdf, submit_birth
from tests.conftest import Tenant

FARM = {
    "farmer_id": "SN-012345",
    "region": "north",
    "hectares": 2,
    "crops": ["maize"],
    "fertiliser_bags": 8,
    "seed_kg": 50,
    "member_of_cooperative": False,
    "mobile_money_number": "+221 77 000 00 00",
}


def _apply_for_subsidy(tenant: Tenant, **overrides: Any) -> Case:
    agriculture_institution(tenant)
    do_load_service_definitions([AGRICULTURE], administration=tenant.administration, actor=None)
    service = Service.objects.get(
        administration=tenant.administration, code="agriculture.farmer-input-subsidy"
    )
    return actions.do_submit_application(
        service,
        actor=tenant.users[Role.CITIZEN],
        answers={**FARM, **overrides},
        documents=[("farmer_card", pdf()), ("land_use_proof", pdf())],
    ).case


def test_registry_check_passes_and_moves_the_case(tenant_a: Tenant) -> None:
    FarmerRegistration.objects.create(
        administration=tenant_a.administration,
        farmer_id="SN-012345",
        national_id=tenant_a.users[Role.CITIZEN].national_id,
        full_name="Amina",
        region="north",
        registered_hectares=Decimal("3"),
    )
    case = _apply_for_subsidy(tenant_a)
    assert case.state == "eligibility_check"
    assert case.checks["agriculture.farmer_registry_check"]["passed"] is True
    assert case.events.filter(kind=EventKind.AUTOMATIC).count() == 1
    assert case.amount_due == Decimal("43500.00")  # (8*18000 + 50*600) * 0.25


def test_registry_check_flags_someone_else_s_farm(tenant_a: Tenant) -> None:
    FarmerRegistration.objects.create(
        administration=tenant_a.administration,
        farmer_id="SN-012345",
        national_id="SOMEONE-ELSE",
        full_name="Other",
        region="south",
        registered_hectares=Decimal("1"),
    )
    case = _apply_for_subsidy(tenant_a)
    check = case.checks["agriculture.farmer_registry_check"]
    assert check["passed"] is False
    assert set(check["facts"]["problems"]) == {"other_person", "region", "hectares"}


def test_guard_of_the_pack_refuses_too_much_fertiliser(tenant_a: Tenant) -> None:
    case = _apply_for_subsidy(tenant_a, fertiliser_bags=9, hectares=2)
    officer = tenant_a.users[Role.OFFICER]
    officer.institution = agriculture_institution(tenant_a)
    officer.save()
    with pytest.raises(CaseError) as error:
        actions.do_transition_case(case, "approve", actor=officer, expected_version=case.version)
    assert error.value.code == CaseErrorCode.GUARD_FAILED


def test_applicant_is_notified_in_their_language_on_status_change(
    tenant_a: Tenant, birth_service: Service, django_capture_on_commit_callbacks: Any
) -> None:
    citizen = tenant_a.users[Role.CITIZEN]
    citizen.preferred_language = "es"
    citizen.save()
    with django_capture_on_commit_callbacks(execute=True):
        case = submit_birth(tenant_a, birth_service)
    with django_capture_on_commit_callbacks(execute=True):
        actions.do_transition_case(
            case,
            "start_review",
            actor=tenant_a.users[Role.OFFICER],
            expected_version=case.version,
        )
    subjects = [m.subject for m in mail.outbox if m.to == [citizen.email]]
    assert subjects == [f"{case.reference}: Presentada", f"{case.reference}: En revisión"]


def test_overdue_sweep_flags_once_and_tells_supervisors(tenant_a: Tenant, birth_case: Case) -> None:
    later = timezone.now() + timedelta(days=30)
    assert tasks.mark_overdue_cases(later) == 1
    assert tasks.mark_overdue_cases(later) == 0  # safe to run twice
    assert birth_case.events.filter(kind=EventKind.OVERDUE).count() == 1
    supervisor = tenant_a.users[Role.SUPERVISOR]
    assert (
        Notification.objects.filter(recipient=supervisor.email, topic__endswith="overdue").count()
        == 1
    )


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_officers_at_once_one_wins(tenant_a: Tenant, birth_service: Service) -> None:
    case = submit_birth(tenant_a, birth_service)
    officer, supervisor = tenant_a.users[Role.OFFICER], tenant_a.users[Role.SUPERVISOR]
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def act(user: Any, transition: str) -> None:
        try:
            barrier.wait(timeout=10)
            actions.do_transition_case(case, transition, actor=user, expected_version=case.version)
            outcomes.append("ok")
        except CaseError as error:
            outcomes.append(error.code.value)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=act, args=(officer, "start_review")),
        threading.Thread(target=act, args=(supervisor, "start_review")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == ["case.stale", "ok"]
    fresh = Case.objects.get(pk=case.pk)
    assert fresh.state == "under_review"
    assert fresh.version == case.version + 1
    assert fresh.events.filter(kind=EventKind.TRANSITIONED).count() == 1

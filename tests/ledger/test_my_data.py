"""The citizen's "who used my data" page."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from ceiba.accounts.roles import Role
from ceiba.ledger.models import DeferredDisclosure, DisclosurePolicy, EntryKind, Log
from ceiba.tenancy.models import Institution
from tests.conftest import Tenant
from tests.ledger.conftest import record_accesses

pytestmark = pytest.mark.django_db


def test_citizen_sees_every_access_with_a_proof_link(
    grown_log: Callable[[int], Log], tenant_a: Tenant, sign_in: Callable[..., Client]
) -> None:
    grown_log(2)
    record_accesses(tenant_a, 1, kind=EntryKind.PERSONAL_DATA_EXPORTED, purpose="Audit export")
    client = sign_in(tenant_a.users[Role.CITIZEN], tenant_a.host)

    page = client.get("/my-data/", HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert page.count("<tr>") == 1 + 3  # header + 3 accesses; the key entry is not about them
    assert "État civil alpha" in page or "Civil registry alpha" in page
    assert "Case review 0" in page
    assert "case:00000001" in page
    assert "/api/v1/ledger/proofs/inclusion?index=1" in page
    assert "Audit export" in page
    assert "officer of alpha" not in page  # names only where the law allows
    assert "<script" not in page


def test_officer_names_when_the_administration_allows(
    grown_log: Callable[[int], Log], tenant_a: Tenant, sign_in: Callable[..., Client]
) -> None:
    grown_log(1)
    DisclosurePolicy.objects.create(administration=tenant_a.administration, show_officer_names=True)
    client = sign_in(tenant_a.users[Role.CITIZEN], tenant_a.host)
    assert "officer of alpha" in client.get("/my-data/").content.decode()


def test_deferred_institutions_are_hidden_for_their_period_but_logged(
    tenant_a: Tenant, sign_in: Callable[..., Client]
) -> None:
    police = Institution.objects.create(
        administration=tenant_a.administration,
        member_code="POLICE",
        names={"fr": "Police judiciaire", "en": "Judicial police"},
    )
    DeferredDisclosure.objects.create(
        administration=tenant_a.administration, institution=police, days=30
    )
    now = timezone.now()
    record_accesses(tenant_a, 1, institution=police, purpose="Investigation 12", now=now)
    record_accesses(
        tenant_a, 1, institution=police, purpose="Investigation 7", now=now - timedelta(days=31)
    )
    client = sign_in(tenant_a.users[Role.CITIZEN], tenant_a.host)

    page = client.get("/my-data/").content.decode()

    assert "Investigation 7" in page  # the period is over
    assert "Investigation 12" not in page  # still hidden
    assert Log.objects.get().entries.filter(purpose="Investigation 12").exists()


def test_only_the_person_concerned_uses_the_page(
    tenant_a: Tenant, sign_in: Callable[..., Client]
) -> None:
    anonymous = Client(HTTP_HOST=tenant_a.host).get("/my-data/")
    assert anonymous.status_code == 302
    officer = sign_in(tenant_a.users[Role.OFFICER], tenant_a.host)
    assert officer.get("/my-data/").status_code == 403


def test_other_people_accesses_are_not_shown(
    tenant_a: Tenant, sign_in: Callable[..., Client]
) -> None:
    record_accesses(tenant_a, 1, subject=tenant_a.users[Role.BUSINESS_REP], purpose="Not yours")
    client = sign_in(tenant_a.users[Role.CITIZEN], tenant_a.host)
    page = client.get("/my-data/").content.decode()
    assert "Not yours" not in page
    assert "No one has used your data yet." in page or "<table>" not in page

from __future__ import annotations

from collections.abc import Callable

from django.test import Client

from ceiba.accounts.roles import Role
from ceiba.cases.models import Case
from ceiba.ledger.models import LedgerEntry
from tests.conftest import Tenant


def test_queue_lists_the_case_and_page_records_access(
    tenant_a: Tenant, birth_case: Case, sign_in: Callable[..., Client]
) -> None:
    officer = tenant_a.users[Role.OFFICER]
    client = sign_in(officer, tenant_a.host)
    queue = client.get("/backoffice/")
    assert queue.status_code == 200
    assert birth_case.reference is not None
    assert birth_case.reference in queue.content.decode()
    before = LedgerEntry.objects.filter(kind="personal_data_viewed").count()
    page = client.get(f"/backoffice/cases/{birth_case.pk}/")
    assert page.status_code == 200
    assert "Diallo" in page.content.decode()
    assert LedgerEntry.objects.filter(kind="personal_data_viewed").count() == before + 1


def test_document_is_served_inline_with_nosniff(
    tenant_a: Tenant, birth_case: Case, sign_in: Callable[..., Client]
) -> None:
    client = sign_in(tenant_a.users[Role.OFFICER], tenant_a.host)
    document = birth_case.documents.get()
    response = client.get(f"/backoffice/cases/{birth_case.pk}/documents/{document.pk}/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("inline;")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content).startswith(b"%PDF-")
    assert LedgerEntry.objects.filter(
        kind="personal_data_viewed", reference=f"case:{birth_case.reference}/document:{document.pk}"
    ).exists()


def test_citizen_cannot_open_the_back_office(
    tenant_a: Tenant, birth_case: Case, sign_in: Callable[..., Client]
) -> None:
    client = sign_in(tenant_a.users[Role.CITIZEN], tenant_a.host)
    assert client.get("/backoffice/").status_code == 403
    assert client.get(f"/backoffice/cases/{birth_case.pk}/").status_code == 403


def test_officer_requests_information_then_stale_form_is_refused(
    tenant_a: Tenant, birth_case: Case, sign_in: Callable[..., Client]
) -> None:
    client = sign_in(tenant_a.users[Role.OFFICER], tenant_a.host)
    url = f"/backoffice/cases/{birth_case.pk}/transition/"
    version = birth_case.version
    response = client.post(url, {"transition": "start_review", "version": version})
    assert response.status_code == 302
    # a second tab still shows the old version
    response = client.post(url, {"transition": "start_review", "version": version})
    assert response.status_code == 409
    body = response.content.decode().lower()
    assert "reload" in body or "recharg" in body
    case = Case.objects.get(pk=birth_case.pk)
    response = client.post(
        url, {"transition": "request_information", "version": case.version, "message": ""}
    )
    assert response.status_code == 422
    response = client.post(
        url,
        {"transition": "request_information", "version": case.version, "message": "Scan?"},
    )
    assert response.status_code == 302
    assert Case.objects.get(pk=birth_case.pk).state == "awaiting_information"


def test_supervisor_reassigns_and_notes_stay_internal(
    tenant_a: Tenant, birth_case: Case, sign_in: Callable[..., Client]
) -> None:
    supervisor = tenant_a.users[Role.SUPERVISOR]
    officer = tenant_a.users[Role.OFFICER]
    client = sign_in(supervisor, tenant_a.host)
    response = client.post(
        f"/backoffice/cases/{birth_case.pk}/assign/",
        {"assignee": str(officer.pk), "version": birth_case.version},
    )
    assert response.status_code == 302
    assert Case.objects.get(pk=birth_case.pk).assignee == officer
    response = client.post(f"/backoffice/cases/{birth_case.pk}/notes/", {"body": "Check ID"})
    assert response.status_code == 302
    assert birth_case.notes.get().body == "Check ID"
    officer_client = sign_in(officer, tenant_a.host)
    response = officer_client.post(
        f"/backoffice/cases/{birth_case.pk}/assign/",
        {"assignee": "", "version": Case.objects.get(pk=birth_case.pk).version},
    )
    assert response.status_code == 403

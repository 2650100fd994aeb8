"""The application page in "My applications" hands over what was issued for the case: each
document with its number, date, validity and checks, and a download link; and, while the
background job is still signing it, says the document is being prepared."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.utils.html import escape

from ceiba.accounts.roles import Role
from ceiba.cases import actions
from ceiba.cases.models import Case
from ceiba.documents import queries as document_queries
from ceiba.documents.actions import (
    do_issue_case_outputs,
    do_issue_document,
    do_record_verification,
    do_revoke_document,
)
from ceiba.documents.models import IssuedDocument
from tests.cases.portal_fixtures import check_page, signed_in
from tests.conftest import Tenant

pytestmark = pytest.mark.django_db


def _approve(tenant: Tenant, case: Case) -> Case:
    officer = tenant.users[Role.OFFICER]
    case = actions.do_transition_case(
        case, "start_review", actor=officer, expected_version=case.version
    )
    return actions.do_transition_case(case, "approve", actor=officer, expected_version=case.version)


def _approve_and_issue(tenant: Tenant, case: Case) -> tuple[Case, IssuedDocument]:
    """Approve, then run what the job queue runs after the decision commits."""
    case = _approve(tenant, case)
    [document] = do_issue_case_outputs(case)
    return case, document


def _card(page: str, number: str) -> str:
    match = re.search(r'<li class="card">((?:(?!</li>).)*' + number + r".*?)</li>", page, re.S)
    assert match, f"no card for {number}"
    return match.group(1)


@pytest.fixture
def citizen(tenant_a: Tenant, sign_in: Callable[..., Client]) -> Client:
    return signed_in(sign_in, tenant_a.users[Role.CITIZEN], tenant_a.host)


def _detail(client: Client, case: Case) -> str:
    response = client.get(f"/applications/{case.pk}/")
    assert response.status_code == 200
    return check_page(response.content)


def test_before_the_decision_no_document_is_mentioned(citizen: Client, birth_case: Case) -> None:
    page = _detail(citizen, birth_case)
    assert "Documents issued to you" not in page
    assert "being prepared" not in page


def test_while_the_job_signs_it_the_document_is_being_prepared(
    tenant_a: Tenant,
    citizen: Client,
    birth_case: Case,
    django_capture_on_commit_callbacks: Any,
) -> None:
    # given: the officer approved; the issuing job has not run yet
    with django_capture_on_commit_callbacks(execute=False):
        case = _approve(tenant_a, birth_case)

    # then: the page says so and offers a reload that works without script
    page = _detail(citizen, case)
    assert "Your document is being prepared." in page
    assert f'href="/applications/{case.pk}/#issued"' in page
    assert "Download (PDF)" not in page


def test_an_issued_document_is_shown_with_its_download_link(
    tenant_a: Tenant, citizen: Client, birth_case: Case
) -> None:
    # given: the case was approved and its certificate issued
    case, document = _approve_and_issue(tenant_a, birth_case)

    # when
    page = _detail(citizen, case)

    # then
    assert "being prepared" not in page
    card = _card(page, document.number)
    assert escape(document.title) in card
    assert f'href="/documents/{document.number}/download"' in card
    assert "Valid" in card
    assert "Not yet" in card
    download = citizen.get(f"/documents/{document.number}/download")
    assert download.status_code == 200
    assert download["Content-Type"] == "application/pdf"
    assert b"".join(download.streaming_content).startswith(b"%PDF")  # type: ignore[attr-defined]


def test_checks_are_counted_on_the_application_page(
    tenant_a: Tenant, citizen: Client, birth_case: Case
) -> None:
    case, document = _approve_and_issue(tenant_a, birth_case)
    do_record_verification(document, method="number")
    do_record_verification(document, method="qr")

    card = _card(_detail(citizen, case), document.number)

    assert "2 times" in card
    assert "last on" in card


def test_a_revoked_document_says_so_with_the_reason(
    tenant_a: Tenant, citizen: Client, birth_case: Case
) -> None:
    case, document = _approve_and_issue(tenant_a, birth_case)
    do_revoke_document(
        document, reason="Issued from the wrong entry", actor=tenant_a.users[Role.SUPERVISOR]
    )

    card = _card(_detail(citizen, case), document.number)

    assert "Revoked" in card
    assert "Issued from the wrong entry" in card
    assert ">Valid<" not in card


def test_a_correction_replaces_the_earlier_document(
    tenant_a: Tenant, citizen: Client, birth_case: Case
) -> None:
    case, original = _approve_and_issue(tenant_a, birth_case)
    corrected = do_issue_document(
        administration=tenant_a.administration,
        institution=tenant_a.institution,
        applicant=case.applicant,
        template=original.template,
        answers={**case.answers, "given_names": "Amina Fatou"},
        case_reference=case.reference,
        supersedes=original,
        actor=tenant_a.users[Role.OFFICER],
    )

    page = _detail(citizen, case)

    assert "Replaced" in _card(page, original.number)
    assert ">Valid<" in _card(page, corrected.number)
    assert page.index(corrected.number) < page.index(original.number)  # newest first


def test_documents_of_case_keeps_to_the_case_and_its_administration(
    tenant_a: Tenant, birth_case: Case
) -> None:
    case, _document = _approve_and_issue(tenant_a, birth_case)
    assert [d.case_reference for d in document_queries.documents_of_case(case)] == [case.reference]
    draft = actions.do_start_draft(case.service, actor=case.applicant)
    assert list(document_queries.documents_of_case(draft)) == []


def test_another_person_cannot_see_the_page(
    tenant_a: Tenant, sign_in: Callable[..., Client], birth_case: Case
) -> None:
    case, document = _approve_and_issue(tenant_a, birth_case)
    other = signed_in(sign_in, tenant_a.users[Role.BUSINESS_REP], tenant_a.host)
    assert other.get(f"/applications/{case.pk}/").status_code == 404
    assert other.get(f"/documents/{document.number}/download").status_code == 404

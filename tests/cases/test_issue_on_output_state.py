"""Reaching an output state issues the certificate the definition names, once."""

from __future__ import annotations

from typing import Any

import pytest

from ceiba.accounts.roles import Role
from ceiba.cases import actions
from ceiba.cases.models import Case
from ceiba.documents.actions import do_issue_case_outputs
from ceiba.documents.administration_pki import open_pki
from ceiba.documents.models import IssuedDocument
from ceiba.documents.offline import verify_pdf
from tests.conftest import Tenant


def _approve(tenant: Tenant, case: Case) -> Case:
    officer = tenant.users[Role.OFFICER]
    case = actions.do_transition_case(
        case, "start_review", actor=officer, expected_version=case.version
    )
    return actions.do_transition_case(case, "approve", actor=officer, expected_version=case.version)


@pytest.mark.django_db
def test_approval_issues_a_signed_certificate_after_commit(
    tenant_a: Tenant, birth_case: Case, django_capture_on_commit_callbacks: Any
) -> None:
    # when: the officer approves (the job queue runs in-process in tests)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        case = _approve(tenant_a, birth_case)
        # then: nothing is rendered inside the decision's transaction
        assert not IssuedDocument.objects.filter(case_reference=case.reference).exists()
    for callback in callbacks:
        callback()
    document = IssuedDocument.objects.get(case_reference=case.reference)
    assert document.applicant == tenant_a.users[Role.CITIZEN]
    assert document.template == "civil-registry/birth-certificate-copy"
    assert document.facts["family_name"] == "Diallo"
    with document.pdf.open("rb") as pdf:
        result = verify_pdf(pdf.read(), open_pki(tenant_a.administration).root_pem())
    assert result.status == "valid"


@pytest.mark.django_db
def test_issuing_twice_issues_once(tenant_a: Tenant, birth_case: Case) -> None:
    case = _approve(tenant_a, birth_case)
    first = do_issue_case_outputs(case)
    second = do_issue_case_outputs(case)
    assert len(first) == 1
    assert second == []
    assert IssuedDocument.objects.filter(case_reference=case.reference).count() == 1


@pytest.mark.django_db
def test_rejection_issues_nothing(tenant_a: Tenant, birth_case: Case) -> None:
    officer = tenant_a.users[Role.OFFICER]
    case = actions.do_transition_case(
        birth_case, "start_review", actor=officer, expected_version=birth_case.version
    )
    case = actions.do_transition_case(
        case, "reject", actor=officer, expected_version=case.version, reason="Not in the register"
    )
    assert do_issue_case_outputs(case) == []

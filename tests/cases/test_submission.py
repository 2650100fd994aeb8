from __future__ import annotations

import pytest

from ceiba.accounts.roles import Role
from ceiba.cases import actions
from ceiba.cases.errors import CaseError, CaseErrorCode
from ceiba.cases.models import Case, CaseDocument
from ceiba.catalog.models import Service
from tests.cases.conftest import BIRTH_VALID, EXE, PDF, PNG, pdf, submit_birth
from tests.conftest import Tenant


def test_same_key_same_body_returns_the_same_case(tenant_a: Tenant, birth_service: Service) -> None:
    first = submit_birth(tenant_a, birth_service, key="click-1")
    second = actions.do_submit_application(
        birth_service,
        actor=tenant_a.users[Role.CITIZEN],
        answers=dict(BIRTH_VALID),
        documents=[("requester_identity", pdf())],
        idempotency_key="click-1",
    )
    assert second.created is False
    assert second.case.pk == first.pk
    assert Case.objects.count() == 1


def test_same_key_other_body_is_a_clear_conflict(tenant_a: Tenant, birth_service: Service) -> None:
    submit_birth(tenant_a, birth_service, key="click-1")
    with pytest.raises(CaseError) as error:
        submit_birth(tenant_a, birth_service, key="click-1", copies=2)
    assert error.value.code == CaseErrorCode.IDEMPOTENCY_CONFLICT
    assert Case.objects.count() == 1


def test_submitting_a_draft_twice_submits_once(tenant_a: Tenant, birth_service: Service) -> None:
    citizen = tenant_a.users[Role.CITIZEN]
    draft = actions.do_start_draft(birth_service, actor=citizen, answers=dict(BIRTH_VALID))
    actions.do_upload_document(draft, actor=citizen, requirement="requester_identity", file=pdf())
    first = actions.do_submit_draft(draft, actor=citizen)
    again = actions.do_submit_draft(draft, actor=citizen)
    assert first.reference == again.reference
    assert first.version == again.version


def test_invalid_answers_are_listed_and_nothing_is_saved(
    tenant_a: Tenant, birth_service: Service
) -> None:
    with pytest.raises(CaseError) as error:
        actions.do_submit_application(
            birth_service,
            actor=tenant_a.users[Role.CITIZEN],
            answers={**BIRTH_VALID, "copies": 50, "family_name": ""},
            documents=[("requester_identity", pdf())],
        )
    assert error.value.code == CaseErrorCode.ANSWERS_INVALID
    assert {path for path, _ in error.value.errors} == {"copies", "family_name"}
    assert not Case.objects.exists()
    assert not CaseDocument.objects.exists()


def test_missing_required_document(tenant_a: Tenant, birth_service: Service) -> None:
    with pytest.raises(CaseError) as error:
        actions.do_submit_application(
            birth_service, actor=tenant_a.users[Role.CITIZEN], answers=dict(BIRTH_VALID)
        )
    assert error.value.code == CaseErrorCode.DOCUMENT_MISSING
    assert error.value.errors[0][0] == "documents.requester_identity"


def test_conditional_document_required_when_its_condition_holds(
    tenant_a: Tenant, birth_service: Service
) -> None:
    with pytest.raises(CaseError) as error:
        submit_birth(
            tenant_a,
            birth_service,
            requester_relationship="legal_representative",
            representative_name="Me Ndiaye",
            court_order_reference="TGI-2025-12",
        )
    assert [path for path, _ in error.value.errors] == ["documents.court_order"]


@pytest.mark.parametrize(
    ("name", "content", "code"),
    [
        ("setup.pdf", EXE, CaseErrorCode.DOCUMENT_TYPE),  # a program renamed .pdf
        ("photo.pdf", PNG, CaseErrorCode.DOCUMENT_TYPE),  # name says PDF, content is PNG
        ("scan.jpg", PDF, CaseErrorCode.DOCUMENT_TYPE),  # name says JPEG, content is PDF
        ("text.pdf", b"just text", CaseErrorCode.DOCUMENT_TYPE),
        ("empty.pdf", b"", CaseErrorCode.DOCUMENT_EMPTY),
        ("big.pdf", PDF + b"0" * (5 * 1024 * 1024), CaseErrorCode.DOCUMENT_TOO_LARGE),
    ],
)
def test_bad_uploads_are_refused_by_content(
    tenant_a: Tenant, birth_service: Service, name: str, content: bytes, code: CaseErrorCode
) -> None:
    citizen = tenant_a.users[Role.CITIZEN]
    draft = actions.do_start_draft(birth_service, actor=citizen)
    with pytest.raises(CaseError) as error:
        actions.do_upload_document(
            draft, actor=citizen, requirement="requester_identity", file=pdf(name, content)
        )
    assert error.value.code == code
    assert error.value.errors[0][0] == "documents.requester_identity"
    assert not CaseDocument.objects.exists()


def test_upload_stores_sniffed_type_and_sha256(tenant_a: Tenant, birth_service: Service) -> None:
    import hashlib

    citizen = tenant_a.users[Role.CITIZEN]
    draft = actions.do_start_draft(birth_service, actor=citizen)
    document = actions.do_upload_document(
        draft, actor=citizen, requirement="requester_identity", file=pdf("id.pdf")
    )
    assert document.content_type == "application/pdf"
    assert document.sha256 == hashlib.sha256(PDF).hexdigest()
    with document.file.open("rb") as handle:
        assert handle.read() == PDF


def test_staff_and_other_tenants_cannot_apply(
    tenant_a: Tenant, tenant_b: Tenant, birth_service: Service
) -> None:
    for user in (tenant_a.users[Role.OFFICER], tenant_b.users[Role.CITIZEN]):
        with pytest.raises(CaseError) as error:
            actions.do_start_draft(birth_service, actor=user)
        assert error.value.code == CaseErrorCode.APPLICANT_NOT_ALLOWED


def test_other_citizen_cannot_touch_a_draft(tenant_a: Tenant, birth_service: Service) -> None:
    from ceiba.accounts import actions as account_actions

    owner = tenant_a.users[Role.CITIZEN]
    other = account_actions.do_create_account(
        administration=tenant_a.administration,
        email="other@alpha.example",
        password="x" * 16,
        role=Role.CITIZEN,
        actor=None,
    )
    draft = actions.do_start_draft(birth_service, actor=owner)
    with pytest.raises(CaseError) as error:
        actions.do_save_draft(draft, actor=other, answers={"copies": 2})
    assert error.value.code == CaseErrorCode.NOT_FOUND

"""The citizen flow for a copy of a birth certificate, through the real pages, without script."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from ceiba.accounts import actions as account_actions
from ceiba.accounts.roles import Role
from ceiba.cases import actions
from ceiba.cases.models import Case, Phase
from ceiba.cases.reference import is_valid_reference
from tests.cases.portal_fixtures import (
    BIRTH_CODE,
    EXE,
    PDF,
    check_page,
    load_pack,
    signed_in,
)
from tests.conftest import PASSWORD, Tenant

PERSON = {
    "given_names": "Amina",
    "family_name": "Diallo",
    "date_of_birth": "1990-04-12",
    "place_of_birth": "Douala",
}


def version_of(page: str) -> str:
    match = re.search(r'name="version" value="(\d+)"', page)
    assert match, "the form carries the version it was made from"
    return match.group(1)


def post_step(client: Client, url: str, data: dict[str, Any], action: str = "continue") -> Any:
    page = client.get(url).content.decode()
    return client.post(url, {**data, "version": version_of(page), "action": action})


@pytest.fixture
def birth(tenant_a: Tenant) -> None:
    load_pack(tenant_a, "civil-registry/birth-certificate-copy.yaml")


def start_draft(client: Client) -> str:
    """Start an application; return its base URL (/applications/<uuid>/)."""
    start = client.get(f"/services/{BIRTH_CODE}/apply/")
    key = re.search(r'name="start_key" value="(\w+)"', start.content.decode())
    assert key
    response = client.post(f"/services/{BIRTH_CODE}/apply/", {"start_key": key.group(1)})
    assert response.status_code == 302
    again = client.post(f"/services/{BIRTH_CODE}/apply/", {"start_key": key.group(1)})
    assert again["Location"] == response["Location"]  # a double click starts one draft
    assert response["Location"].endswith("/step/1/")
    return response["Location"].removesuffix("step/1/")


@pytest.mark.django_db
def test_citizen_applies_follows_answers_and_withdraws(
    tenant_a: Tenant, birth: None, sign_in: Callable[..., Client]
) -> None:
    citizen = tenant_a.users[Role.CITIZEN]
    client = signed_in(sign_in, citizen, tenant_a.host)
    weights: dict[str, int] = {}

    # browse, search and read the service page
    listing = check_page(client.get("/services/?q=naissance").content, weights, "services")
    assert "Copy of a birth certificate" in listing
    assert "0 services" in check_page(client.get("/services/?q=tractor").content)
    page = check_page(client.get(f"/services/{BIRTH_CODE}/").content, weights, "service")
    assert "People applying for themselves or their family" in page
    assert "From 0 XOF to 4,500 XOF, depending on your answers" in page
    assert "About 4 working days after you submit" in page
    assert "Applicant&#x27;s identity document" in page

    # start a draft; answer the first step
    base = start_draft(client)
    check_page(client.get(f"/services/{BIRTH_CODE}/apply/").content, weights, "start")
    response = post_step(
        client, f"{base}step/1/", {"requester_relationship": "legal_representative"}
    )
    assert response["Location"] == f"{base}step/2/"

    # invalid answers: the error summary links to each field, nothing is saved
    response = post_step(
        client, f"{base}step/2/", {"given_names": "", "date_of_birth": "1990-13-45"}
    )
    assert response.status_code == 400
    invalid = check_page(response.content, weights, "step with errors")
    assert 'class="error-summary"' in invalid
    assert '<a href="#id_given_names">Enter “Given names”</a>' in invalid
    assert '<a href="#id_date_of_birth">“Date of birth” must be a real date' in invalid
    assert 'aria-invalid="true"' in invalid
    assert Case.objects.get(applicant=citizen).answers == {
        "requester_relationship": "legal_representative"
    }

    # save as draft, leave, resume from My applications
    response = post_step(client, f"{base}step/2/", {"given_names": "Amina"}, action="draft")
    assert response["Location"] == "/applications/"
    mine = check_page(client.get("/applications/").content, weights, "my applications")
    assert "Draft: not sent yet" in mine
    resumed = check_page(client.get(f"{base}step/2/").content, weights, "step")
    assert 'value="Amina"' in resumed

    # the conditional step appears because of the first answer
    assert post_step(client, f"{base}step/2/", PERSON)["Location"] == f"{base}step/3/"
    assert "Legal representation" in client.get(f"{base}step/3/").content.decode()
    response = post_step(
        client,
        f"{base}step/3/",
        {"representative_name": "Awa Ndiaye", "court_order_reference": "TGI-2024-118"},
    )
    assert response["Location"] == f"{base}step/4/"
    response = post_step(
        client, f"{base}step/4/", {"copy_type": "full_copy", "copies": "3", "delivery": "pickup"}
    )
    assert response["Location"] == f"{base}documents/"

    # uploads: a renamed program and an oversized file are refused with a clear message
    docs = check_page(client.get(f"{base}documents/").content, weights, "documents")
    assert "PDF, JPEG or PNG, up to 5 MB." in docs
    version = version_of(docs)
    renamed = SimpleUploadedFile("passport.pdf", EXE, content_type="application/pdf")
    response = client.post(
        f"{base}documents/", {"version": version, "doc_requester_identity": renamed}
    )
    assert response.status_code == 400
    refused = check_page(response.content)
    assert (
        "The file for “Applicant&#x27;s identity document” must be a PDF, JPEG or PNG file; "
        "this file is not one" in refused
    )
    assert '<a href="#id_doc_requester_identity">' in refused
    big = SimpleUploadedFile("order.pdf", PDF + b"0" * (10 * 1024 * 1024))
    response = client.post(f"{base}documents/", {"version": version, "doc_court_order": big})
    assert response.status_code == 400
    assert "must be smaller than 10 MB" in response.content.decode()
    assert not Case.objects.get(applicant=citizen).documents.exists()
    response = client.post(
        f"{base}documents/",
        {
            "version": version,
            "doc_requester_identity": SimpleUploadedFile("passport.pdf", PDF),
            "doc_court_order": SimpleUploadedFile("order.pdf", PDF),
        },
    )
    assert response["Location"] == f"{base}review/"

    # review every answer with change links, then submit twice (a double click)
    review = check_page(client.get(f"{base}review/").content, weights, "review")
    assert 'class="error-summary"' not in review
    assert "The record of a person I legally represent" in review
    assert f'href="{base}step/2/#id_given_names"' in review
    assert "1,000 XOF" in review
    key = re.search(r'name="idempotency_key" value="(\w+)"', review)
    assert key
    form = {"idempotency_key": key.group(1), "version": version_of(review)}
    first = client.post(f"{base}submit/", form)
    second = client.post(f"{base}submit/", form)
    assert first["Location"] == second["Location"] == f"{base}receipt/"
    assert Case.objects.filter(applicant=citizen).count() == 1
    case = Case.objects.get(applicant=citizen)
    assert case.phase == Phase.OPEN
    assert case.answers["copies"] == 3

    receipt = check_page(client.get(f"{base}receipt/").content, weights, "receipt")
    assert case.reference in receipt
    assert is_valid_reference(case.reference)
    mine = check_page(client.get("/applications/").content)
    assert case.reference in mine
    assert "Submitted" in mine

    # the officer asks for more information; the citizen answers with a new document
    officer = tenant_a.users[Role.OFFICER]
    case = actions.do_transition_case(
        case, "start_review", actor=officer, expected_version=case.version
    )
    case = actions.do_request_information(
        case,
        actor=officer,
        message="The scan of your passport is blurred.",
        expected_version=case.version,
    )
    detail = check_page(client.get(f"{base}").content, weights, "application")
    assert "The scan of your passport is blurred." in detail
    assert "Answer the request for information" in detail
    response = client.post(f"{base}respond/", {"version": version_of(detail), "message": ""})
    assert response.status_code == 400
    assert '<a href="#id_message">Write your answer to the officer</a>' in response.content.decode()
    response = client.post(
        f"{base}respond/",
        {
            "version": version_of(detail),
            "message": "Here is a clearer scan.",
            "doc_requester_identity": SimpleUploadedFile("passport-2.pdf", PDF),
        },
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.state == "under_review"
    assert case.documents.filter(is_current=True, original_name="passport-2.pdf").exists()
    detail = client.get(f"{base}").content.decode()
    assert "Here is a clearer scan." in detail
    assert "Under review" in detail

    # a stale withdraw form is refused; a fresh one withdraws
    confirm = check_page(client.get(f"{base}withdraw/").content, weights, "withdraw")
    response = client.post(f"{base}withdraw/", {"version": "1"})
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.state == "under_review"
    client.post(f"{base}withdraw/", {"version": version_of(confirm)})
    case.refresh_from_db()
    assert case.state == "withdrawn"
    assert "Withdrawn" in client.get(f"{base}").content.decode()

    print("\nportal page weights (HTML + CSS):", weights)  # noqa: T201


@pytest.mark.django_db
def test_another_applicants_application_is_not_found(
    tenant_a: Tenant, tenant_b: Tenant, birth: None, sign_in: Callable[..., Client]
) -> None:
    owner = signed_in(sign_in, tenant_a.users[Role.CITIZEN], tenant_a.host)
    base = start_draft(owner)
    neighbour = account_actions.do_create_account(
        administration=tenant_a.administration,
        email="neighbour@alpha.example",
        password=PASSWORD,
        role=Role.CITIZEN,
        full_name="Neighbour",
        actor=None,
    )
    other = signed_in(sign_in, neighbour, tenant_a.host)
    for path in ("", "step/1/", "documents/", "review/", "receipt/", "withdraw/"):
        assert other.get(f"{base}{path}").status_code == 404
    assert other.post(f"{base}submit/", {"version": "1"}).status_code == 404
    assert "Draft" not in other.get("/applications/").content.decode()
    # staff cannot use the portal pages at all
    officer = sign_in(tenant_a.users[Role.OFFICER], tenant_a.host)
    assert officer.get("/applications/").status_code == 403
    # and anonymous visitors are sent to sign in
    anonymous = Client(HTTP_HOST=tenant_a.host)
    assert anonymous.get(f"{base}review/")["Location"].startswith("/accounts/login/")


@pytest.mark.django_db
def test_stale_step_form_is_refused_without_saving(
    tenant_a: Tenant, birth: None, sign_in: Callable[..., Client]
) -> None:
    client = signed_in(sign_in, tenant_a.users[Role.CITIZEN], tenant_a.host)
    base = start_draft(client)
    old = client.get(f"{base}step/1/").content.decode()
    post_step(client, f"{base}step/1/", {"requester_relationship": "self"})
    response = client.post(
        f"{base}step/1/",
        {"requester_relationship": "parent", "version": version_of(old), "action": "continue"},
    )
    assert response.status_code == 400
    assert "changed in another window or tab" in response.content.decode()
    assert Case.objects.get().answers == {"requester_relationship": "self"}


@pytest.mark.django_db
def test_review_lists_missing_answers_and_documents_with_links(
    tenant_a: Tenant, birth: None, sign_in: Callable[..., Client]
) -> None:
    client = signed_in(sign_in, tenant_a.users[Role.CITIZEN], tenant_a.host)
    base = start_draft(client)
    post_step(client, f"{base}step/1/", {"requester_relationship": "self"})
    review = client.get(f"{base}review/").content.decode()
    assert 'class="error-summary"' in review
    assert f'<a href="{base}step/2/#id_given_names">Enter “Given names”</a>' in review
    assert f'<a href="{base}documents/#id_doc_requester_identity">' in review
    assert "Submit application" not in review
    version = str(Case.objects.get().version)
    response = client.post(f"{base}submit/", {"version": version, "idempotency_key": "a" * 32})
    assert response.status_code == 400
    assert Case.objects.get().phase == Phase.DRAFT
    response = client.post(f"{base}submit/", {"version": version})
    assert response.status_code == 400
    assert "This form is incomplete." in response.content.decode()


@pytest.mark.django_db
def test_a_submit_key_works_for_one_application_only(
    tenant_a: Tenant, birth: None, sign_in: Callable[..., Client]
) -> None:
    citizen = tenant_a.users[Role.CITIZEN]
    client = signed_in(sign_in, citizen, tenant_a.host)
    first, second = start_draft(client), start_draft_again(client)
    for base in (first, second):
        case = Case.objects.get(pk=base.strip("/").rsplit("/", 1)[-1])
        case = actions.do_save_draft(
            case,
            actor=citizen,
            answers={
                **PERSON,
                "requester_relationship": "self",
                "copy_type": "full_copy",
                "copies": 2,
                "delivery": "download",
            },
        )
        actions.do_upload_document(
            case,
            actor=citizen,
            requirement="requester_identity",
            file=SimpleUploadedFile("id.pdf", PDF),
        )
    review = client.get(f"{first}review/").content.decode()
    key = re.search(r'name="idempotency_key" value="(\w+)"', review)
    assert key
    response = client.post(
        f"{first}submit/", {"idempotency_key": key.group(1), "version": version_of(review)}
    )
    assert response["Location"] == f"{first}receipt/"
    other = client.get(f"{second}review/").content.decode()
    response = client.post(
        f"{second}submit/", {"idempotency_key": key.group(1), "version": version_of(other)}
    )
    assert response.status_code == 409
    assert "already used to submit another application" in response.content.decode()
    assert Case.objects.filter(phase=Phase.DRAFT).count() == 1


def start_draft_again(client: Client) -> str:
    start = client.get(f"/services/{BIRTH_CODE}/apply/").content.decode()
    key = re.search(r'name="start_key" value="(\w+)"', start)
    assert key
    response = client.post(f"/services/{BIRTH_CODE}/apply/", {"start_key": key.group(1)})
    return str(response["Location"]).removesuffix("step/1/")

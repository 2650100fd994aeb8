"""The applications and tasks API, driven as an institution's client system and a citizen would."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from ceiba.accounts.actions import do_create_api_token
from ceiba.accounts.roles import Role
from ceiba.cases.models import Case
from ceiba.catalog.actions import do_load_service_definitions
from tests.conftest import Tenant

BIRTH = (
    Path(__file__).resolve().parents[2] / "packs" / "civil-registry" / "birth-certificate-copy.yaml"
)
SERVICE = "civil-registry.birth-certificate-copy"
ANSWERS = {
    "requester_relationship": "self",
    "given_names": "Awa",
    "family_name": "Ndiaye",
    "date_of_birth": "1990-04-12",
    "place_of_birth": "Douala",
    "copy_type": "full_copy",
    "copies": 1,
    "delivery": "download",
}
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
IDENTITY = {
    "requirement": "requester_identity",
    "name": "id.pdf",
    "content": base64.b64encode(PDF).decode(),
}


def token_client(tenant: Tenant, role: str) -> Client:
    user = tenant.users[role]
    _token, clear = do_create_api_token(user, "client system", actor=user)
    return Client(HTTP_HOST=tenant.host, HTTP_AUTHORIZATION=f"Bearer {clear}")


def post_json(client: Client, url: str, body: Any, **headers: str) -> Any:
    return client.post(url, json.dumps(body), content_type="application/json", **headers)


@pytest.fixture
def birth_a(tenant_a: Tenant) -> Tenant:
    do_load_service_definitions([BIRTH], administration=tenant_a.administration, actor=None)
    return tenant_a


def submit(client: Client, key: str = "", answers: dict[str, Any] | None = None) -> Any:
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    return post_json(
        client,
        "/api/v1/applications/submit",
        {"service": SERVICE, "answers": answers or ANSWERS, "documents": [IDENTITY]},
        **headers,
    )


def test_draft_answers_document_submit_and_list(birth_a: Tenant) -> None:
    citizen = token_client(birth_a, Role.CITIZEN)
    # given: a draft with part of the answers
    draft = post_json(
        citizen, "/api/v1/applications", {"service": SERVICE, "answers": {"copies": 2}}
    )
    assert draft.status_code == 201, draft.content
    case_id = draft.json()["id"]
    assert draft.json()["phase"] == "draft"
    # when: the rest of the answers, a document, and the submission
    patch = citizen.patch(
        f"/api/v1/applications/{case_id}",
        json.dumps(
            {"answers": {**ANSWERS, "father_name": None}, "version": draft.json()["version"]}
        ),
        content_type="application/json",
    )
    assert patch.status_code == 200, patch.content
    assert patch.json()["answers"]["copies"] == 1
    uploaded = citizen.post(
        f"/api/v1/applications/{case_id}/documents",
        {"requirement": "requester_identity", "file": SimpleUploadedFile("id.pdf", PDF)},
    )
    assert uploaded.status_code == 201, uploaded.content
    detail = citizen.get(f"/api/v1/applications/{case_id}").json()
    assert [d["requirement"] for d in detail["documents"]] == ["requester_identity"]
    submitted = post_json(
        citizen, f"/api/v1/applications/{case_id}/submit", {"version": detail["version"]}
    )
    # then
    assert submitted.status_code == 200, submitted.content
    body = submitted.json()
    assert body["phase"] == "open"
    assert body["state"] == "submitted"
    assert body["reference"]
    listing = citizen.get("/api/v1/applications?phase=open").json()
    assert [item["id"] for item in listing["items"]] == [case_id]
    # and submitting again changes nothing
    again = post_json(citizen, f"/api/v1/applications/{case_id}/submit", {})
    assert again.json()["reference"] == body["reference"]


def test_invalid_answers_are_a_problem_with_field_paths_and_nothing_is_saved(
    birth_a: Tenant,
) -> None:
    citizen = token_client(birth_a, Role.CITIZEN)
    response = submit(citizen, "k-1", {**ANSWERS, "copies": 99, "given_names": ""})
    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    problem = response.json()
    assert problem["code"] == "case.answers_invalid"
    paths = {error["path"] for error in problem["errors"]}
    assert {"copies", "given_names"} <= paths
    assert Case.objects.count() == 0


def test_idempotency_key_same_body_same_result_different_body_conflict(birth_a: Tenant) -> None:
    citizen = token_client(birth_a, Role.CITIZEN)
    # when
    first = submit(citizen, "double-click-1")
    second = submit(citizen, "double-click-1")
    other = submit(citizen, "double-click-1", {**ANSWERS, "copies": 3})
    # then
    assert first.status_code == 201, first.content
    assert second.status_code == 200
    assert second.json()["id"] == first.json()["id"]
    assert second.json()["reference"] == first.json()["reference"]
    assert other.status_code == 409
    assert other["Content-Type"] == "application/problem+json"
    assert other.json()["code"] == "case.idempotency_conflict"
    assert Case.objects.count() == 1
    # a new key is a new application
    assert submit(citizen, "double-click-2").status_code == 201
    assert Case.objects.count() == 2


def test_upload_checks_content_not_name(birth_a: Tenant) -> None:
    citizen = token_client(birth_a, Role.CITIZEN)
    case_id = post_json(citizen, "/api/v1/applications", {"service": SERVICE}).json()["id"]
    requirement = citizen.get(f"/api/v1/catalog/services/{SERVICE}").json()["documents"][0]["id"]
    url = f"/api/v1/applications/{case_id}/documents"
    # when
    exe = citizen.post(
        url,
        {
            "requirement": requirement,
            "file": SimpleUploadedFile("id.pdf", b"MZ\x90\x00" + b"\0" * 200),
        },
    )
    pdf = citizen.post(url, {"requirement": requirement, "file": SimpleUploadedFile("id.pdf", PDF)})
    unknown = citizen.post(
        url, {"requirement": "no_such_document", "file": SimpleUploadedFile("id.pdf", PDF)}
    )
    # then
    assert exe.status_code == 415
    assert exe.json()["code"] == "case.document_type"
    assert exe.json()["errors"][0]["path"] == f"documents.{requirement}"
    assert pdf.status_code == 201, pdf.content
    assert pdf.json()["content_type"] == "application/pdf"
    assert unknown.status_code == 422
    downloaded = citizen.get(f"{url}/{pdf.json()['id']}")
    assert b"".join(downloaded.streaming_content) == PDF


def test_officer_queue_claim_transition_and_stale_version(
    birth_a: Tenant, sign_in: Callable[..., Client]
) -> None:
    citizen = token_client(birth_a, Role.CITIZEN)
    case_id = submit(citizen, "q-1").json()["id"]
    officer = token_client(birth_a, Role.OFFICER)
    # when: the officer finds it in the queue, opens it, claims it, starts the review
    queue = officer.get("/api/v1/tasks?state=submitted&assignment=unassigned").json()
    assert [item["id"] for item in queue["items"]] == [case_id]
    opened = officer.get(f"/api/v1/tasks/{case_id}").json()
    assert "start_review" in [step["name"] for step in opened["steps"]]
    claimed = post_json(officer, f"/api/v1/tasks/{case_id}/claim", {"version": opened["version"]})
    assert claimed.status_code == 200, claimed.content
    version = claimed.json()["version"]
    moved = post_json(
        officer,
        f"/api/v1/tasks/{case_id}/transitions",
        {"transition": "start_review", "version": version},
    )
    assert moved.status_code == 200, moved.content
    assert moved.json()["state"] == "under_review"
    # then: a second step on the old version is stale; a rejection needs a reason
    stale = post_json(
        officer,
        f"/api/v1/tasks/{case_id}/transitions",
        {"transition": "approve", "version": version},
    )
    assert stale.status_code == 409
    assert stale.json()["code"] == "case.stale"
    no_reason = post_json(
        officer,
        f"/api/v1/tasks/{case_id}/transitions",
        {"transition": "reject", "version": moved.json()["version"]},
    )
    assert no_reason.status_code == 422
    assert no_reason.json()["errors"][0]["path"] == "reason"
    assert officer.get("/api/v1/tasks?assignment=mine").json()["count"] == 1


def test_roles_are_checked(birth_a: Tenant) -> None:
    citizen = token_client(birth_a, Role.CITIZEN)
    case_id = submit(citizen, "r-1").json()["id"]
    officer = token_client(birth_a, Role.OFFICER)
    analyst = token_client(birth_a, Role.SOC_ANALYST)
    # a citizen has no queue, an officer does not apply, an analyst does neither
    assert citizen.get("/api/v1/tasks").status_code == 403
    assert citizen.get(f"/api/v1/tasks/{case_id}").status_code == 403
    assert submit(officer, "o-1").status_code == 403
    assert analyst.get("/api/v1/applications").status_code == 403
    # a citizen cannot take an officer's step
    assert (
        post_json(
            citizen,
            f"/api/v1/tasks/{case_id}/transitions",
            {"transition": "start_review", "version": 1},
        ).status_code
        == 403
    )
    # anonymous
    anonymous = Client(HTTP_HOST=birth_a.host)
    response = anonymous.get("/api/v1/applications")
    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"


def test_other_administration_sees_nothing(birth_a: Tenant, tenant_b: Tenant) -> None:
    case_id = submit(token_client(birth_a, Role.CITIZEN), "x-1").json()["id"]
    b_officer = token_client(tenant_b, Role.OFFICER)
    b_citizen = token_client(tenant_b, Role.CITIZEN)
    assert b_officer.get(f"/api/v1/tasks/{case_id}").status_code == 404
    assert b_officer.get("/api/v1/tasks").json()["count"] == 0
    assert b_citizen.get(f"/api/v1/applications/{case_id}").status_code == 404


def test_api_docs_are_served(birth_a: Tenant) -> None:
    client = Client(HTTP_HOST=birth_a.host)
    redirect = client.get("/api/docs")
    assert redirect.status_code == 302
    assert redirect["Location"] == "/api/v1/docs"
    schema = client.get("/api/v1/openapi.json").json()
    assert "/api/v1/applications/submit" in schema["paths"]
    assert "/api/v1/tasks/{task_id}/transitions" in schema["paths"]

"""Portal limits: an oversized request is refused before it is read; list pages stay cheap."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from ceiba.accounts.roles import Role
from ceiba.cases import actions
from ceiba.cases.models import Case, CaseDocument
from tests.cases.portal_fixtures import BIRTH_CODE, PDF, load_pack, signed_in
from tests.conftest import Tenant


@pytest.fixture
def birth(tenant_a: Tenant) -> None:
    load_pack(tenant_a, "civil-registry/birth-certificate-copy.yaml")


def start(client: Client) -> str:
    page = client.get(f"/services/{BIRTH_CODE}/apply/").content.decode()
    key = re.search(r'name="start_key" value="(\w+)"', page)
    assert key
    response = client.post(f"/services/{BIRTH_CODE}/apply/", {"start_key": key.group(1)})
    return str(response["Location"]).removesuffix("step/1/")


@pytest.mark.django_db
def test_a_body_larger_than_all_accepted_files_is_refused_unread(
    tenant_a: Tenant, birth: None, sign_in: Callable[..., Client]
) -> None:
    client = signed_in(sign_in, tenant_a.users[Role.CITIZEN], tenant_a.host)
    base = start(client)
    # 5 MB + 10 MB of documents, plus 1 MB for the rest of the form, is the most one post takes
    huge = SimpleUploadedFile("scan.pdf", PDF + b"0" * (17 * 1024 * 1024))
    response = client.post(f"{base}documents/", {"version": "1", "doc_court_order": huge})
    assert response.status_code == 303
    assert response["Location"] == f"{base}documents/"
    page = client.get(response["Location"]).content.decode()
    assert "The files you chose are too large together (17 MB). Send at most 16 MB at a time." in (
        page
    )
    assert not CaseDocument.objects.exists()


@pytest.mark.django_db
def test_the_size_guard_keeps_csrf_protection(
    tenant_a: Tenant, birth: None, sign_in: Callable[..., Client]
) -> None:
    client = signed_in(sign_in, tenant_a.users[Role.CITIZEN], tenant_a.host)
    base = start(client)
    strict = Client(HTTP_HOST=tenant_a.host, enforce_csrf_checks=True)
    strict.cookies = client.cookies
    upload = SimpleUploadedFile("id.pdf", PDF)
    response = strict.post(f"{base}documents/", {"version": "1", "doc_requester_identity": upload})
    assert response.status_code == 403
    assert not CaseDocument.objects.exists()


@pytest.mark.django_db
def test_my_applications_costs_the_same_for_one_or_many(
    tenant_a: Tenant, birth: None, sign_in: Callable[..., Client]
) -> None:
    citizen = tenant_a.users[Role.CITIZEN]
    client = signed_in(sign_in, citizen, tenant_a.host)
    start(client)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/applications/").status_code == 200
        return len(queries)

    one = count()
    service = Case.objects.get().service
    answers: dict[str, Any] = {"requester_relationship": "self"}
    for _ in range(4):
        actions.do_start_draft(service, actor=citizen, answers=answers)
    assert count() == one

"""A business representative applies, through the real pages, for the business they represent."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from ceiba.accounts.roles import Role
from ceiba.cases.models import Case, Phase
from tests.cases.portal_fixtures import BUSINESS_CODE, PDF, check_page, load_pack, signed_in
from tests.conftest import Tenant


def version_of(page: str) -> str:
    match = re.search(r'name="version" value="(\d+)"', page)
    assert match
    return match.group(1)


def post(client: Client, url: str, data: dict[str, object]) -> str:
    page = client.get(url).content.decode()
    response = client.post(url, {**data, "version": version_of(page), "action": "continue"})
    assert response.status_code == 302, response.content.decode()[:2000]
    return str(response["Location"])


@pytest.mark.django_db
def test_representative_applies_for_their_business(
    tenant_a: Tenant, sign_in: Callable[..., Client]
) -> None:
    load_pack(tenant_a, "commerce-registry/business-registration.yaml")
    rep = tenant_a.users[Role.BUSINESS_REP]
    client = signed_in(sign_in, rep, tenant_a.host)

    service = check_page(client.get(f"/services/{BUSINESS_CODE}/").content)
    assert "Businesses, through their registered representative" in service
    assert "From 25,000 XOF to 35,000 XOF, depending on your answers" in service

    # the representative must say for which business they apply
    start = client.get(f"/services/{BUSINESS_CODE}/apply/").content.decode()
    assert f"{tenant_a.legal_entity.name} ({tenant_a.legal_entity.registration_number})" in start
    refused = client.post(f"/services/{BUSINESS_CODE}/apply/", {})
    assert refused.status_code == 400
    assert '<a href="#id_on_behalf_of_0">Select the business you are applying for</a>' in (
        refused.content.decode()
    )
    assert not Case.objects.exists()
    response = client.post(
        f"/services/{BUSINESS_CODE}/apply/", {"on_behalf_of": str(tenant_a.legal_entity.pk)}
    )
    base = response["Location"].removesuffix("step/1/")
    case = Case.objects.get()
    assert case.legal_entity == tenant_a.legal_entity

    # a sole proprietorship skips the capital step
    location = post(
        client,
        f"{base}step/1/",
        {
            "legal_form": "sole_proprietorship",
            "business_name": "Boulangerie Awa",
            "registered_address": "12 rue du Marché, Douala",
            "start_date": "2026-01-05",
        },
    )
    assert location == f"{base}step/2/"
    location = post(
        client,
        f"{base}step/2/",
        {
            "activity_code": "10.71",
            "activity_description": "Bakery and pastry shop",
            "employees_expected": "3",
        },
    )
    assert location == f"{base}documents/"
    documents = client.get(f"{base}documents/").content.decode()
    assert "Signed articles of association" in documents
    response = client.post(
        f"{base}documents/",
        {
            "version": version_of(documents),
            "doc_representative_identity": SimpleUploadedFile("id.pdf", PDF),
            "doc_proof_of_address": SimpleUploadedFile("lease.pdf", PDF),
        },
    )
    assert response["Location"] == f"{base}review/"
    review = check_page(client.get(f"{base}review/").content)
    assert f"for {tenant_a.legal_entity.name}" in review
    assert "25,000 XOF" in review
    assert 'class="error-summary"' not in review
    key = re.search(r'name="idempotency_key" value="(\w+)"', review)
    assert key
    response = client.post(
        f"{base}submit/", {"idempotency_key": key.group(1), "version": version_of(review)}
    )
    assert response["Location"] == f"{base}receipt/"
    case.refresh_from_db()
    assert case.phase == Phase.OPEN
    receipt = client.get(f"{base}receipt/").content.decode()
    assert f"You applied for {tenant_a.legal_entity.name}." in receipt
    assert case.reference in client.get("/applications/").content.decode()


@pytest.mark.django_db
def test_citizen_cannot_apply_for_a_business_service(
    tenant_a: Tenant, sign_in: Callable[..., Client]
) -> None:
    load_pack(tenant_a, "commerce-registry/business-registration.yaml")
    client = signed_in(sign_in, tenant_a.users[Role.CITIZEN], tenant_a.host)
    page = client.get(f"/services/{BUSINESS_CODE}/").content.decode()
    assert "Your account cannot apply for this service." in page
    response = client.post(f"/services/{BUSINESS_CODE}/apply/", {"start_key": "x"})
    assert response.status_code == 400
    assert "This service is not open to applications from your account." in (
        response.content.decode()
    )
    assert not Case.objects.exists()

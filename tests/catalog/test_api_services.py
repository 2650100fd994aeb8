"""The catalog API: search and read services, scoped to the host's administration."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.test import Client

from ceiba.catalog.actions import do_load_service_definitions
from ceiba.tenancy.models import Institution
from tests.conftest import Tenant

PACKS = Path(__file__).resolve().parents[2] / "packs"
BIRTH = "civil-registry.birth-certificate-copy"


def load_packs(tenant: Tenant) -> None:
    for code in ("70000002", "70000003", "70000004", "70000005"):
        Institution.objects.create(
            administration=tenant.administration,
            member_class="GOV",
            member_code=code,
            names={"fr": f"Institution {code}", "en": f"Institution {code}"},
        )
    do_load_service_definitions([PACKS], administration=tenant.administration, actor=None)


@pytest.fixture
def catalog_a(tenant_a: Tenant) -> Tenant:
    load_packs(tenant_a)
    return tenant_a


def test_lists_every_published_service_with_pagination(catalog_a: Tenant) -> None:
    client = Client(HTTP_HOST=catalog_a.host)
    # when
    first = client.get("/api/v1/catalog/services?limit=2&offset=0").json()
    rest = client.get("/api/v1/catalog/services?limit=10&offset=2").json()
    # then
    assert first["count"] == 5
    codes = [item["code"] for item in first["items"] + rest["items"]]
    assert len(codes) == 5
    assert BIRTH in codes
    assert len(set(codes)) == 5


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("q=naissance", [BIRTH]),
        ("q=NACIMIENTO", [BIRTH]),
        ("sector=civil-registry", [BIRTH]),
        ("institution=GOV/70000001", [BIRTH]),
        ("institution=GOV/99999999", []),
        ("life_event=birth", [BIRTH]),
        ("q=zzzznothing", []),
    ],
)
def test_filters(catalog_a: Tenant, query: str, expected: list[str]) -> None:
    response = Client(HTTP_HOST=catalog_a.host).get(f"/api/v1/catalog/services?{query}")
    assert response.status_code == 200
    assert [item["code"] for item in response.json()["items"]] == expected


def test_one_service_with_form_schema_documents_fees_and_workflow(catalog_a: Tenant) -> None:
    client = Client(HTTP_HOST=catalog_a.host)
    # when
    body = client.get(f"/api/v1/catalog/services/{BIRTH}").json()
    by_id = client.get(f"/api/v1/catalog/services/{body['id']}").json()
    # then
    assert by_id == body
    assert body["name"] == "Copie d'acte de naissance"  # the administration's language
    assert body["names"]["en"] == "Copy of a birth certificate"
    assert body["institution"] == "GOV/70000001"
    assert body["version"] == 1
    assert "given_names" in body["form"]["schema"]["properties"]
    assert "given_names" in body["form"]["schema"]["required"]
    assert body["form"]["sections"][0]["id"] == "requester"
    assert body["initial_state"] == "submitted"
    assert {state["id"] for state in body["states"] if state["final"]} == {
        "issued",
        "rejected",
        "withdrawn",
    }
    approve = next(t for t in body["transitions"] if t["name"] == "approve")
    assert approve["roles"] == ["officer", "supervisor"]


def test_unknown_service_is_a_problem(catalog_a: Tenant) -> None:
    response = Client(HTTP_HOST=catalog_a.host).get("/api/v1/catalog/services/no.such-service")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "not_found"


def test_another_administrations_services_are_invisible(
    catalog_a: Tenant, tenant_b: Tenant
) -> None:
    on_b = Client(HTTP_HOST=tenant_b.host)
    service_id = (
        Client(HTTP_HOST=catalog_a.host).get(f"/api/v1/catalog/services/{BIRTH}").json()["id"]
    )
    assert on_b.get("/api/v1/catalog/services").json()["count"] == 0
    assert on_b.get(f"/api/v1/catalog/services/{BIRTH}").status_code == 404
    assert on_b.get(f"/api/v1/catalog/services/{service_id}").status_code == 404


def test_bad_filter_is_a_problem_with_the_field(catalog_a: Tenant) -> None:
    response = Client(HTTP_HOST=catalog_a.host).get("/api/v1/catalog/services?limit=-3")
    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    assert any("limit" in error["path"] for error in response.json()["errors"])

"""Browsing the catalog: filters, the service page, languages, anonymous visitors."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.cases.portal_fixtures import (
    BIRTH_CODE,
    BUSINESS_CODE,
    check_page,
    english,
    load_pack,
)
from tests.conftest import Tenant


@pytest.fixture
def catalog(tenant_a: Tenant) -> None:
    load_pack(
        tenant_a,
        "civil-registry/birth-certificate-copy.yaml",
        "commerce-registry/business-registration.yaml",
    )


@pytest.mark.django_db
def test_filters_by_institution_sector_life_event_and_words(
    tenant_a: Tenant, catalog: None
) -> None:
    client = english(Client(HTTP_HOST=tenant_a.host))

    def titles(query: str) -> list[str]:
        page = check_page(client.get(f"/services/{query}").content)
        return [code for code in (BIRTH_CODE, BUSINESS_CODE) if f'href="/services/{code}/"' in page]

    assert titles("") == [BIRTH_CODE, BUSINESS_CODE]
    assert titles("?institution=GOV/70000002") == [BUSINESS_CODE]
    assert titles("?institution=GOV/99999999") == []
    assert titles("?sector=civil-registry") == [BIRTH_CODE]
    assert titles("?life_event=starting-a-business") == [BUSINESS_CODE]
    assert titles("?q=ENTREPRISE") == [BUSINESS_CODE]
    assert titles("?q=acte+naissance&sector=commerce-registry") == []
    page = client.get("/services/?life_event=birth").content.decode()
    assert '<option value="birth" selected>Having a baby</option>' in page


@pytest.mark.django_db
def test_pages_open_in_the_administration_language(tenant_a: Tenant, catalog: None) -> None:
    client = Client(HTTP_HOST=tenant_a.host)
    listing = client.get("/services/").content.decode()
    assert "Copie d&#x27;acte de naissance" in listing
    page = client.get(f"/services/{BIRTH_CODE}/").content.decode()
    assert "Pièce d&#x27;identité du demandeur" in page
    spanish = Client(HTTP_HOST=tenant_a.host)
    spanish.cookies["ceiba_language"] = "es"
    assert "Copia del acta de nacimiento" in spanish.get("/services/").content.decode()


@pytest.mark.django_db
def test_anonymous_visitors_read_the_service_and_are_asked_to_sign_in(
    tenant_a: Tenant, catalog: None
) -> None:
    client = english(Client(HTTP_HOST=tenant_a.host))
    page = check_page(client.get(f"/services/{BUSINESS_CODE}/").content)
    assert "Sign in to apply" in page
    assert "Signed articles of association" in page
    assert "required in some cases" in page
    assert "About 6 working days after you submit" in page
    start = client.get(f"/services/{BUSINESS_CODE}/apply/")
    assert start.status_code == 302
    assert start["Location"].startswith("/accounts/login/")
    assert client.get("/services/no.such-service/").status_code == 404
    assert client.get("/applications/")["Location"].startswith("/accounts/login/")


@pytest.mark.django_db
def test_another_administration_does_not_list_these_services(
    tenant_a: Tenant, tenant_b: Tenant, catalog: None
) -> None:
    client = english(Client(HTTP_HOST=tenant_b.host))
    assert "0 services" in client.get("/services/").content.decode()
    assert client.get(f"/services/{BIRTH_CODE}/").status_code == 404


@pytest.mark.django_db
def test_the_list_costs_the_same_for_one_or_many_services(tenant_a: Tenant) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = english(Client(HTTP_HOST=tenant_a.host))

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/services/").status_code == 200
        return len(queries)

    load_pack(tenant_a, "civil-registry/birth-certificate-copy.yaml")
    one = count()
    load_pack(tenant_a, "commerce-registry/business-registration.yaml")
    assert count() == one

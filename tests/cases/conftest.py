"""Fixtures for cases: packs loaded into a tenant, applications made through the real actions.

Tests marked ``postgres`` here are skipped unless the test database is PostgreSQL.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.core.files.base import ContentFile

from ceiba.accounts.roles import Role
from ceiba.cases import actions
from ceiba.cases.models import Case
from ceiba.catalog.actions import do_load_service_definitions
from ceiba.catalog.models import Service
from ceiba.tenancy.models import Institution
from tests.conftest import Tenant

PACKS = Path(__file__).resolve().parents[2] / "packs"
BIRTH = PACKS / "civil-registry" / "birth-certificate-copy.yaml"
AGRICULTURE = PACKS / "agriculture" / "farmer-input-subsidy.yaml"
PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
EXE = b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 64

BIRTH_VALID: dict[str, Any] = {
    "requester_relationship": "self",
    "given_names": "Amina",
    "family_name": "Diallo",
    "date_of_birth": "1990-04-12",
    "place_of_birth": "Douala",
    "copy_type": "full_copy",
    "copies": 1,
    "delivery": "download",
}
BIRTH_DOCS = ["requester_identity"]


def pytest_collection_modifyitems(config: Any, items: list[Any]) -> None:
    from django.conf import settings

    if "postgresql" in settings.DATABASES["default"]["ENGINE"]:
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL (set CEIBA_TEST_DATABASE_URL)")
    here = str(Path(__file__).parent)
    for item in items:
        if "postgres" in item.keywords and str(item.path).startswith(here):
            item.add_marker(skip)


def pdf(name: str = "proof.pdf", content: bytes = PDF) -> ContentFile[bytes]:
    return ContentFile(content, name=name)


def load_birth(tenant: Tenant) -> Service:
    do_load_service_definitions([BIRTH], administration=tenant.administration, actor=None)
    return Service.objects.get(
        administration=tenant.administration, code="civil-registry.birth-certificate-copy"
    )


def submit_birth(tenant: Tenant, service: Service, key: str = "", **overrides: Any) -> Case:
    result = actions.do_submit_application(
        service,
        actor=tenant.users[Role.CITIZEN],
        answers={**BIRTH_VALID, **overrides},
        documents=[(doc, pdf()) for doc in BIRTH_DOCS],
        idempotency_key=key,
    )
    return result.case


def agriculture_institution(tenant: Tenant) -> Institution:
    return Institution.objects.get_or_create(
        administration=tenant.administration,
        member_class="GOV",
        member_code="70000004",
        defaults={"names": {"fr": "Agriculture", "en": "Agriculture"}, "sector": "agriculture"},
    )[0]


@pytest.fixture
def birth_service(tenant_a: Tenant) -> Service:
    return load_birth(tenant_a)


@pytest.fixture
def birth_case(tenant_a: Tenant, birth_service: Service) -> Case:
    return submit_birth(tenant_a, birth_service)


@pytest.fixture(autouse=True)
def _media_root(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.VAR_DIR = tmp_path

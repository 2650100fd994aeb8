"""Helpers for the portal tests: packs loaded through the catalog action, clients in English,
and page weight checks (HTML plus the stylesheet, as on a first visit)."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.test import Client
from django.test.client import Client as TestClient

from ceiba.catalog.actions import do_load_service_definitions
from ceiba.catalog.models import Service
from ceiba.tenancy.models import Institution
from tests.conftest import Tenant

PACKS = Path(__file__).resolve().parents[2] / "packs"
CSS = Path(__file__).resolve().parents[2] / "src/ceiba/web/static/ceiba/ceiba.css"
BUDGET = 60_000
BIRTH_CODE = "civil-registry.birth-certificate-copy"
BUSINESS_CODE = "commerce-registry.business-registration"
PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 64 + b"This program"


def load_pack(tenant: Tenant, *relative: str) -> list[Service]:
    """Load pack files into the tenant, creating the institutions they name if missing."""
    for code in ("70000002",):
        Institution.objects.get_or_create(
            administration=tenant.administration,
            member_class="GOV",
            member_code=code,
            defaults={"names": {"fr": "Registre du commerce", "en": "Commerce registry"}},
        )
    do_load_service_definitions(
        [PACKS / path for path in relative], administration=tenant.administration, actor=None
    )
    return list(Service.objects.filter(administration=tenant.administration))


def english(client: TestClient) -> TestClient:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def signed_in(sign_in: Callable[..., Client], user: object, host: str) -> Client:
    return english(sign_in(user, host))


def page_weight(content: bytes) -> int:
    """What a first visit transfers: the HTML and the one stylesheet it links."""
    return len(content) + CSS.stat().st_size


def check_page(content: bytes, weights: dict[str, int] | None = None, name: str = "") -> str:
    """Assert the page needs no script and stays in the budget; return it as text."""
    assert b"<script" not in content
    assert page_weight(content) < BUDGET, (name, page_weight(content))
    assert len(re.findall(rb'rel="stylesheet"', content)) == 1
    if weights is not None and name:
        weights[name] = page_weight(content)
    return content.decode()

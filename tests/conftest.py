from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.test import Client
from django_otp.oath import TOTP, totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from ceiba.accounts import actions as account_actions
from ceiba.accounts.models import LegalEntity, User
from ceiba.accounts.roles import STAFF_ROLES, Role
from ceiba.tenancy.models import Administration, AdministrationHostname, Institution

PASSWORD = "correct horse battery staple 42"
RECOVERY_CODES: dict[Any, list[str]] = {}


@dataclass
class Tenant:
    administration: Administration
    host: str
    institution: Institution
    legal_entity: LegalEntity
    users: dict[str, User] = field(default_factory=dict)


def make_tenant(slug: str, host: str, language: str = "fr") -> Tenant:
    administration = Administration.objects.create(
        slug=slug,
        names={"fr": f"Administration {slug.upper()}", "en": f"Administration {slug.upper()} (en)"},
        default_language=language,
        currency="XAF",
    )
    AdministrationHostname.objects.create(administration=administration, hostname=host)
    institution = Institution.objects.create(
        administration=administration,
        member_class="GOV",
        member_code="70000001",
        names={"fr": f"État civil {slug}", "en": f"Civil registry {slug}"},
        sector="civil-registry",
    )
    entity = LegalEntity.objects.create(
        administration=administration, registration_number=f"RC-{slug}-1", name=f"Entreprise {slug}"
    )
    tenant = Tenant(administration, host, institution, entity)
    for role in Role:
        if role == Role.PLATFORM_ADMIN:
            continue
        tenant.users[role] = account_actions.do_create_account(
            administration=administration,
            email=f"{role}@{slug}.example",
            password=PASSWORD,
            role=role,
            full_name=f"{role} of {slug}",
            institution=institution if role in (Role.OFFICER, Role.SUPERVISOR) else None,
            legal_entity=entity if role == Role.BUSINESS_REP else None,
            national_id=f"NID-{slug}-{role}",
            actor=None,
        )
        if role in STAFF_ROLES:
            TOTPDevice.objects.create(user=tenant.users[role], name="authenticator", confirmed=True)
            RECOVERY_CODES[tenant.users[role].pk] = account_actions.do_regenerate_recovery_codes(
                tenant.users[role], actor=tenant.users[role]
            )
    return tenant


def pytest_collection_modifyitems(config: Any, items: list[Any]) -> None:
    """Tests marked `postgres` need PostgreSQL semantics: skipped, with a reason, on SQLite."""
    from django.conf import settings

    if "postgresql" in settings.DATABASES["default"]["ENGINE"]:
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL (set CEIBA_TEST_DATABASE_URL)")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def tenant_a(db: Any) -> Tenant:
    return make_tenant("alpha", "alpha.example")


@pytest.fixture
def tenant_b(db: Any) -> Tenant:
    return make_tenant("beta", "beta.example")


def current_code(user: User) -> str:
    """The authenticator's code now; a recovery code if this time step's code was used already."""
    device = TOTPDevice.objects.get(user=user, confirmed=True)
    if device.last_t >= TOTP(device.bin_key, device.step, device.t0, device.digits).t():
        return RECOVERY_CODES[user.pk].pop()
    return str(totp(device.bin_key, device.step, device.t0, device.digits, device.drift)).zfill(
        device.digits
    )


@pytest.fixture
def sign_in() -> Callable[..., Client]:
    """Sign in through the real pages (password, then the TOTP code for staff)."""

    def _sign_in(user: User, host: str, *, verify: bool = True) -> Client:
        client = Client(HTTP_HOST=host)
        response = client.post("/accounts/login/", {"username": user.email, "password": PASSWORD})
        assert response.status_code == 302, response.content[:500]
        if user.is_staff_role and verify:
            response = client.post("/accounts/mfa/verify/", {"code": current_code(user)})
            assert response.status_code == 302, response.content[:500]
        return client

    return _sign_in

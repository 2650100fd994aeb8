from __future__ import annotations

from collections.abc import Callable

import pytest
from django.conf import settings
from django.test import Client

from ceiba.accounts.models import User
from ceiba.accounts.roles import ROLE_PERMISSIONS, Permission, Role
from ceiba.soc.models import SecurityEvent
from tests.conftest import Tenant

SEES_SECURITY_EVENTS = {Role.SOC_ANALYST, Role.ADMIN}


@pytest.mark.django_db
@pytest.mark.parametrize("role", [r for r in Role if r != Role.PLATFORM_ADMIN])
def test_security_events_api_follows_the_role(
    tenant_a: Tenant, sign_in: Callable[..., Client], role: str
) -> None:
    client = sign_in(tenant_a.users[role], tenant_a.host)
    response = client.get("/api/v1/soc/security-events")
    if role in SEES_SECURITY_EVENTS:
        assert response.status_code == 200
        actions = {item["action"] for item in response.json()["items"]}
        assert "login" in actions
    else:
        assert response.status_code == 403
        assert response.json()["code"] == "auth.forbidden"
        denied = SecurityEvent.objects.filter(action="permission_denied").latest("occurred_at")
        assert denied.actor_id == tenant_a.users[role].pk


@pytest.mark.django_db
@pytest.mark.parametrize("role", [r for r in Role if r != Role.PLATFORM_ADMIN])
def test_django_admin_is_for_platform_admins_only(
    tenant_a: Tenant, sign_in: Callable[..., Client], role: str
) -> None:
    client = sign_in(tenant_a.users[role], tenant_a.host)
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


@pytest.mark.django_db
def test_platform_admin_reaches_django_admin_after_two_factor(
    tenant_a: Tenant, sign_in: Callable[..., Client]
) -> None:
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from ceiba.accounts.actions import do_create_account
    from tests.conftest import PASSWORD

    admin = do_create_account(
        administration=None,
        email="ops@platform.example",
        password=PASSWORD,
        role=Role.PLATFORM_ADMIN,
        actor=None,
    )
    TOTPDevice.objects.create(user=admin, name="authenticator", confirmed=True)
    client = sign_in(admin, tenant_a.host)
    assert client.get("/admin/").status_code == 200
    assert client.get("/admin/soc/securityevent/").status_code == 200


def test_every_role_has_a_permission_set() -> None:
    assert set(ROLE_PERMISSIONS) == set(Role)
    assert Permission.MANAGE_PLATFORM in ROLE_PERMISSIONS[Role.PLATFORM_ADMIN]
    assert all(
        Permission.MANAGE_PLATFORM not in p
        for r, p in ROLE_PERMISSIONS.items()
        if r != Role.PLATFORM_ADMIN
    )


def test_production_hashes_passwords_with_argon2() -> None:
    assert settings.PRODUCTION_PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")


@pytest.mark.django_db
def test_argon2_hash_is_what_gets_stored(tenant_a: Tenant, settings: object) -> None:
    settings.PASSWORD_HASHERS = settings.PRODUCTION_PASSWORD_HASHERS  # type: ignore[attr-defined]
    user = User.objects.create_user(
        "argon@alpha.example", "a long passphrase here", administration=tenant_a.administration
    )
    assert user.password.startswith("argon2$")
    assert user.check_password("a long passphrase here")

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from ceiba.accounts.models import User
from ceiba.accounts.roles import PUBLIC_ROLES, STAFF_ROLES, Role
from ceiba.soc.models import SecurityEvent
from tests.conftest import PASSWORD, RECOVERY_CODES, Tenant


def _password_only(user: User, host: str) -> Client:
    client = Client(HTTP_HOST=host)
    response = client.post("/accounts/login/", {"username": user.email, "password": PASSWORD})
    assert response.status_code == 302
    return client


@pytest.mark.django_db
@pytest.mark.parametrize("role", sorted(STAFF_ROLES - {Role.PLATFORM_ADMIN}))
def test_staff_cannot_use_anything_before_two_factor(tenant_a: Tenant, role: str) -> None:
    client = _password_only(tenant_a.users[role], tenant_a.host)
    page = client.get("/accounts/profile/")
    api = client.get("/api/v1/accounts/me")
    assert page.status_code == 302
    assert page["Location"] == "/accounts/mfa/verify/?next=%2Faccounts%2Fprofile%2F"
    assert api.status_code == 401
    assert api.json()["code"] == "accounts.mfa_required"


@pytest.mark.django_db
@pytest.mark.parametrize("role", sorted(PUBLIC_ROLES))
def test_citizens_do_not_need_two_factor(tenant_a: Tenant, role: str) -> None:
    client = _password_only(tenant_a.users[role], tenant_a.host)
    assert client.get("/accounts/profile/").status_code == 200


@pytest.mark.django_db
def test_staff_without_authenticator_must_enroll_then_gets_recovery_codes(tenant_a: Tenant) -> None:
    officer = tenant_a.users[Role.OFFICER]
    TOTPDevice.objects.filter(user=officer).delete()
    client = _password_only(officer, tenant_a.host)
    # given: sent to enrollment
    assert client.get("/").headers["Location"] == "/accounts/mfa/setup/"
    setup = client.get("/accounts/mfa/setup/")
    assert setup.status_code == 200
    assert b"<svg" in setup.content  # QR code, no JavaScript needed
    device = TOTPDevice.objects.get(user=officer, confirmed=False)
    # when: a wrong code, then the right one
    wrong = client.post("/accounts/mfa/setup/", {"code": "000000"})
    # after a failure django-otp makes the next try wait a second; stand in for that wait
    device.refresh_from_db()
    device.throttle_reset()
    code = str(totp(device.bin_key, device.step, device.t0, device.digits)).zfill(6)
    right = client.post("/accounts/mfa/setup/", {"code": code})
    # then
    assert wrong.status_code == 200
    assert SecurityEvent.objects.filter(action="mfa_verify", outcome="failure").count() == 1
    assert right["Location"] == "/accounts/mfa/recovery-codes/"
    codes_page = client.get("/accounts/mfa/recovery-codes/")
    assert codes_page.status_code == 200
    assert len(codes_page.context["codes"]) == 10
    # the codes are shown once
    assert client.get("/accounts/mfa/recovery-codes/").status_code == 302
    assert client.get("/accounts/profile/").status_code == 200


@pytest.mark.django_db
def test_a_recovery_code_works_once(tenant_a: Tenant) -> None:
    analyst = tenant_a.users[Role.SOC_ANALYST]
    code = RECOVERY_CODES[analyst.pk][0]
    first = _password_only(analyst, tenant_a.host)
    assert first.post("/accounts/mfa/verify/", {"code": code}).status_code == 302
    assert first.get("/accounts/profile/").status_code == 200
    second = _password_only(analyst, tenant_a.host)
    again = second.post("/accounts/mfa/verify/", {"code": code})
    assert again.status_code == 200
    assert second.get("/accounts/profile/").status_code == 302


@pytest.mark.django_db
def test_verified_staff_reach_their_pages(tenant_a: Tenant, sign_in: Callable[..., Client]) -> None:
    client = sign_in(tenant_a.users[Role.SUPERVISOR], tenant_a.host)
    assert client.get("/accounts/profile/").status_code == 200
    assert client.get("/api/v1/accounts/me").json()["role"] == Role.SUPERVISOR

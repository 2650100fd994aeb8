from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client

from ceiba.accounts.roles import Role
from ceiba.soc.actions import record_security_event
from ceiba.soc.models import SecurityEvent
from tests.conftest import PASSWORD, Tenant


@pytest.mark.django_db
def test_sign_in_is_recorded_with_request_metadata(tenant_a: Tenant) -> None:
    citizen = tenant_a.users[Role.CITIZEN]
    client = Client(HTTP_HOST=tenant_a.host, HTTP_USER_AGENT="Mozilla/5.0 test")
    client.post("/accounts/login/", {"username": citizen.email, "password": PASSWORD})
    event = SecurityEvent.objects.get(action="login", outcome="success")
    normalized = event.to_normalized()
    assert normalized["event.category"] == "authentication"
    assert normalized["event.outcome"] == "success"
    assert normalized["user.id"] == str(citizen.pk)
    assert normalized["user.name"] == citizen.email
    assert normalized["source.ip"] == "127.0.0.1"
    assert normalized["user_agent.original"] == "Mozilla/5.0 test"
    assert normalized["ceiba.administration"] == "alpha"
    assert normalized["url.path"] == "/accounts/login/"
    assert len(normalized["ceiba.request_id"]) == 32


@pytest.mark.django_db
def test_secrets_in_details_are_redacted(tenant_a: Tenant) -> None:
    event = record_security_event(
        category="iam",
        action="admin_change",
        outcome="success",
        administration=tenant_a.administration,
        details={"password": "hunter2", "api_token": "cba_x", "field": "email"},
    )
    assert event.details == {"password": "[redacted]", "api_token": "[redacted]", "field": "email"}


@pytest.mark.django_db
def test_api_token_use_is_recorded(tenant_a: Tenant) -> None:
    from ceiba.accounts.actions import do_create_api_token

    analyst = tenant_a.users[Role.SOC_ANALYST]
    _token, clear = do_create_api_token(analyst, "siem", actor=analyst)
    client = Client(HTTP_HOST=tenant_a.host)
    ok = client.get("/api/v1/soc/security-events", HTTP_AUTHORIZATION=f"Bearer {clear}")
    bad = client.get("/api/v1/soc/security-events", HTTP_AUTHORIZATION="Bearer cba_forged")
    assert ok.status_code == 200
    assert bad.status_code == 401
    uses = SecurityEvent.objects.filter(action="api_token_use").order_by("occurred_at")
    assert [e.outcome for e in uses] == ["success", "failure"]
    assert clear not in str(list(uses.values()))


@pytest.mark.django_db
def test_admin_changes_are_recorded(tenant_a: Tenant, sign_in: Callable[..., Client]) -> None:
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from ceiba.accounts.actions import do_create_account

    ops = do_create_account(
        administration=None,
        email="ops@platform.example",
        password=PASSWORD,
        role=Role.PLATFORM_ADMIN,
        actor=None,
    )
    TOTPDevice.objects.create(user=ops, name="authenticator", confirmed=True)
    client = sign_in(ops, tenant_a.host)
    institution = tenant_a.institution
    response = client.post(
        f"/admin/tenancy/institution/{institution.pk}/change/",
        {
            "administration": str(tenant_a.administration.pk),
            "member_class": "GOV",
            "member_code": "70000009",
            "names": '{"fr": "Renamed"}',
            "kind": "agency",
            "sector": "x",
            "is_active": "on",
        },
    )
    assert response.status_code == 302, response.content[:2000]
    event = SecurityEvent.objects.get(action="admin_change")
    assert event.actor_id == ops.pk
    assert event.target == f"tenancy.institution:{institution.pk}"

"""Defences a reviewer asked for: sessions stay on their administration, proxies are trusted
only when configured, recovery codes are not stored in clear, the security log is append-only."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from ceiba.accounts.roles import Role
from ceiba.soc.models import SecurityEvent
from tests.conftest import PASSWORD, RECOVERY_CODES, Tenant


@pytest.mark.django_db
def test_a_session_replayed_on_another_administration_is_anonymous(
    tenant_a: Tenant, tenant_b: Tenant, sign_in: Callable[..., Client]
) -> None:
    client = sign_in(tenant_a.users[Role.CITIZEN], tenant_a.host)
    on_b = client.get("/accounts/profile/", HTTP_HOST=tenant_b.host)
    assert on_b.status_code == 302
    assert on_b["Location"].startswith("/accounts/login/")
    home = client.get("/", HTTP_HOST=tenant_b.host).content.decode()
    assert tenant_a.users[Role.CITIZEN].email not in home
    assert SecurityEvent.objects.filter(reason="session_of_another_administration").exists()
    # and the session still works at home
    assert client.get("/accounts/profile/").status_code == 200


@pytest.mark.django_db
def test_forwarded_for_is_ignored_unless_the_proxy_is_trusted(
    tenant_a: Tenant, settings: Any
) -> None:
    citizen = tenant_a.users[Role.CITIZEN]
    client = Client(HTTP_HOST=tenant_a.host, HTTP_X_FORWARDED_FOR="203.0.113.7")
    client.post("/accounts/login/", {"username": citizen.email, "password": "wrong"})
    assert SecurityEvent.objects.latest("occurred_at").source_ip == "127.0.0.1"

    import ipaddress

    settings.CEIBA_TRUSTED_PROXIES = (ipaddress.ip_network("127.0.0.0/8"),)
    client = Client(HTTP_HOST=tenant_a.host, HTTP_X_FORWARDED_FOR="198.51.100.9, 203.0.113.7")
    client.post("/accounts/login/", {"username": citizen.email, "password": "wrong"})
    assert SecurityEvent.objects.latest("occurred_at").source_ip == "203.0.113.7"


@pytest.mark.django_db
def test_behind_a_trusted_proxy_lockout_is_per_client_not_per_proxy(
    tenant_a: Tenant, settings: Any
) -> None:
    import ipaddress

    settings.CEIBA_TRUSTED_PROXIES = (ipaddress.ip_network("127.0.0.0/8"),)
    officer = tenant_a.users[Role.OFFICER]
    attacker = Client(HTTP_HOST=tenant_a.host, HTTP_X_FORWARDED_FOR="203.0.113.66")
    for _attempt in range(6):
        attacker.post("/accounts/login/", {"username": officer.email, "password": "wrong"})
    # the real officer, from their own address behind the same proxy, still signs in
    officer_client = Client(HTTP_HOST=tenant_a.host, HTTP_X_FORWARDED_FOR="198.51.100.20")
    response = officer_client.post(
        "/accounts/login/", {"username": officer.email, "password": PASSWORD}
    )
    assert response.status_code == 302


@pytest.mark.django_db
def test_recovery_codes_are_not_stored_in_clear(tenant_a: Tenant) -> None:
    analyst = tenant_a.users[Role.SOC_ANALYST]
    stored = set(StaticToken.objects.filter(device__user=analyst).values_list("token", flat=True))
    assert stored
    assert not stored & set(RECOVERY_CODES[analyst.pk])


@pytest.mark.django_db
def test_a_citizen_who_turned_two_factor_on_is_asked_for_it(tenant_a: Tenant) -> None:
    citizen = tenant_a.users[Role.CITIZEN]
    device = TOTPDevice.objects.create(user=citizen, name="authenticator", confirmed=True)
    client = Client(HTTP_HOST=tenant_a.host)
    client.post("/accounts/login/", {"username": citizen.email, "password": PASSWORD})
    assert client.get("/accounts/profile/")["Location"].startswith("/accounts/mfa/verify/")
    code = str(totp(device.bin_key, device.step, device.t0, device.digits)).zfill(6)
    client.post("/accounts/mfa/verify/", {"code": code})
    assert client.get("/accounts/profile/").status_code == 200


@pytest.mark.django_db
def test_two_factor_returns_to_the_page_asked_for(tenant_a: Tenant) -> None:
    from tests.conftest import current_code

    officer = tenant_a.users[Role.OFFICER]
    client = Client(HTTP_HOST=tenant_a.host)
    client.post("/accounts/login/", {"username": officer.email, "password": PASSWORD})
    to_verify = client.get("/accounts/profile/")["Location"]
    response = client.post(to_verify, {"code": current_code(officer)})
    assert response["Location"] == "/accounts/profile/"


@pytest.mark.django_db
def test_probes_answer_for_any_host_name() -> None:
    client = Client(HTTP_HOST="10.1.2.3")
    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").status_code == 200


@pytest.mark.django_db
def test_platform_admin_failures_count_once_across_hosts(
    tenant_a: Tenant, tenant_b: Tenant
) -> None:
    from ceiba.accounts.actions import do_create_account

    do_create_account(
        administration=None,
        email="ops@platform.example",
        password=PASSWORD,
        role=Role.PLATFORM_ADMIN,
        actor=None,
    )
    for host in (tenant_a.host, tenant_b.host, tenant_a.host):
        for _attempt in range(2):
            Client(HTTP_HOST=host).post(
                "/accounts/login/", {"username": "ops@platform.example", "password": "x"}
            )
    response = Client(HTTP_HOST=tenant_b.host).post(
        "/accounts/login/", {"username": "ops@platform.example", "password": PASSWORD}
    )
    assert response.status_code == 429


@pytest.mark.django_db
def test_the_second_factor_question_is_asked_once_per_session(tenant_a: Tenant) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_HOST=tenant_a.host)
    citizen = tenant_a.users[Role.CITIZEN]
    client.post("/accounts/login/", {"username": citizen.email, "password": PASSWORD})
    client.get("/")
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/").status_code == 200
    assert not [q for q in queries.captured_queries if "otp_totp_totpdevice" in q["sql"]]

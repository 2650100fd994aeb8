from __future__ import annotations

import pytest
from django.test import Client

from ceiba.accounts.roles import Role
from ceiba.soc.models import SecurityEvent
from tests.conftest import PASSWORD, Tenant


@pytest.mark.django_db
def test_five_failures_lock_the_account_even_for_the_right_password(tenant_a: Tenant) -> None:
    citizen = tenant_a.users[Role.CITIZEN]
    client = Client(HTTP_HOST=tenant_a.host)
    # given: five wrong passwords
    for _attempt in range(5):
        response = client.post("/accounts/login/", {"username": citizen.email, "password": "wrong"})
    # when: the right password comes next
    response = client.post("/accounts/login/", {"username": citizen.email, "password": PASSWORD})
    # then: refused with the lockout page, and nobody is signed in
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
    failures = SecurityEvent.objects.filter(
        action="login", outcome="failure", actor_name=citizen.email
    )
    assert failures.count() == 6  # five wrong passwords, then the refused right one
    lockout = SecurityEvent.objects.filter(action="lockout").earliest("occurred_at")
    assert lockout.actor_name == citizen.email
    assert lockout.administration == tenant_a.administration
    assert lockout.source_ip == "127.0.0.1"


@pytest.mark.django_db
def test_lockout_is_per_administration(tenant_a: Tenant, tenant_b: Tenant) -> None:
    # The same address on another administration is another account and is not locked.
    email_a = tenant_a.users[Role.CITIZEN].email
    for _attempt in range(5):
        Client(HTTP_HOST=tenant_a.host).post(
            "/accounts/login/", {"username": email_a, "password": "x"}
        )
    other = tenant_b.users[Role.CITIZEN]
    response = Client(HTTP_HOST=tenant_b.host).post(
        "/accounts/login/", {"username": other.email, "password": PASSWORD}
    )
    assert response.status_code == 302


@pytest.mark.django_db
def test_failed_login_does_not_say_whether_the_account_exists(tenant_a: Tenant) -> None:
    client = Client(HTTP_HOST=tenant_a.host)
    unknown = client.post("/accounts/login/", {"username": "nobody@alpha.example", "password": "x"})
    known = client.post(
        "/accounts/login/", {"username": tenant_a.users[Role.CITIZEN].email, "password": "x"}
    )
    assert unknown.status_code == known.status_code == 200
    assert b"There is a problem" in unknown.content or b"probl" in unknown.content
    assert unknown.context["form"].errors == known.context["form"].errors


@pytest.mark.django_db
def test_account_of_another_administration_cannot_sign_in_here(
    tenant_a: Tenant, tenant_b: Tenant
) -> None:
    response = Client(HTTP_HOST=tenant_a.host).post(
        "/accounts/login/", {"username": tenant_b.users[Role.CITIZEN].email, "password": PASSWORD}
    )
    assert response.status_code == 200
    assert "_auth_user_id" not in response.client.session

from __future__ import annotations

import pytest
from django.test import Client

from ceiba.accounts.models import User
from ceiba.accounts.roles import Role
from ceiba.soc.models import SecurityEvent
from tests.conftest import Tenant

GOOD = {
    "full_name": "Awa Diallo",
    "email": "Awa@Example.org",
    "password1": "mangoes under the ceiba tree",
    "password2": "mangoes under the ceiba tree",
}


@pytest.mark.django_db
def test_a_citizen_registers_and_is_signed_in(tenant_a: Tenant) -> None:
    client = Client(HTTP_HOST=tenant_a.host)
    response = client.post("/accounts/register/", GOOD)
    assert response.status_code == 302
    user = User.objects.get(email="awa@example.org")
    assert user.role == Role.CITIZEN
    assert user.administration == tenant_a.administration
    assert client.session["_auth_user_id"] == str(user.pk)
    assert SecurityEvent.objects.filter(action="register", actor_id=user.pk).exists()


@pytest.mark.django_db
def test_registration_errors_are_listed_with_links(tenant_a: Tenant) -> None:
    taken = tenant_a.users[Role.CITIZEN].email
    bad = {**GOOD, "email": taken, "password1": "short", "password2": "other"}
    response = Client(HTTP_HOST=tenant_a.host).post("/accounts/register/", bad)
    page = response.content.decode()
    assert response.status_code == 200
    assert 'class="error-summary"' in page
    assert 'href="#id_email"' in page
    assert 'href="#id_password2"' in page
    assert User.objects.filter(email=taken).count() == 1


@pytest.mark.django_db
def test_same_email_may_register_on_another_administration(
    tenant_a: Tenant, tenant_b: Tenant
) -> None:
    Client(HTTP_HOST=tenant_a.host).post("/accounts/register/", GOOD)
    response = Client(HTTP_HOST=tenant_b.host).post("/accounts/register/", GOOD)
    assert response.status_code == 302
    assert User.objects.filter(email="awa@example.org").count() == 2


@pytest.mark.django_db
def test_weak_password_is_refused(tenant_a: Tenant) -> None:
    weak = {**GOOD, "password1": "123456789012", "password2": "123456789012"}
    response = Client(HTTP_HOST=tenant_a.host).post("/accounts/register/", weak)
    assert response.status_code == 200
    assert not User.objects.filter(email="awa@example.org").exists()


@pytest.mark.django_db
def test_a_self_declared_national_id_is_ignored(tenant_a: Tenant) -> None:
    # Services trust the national id: anybody typing somebody else's must not get it.
    victim_id = tenant_a.users[Role.CITIZEN].national_id
    Client(HTTP_HOST=tenant_a.host).post("/accounts/register/", {**GOOD, "national_id": victim_id})
    assert User.objects.get(email="awa@example.org").national_id == ""

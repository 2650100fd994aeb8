from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client

from ceiba.accounts.models import User
from ceiba.accounts.roles import Role
from ceiba.tenancy.models import Institution


@pytest.mark.django_db
def test_demo_is_idempotent_and_prints_credentials_once() -> None:
    first, second = StringIO(), StringIO()
    call_command("demo", stdout=first)
    call_command("demo", stdout=second)
    assert "République de Démo" in first.getvalue()
    assert first.getvalue().count("password:") == len(Role)
    assert "password:" not in second.getvalue()
    assert Institution.objects.count() == 5
    assert {u.role for u in User.objects.all()} == set(Role)


@pytest.mark.django_db
def test_demo_home_page_lists_the_five_institutions(settings: Any) -> None:
    call_command("demo", stdout=StringIO())
    page = Client(HTTP_HOST="localhost").get("/").content.decode()
    assert "Direction de l&#x27;état civil" in page
    assert "Direction générale des impôts" in page

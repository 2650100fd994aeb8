"""The `ceiba` command as an operator uses it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from ceiba.accounts.models import User
from ceiba.accounts.roles import Role
from ceiba.cli import main
from tests.conftest import Tenant


def _run(args: list[str], tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("CEIBA_")}
    clean.pop("DJANGO_SETTINGS_MODULE", None)
    return subprocess.run(
        [sys.executable, "-m", "ceiba.cli", *args],
        env={**clean, "CEIBA_VAR_DIR": str(tmp_path), **env},
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )


def test_help_lists_the_operations_commands(capsys: Any) -> None:
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    for command in ("serve", "worker", "migrate", "demo", "createadmin", "check", "soc scan"):
        assert command in out


def test_check_deploy_flags_a_development_setup(tmp_path: Path) -> None:
    result = _run(["check", "--deploy", "--fail-level", "ERROR"], tmp_path)
    assert result.returncode != 0
    assert "ceiba.E001" in result.stderr + result.stdout
    assert "ceiba.W001" in result.stderr + result.stdout


def test_json_logs_carry_the_request_id(tmp_path: Path) -> None:
    code = (
        "import logging; from ceiba.web.logging import request_id_var; "
        "request_id_var.set('req-12345678'); logging.getLogger('ceiba.test').warning('hello')"
    )
    result = _run(["shell", "-c", code], tmp_path, CEIBA_LOG_FORMAT="json")
    line = json.loads(result.stderr.strip().splitlines()[-1])
    assert line["message"] == "hello"
    assert line["request_id"] == "req-12345678"
    assert line["level"] == "WARNING"


@pytest.mark.django_db
def test_createadmin_makes_an_administration_admin(tenant_a: Tenant, capsys: Any) -> None:
    call_command(
        "createadmin", email="boss@alpha.example", administration="alpha", generate_password=True
    )
    user = User.objects.get(email="boss@alpha.example")
    assert user.role == Role.ADMIN
    assert user.administration == tenant_a.administration
    password = capsys.readouterr().out.split("Password (shown once): ")[1].strip()
    assert user.check_password(password)


@pytest.mark.django_db
def test_createadmin_without_administration_makes_a_platform_admin() -> None:
    call_command("createadmin", email="ops@example.org", generate_password=True)
    user = User.objects.get(email="ops@example.org")
    assert user.role == Role.PLATFORM_ADMIN
    assert user.administration is None
    assert user.is_superuser


@pytest.mark.django_db
def test_createadmin_refuses_an_unknown_administration() -> None:
    with pytest.raises(CommandError, match="no administration"):
        call_command(
            "createadmin", email="x@example.org", administration="nope", generate_password=True
        )


@pytest.mark.django_db
def test_createuser_makes_an_officer_of_an_institution(tenant_a: Tenant, capsys: Any) -> None:
    call_command(
        "createuser",
        email="new.officer@alpha.example",
        role="officer",
        administration="alpha",
        institution="GOV/70000001",
    )
    user = User.objects.get(email="new.officer@alpha.example")
    assert user.institution == tenant_a.institution
    assert user.is_staff_role
    assert "Password (shown once): " in capsys.readouterr().out


@pytest.mark.django_db
def test_createuser_refuses_an_officer_without_institution(tenant_a: Tenant) -> None:
    with pytest.raises(CommandError, match="needs --institution"):
        call_command("createuser", email="x@alpha.example", role="officer", administration="alpha")


@pytest.mark.django_db
def test_apitoken_create_use_and_revoke(tenant_a: Tenant, capsys: Any) -> None:
    from django.test import Client

    analyst = tenant_a.users[Role.SOC_ANALYST]
    call_command("apitoken", "create", administration="alpha", email=analyst.email, name="siem")
    clear = capsys.readouterr().out.strip().splitlines()[-1]
    client = Client(HTTP_HOST=tenant_a.host)
    auth = {"HTTP_AUTHORIZATION": f"Bearer {clear}"}
    assert client.get("/api/v1/soc/security-events", **auth).status_code == 200
    call_command("apitoken", "revoke", clear[:12])
    assert client.get("/api/v1/soc/security-events", **auth).status_code == 401


def test_access_lines_carry_request_id_and_hide_reset_tokens(tmp_path: Path) -> None:
    code = (
        "from django.test import Client; "
        "Client().get('/accounts/password-reset/MQ/secret-token-123/', "
        "HTTP_X_REQUEST_ID='req-abcdef12')"
    )
    assert _run(["migrate", "-v0"], tmp_path).returncode == 0
    result = _run(["shell", "-c", code], tmp_path, CEIBA_LOG_FORMAT="json")
    lines = [json.loads(line) for line in result.stderr.splitlines() if line.startswith("{")]
    access = [line for line in lines if line.get("logger") == "ceiba.access"]
    assert access, result.stderr[-2000:]
    assert access[0]["request_id"] == "req-abcdef12"
    assert "secret-token-123" not in result.stderr
    assert "/accounts/password-reset/MQ/***/" in access[0]["message"]

"""Configuration errors are one line naming the variable, with a distinct exit code."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from ceiba.config import ConfigError, load

CEIBA = [sys.executable, "-m", "ceiba.cli"]


def run_ceiba(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("CEIBA_")}
    clean.pop("DJANGO_SETTINGS_MODULE", None)
    return subprocess.run(
        [*CEIBA, *args], env={**clean, **env}, cwd=cwd, capture_output=True, text=True, timeout=120
    )


def test_production_without_secret_key_is_one_line_and_exit_2(tmp_path: Path) -> None:
    result = run_ceiba(
        ["check"],
        {
            "CEIBA_MODE": "production",
            "CEIBA_ALLOWED_HOSTS": "gov.example",
            "CEIBA_VAR_DIR": str(tmp_path),
        },
        tmp_path,
    )
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert "CEIBA_SECRET_KEY" in result.stderr
    assert "Traceback" not in result.stderr


def test_malformed_database_url_names_the_variable(tmp_path: Path) -> None:
    result = run_ceiba(
        ["migrate"],
        {"CEIBA_DATABASE_URL": "mysql//oops", "CEIBA_VAR_DIR": str(tmp_path)},
        tmp_path,
    )
    assert result.returncode == 2
    assert result.stderr.startswith("ceiba: configuration error: CEIBA_DATABASE_URL:")
    assert result.stderr.count("\n") == 1


def test_unreachable_database_is_one_line(tmp_path: Path) -> None:
    result = run_ceiba(
        ["migrate"],
        {
            "CEIBA_DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none",
            "CEIBA_VAR_DIR": str(tmp_path),
        },
        tmp_path,
    )
    assert result.returncode == 3
    assert "CEIBA_DATABASE_URL" in result.stderr
    assert "Traceback" not in result.stderr


def test_development_generates_the_secret_key_once(tmp_path: Path) -> None:
    first = load({"CEIBA_VAR_DIR": str(tmp_path)})
    second = load({"CEIBA_VAR_DIR": str(tmp_path)})
    assert first.secret_key == second.secret_key
    assert len(first.secret_key) >= 50
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("CEIBA_DEBUG", "maybe"),
        ("CEIBA_MODE", "staging"),
        ("CEIBA_TIME_ZONE", "Mars/Olympus"),
        ("CEIBA_DEFAULT_LANGUAGE", "xx"),
        ("CEIBA_REDIS_URL", "http://localhost"),
        ("CEIBA_SECRET_KEY", "short"),
        ("CEIBA_DATABASE_URL", "sqlite://"),
        ("CEIBA_EMAIL_URL", "ftp://mail"),
        ("CEIBA_SECRET_KEY", "x" * 60),
        ("CEIBA_TRUSTED_PROXIES", "10.0.0.0/8,not-an-address"),
        ("CEIBA_KEY_PASSPHRASE", "short"),
    ],
)
def test_each_bad_value_names_its_variable(tmp_path: Path, variable: str, value: str) -> None:
    with pytest.raises(ConfigError) as excinfo:
        load({"CEIBA_VAR_DIR": str(tmp_path), variable: value})
    assert excinfo.value.variable == variable


def test_production_defaults_are_secure(tmp_path: Path) -> None:
    config = load(
        {
            "CEIBA_MODE": "production",
            "CEIBA_SECRET_KEY": "test-secret-" + "0123456789abcdef" * 4,
            "CEIBA_KEY_PASSPHRASE": "a passphrase for the signing keys",
            "CEIBA_ALLOWED_HOSTS": "gov.example",
            "CEIBA_VAR_DIR": str(tmp_path),
        }
    )
    assert config.secure_cookies
    assert not config.debug
    assert config.log_format == "json"


def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path: Path) -> None:
    database = load({"CEIBA_VAR_DIR": str(tmp_path)}).database
    assert database["NAME"].endswith("ceiba.sqlite3")
    assert "journal_mode=WAL" in database["OPTIONS"]["init_command"]
    assert "foreign_keys=ON" in database["OPTIONS"]["init_command"]


def test_password_in_database_url_is_never_echoed(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as excinfo:
        load({"CEIBA_VAR_DIR": str(tmp_path), "CEIBA_DATABASE_URL": "mysql://u:hunter2@h/db"})
    assert "hunter2" not in str(excinfo.value)


def test_production_requires_the_key_passphrase(tmp_path: Path) -> None:
    result = run_ceiba(
        ["check"],
        {
            "CEIBA_MODE": "production",
            "CEIBA_ALLOWED_HOSTS": "gov.example",
            "CEIBA_SECRET_KEY": "test-secret-" + "0123456789abcdef" * 4,
            "CEIBA_VAR_DIR": str(tmp_path),
        },
        tmp_path,
    )
    assert result.returncode == 2
    assert result.stderr.startswith("ceiba: configuration error: CEIBA_KEY_PASSPHRASE:")
    assert result.stderr.count("\n") == 1


def test_redis_password_is_never_echoed(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as excinfo:
        load(
            {"CEIBA_VAR_DIR": str(tmp_path), "CEIBA_REDIS_URL": "http://:TopSecretPw@cache:6379/0"}
        )
    assert "TopSecretPw" not in str(excinfo.value)

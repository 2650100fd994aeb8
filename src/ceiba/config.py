"""Read and validate every ``CEIBA_*`` environment variable in one place.

Settings are parsed here, not in ``settings.py``, so that a bad value is reported as one line
naming the variable (``ConfigError``) instead of a traceback from deep inside Django.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
import zoneinfo
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import dj_database_url

MODES = ("development", "production")


class ConfigError(Exception):
    """A configuration variable is missing or malformed."""

    def __init__(self, variable: str, message: str) -> None:
        super().__init__(f"{variable}: {message}")
        self.variable = variable
        self.message = message


@dataclass(frozen=True)
class Config:
    mode: str
    base_dir: Path
    var_dir: Path
    debug: bool
    secret_key: str
    database: dict[str, Any]
    allowed_hosts: list[str]
    media_root: Path
    static_root: Path
    redis_url: str | None
    language_code: str
    time_zone: str
    secure_cookies: bool
    email_url: str | None
    email_from: str
    log_level: str
    log_format: str
    key_passphrase: str | None
    trusted_proxies: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]

    @property
    def production(self) -> bool:
        return self.mode == "production"


def _env(environ: dict[str, str], name: str) -> str | None:
    value = environ.get(name)
    if value is None or value.strip() == "":
        return None
    return value.strip()


def _bool(environ: dict[str, str], name: str, default: bool) -> bool:
    value = _env(environ, name)
    if value is None:
        return default
    lowered = value.lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ConfigError(name, f"expected true or false, got {value!r}")


def _database(environ: dict[str, str], name: str, default_path: Path) -> dict[str, Any]:
    url = _env(environ, name) or f"sqlite:///{default_path}"
    scheme = urlparse(url).scheme
    if scheme not in ("sqlite", "postgres", "postgresql", "pgsql"):
        raise ConfigError(
            name,
            f"unsupported database URL {_redact_url(url)!r}: use sqlite:///PATH or "
            "postgresql://USER@HOST:PORT/NAME",
        )
    max_age = _env(environ, "CEIBA_DB_CONN_MAX_AGE") or "60"
    if not max_age.isdigit():
        raise ConfigError("CEIBA_DB_CONN_MAX_AGE", f"expected whole seconds, got {max_age!r}")
    try:
        # Persistent connections: opening one per request costs a PostgreSQL backend fork.
        parsed: dict[str, Any] = dict(dj_database_url.parse(url, conn_max_age=int(max_age)))
    except ValueError as exc:
        raise ConfigError(name, f"malformed database URL {_redact_url(url)!r} ({exc})") from None
    if parsed["ENGINE"] == "django.db.backends.sqlite3":
        if not parsed.get("NAME") or parsed["NAME"] == ":memory:":
            raise ConfigError(
                name, "an SQLite URL needs a file path, e.g. sqlite:////srv/ceiba/ceiba.sqlite3"
            )
        parsed["OPTIONS"] = {
            # WAL lets readers proceed while one writer commits; IMMEDIATE avoids
            # deadlocks between two writers that both started as readers.
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": (
                "PRAGMA journal_mode=WAL; PRAGMA foreign_keys=ON; PRAGMA synchronous=NORMAL;"
            ),
        }
    else:
        if not parsed.get("NAME"):
            raise ConfigError(name, f"the database URL {_redact_url(url)!r} names no database")
        parsed["ENGINE"] = "django.db.backends.postgresql"
        parsed.setdefault("OPTIONS", {})
        # A database host that drops packets must not hang requests and probes for minutes.
        parsed["OPTIONS"].setdefault("connect_timeout", 5)
        parsed["CONN_HEALTH_CHECKS"] = True
    parsed["ATOMIC_REQUESTS"] = False
    return parsed


def _redact_url(url: str) -> str:
    parts = urlparse(url)
    if parts.password:
        return url.replace(f":{parts.password}@", ":***@")
    return url


def _secret_key(environ: dict[str, str], mode: str, var_dir: Path) -> str:
    value = _env(environ, "CEIBA_SECRET_KEY")
    if value is not None:
        if len(value) < 50 or len(set(value)) < 5:
            raise ConfigError(
                "CEIBA_SECRET_KEY", "must be at least 50 characters long and not repetitive"
            )
        return value
    if mode == "production":
        raise ConfigError(
            "CEIBA_SECRET_KEY",
            "is required in production mode (generate one with: "
            "python3 -c 'import secrets; print(secrets.token_urlsafe(50))')",
        )
    # Development: generate once and keep it under var/, so sessions survive restarts.
    key_file = var_dir / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    var_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(50)
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key + "\n")
    return key


def load(environ: dict[str, str] | None = None) -> Config:
    """Build the configuration from the environment; raise ConfigError on any bad value."""
    env = dict(os.environ if environ is None else environ)
    base_dir = Path(__file__).resolve().parent
    mode = (_env(env, "CEIBA_MODE") or "development").lower()
    if mode not in MODES:
        raise ConfigError("CEIBA_MODE", f"expected one of {', '.join(MODES)}, got {mode!r}")
    var_dir = Path(_env(env, "CEIBA_VAR_DIR") or Path.cwd() / "var").resolve()
    debug = _bool(env, "CEIBA_DEBUG", default=mode == "development")
    if debug and mode == "production":
        raise ConfigError("CEIBA_DEBUG", "must be off in production mode")

    hosts_raw = _env(env, "CEIBA_ALLOWED_HOSTS")
    if hosts_raw is None:
        if mode == "production":
            raise ConfigError(
                "CEIBA_ALLOWED_HOSTS",
                "is required in production mode (comma-separated host names, e.g. "
                "portal.gov.example,services.gov.example)",
            )
        allowed_hosts = ["127.0.0.1", "localhost", "[::1]", "testserver", ".localhost"]
    else:
        allowed_hosts = [h.strip() for h in hosts_raw.split(",") if h.strip()]

    language = (_env(env, "CEIBA_DEFAULT_LANGUAGE") or "fr").lower()
    from ceiba.i18n import LANGUAGE_CODES

    if language not in LANGUAGE_CODES:
        raise ConfigError(
            "CEIBA_DEFAULT_LANGUAGE",
            f"unsupported language {language!r}; choose one of {', '.join(LANGUAGE_CODES)}",
        )
    time_zone = _env(env, "CEIBA_TIME_ZONE") or "UTC"
    try:
        zoneinfo.ZoneInfo(time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ConfigError("CEIBA_TIME_ZONE", f"unknown time zone {time_zone!r}") from None

    redis_url = _env(env, "CEIBA_REDIS_URL")
    if redis_url is not None and urlparse(redis_url).scheme not in ("redis", "rediss", "unix"):
        raise ConfigError(
            "CEIBA_REDIS_URL", f"expected redis://HOST:PORT/DB, got {_redact_url(redis_url)!r}"
        )

    email_url = _env(env, "CEIBA_EMAIL_URL")
    if email_url is not None and urlparse(email_url).scheme not in ("smtp", "smtps", "console"):
        raise ConfigError(
            "CEIBA_EMAIL_URL", "expected smtp://USER:PASSWORD@HOST:PORT, smtps://... or console:"
        )

    log_level = (_env(env, "CEIBA_LOG_LEVEL") or "INFO").upper()
    if log_level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        raise ConfigError(
            "CEIBA_LOG_LEVEL", f"expected DEBUG, INFO, WARNING or ERROR, got {log_level!r}"
        )
    log_format = _env(env, "CEIBA_LOG_FORMAT") or ("json" if mode == "production" else "text")
    if log_format not in ("json", "text"):
        raise ConfigError("CEIBA_LOG_FORMAT", f"expected json or text, got {log_format!r}")

    secret_key = _secret_key(env, mode, var_dir)
    key_passphrase = _env(env, "CEIBA_KEY_PASSPHRASE")
    if key_passphrase is None and mode == "production":
        raise ConfigError(
            "CEIBA_KEY_PASSPHRASE",
            "is required in production mode (it encrypts the signing keys under var/keys)",
        )
    if key_passphrase is not None and len(key_passphrase) < 16:
        raise ConfigError("CEIBA_KEY_PASSPHRASE", "must be at least 16 characters long")

    proxies = []
    for item in (_env(env, "CEIBA_TRUSTED_PROXIES") or "").split(","):
        if not item.strip():
            continue
        try:
            proxies.append(ipaddress.ip_network(item.strip(), strict=False))
        except ValueError:
            raise ConfigError(
                "CEIBA_TRUSTED_PROXIES", f"{item.strip()!r} is not an address or network (CIDR)"
            ) from None

    return Config(
        mode=mode,
        base_dir=base_dir,
        var_dir=var_dir,
        debug=debug,
        secret_key=secret_key,
        database=_database(env, "CEIBA_DATABASE_URL", var_dir / "ceiba.sqlite3"),
        allowed_hosts=allowed_hosts,
        media_root=Path(_env(env, "CEIBA_MEDIA_ROOT") or var_dir / "media").resolve(),
        static_root=Path(_env(env, "CEIBA_STATIC_ROOT") or var_dir / "static").resolve(),
        redis_url=redis_url,
        language_code=language,
        time_zone=time_zone,
        secure_cookies=_bool(env, "CEIBA_SECURE_COOKIES", default=mode == "production"),
        email_url=email_url,
        email_from=_env(env, "CEIBA_EMAIL_FROM") or "Ceiba <no-reply@localhost>",
        log_level=log_level,
        log_format=log_format,
        key_passphrase=key_passphrase,
        trusted_proxies=tuple(proxies),
    )

"""Ceiba's own deployment checks, run by `ceiba check --deploy` next to Django's."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register


@register(Tags.security, deploy=True)
def ceiba_deploy_checks(app_configs: Any = None, **kwargs: Any) -> list[Any]:
    problems: list[Any] = []
    if settings.CEIBA_MODE != "production":
        problems.append(
            Error(
                "CEIBA_MODE is not 'production'.",
                hint="Set CEIBA_MODE=production on servers that face users.",
                id="ceiba.E001",
            )
        )
    engine = settings.DATABASES["default"]["ENGINE"]
    if engine.endswith("sqlite3"):
        problems.append(
            Warning(
                "The database is SQLite.",
                hint="Use PostgreSQL (CEIBA_DATABASE_URL=postgresql://...) for more than one "
                "process or host.",
                id="ceiba.W001",
            )
        )
    if settings.HUEY.get("huey_class") == "huey.SqliteHuey":
        problems.append(
            Warning(
                "Background jobs use the SQLite queue.",
                hint="Set CEIBA_REDIS_URL to share the queue between hosts.",
                id="ceiba.W002",
            )
        )
    if not settings.SESSION_COOKIE_SECURE:
        problems.append(
            Error(
                "Session cookies are not marked Secure.",
                hint="Unset CEIBA_SECURE_COOKIES or set it to true.",
                id="ceiba.E002",
            )
        )
    if settings.EMAIL_BACKEND.endswith("filebased.EmailBackend"):
        problems.append(
            Warning(
                "E-mail is written to files, not sent.",
                hint="Set CEIBA_EMAIL_URL=smtp://USER:PASSWORD@HOST:587.",
                id="ceiba.W003",
            )
        )
    return problems

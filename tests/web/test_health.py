from __future__ import annotations

from typing import Any

import pytest
from django.db.utils import ConnectionHandler
from django.test import Client

from ceiba.web import health


@pytest.mark.django_db
def test_healthz_and_readyz_answer_on_any_host() -> None:
    client = Client(HTTP_HOST="localhost")
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"database": "ok", "queue": "ok"}


@pytest.mark.django_db
def test_readyz_is_503_when_the_database_is_unreachable(monkeypatch: Any, settings: Any) -> None:
    # A real connection to a PostgreSQL port where nothing listens.
    unreachable = ConnectionHandler(
        {
            "default": {
                "ENGINE": "django.db.backends.postgresql",
                "NAME": "ceiba",
                "USER": "nobody",
                "HOST": "127.0.0.1",
                "PORT": "1",
                "OPTIONS": {"connect_timeout": 2},
            }
        }
    )
    monkeypatch.setattr("ceiba.web.views.connections", unreachable)
    response = Client(HTTP_HOST="localhost").get("/readyz")
    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "checks": {"database": "unreachable", "queue": "ok"},
    }
    unreachable.close_all()


def test_queue_check_fails_when_redis_is_unreachable(monkeypatch: Any) -> None:
    from huey import RedisHuey

    monkeypatch.setattr(
        "huey.contrib.djhuey.HUEY", RedisHuey("ceiba-test", url="redis://127.0.0.1:1/0")
    )
    assert health.check_queue() == "unreachable"

"""The framework floor for the submission benchmark: a bare Django endpoint doing one insert.

Served by gunicorn exactly like ``ceiba serve --prod`` (same workers, same database), so the
ratio in docs/benchmarks.md compares Ceiba's submission with the cheapest possible Django write.
Configured from CEIBA_DATABASE_URL (the bench creates the ``bench_floor`` table); never
imported by the platform.
"""

from __future__ import annotations

import json
import os

import dj_database_url
import django
from django.conf import settings
from django.core.wsgi import get_wsgi_application
from django.db import connection, transaction
from django.http import HttpRequest, JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

# Persistent connections as in Ceiba (CEIBA_DB_CONN_MAX_AGE, default 60 s): same footing.
_database = dict(
    dj_database_url.parse(
        os.environ["CEIBA_DATABASE_URL"],
        conn_max_age=int(os.environ.get("CEIBA_DB_CONN_MAX_AGE") or 60),
    )
)
if _database["ENGINE"] == "django.db.backends.sqlite3":
    _database["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
else:
    _database["ENGINE"] = "django.db.backends.postgresql"

settings.configure(
    DEBUG=False,
    SECRET_KEY="floor-benchmark-only-" + "x" * 40,
    ALLOWED_HOSTS=["*"],
    ROOT_URLCONF=__name__,
    DATABASES={"default": _database},
    MIDDLEWARE=[],
    INSTALLED_APPS=[],
    USE_TZ=True,
)
django.setup()


@csrf_exempt
def insert(request: HttpRequest) -> JsonResponse:
    body = json.loads(request.body or b"{}")
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("INSERT INTO bench_floor (body) VALUES (%s)", [json.dumps(body)])
    return JsonResponse({"ok": True}, status=201)


urlpatterns = [path("floor", insert)]

application = get_wsgi_application()

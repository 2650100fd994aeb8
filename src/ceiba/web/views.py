from __future__ import annotations

from django.db import connections
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from ceiba.tenancy import queries as tenancy_queries
from ceiba.web import health


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    administration = request.administration  # type: ignore[attr-defined]
    institutions = tenancy_queries.institutions(administration)
    return render(request, "web/home.html", {"institutions": institutions})


@never_cache
@require_GET
def healthz(request: HttpRequest) -> HttpResponse:
    """Liveness: the process answers. Touches nothing else."""
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
def readyz(request: HttpRequest) -> HttpResponse:
    """Readiness: the database and the job queue are reachable; 503 otherwise."""
    checks = {
        "database": health.check_database(connections["default"]),
        "queue": health.check_queue(),
    }
    ready = all(check == "ok" for check in checks.values())
    return JsonResponse(
        {"status": "ok" if ready else "unavailable", "checks": checks}, status=200 if ready else 503
    )


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    return render(request, "web/error.html", {"status": 403, "kind": "csrf"}, status=403)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "web/error.html", {"status": 403, "kind": "forbidden"}, status=403)


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "web/error.html", {"status": 404, "kind": "not_found"}, status=404)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "web/error.html", {"status": 400, "kind": "bad_request"}, status=400)


def server_error(request: HttpRequest) -> HttpResponse:
    return render(request, "web/error.html", {"status": 500, "kind": "server_error"}, status=500)

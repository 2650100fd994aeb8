from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from ceiba.tenancy.queries import administration_for_host

# Probes and static files answer whatever the host; everything else needs an administration.
EXEMPT_PREFIXES = ("/healthz", "/readyz", "/static/")


class AdministrationMiddleware:
    """Attach `request.administration`, resolved from the Host header."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith(EXEMPT_PREFIXES):
            request.administration = None  # type: ignore[attr-defined]
            return self.get_response(request)
        administration = administration_for_host(request.get_host())
        request.administration = administration  # type: ignore[attr-defined]
        if administration is None and not request.path.startswith("/admin/"):
            return TemplateResponse(
                request, "web/no_administration.html", {"host": request.get_host()}, status=404
            ).render()
        return self.get_response(request)

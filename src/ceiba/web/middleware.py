from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.utils import translation
from django.utils.cache import patch_vary_headers

from ceiba.soc.actions import record_security_event
from ceiba.soc.models import EventAction, EventCategory, EventOutcome
from ceiba.web.logging import SECRET_PATH, request_id_var

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
access_log = logging.getLogger("ceiba.access")


class ProbeMiddleware:
    """Answer /healthz and /readyz first, whatever the Host header.

    Load balancers and orchestrators probe by IP address; the host check, the HTTPS redirect
    and the tenant resolution must not turn a healthy process into a failed probe.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        from ceiba.web import views

        if request.path_info == "/healthz":
            return views.healthz(request)
        if request.path_info == "/readyz":
            return views.readyz(request)
        return self.get_response(request)


class RequestIdMiddleware:
    """Give each request an id (a valid incoming X-Request-ID is kept), logged and echoed."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id  # type: ignore[attr-defined]
        token = request_id_var.set(request_id)
        started = time.monotonic()
        try:
            response = self.get_response(request)
            access_log.info(
                "%s %s %s",
                request.method,
                SECRET_PATH.sub(r"\1***/", request.path),
                response.status_code,
                extra={
                    "status": response.status_code,
                    "duration_ms": round((time.monotonic() - started) * 1000, 1),
                },
            )
        finally:
            request_id_var.reset(token)
        response["X-Request-ID"] = request_id
        return response


class AdministrationLanguageMiddleware:
    """Choose the language: the visitor's choice, else the account's, else the administration's.

    The administration's default deliberately wins over the browser's Accept-Language: a
    national portal opens in the national language, and one click switches.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.supported = {code for code, _name in settings.LANGUAGES}

    def __call__(self, request: HttpRequest) -> HttpResponse:
        language = self._choose(request)
        translation.activate(language)
        request.LANGUAGE_CODE = language
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", language)
        patch_vary_headers(response, ("Cookie",))
        translation.deactivate()
        return response

    def _choose(self, request: HttpRequest) -> str:
        cookie = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
        if cookie in self.supported:
            return cookie
        user = getattr(request, "user", None)
        preferred = getattr(user, "preferred_language", "") if user is not None else ""
        if preferred in self.supported:
            return str(preferred)
        administration = getattr(request, "administration", None)
        if administration is not None and administration.default_language in self.supported:
            return str(administration.default_language)
        return str(settings.LANGUAGE_CODE)


class PermissionDeniedEventMiddleware:
    """Record every refused access as a security event."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> None:
        if isinstance(exception, PermissionDenied):
            record_permission_denied(request, str(exception))


def record_permission_denied(request: HttpRequest, reason: str = "") -> None:
    record_security_event(
        category=EventCategory.IAM,
        action=EventAction.PERMISSION_DENIED,
        outcome=EventOutcome.FAILURE,
        request=request,
        actor=getattr(request, "user", None),
        reason=reason[:200],
    )

"""The REST API (django-ninja): /api/v1/, OpenAPI at /api/v1/openapi.json, docs at /api/v1/docs.

Errors are RFC 9457 problem+json documents with a stable `code`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.security import HttpBearer, SessionAuth

from ceiba.accounts.models import ApiToken, User, hash_token
from ceiba.soc.actions import record_security_event
from ceiba.soc.models import EventAction, EventCategory, EventOutcome

LAST_USED_PRECISION = timedelta(minutes=1)


class ApiTokenAuth(HttpBearer):
    """Bearer tokens of client systems, valid only on their own administration."""

    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        administration = getattr(request, "administration", None)
        if administration is None or not token.startswith(ApiToken.PREFIX):
            return None
        api_token = (
            ApiToken.objects.select_related("user", "user__administration")
            .filter(token_hash=hash_token(token), administration=administration)
            .first()
        )
        usable = api_token is not None and api_token.is_usable and api_token.user.is_active
        record_security_event(
            category=EventCategory.API,
            action=EventAction.API_TOKEN_USE,
            outcome=EventOutcome.SUCCESS if usable else EventOutcome.FAILURE,
            request=request,
            actor=api_token.user if usable and api_token else None,
            actor_name=token[:12],
            target=f"accounts.apitoken:{api_token.pk}" if api_token else "",
            reason="" if usable else "unknown_or_revoked_token",
        )
        if not usable or api_token is None:
            return None
        # To the minute: every use is in the security events; a busy client system must not
        # write its token row on each call.
        now = timezone.now()
        if api_token.last_used_at is None or now - api_token.last_used_at >= LAST_USED_PRECISION:
            ApiToken.objects.filter(pk=api_token.pk).update(last_used_at=now)
        request.user = api_token.user
        return api_token.user


class TenantSessionAuth(SessionAuth):
    """Browser sessions (CSRF-checked), only on the account's own administration."""

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = super().authenticate(request, key)
        if user is None:
            return None
        administration = getattr(request, "administration", None)
        if user.administration_id is not None and (
            administration is None or user.administration_id != administration.pk
        ):
            return None
        return user


api = NinjaAPI(
    title="Ceiba API",
    version="1",
    description="Digital government platform API. Every call is scoped to the administration "
    "that serves the request's host.",
    auth=[ApiTokenAuth(), TenantSessionAuth()],
    urls_namespace="api",
)


def problem(request: HttpRequest, status: int, code: str, title: str, **extra: Any) -> HttpResponse:
    body = {"type": "about:blank", "title": title, "status": status, "code": code, **extra}
    response = api.create_response(request, body, status=status)
    response["Content-Type"] = "application/problem+json"
    return response


ErrorResponder = Callable[..., HttpResponse]


def install_error_handlers(
    target: NinjaAPI, respond: ErrorResponder, *, validation_status: int = 422
) -> None:
    """Answer validation, authentication and HTTP errors of `target` with `respond`.

    `respond(request, status, code, title, **extra)` writes the error body: RFC 9457
    problem+json here, the GovStack building block's error shape in its facade.
    """

    def validation_error(request: HttpRequest, exc: Any) -> HttpResponse:
        errors = [
            {
                "path": ".".join(str(part) for part in error.get("loc", [])),
                "message": error.get("msg", ""),
            }
            for error in exc.errors
        ]
        return respond(
            request,
            validation_status,
            "request.invalid",
            _("The request is not valid."),
            errors=errors,
        )

    def authentication_error(request: HttpRequest, exc: Any) -> HttpResponse:
        return respond(request, 401, "auth.required", _("Authentication is required."))

    def http_error(request: HttpRequest, exc: Any) -> HttpResponse:
        code = {403: "auth.forbidden", 404: "not_found", 400: "request.invalid"}.get(
            exc.status_code, "error"
        )
        return respond(request, exc.status_code, code, str(exc))

    target.add_exception_handler(ValidationError, validation_error)
    target.add_exception_handler(AuthenticationError, authentication_error)
    target.add_exception_handler(HttpError, http_error)


install_error_handlers(api, problem)


def _register_routers() -> None:
    from ceiba.accounts.api import router as accounts_router
    from ceiba.cases.api import router as applications_router
    from ceiba.cases.api import tasks_router
    from ceiba.catalog.api import router as catalog_router
    from ceiba.documents.api import router as documents_router
    from ceiba.ledger.api import public_router as ledger_public_router
    from ceiba.ledger.api import router as ledger_router
    from ceiba.soc.api import router as soc_router
    from ceiba.tenancy.api import router as tenancy_router

    api.add_router("/accounts", accounts_router)
    api.add_router("/catalog", catalog_router)
    api.add_router("/applications", applications_router)
    api.add_router("/tasks", tasks_router)
    api.add_router("/tenancy", tenancy_router)
    api.add_router("/soc", soc_router)
    api.add_router("/ledger", ledger_public_router)
    api.add_router("/ledger", ledger_router)
    api.add_router("/documents", documents_router)


_register_routers()

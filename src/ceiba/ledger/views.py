"""Pages of the transparency log: the citizen's "who used my data", and the plain-text
C2SP endpoints (checkpoint, verifier key) at stable addresses outside the versioned API."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from ceiba.accounts.models import User
from ceiba.accounts.roles import PUBLIC_ROLES
from ceiba.ledger import api, queries
from ceiba.web.middleware import record_permission_denied

PAGE = 200


@require_GET
def checkpoint(request: HttpRequest) -> HttpResponse:
    return api.checkpoint_text(request)


@require_GET
def vkey(request: HttpRequest) -> HttpResponse:
    return api.vkey_text(request)


@require_GET
@login_required
def my_data(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not isinstance(user, User) or user.role not in PUBLIC_ROLES:
        record_permission_denied(request, "data usage page is for the person concerned")
        raise PermissionDenied
    administration = request.administration  # type: ignore[attr-defined]
    policy = queries.disclosure_policy(administration)
    entries = list(queries.data_usage_for(user)[:PAGE])
    return render(
        request,
        "ledger/my_data.html",
        {
            "entries": entries,
            "show_names": policy.show_officer_names,
            "truncated": len(entries) == PAGE,
        },
    )

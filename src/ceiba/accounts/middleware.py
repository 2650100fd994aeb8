from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlencode

from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from ceiba.soc.actions import record_security_event
from ceiba.soc.models import EventAction, EventCategory, EventOutcome

# Paths a signed-in staff member may reach before completing two-factor verification.
MFA_OPEN_PREFIXES = (
    "/accounts/mfa/",
    "/accounts/logout/",
    "/i18n/",
    "/static/",
    "/healthz",
    "/readyz",
)


class TenantSessionGuard:
    """A session belongs to the administration it was opened on.

    Browsers keep cookies per host, but anyone can replay their own cookie on another host:
    an account of administration A is anonymous on B's host (platform admins excepted).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        administration = getattr(request, "administration", None)
        owner = getattr(user, "administration_id", None)
        if (
            user.is_authenticated
            and owner is not None
            and (administration is None or owner != administration.pk)
        ):
            record_security_event(
                category=EventCategory.IAM,
                action=EventAction.PERMISSION_DENIED,
                outcome=EventOutcome.FAILURE,
                request=request,
                actor=user,
                reason="session_of_another_administration",
            )
            request.user = AnonymousUser()
        return self.get_response(request)


SESSION_KEY = "ceiba_second_factor"


def needs_second_factor(request: HttpRequest) -> bool:
    """Staff always; anyone else who turned two-factor authentication on.

    Read once per session, so a citizen's pages cost no extra query: turning two-factor on
    applies from the next sign-in (the session that enrolls is verified already).
    """
    if getattr(request.user, "is_staff_role", False):
        return True
    if SESSION_KEY not in request.session:
        request.session[SESSION_KEY] = TOTPDevice.objects.filter(
            user=request.user, confirmed=True
        ).exists()
    return bool(request.session[SESSION_KEY])


class StaffTwoFactorMiddleware:
    """Staff roles must pass two-factor verification before anything else.

    A staff member without a confirmed authenticator is sent to enrollment; one with an
    authenticator, to verification. API calls get 401 instead of a redirect.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if (
            user.is_authenticated
            and not user.is_verified()  # type: ignore[attr-defined]
            and not request.path_info.startswith(MFA_OPEN_PREFIXES)
            and needs_second_factor(request)
        ):
            if request.path_info.startswith("/api/"):
                return JsonResponse(
                    {
                        "type": "about:blank",
                        "title": "Two-factor verification required",
                        "status": 401,
                        "code": "accounts.mfa_required",
                    },
                    status=401,
                    content_type="application/problem+json",
                )
            has_device = TOTPDevice.objects.filter(user=user, confirmed=True).exists()
            target = reverse("accounts:mfa_verify" if has_device else "accounts:mfa_setup")
            if request.method == "GET" and request.path_info != "/":
                target += "?" + urlencode({"next": request.get_full_path()})
            return redirect(target)
        return self.get_response(request)

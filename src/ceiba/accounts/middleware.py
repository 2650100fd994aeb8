from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django_otp.plugins.otp_totp.models import TOTPDevice

# Paths a signed-in staff member may reach before completing two-factor verification.
MFA_OPEN_PREFIXES = (
    "/accounts/mfa/",
    "/accounts/logout/",
    "/i18n/",
    "/static/",
    "/healthz",
    "/readyz",
)


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
            and getattr(user, "is_staff_role", False)
            and not user.is_verified()  # type: ignore[attr-defined]
            and not request.path.startswith(MFA_OPEN_PREFIXES)
        ):
            if request.path.startswith("/api/"):
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
            target = "accounts:mfa_verify" if has_device else "accounts:mfa_setup"
            return redirect(target)
        return self.get_response(request)

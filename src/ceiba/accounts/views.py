from __future__ import annotations

from typing import Any

import segno
from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from ceiba.accounts import actions
from ceiba.accounts.forms import LoginForm, OtpForm, RegistrationForm, TenantPasswordResetForm
from ceiba.accounts.models import User
from ceiba.accounts.secondfactor import verify_second_factor
from ceiba.soc.actions import record_security_event
from ceiba.soc.models import EventAction, EventCategory, EventOutcome

RECOVERY_SESSION_KEY = "ceiba_new_recovery_codes"


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True


def locked_out(
    request: HttpRequest, credentials: dict[str, Any] | None = None, *args: Any, **kwargs: Any
) -> HttpResponse:
    return render(request, "accounts/locked_out.html", status=429)


@login_required
@require_http_methods(["GET", "POST"])
def mfa_setup(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    if TOTPDevice.objects.filter(user=user, confirmed=True).exists() and not user.is_verified():  # type: ignore[attr-defined]
        # Replacing an authenticator needs the current one first.
        return redirect("accounts:mfa_verify")
    device = actions.do_start_totp_enrollment(user, actor=user)
    form = OtpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if device.verify_token(form.cleaned_data["code"]):
            codes = actions.do_confirm_totp_enrollment(device, actor=user)
            otp_login(request, device)
            request.session[RECOVERY_SESSION_KEY] = codes
            return redirect("accounts:recovery_codes")
        _record_mfa_failure(request, user)
        form.add_error(
            "code", _("This code is not right. Check the time on your phone and try again.")
        )
    qr_svg = segno.make(device.config_url, error="m").svg_inline(
        scale=4, title=_("Authenticator QR code")
    )
    secret = device.bin_key.hex()
    from base64 import b32encode

    secret = b32encode(device.bin_key).decode()
    return render(
        request,
        "accounts/mfa_setup.html",
        {
            "form": form,
            "qr_svg": qr_svg,
            "secret": " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def mfa_verify(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    if not TOTPDevice.objects.filter(user=user, confirmed=True).exists():
        return redirect("accounts:mfa_setup")
    form = OtpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = verify_second_factor(user, form.cleaned_data["code"])
        if device is not None:
            otp_login(request, device)
            record_security_event(
                category=EventCategory.AUTHENTICATION,
                action=EventAction.MFA_VERIFY,
                outcome=EventOutcome.SUCCESS,
                request=request,
                actor=user,
                details={
                    "method": "recovery_code"
                    if device.persistent_id.startswith("otp_static")
                    else "totp"
                },
            )
            next_url = request.GET.get("next", "")
            from django.utils.http import url_has_allowed_host_and_scheme

            if next_url and url_has_allowed_host_and_scheme(
                next_url, {request.get_host()}, require_https=request.is_secure()
            ):
                return redirect(next_url)
            return redirect("web:home")
        _record_mfa_failure(request, user)
        form.add_error("code", _("This code is not right, or it was already used."))
    return render(request, "accounts/mfa_verify.html", {"form": form})


def _record_mfa_failure(request: HttpRequest, user: User) -> None:
    record_security_event(
        category=EventCategory.AUTHENTICATION,
        action=EventAction.MFA_VERIFY,
        outcome=EventOutcome.FAILURE,
        request=request,
        actor=user,
        reason="bad_code",
    )


@login_required
def recovery_codes(request: HttpRequest) -> HttpResponse:
    codes = request.session.pop(RECOVERY_SESSION_KEY, None)
    if codes is None:
        messages.info(
            request, _("Recovery codes are shown only once. Generate new ones if you lost them.")
        )
        return redirect("accounts:profile")
    return render(request, "accounts/recovery_codes.html", {"codes": codes})


@login_required
@require_http_methods(["POST"])
def regenerate_recovery_codes(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    if not user.is_verified():  # type: ignore[attr-defined]
        return redirect("accounts:mfa_verify")
    request.session[RECOVERY_SESSION_KEY] = actions.do_regenerate_recovery_codes(user, actor=user)
    return redirect("accounts:recovery_codes")


@login_required
def profile(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    has_totp = TOTPDevice.objects.filter(user=user, confirmed=True).exists()
    return render(request, "accounts/profile.html", {"has_totp": has_totp})


@require_http_methods(["GET", "POST"])
def register(request: HttpRequest) -> HttpResponse:
    """A citizen creates an account on this administration and is signed in."""
    if request.user.is_authenticated:
        return redirect("web:home")
    administration = request.administration  # type: ignore[attr-defined]
    form = RegistrationForm(request.POST or None, administration=administration)
    if request.method == "POST" and form.is_valid():
        user = actions.do_register_citizen(
            administration=administration,
            email=form.cleaned_data["email"],
            password=form.cleaned_data["password1"],
            full_name=form.cleaned_data["full_name"],
            language=getattr(request, "LANGUAGE_CODE", ""),
        )
        auth_login(request, user, backend="ceiba.accounts.backends.AdministrationBackend")
        messages.success(request, _("Your account is ready. Welcome!"))
        return redirect("web:home")
    return render(request, "accounts/register.html", {"form": form})


class PasswordResetView(auth_views.PasswordResetView):
    template_name = "accounts/password_reset.html"
    email_template_name = "accounts/email/password_reset.txt"
    subject_template_name = "accounts/email/password_reset_subject.txt"
    form_class = TenantPasswordResetForm
    success_url = reverse_lazy("accounts:password_reset_done")

    def get_form_kwargs(self) -> dict[str, Any]:
        kwargs = super().get_form_kwargs()
        kwargs["administration"] = getattr(self.request, "administration", None)
        return kwargs

    def form_valid(self, form: Any) -> HttpResponse:
        record_security_event(
            category=EventCategory.IAM,
            action=EventAction.PASSWORD_RESET,
            outcome=EventOutcome.UNKNOWN,
            request=self.request,
            actor_name=form.cleaned_data.get("email", ""),
            reason="requested",
        )
        return super().form_valid(form)


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "accounts/password_reset_confirm.html"
    success_url = reverse_lazy("accounts:password_reset_complete")

    def get_user(self, uidb64: str) -> Any:
        user = super().get_user(uidb64)
        administration = getattr(self.request, "administration", None)
        if user is None or administration is None or user.administration_id != administration.pk:
            return None
        return user

    def form_valid(self, form: Any) -> HttpResponse:
        record_security_event(
            category=EventCategory.IAM,
            action=EventAction.PASSWORD_RESET,
            outcome=EventOutcome.SUCCESS,
            request=self.request,
            actor=form.user,
        )
        return super().form_valid(form)

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm
from django.utils.translation import gettext_lazy as _

from ceiba.accounts.models import User
from ceiba.tenancy.models import Administration


class LoginForm(AuthenticationForm):
    username = forms.EmailField(
        label=_("Email address"),
        widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}),
    )
    error_messages = {
        "invalid_login": _(
            "The email address or the password is not right. Check both and try again."
        ),
        "inactive": _("This account is disabled."),
    }


class OtpForm(forms.Form):
    code = forms.CharField(
        label=_("Code"),
        max_length=16,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
        help_text=_("The 6-digit code from your authenticator app, or one of your recovery codes."),
    )

    def clean_code(self) -> str:
        return str(self.cleaned_data["code"]).strip().replace(" ", "").lower()


class TenantPasswordResetForm(PasswordResetForm):
    """Password reset that only finds accounts of the administration serving the request."""

    def __init__(self, *args: Any, administration: Administration | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.administration = administration

    def get_users(self, email: str) -> Any:
        if self.administration is None:
            return iter(())
        users = User.objects.filter(
            administration=self.administration, email__iexact=email, is_active=True
        )
        return (user for user in users if user.has_usable_password())

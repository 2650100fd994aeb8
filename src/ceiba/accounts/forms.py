from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm
from django.db import transaction
from django.template import loader
from django.utils.translation import gettext_lazy as _

from ceiba.accounts.models import User
from ceiba.accounts.tasks import send_account_email
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

    def send_mail(
        self,
        subject_template_name: str,
        email_template_name: str,
        context: dict[str, Any],
        from_email: str | None,
        to_email: str,
        html_email_template_name: str | None = None,
    ) -> None:
        """Queue the e-mail; it leaves only once the request's transaction has committed."""
        subject = "".join(loader.render_to_string(subject_template_name, context).splitlines())
        body = loader.render_to_string(email_template_name, context)
        html = (
            loader.render_to_string(html_email_template_name, context)
            if html_email_template_name
            else None
        )
        transaction.on_commit(lambda: send_account_email(subject, body, [to_email], html))

    def get_users(self, email: str) -> Any:
        if self.administration is None:
            return iter(())
        users = User.objects.filter(
            administration=self.administration, email__iexact=email, is_active=True
        )
        return (user for user in users if user.has_usable_password())


class RegistrationForm(forms.Form):
    """Self-registration of a citizen on the administration serving the request."""

    full_name = forms.CharField(
        label=_("Full name"), max_length=200, widget=forms.TextInput(attrs={"autocomplete": "name"})
    )
    email = forms.EmailField(
        label=_("Email address"), widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )
    password1 = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("At least 12 characters. A sentence of several words is easy to remember."),
    )
    password2 = forms.CharField(
        label=_("Password again"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, *args: Any, administration: Administration, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.administration = administration

    def clean_email(self) -> str:
        email = str(self.cleaned_data["email"]).strip().lower()
        if User.objects.filter(administration=self.administration, email__iexact=email).exists():
            raise forms.ValidationError(
                _(
                    "An account with this email address exists already. "
                    "Sign in or reset the password."
                )
            )
        return email

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        password1, password2 = cleaned.get("password1"), cleaned.get("password2")
        if password1 and password2 and password1 != password2:
            self.add_error("password2", _("The two passwords are not the same."))
        elif password1:
            candidate = User(email=cleaned.get("email", ""), full_name=cleaned.get("full_name", ""))
            try:
                password_validation.validate_password(password1, candidate)
            except forms.ValidationError as exc:
                self.add_error("password1", exc)
        return cleaned

from __future__ import annotations

from typing import Any

from django import forms
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

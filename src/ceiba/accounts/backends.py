from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.db.models import F, Q
from django.http import HttpRequest

from ceiba.accounts.models import User
from ceiba.accounts.roles import Role


def account_for_login(request: HttpRequest | None, email: str) -> User | None:
    """The account `email` names on this request's administration (or a platform admin)."""
    administration = getattr(request, "administration", None)
    scope = Q(administration__isnull=True, role=Role.PLATFORM_ADMIN)
    if administration is not None:
        scope |= Q(administration=administration)
    # Deterministic when a tenant account and a platform admin share an address: the
    # administration's own account wins on its host.
    return (
        User.objects.filter(scope, email__iexact=email.strip())
        .select_related("administration", "institution")
        .order_by(F("administration").asc(nulls_last=True))
        .first()
    )


class AdministrationBackend(ModelBackend):
    """Password sign-in scoped to the administration that serves the request."""

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> User | None:
        if username is None or password is None:
            return None
        user = account_for_login(request, username)
        if user is None:
            # Spend the same time as a real check so response time reveals nothing.
            User().set_password(password)
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None


def axes_username(request: HttpRequest, credentials: dict[str, Any] | None) -> str:
    """Lockout key: the same e-mail on two administrations is two accounts."""
    username = str((credentials or {}).get("username") or request.POST.get("username", ""))
    email = username.strip().lower()
    administration = getattr(request, "administration", None)
    has_tenant_account = (
        administration is not None
        and User.objects.filter(administration=administration, email__iexact=email).exists()
    )
    if (
        not has_tenant_account
        and User.objects.filter(administration__isnull=True, email__iexact=email).exists()
    ):
        # A platform admin signs in on every host: one failure count for all of them.
        return f"-:{email}"
    slug = administration.slug if administration is not None else "-"
    return f"{slug}:{email}"

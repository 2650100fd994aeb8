"""People who sign in. Accounts belong to one administration (platform admins to none)."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ceiba.accounts.roles import INSTITUTION_ROLES, ROLE_PERMISSIONS, STAFF_ROLES, Role
from ceiba.tenancy.models import Administration, Institution, TenantModel


class LegalEntity(TenantModel):
    """A registered business or organization that business representatives act for."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    registration_number = models.CharField(max_length=64)
    name = models.CharField(max_length=200)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("legal entity")
        verbose_name_plural = _("legal entities")
        constraints = [
            models.UniqueConstraint(
                fields=["administration", "registration_number"], name="legal_entity_number_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.registration_number})"


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(
        self,
        email: str,
        password: str | None = None,
        *,
        administration: Administration | None,
        role: str = Role.CITIZEN,
        **extra: Any,
    ) -> User:
        # Django admin permissions come with the platform administrator role, and only with it.
        extra["is_superuser"] = role == Role.PLATFORM_ADMIN
        user = self.model(
            email=self.normalize_email(email).lower(),
            administration=administration,
            role=role,
            **extra,
        )
        user.set_password(password)
        user.full_clean(exclude=["password"])
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> User:
        """Used by Django's createsuperuser: a platform administrator, outside any tenant."""
        extra.pop("administration", None)
        return self.create_user(
            email, password, administration=None, role=Role.PLATFORM_ADMIN, **extra
        )


class User(AbstractBaseUser, PermissionsMixin):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    administration = models.ForeignKey(
        Administration, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    email = models.EmailField(_("email address"))
    full_name = models.CharField(_("full name"), max_length=200, blank=True)
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.CITIZEN)
    institution = models.ForeignKey(
        Institution, on_delete=models.PROTECT, null=True, blank=True, related_name="staff"
    )
    legal_entity = models.ForeignKey(
        LegalEntity, on_delete=models.PROTECT, null=True, blank=True, related_name="representatives"
    )
    national_id = models.CharField(
        _("national identification number"), max_length=64, blank=True, default=""
    )
    preferred_language = models.CharField(max_length=8, blank=True, default="")
    is_active = models.BooleanField(default=True)
    date_joined = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = []

    class Meta:
        ordering = ["email"]
        verbose_name = _("account")
        verbose_name_plural = _("accounts")
        constraints = [
            models.UniqueConstraint(
                fields=["administration", "email"], name="user_email_unique_per_administration"
            ),
            models.UniqueConstraint(
                fields=["email"],
                condition=Q(administration__isnull=True),
                name="user_email_unique_platform",
            ),
            models.CheckConstraint(
                condition=Q(administration__isnull=False) | Q(role=Role.PLATFORM_ADMIN),
                name="user_tenant_required_unless_platform_admin",
            ),
            models.CheckConstraint(
                condition=Q(institution__isnull=False)
                | ~Q(role__in=[Role.OFFICER, Role.SUPERVISOR]),
                name="user_institution_required_for_officers",
            ),
            models.CheckConstraint(
                condition=Q(is_superuser=False) | Q(role=Role.PLATFORM_ADMIN),
                name="user_superuser_only_platform_admin",
            ),
            models.CheckConstraint(
                condition=Q(legal_entity__isnull=False) | ~Q(role=Role.BUSINESS_REP),
                name="user_legal_entity_required_for_business_rep",
            ),
        ]

    def __str__(self) -> str:
        return self.full_name or self.email

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        if self.institution_id and self.role not in INSTITUTION_ROLES:
            raise ValidationError(
                {"institution": _("Only officers and supervisors belong to an institution.")}
            )
        for related in (self.institution, self.legal_entity):
            if related is not None and related.administration_id != self.administration_id:
                raise ValidationError(
                    _(
                        "An account and its institution or business must belong to the same "
                        "administration."
                    )
                )

    @property
    def is_staff(self) -> bool:
        """Django admin access: platform administrators only."""
        return self.role == Role.PLATFORM_ADMIN

    @property
    def is_staff_role(self) -> bool:
        """Staff roles must use two-factor authentication."""
        return self.role in STAFF_ROLES

    def has_role_permission(self, permission: str) -> bool:
        return self.is_active and permission in ROLE_PERMISSIONS.get(self.role, frozenset())


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class ApiToken(TenantModel):
    """A bearer token for a client system, acting as its owning account."""

    PREFIX = "cba_"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    token_hash = models.CharField(max_length=64, unique=True)
    token_prefix = models.CharField(max_length=12)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    last_used_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.token_prefix}…)"

    @classmethod
    def generate(cls) -> str:
        return cls.PREFIX + secrets.token_urlsafe(32)

    @property
    def is_usable(self) -> bool:
        now = timezone.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)

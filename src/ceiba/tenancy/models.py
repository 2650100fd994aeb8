"""Administrations (tenants) and the institutions they own.

Every domain row in Ceiba belongs to exactly one Administration; `TenantModel` is the base
class that says so, and `queries.py` modules filter on it.
"""

from __future__ import annotations

import uuid

from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

slug_validator = RegexValidator(
    r"^[a-z0-9][a-z0-9-]{1,48}$", _("Use 2-49 lowercase letters, digits or hyphens.")
)
member_code_validator = RegexValidator(
    r"^[A-Za-z0-9-]{1,64}$", _("Use letters, digits or hyphens.")
)


def localized(names: dict[str, str], language: str | None, fallback: str) -> str:
    """Pick the name in `language`, else the fallback language, else any."""
    lang = (language or fallback).split("-")[0]
    return names.get(lang) or names.get(fallback) or next(iter(names.values()), "")


class Administration(models.Model):
    """A government (a country) or a regional body hosting several countries: one tenant."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    slug = models.SlugField(unique=True, max_length=49, validators=[slug_validator])
    names = models.JSONField(help_text=_('Name per language code, e.g. {"fr": "..."}.'))
    default_language = models.CharField(max_length=8, default="fr")
    time_zone = models.CharField(max_length=64, default="UTC")
    currency = models.CharField(max_length=3, default="XAF")
    xroad_instance = models.CharField(
        max_length=32, default="CEIBA", help_text=_("X-Road style instance identifier.")
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["slug"]
        verbose_name = _("administration")
        verbose_name_plural = _("administrations")

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return localized(self.names, get_language(), self.default_language)


class AdministrationHostname(models.Model):
    administration = models.ForeignKey(
        Administration, on_delete=models.CASCADE, related_name="hostnames"
    )
    hostname = models.CharField(max_length=253, unique=True)

    class Meta:
        ordering = ["hostname"]

    def __str__(self) -> str:
        return self.hostname

    def save(self, *args: object, **kwargs: object) -> None:
        self.hostname = self.hostname.lower().rstrip(".")
        super().save(*args, **kwargs)  # type: ignore[arg-type]


class TenantQuerySet(models.QuerySet):
    def for_administration(self, administration: Administration) -> TenantQuerySet:
        return self.filter(administration=administration)


class TenantModel(models.Model):
    """Base class of every row that belongs to one administration."""

    administration = models.ForeignKey(Administration, on_delete=models.PROTECT, related_name="+")

    class Meta:
        abstract = True


class InstitutionKind(models.TextChoices):
    MINISTRY = "ministry", _("Ministry")
    AGENCY = "agency", _("Agency")
    MUNICIPALITY = "municipality", _("Municipality")
    REGISTRY = "registry", _("Registry")
    OTHER = "other", _("Other")


class MemberClass(models.TextChoices):
    GOV = "GOV", _("Government")
    COM = "COM", _("Commercial")
    NGO = "NGO", _("Non-governmental organization")
    MUN = "MUN", _("Municipality")


class Institution(TenantModel):
    """A ministry, agency or municipality, identified X-Road style: member class + member code."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    member_class = models.CharField(
        max_length=8, choices=MemberClass.choices, default=MemberClass.GOV
    )
    member_code = models.CharField(max_length=64, validators=[member_code_validator])
    names = models.JSONField()
    kind = models.CharField(
        max_length=16, choices=InstitutionKind.choices, default=InstitutionKind.AGENCY
    )
    sector = models.CharField(max_length=64, blank=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["member_class", "member_code"]
        verbose_name = _("institution")
        verbose_name_plural = _("institutions")
        constraints = [
            models.UniqueConstraint(
                fields=["administration", "member_class", "member_code"],
                name="institution_member_unique",
            )
        ]

    def __str__(self) -> str:
        return f"{self.member_id} {self.name}"

    @property
    def member_id(self) -> str:
        return f"{self.member_class}/{self.member_code}"

    @property
    def name(self) -> str:
        return localized(self.names, get_language(), self.administration.default_language)

"""The service catalog in the database: one ``Service`` per definition id and administration,
one immutable ``ServiceVersion`` per distinct content of its definition.

A case points at the version it was started with, so loading a changed definition never
changes the rules of applications already in progress.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from ceiba.tenancy.models import Institution, TenantModel, TenantQuerySet, localized


class ServiceQuerySet(TenantQuerySet):
    def published(self) -> ServiceQuerySet:
        return self.filter(is_published=True, current_version__isnull=False)


class Service(TenantModel):
    """A government e-service offered by an institution of the administration."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    code = models.CharField(
        max_length=120, help_text=_("The definition's id, e.g. civil-registry.birth-certificate.")
    )
    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="services")
    names = models.JSONField(default=dict)
    descriptions = models.JSONField(default=dict)
    sector = models.CharField(max_length=64)
    life_events = models.JSONField(default=list)
    applicants = models.JSONField(default=list)
    search_text = models.TextField(blank=True, default="", editable=False)
    current_version = models.ForeignKey(
        "ServiceVersion", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    is_published = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ServiceQuerySet.as_manager()

    class Meta:
        ordering = ["code"]
        verbose_name = _("service")
        verbose_name_plural = _("services")
        constraints = [
            models.UniqueConstraint(fields=["administration", "code"], name="service_code_unique")
        ]
        indexes = [models.Index(fields=["administration", "sector"], name="service_sector_idx")]

    def __str__(self) -> str:
        return self.code

    @property
    def name(self) -> str:
        return localized(self.names, get_language(), self.administration.default_language)

    @property
    def description(self) -> str:
        return localized(self.descriptions, get_language(), self.administration.default_language)


class ServiceVersion(TenantModel):
    """One content of a service definition, never modified once stored."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField(help_text=_("1, 2, 3... in loading order."))
    label = models.CharField(max_length=40, help_text=_("The definition's own version field."))
    content_hash = models.CharField(max_length=64)
    raw = models.JSONField()
    source = models.CharField(max_length=500, blank=True, default="")
    loaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    loaded_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["service", "number"]
        verbose_name = _("service version")
        verbose_name_plural = _("service versions")
        constraints = [
            models.UniqueConstraint(fields=["service", "number"], name="service_version_number"),
            models.UniqueConstraint(
                fields=["service", "content_hash"], name="service_version_hash"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.service.code} #{self.number} ({self.label})"

"""Issued documents: signed PDFs with legal meaning."""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ceiba.accounts.models import LegalEntity
from ceiba.tenancy.models import Institution, TenantModel, TenantQuerySet

# The only columns that change after issuance: revocation and the anonymous verification count.
MUTABLE_FIELDS = frozenset(
    {"revoked_at", "revocation_reason", "revoked_by", "verification_count", "last_verified_at"}
)


def document_path(instance: IssuedDocument, filename: str) -> str:
    return f"documents/{instance.administration.slug}/{instance.issued_at:%Y/%m}/{filename}"


class IssuedDocumentQuerySet(TenantQuerySet):
    def revoked(self) -> IssuedDocumentQuerySet:
        return self.filter(revoked_at__isnull=False)


class IssuedDocument(TenantModel):
    """A certificate issued by an institution: a PAdES-signed PDF carrying a signed QR code.

    Never modified once issued (``save`` refuses changes to anything but revocation and the
    verification count): a correction issues a new document whose ``supersedes`` names this
    one. ``facts`` are the certified facts exactly as printed and signed into the QR code.
    ``verification_count`` counts checks of this document without recording who checked.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="+")
    case_reference = models.CharField(max_length=64, blank=True, default="")
    applicant = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="issued_documents"
    )
    legal_entity = models.ForeignKey(
        LegalEntity, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    number = models.CharField(max_length=40, unique=True)
    template = models.CharField(max_length=100)
    title = models.CharField(max_length=200)
    language = models.CharField(max_length=8)
    facts = models.JSONField()
    qr_payload = models.TextField()
    pdf = models.FileField(upload_to=document_path, max_length=255)
    sha256 = models.CharField(max_length=64)
    signing_certificate = models.CharField(max_length=120)
    issued_at = models.DateTimeField()
    supersedes = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="superseded_by"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)
    revocation_reason = models.CharField(max_length=500, blank=True, default="")
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    verification_count = models.PositiveIntegerField(default=0)
    last_verified_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = IssuedDocumentQuerySet.as_manager()

    class Meta:
        ordering = ["-issued_at"]
        verbose_name = _("issued document")
        verbose_name_plural = _("issued documents")
        constraints = [
            models.CheckConstraint(
                condition=Q(revoked_at__isnull=True) | ~Q(revocation_reason=""),
                name="documents_revocation_has_reason",
            ),
        ]
        indexes = [models.Index(fields=["administration", "revoked_at"])]

    def __str__(self) -> str:
        return self.number

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            update_fields = kwargs.get("update_fields")
            if update_fields is None or not set(update_fields) <= MUTABLE_FIELDS:
                raise ValueError("An issued document is never modified; issue a new one.")
        super().save(*args, **kwargs)

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

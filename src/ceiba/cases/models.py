"""Applications (cases), their documents, history, messages and internal notes.

A :class:`Case` is the legal record of one application to one version of a service: what the
applicant answered, which documents they gave, every state it went through, who acted and why.
Rows are changed only by ``ceiba.cases.actions``; every change bumps ``Case.version`` so a form
posted against an older version is refused ("this case changed, reload").
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ceiba.tenancy.models import TenantModel, TenantQuerySet


class Phase(models.TextChoices):
    DRAFT = "draft", _("Draft")
    OPEN = "open", _("In progress")
    CLOSED = "closed", _("Closed")


class CaseQuerySet(TenantQuerySet):
    def submitted(self) -> CaseQuerySet:
        return self.exclude(phase=Phase.DRAFT)

    def open(self) -> CaseQuerySet:
        return self.filter(phase=Phase.OPEN)

    def overdue(self, now: Any = None) -> CaseQuerySet:
        return self.filter(phase=Phase.OPEN, due_at__lt=now or timezone.now())

    def awaiting_decision(self) -> CaseQuerySet:
        """Open cases the institution must act on (a state with a time limit)."""
        return self.filter(phase=Phase.OPEN, due_at__isnull=False)


class Case(TenantModel):
    """One application by one applicant (acting for a business when ``legal_entity`` is set).

    ``state`` is a state id of ``service_version``'s workflow ('' while a draft). ``due_at`` is
    when the institution must have acted on the current state (its SLA in working days), None
    while the case waits on the applicant or is closed. ``reference`` is given at submission and
    carries an ISO 7064 MOD 37,36 check character (see ``cases/reference.py``).
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    service = models.ForeignKey("catalog.Service", on_delete=models.PROTECT, related_name="cases")
    service_version = models.ForeignKey(
        "catalog.ServiceVersion", on_delete=models.PROTECT, related_name="cases"
    )
    institution = models.ForeignKey(
        "tenancy.Institution", on_delete=models.PROTECT, related_name="cases"
    )
    applicant = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="applications"
    )
    legal_entity = models.ForeignKey(
        "accounts.LegalEntity",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="applications",
    )
    # NULL, not "", for drafts: the per-administration uniqueness applies to given references.
    reference = models.CharField(max_length=32, null=True, blank=True, default=None)  # noqa: DJ001
    phase = models.CharField(max_length=8, choices=Phase.choices, default=Phase.DRAFT)
    state = models.CharField(max_length=64, blank=True, default="")
    answers = models.JSONField(default=dict, blank=True)
    language = models.CharField(max_length=8, default="fr")
    amount_due = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True, default="")
    checks = models.JSONField(
        default=dict, blank=True, help_text=_("Results of automatic steps, by hook name.")
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="assigned_cases",
    )
    state_entered_at = models.DateTimeField(null=True, blank=True)
    due_at = models.DateTimeField(null=True, blank=True)
    overdue_notified_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)
    idempotency_key = models.CharField(max_length=128, blank=True, default="")
    request_hash = models.CharField(max_length=64, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    objects = CaseQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        constraints = [
            models.UniqueConstraint(
                fields=["administration", "reference"],
                condition=Q(reference__isnull=False),
                name="case_reference_unique",
            ),
            models.UniqueConstraint(
                fields=["administration", "applicant", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="case_idempotency_key_unique",
            ),
            models.CheckConstraint(
                condition=Q(phase=Phase.DRAFT) | Q(reference__isnull=False),
                name="case_submitted_has_reference",
            ),
        ]
        indexes = [
            models.Index(fields=["institution", "phase", "due_at"], name="case_queue_idx"),
            models.Index(fields=["applicant", "phase"], name="case_applicant_idx"),
        ]

    def __str__(self) -> str:
        return self.reference or f"draft {self.pk}"

    @property
    def is_draft(self) -> bool:
        return self.phase == Phase.DRAFT

    @property
    def is_overdue(self) -> bool:
        return self.phase == Phase.OPEN and self.due_at is not None and self.due_at < timezone.now()


def document_path(document: CaseDocument, filename: str) -> str:
    # The stored name never reuses the uploaded name: it is chosen by the uploader.
    return f"cases/{document.administration_id}/{document.case_id}/{document.id}"


class CaseDocument(TenantModel):
    """A file the applicant gave; ``content_type`` is sniffed from the content, not trusted."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="documents")
    requirement = models.CharField(
        max_length=64, help_text=_("The id of the definition's document requirement.")
    )
    file = models.FileField(upload_to=document_path, max_length=300)
    original_name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    is_current = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["created_at"]
        verbose_name = _("case document")
        verbose_name_plural = _("case documents")

    def __str__(self) -> str:
        return self.original_name


class EventKind(models.TextChoices):
    CREATED = "created", _("Draft started")
    SUBMITTED = "submitted", _("Submitted")
    TRANSITIONED = "transitioned", _("Status changed")
    AUTOMATIC = "automatic", _("Automatic step")
    CLAIMED = "claimed", _("Taken by an officer")
    ASSIGNED = "assigned", _("Assigned")
    DOCUMENT_ADDED = "document_added", _("Document added")
    OVERDUE = "overdue", _("Time limit passed")


class CaseEvent(TenantModel):
    """One line of a case's history. ``public`` events are shown to the applicant."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="events")
    kind = models.CharField(max_length=20, choices=EventKind.choices)
    transition = models.CharField(max_length=64, blank=True, default="")
    from_state = models.CharField(max_length=64, blank=True, default="")
    to_state = models.CharField(max_length=64, blank=True, default="")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    actor_role = models.CharField(max_length=20, blank=True, default="")
    reason = models.TextField(blank=True, default="")
    details = models.JSONField(default=dict, blank=True)
    public = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("case event")
        verbose_name_plural = _("case events")

    def __str__(self) -> str:
        return f"{self.kind} {self.from_state}->{self.to_state}"


class MessageDirection(models.TextChoices):
    TO_APPLICANT = "to_applicant", _("To the applicant")
    FROM_APPLICANT = "from_applicant", _("From the applicant")


class CaseMessage(TenantModel):
    """A message between the institution and the applicant, visible to both."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="messages")
    direction = models.CharField(max_length=16, choices=MessageDirection.choices)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    body = models.TextField()
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("case message")
        verbose_name_plural = _("case messages")

    def __str__(self) -> str:
        return self.body[:40]


class CaseNote(TenantModel):
    """An internal note, visible only to the institution's staff."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    body = models.TextField()
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("internal note")
        verbose_name_plural = _("internal notes")

    def __str__(self) -> str:
        return self.body[:40]


class ReferenceCounter(TenantModel):
    """The last sequence number given in a year; locked while a reference is taken."""

    year = models.PositiveIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["year"]
        constraints = [
            models.UniqueConstraint(fields=["administration", "year"], name="reference_year")
        ]

    def __str__(self) -> str:
        return f"{self.year}: {self.last}"


class PublicHoliday(TenantModel):
    """A day that is not a working day, for SLA computations."""

    date = models.DateField()
    names = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["date"]
        verbose_name = _("public holiday")
        verbose_name_plural = _("public holidays")
        constraints = [
            models.UniqueConstraint(fields=["administration", "date"], name="holiday_date_unique")
        ]

    def __str__(self) -> str:
        return self.date.isoformat()


class FarmerRegistration(TenantModel):
    """An entry of the national farmer registry, read by ``agriculture.farmer_registry_check``.

    Filled by the agriculture ministry (admin import or the exchange); ``national_id`` links the
    registration to the person applying.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    farmer_id = models.CharField(max_length=20)
    national_id = models.CharField(max_length=64)
    full_name = models.CharField(max_length=200)
    region = models.CharField(max_length=32)
    registered_hectares = models.DecimalField(max_digits=8, decimal_places=2, default=Decimal(0))
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["farmer_id"]
        verbose_name = _("farmer registration")
        verbose_name_plural = _("farmer registrations")
        constraints = [
            models.UniqueConstraint(
                fields=["administration", "farmer_id"], name="farmer_registration_unique"
            )
        ]

    def __str__(self) -> str:
        return self.farmer_id

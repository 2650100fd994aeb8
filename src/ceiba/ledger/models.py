"""The transparency log's tables: one log per administration, its entries, tree and checkpoints.

An entry's ``payload`` is the exact canonical JSON that the Merkle tree hashes. Personal fields
(the subject and the acting person) appear in it only as salted commitments, so the payload can
be published as it is; the clear values live in the row's own columns, next to the per-entry
``salt`` that binds them to the commitment. ``ceiba ledger verify`` checks both sides.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ceiba.tenancy.models import Institution, TenantModel, TenantQuerySet


class EntryKind(models.TextChoices):
    CASE_SUBMITTED = "case_submitted", _("Case submitted")
    CASE_TRANSITIONED = "case_transitioned", _("Case transitioned")
    CASE_DECIDED = "case_decided", _("Case decided")
    CASE_ASSIGNED = "case_assigned", _("Case assigned")
    DOCUMENT_ISSUED = "document_issued", _("Document issued")
    DOCUMENT_REVOKED = "document_revoked", _("Document revoked")
    DOCUMENT_VERIFIED = "document_verified", _("Document verified")
    PERSONAL_DATA_VIEWED = "personal_data_viewed", _("Personal data viewed")
    PERSONAL_DATA_EXPORTED = "personal_data_exported", _("Personal data exported")
    PERSONAL_DATA_CHANGED = "personal_data_changed", _("Personal data changed")
    DATA_EXCHANGED = "data_exchanged", _("Data exchanged with another institution")
    PAYMENT_RECEIVED = "payment_received", _("Payment received")
    INCIDENT_ACTION = "incident_action", _("Security incident action")
    ADMIN_CHANGE = "admin_change", _("Administrative change")


class Log(TenantModel):
    """The head of one administration's log: its origin line, integrated size and root.

    Integrators lock this row (``SELECT ... FOR UPDATE``) while they append, so appends to one
    log are serialized across processes and hosts.
    """

    origin = models.CharField(max_length=255, unique=True)
    size = models.BigIntegerField(default=0)
    root_hash = models.BinaryField(max_length=32, default=b"")
    vkey = models.CharField(max_length=400, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["origin"]
        constraints = [
            models.UniqueConstraint(fields=["administration"], name="ledger_one_log_per_admin"),
            models.CheckConstraint(condition=Q(size__gte=0), name="ledger_log_size_nonneg"),
        ]

    def __str__(self) -> str:
        return f"{self.origin} ({self.size})"


class EntryQuerySet(TenantQuerySet):
    def pending(self) -> EntryQuerySet:
        return self.filter(index__isnull=True)

    def integrated(self) -> EntryQuerySet:
        return self.filter(index__isnull=False)


class LedgerEntry(TenantModel):
    """One record of a decision or of an access to personal data. Never modified after writing.

    ``index`` and ``leaf_hash`` are null while the entry waits for the integrator; they are
    set once, when the entry is appended to the tree.
    """

    id = models.BigAutoField(primary_key=True)
    # Indexes led by the log (unique index, pending) and by the subject cover these foreign
    # keys; one more index each would only slow the integrator's updates.
    log = models.ForeignKey(Log, on_delete=models.PROTECT, related_name="entries", db_index=False)
    index = models.BigIntegerField(null=True, blank=True)
    kind = models.CharField(max_length=32, choices=EntryKind.choices)
    recorded_at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    actor_role = models.CharField(max_length=20, blank=True, default="")
    actor_name = models.CharField(max_length=200, blank=True, default="")
    institution = models.ForeignKey(
        Institution, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    subject = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    subject_national_id = models.CharField(max_length=64, blank=True, default="")
    purpose = models.TextField(blank=True, default="")
    reference = models.CharField(max_length=200, blank=True, default="")
    salt = models.BinaryField(max_length=16)
    payload = models.BinaryField()
    leaf_hash = models.BinaryField(max_length=32, null=True, blank=True)
    integrated_at = models.DateTimeField(null=True, blank=True)

    objects = EntryQuerySet.as_manager()

    class Meta:
        ordering = ["log", "id"]
        verbose_name = _("ledger entry")
        verbose_name_plural = _("ledger entries")
        constraints = [
            models.UniqueConstraint(fields=["log", "index"], name="ledger_entry_index_unique"),
            models.CheckConstraint(
                condition=Q(index__isnull=True) | Q(index__gte=0), name="ledger_entry_index_nonneg"
            ),
        ]
        indexes = [
            models.Index(
                fields=["log", "id"], condition=Q(index__isnull=True), name="ledger_entry_pending"
            ),
            models.Index(fields=["leaf_hash"], name="ledger_entry_leaf_hash"),
            models.Index(fields=["subject", "recorded_at"], name="ledger_entry_subject"),
        ]

    def __str__(self) -> str:
        where = "pending" if self.index is None else f"#{self.index}"
        return f"{self.kind} {where}"

    @property
    def actor_role_label(self) -> str:
        from ceiba.accounts.roles import Role

        try:
            return str(Role(self.actor_role).label)
        except ValueError:
            return self.actor_role


class Node(models.Model):
    """A perfect subtree's hash: leaves ``[index * 2**level, (index + 1) * 2**level)``."""

    pk = models.CompositePrimaryKey("log", "level", "index")
    # The primary key starts with the log, so a separate index on it would only cost writes
    # (and tempt SQLite's planner into scanning a whole log).
    log = models.ForeignKey(Log, on_delete=models.PROTECT, related_name="+", db_index=False)
    level = models.SmallIntegerField()
    index = models.BigIntegerField()
    hash = models.BinaryField(max_length=32)

    class Meta:
        ordering = ["log", "level", "index"]

    def __str__(self) -> str:
        return f"node {self.level}/{self.index}"


class Checkpoint(TenantModel):
    """A signed tree head (C2SP tlog-checkpoint in a signed note), kept forever."""

    log = models.ForeignKey(Log, on_delete=models.PROTECT, related_name="checkpoints")
    size = models.BigIntegerField()
    root_hash = models.BinaryField(max_length=32)
    note = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["log", "size"]
        constraints = [
            models.UniqueConstraint(fields=["log", "size"], name="ledger_checkpoint_size_unique"),
        ]

    def __str__(self) -> str:
        return f"checkpoint {self.size}"


class Witness(TenantModel):
    """A witness whose cosignatures (C2SP tlog-cosignature) the log accepts and republishes."""

    name = models.CharField(max_length=200)
    vkey = models.CharField(max_length=400)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["administration", "vkey"], name="ledger_witness_unique")
        ]

    def __str__(self) -> str:
        return self.name


class Cosignature(TenantModel):
    """One witness's cosignature line on one checkpoint."""

    checkpoint = models.ForeignKey(
        Checkpoint, on_delete=models.CASCADE, related_name="cosignatures"
    )
    witness = models.ForeignKey(Witness, on_delete=models.PROTECT, related_name="cosignatures")
    line = models.TextField()
    signed_at = models.DateTimeField()
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["checkpoint", "witness"]
        constraints = [
            models.UniqueConstraint(
                fields=["checkpoint", "witness"], name="ledger_cosignature_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.witness} on {self.checkpoint}"


class DisclosurePolicy(TenantModel):
    """What an administration's law lets citizens see of accesses to their data."""

    show_officer_names = models.BooleanField(
        default=False,
        help_text=_("Show the officer's name, not only the role, on a citizen's data usage page."),
    )
    updated_at = models.DateTimeField(auto_now=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["administration"]
        constraints = [
            models.UniqueConstraint(
                fields=["administration"], name="ledger_one_disclosure_policy_per_admin"
            )
        ]

    def __str__(self) -> str:
        return f"disclosure policy of {self.administration_id}"


class DeferredDisclosure(TenantModel):
    """Accesses by ``institution`` stay hidden from the citizen for ``days`` days.

    For example police during an investigation. The entries are in the log (and public, in
    their committed form) from the start; only the citizen's page waits.
    """

    institution = models.ForeignKey(Institution, on_delete=models.CASCADE, related_name="+")
    days = models.PositiveIntegerField()
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["institution"]
        constraints = [
            models.UniqueConstraint(
                fields=["administration", "institution"], name="ledger_deferred_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.institution_id}: {self.days} days"

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


def withheld_from_public(kind: str, version: object) -> bool:
    """Whether the public API serves only an entry's leaf hash, not its bytes.

    Version 1 entries of every kind but ``admin_change`` carry a case or document identifier
    in clear (in ``reference``, ``purpose`` or ``details``). They are in the tree and cannot be
    rewritten; their bytes stay in the database, where ``ceiba ledger verify`` re-hashes them.
    From version 2 identifiers are only committed to, and every entry is served.
    """
    return version == 1 and kind != EntryKind.ADMIN_CHANGE


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
        return self.filter(leaf__isnull=True)

    def integrated(self) -> EntryQuerySet:
        return self.filter(leaf__isnull=False)


class LedgerEntry(TenantModel):
    """One record of a decision or of an access to personal data. Never modified after writing.

    ``leaf_hash`` (RFC 9162 ``SHA-256(0x00 || payload)``) is computed when the entry is
    written, because its bytes are final then. The entry's place in the tree is not a column
    here: the integrator appends a narrow :class:`Leaf` row instead of rewriting the entry, and
    a :class:`PendingEntry` row marks it as waiting until then.
    """

    id = models.BigAutoField(primary_key=True)
    # Entries are found by subject, by leaf hash or through their Leaf row; an index on the
    # log alone would only slow every insert.
    log = models.ForeignKey(Log, on_delete=models.PROTECT, related_name="entries", db_index=False)
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
    leaf_hash = models.BinaryField(max_length=32)

    objects = EntryQuerySet.as_manager()

    class Meta:
        ordering = ["log", "id"]
        verbose_name = _("ledger entry")
        verbose_name_plural = _("ledger entries")
        indexes = [
            models.Index(fields=["leaf_hash"], name="ledger_entry_leaf_hash"),
            models.Index(fields=["subject", "recorded_at"], name="ledger_entry_subject"),
        ]

    def __str__(self) -> str:
        where = "pending" if self.index is None else f"#{self.index}"
        return f"{self.kind} {where}"

    @property
    def index(self) -> int | None:
        """The entry's leaf index in its log's tree; None while it waits for the integrator.

        Reads the :class:`Leaf` row: use ``select_related("leaf")`` when listing entries.
        """
        try:
            return self.leaf.index
        except Leaf.DoesNotExist:
            return None

    @property
    def actor_role_label(self) -> str:
        from ceiba.accounts.roles import Role

        try:
            return str(Role(self.actor_role).label)
        except ValueError:
            return self.actor_role


class Leaf(models.Model):
    """An integrated entry's place in its log's tree: leaf ``index``. Written once, never updated.

    The integrator writes these rows in bulk (COPY on PostgreSQL) rather than updating the wide
    entry rows, whose every index a rewrite would touch.
    """

    # No database-level foreign keys here or on Node: PostgreSQL checks each one with a row
    # lock on the referenced entry (a write to that wide row), which cost more than the rest
    # of integration. The integrator takes these ids from the queue, whose foreign key was
    # checked when record() wrote it, and `ceiba ledger verify` reports any index that has no
    # entry. The unique (log, index) index leads with the log and serves lookups by log.
    entry = models.OneToOneField(
        LedgerEntry,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="leaf",
        db_constraint=False,
    )
    log = models.ForeignKey(
        Log, on_delete=models.PROTECT, related_name="+", db_index=False, db_constraint=False
    )
    index = models.BigIntegerField()

    class Meta:
        ordering = ["log", "index"]
        constraints = [
            models.UniqueConstraint(fields=["log", "index"], name="ledger_leaf_index_unique"),
            models.CheckConstraint(condition=Q(index__gte=0), name="ledger_leaf_index_nonneg"),
        ]

    def __str__(self) -> str:
        return f"leaf {self.index}"


class PendingEntry(models.Model):
    """An entry written by ``record()`` that the integrator has not appended yet.

    Written in the caller's transaction next to the entry; the integrator deletes it in the
    transaction that writes the entry's :class:`Leaf` row, under the log's head-row lock.
    """

    entry = models.OneToOneField(
        LedgerEntry, on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    log = models.ForeignKey(Log, on_delete=models.PROTECT, related_name="+", db_index=False)
    leaf_hash = models.BinaryField(max_length=32)

    class Meta:
        ordering = ["log", "entry"]
        indexes = [models.Index(fields=["log", "entry"], name="ledger_pending_log_entry")]

    def __str__(self) -> str:
        return f"pending entry {self.entry_id}"


class Node(models.Model):
    """A perfect subtree's hash: leaves ``[index * 2**level, (index + 1) * 2**level)``."""

    pk = models.CompositePrimaryKey("log", "level", "index")
    # The primary key starts with the log, so a separate index on it would only cost writes
    # (and tempt SQLite's planner into scanning a whole log); no database-level foreign key,
    # as on Leaf: a check per node row would lock the log row once per node.
    log = models.ForeignKey(
        Log, on_delete=models.PROTECT, related_name="+", db_index=False, db_constraint=False
    )
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

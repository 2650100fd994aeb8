"""Reads of the transparency log, always scoped to one administration."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Q, QuerySet
from django.utils import timezone

from ceiba.accounts.models import User
from ceiba.ledger import merkle
from ceiba.ledger.errors import LedgerError, LedgerErrorCode
from ceiba.ledger.integrator import DatabaseNodeStore
from ceiba.ledger.models import (
    Checkpoint,
    DeferredDisclosure,
    DisclosurePolicy,
    Leaf,
    LedgerEntry,
    Log,
    withheld_from_public,
)
from ceiba.tenancy.models import Administration

MAX_PAGE = 1000


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def log_of(administration: Administration) -> Log | None:
    return Log.objects.filter(administration=administration).first()


def require_log(administration: Administration) -> Log:
    log = log_of(administration)
    if log is None:
        raise LedgerError(LedgerErrorCode.NO_LOG, "this administration's log has no entries yet")
    return log


def published_note(checkpoint: Checkpoint) -> str:
    """The checkpoint's signed note with every accepted witness cosignature appended."""
    lines = checkpoint.cosignatures.order_by("witness__name", "pk").values_list("line", flat=True)
    return checkpoint.note + "".join(lines)


def latest_checkpoint(administration: Administration) -> Checkpoint:
    checkpoint = Checkpoint.objects.for_administration(administration).order_by("-size").first()
    if checkpoint is None:
        raise LedgerError(
            LedgerErrorCode.NO_CHECKPOINT, "this administration's log has no checkpoint yet"
        )
    return checkpoint


def checkpoints(administration: Administration) -> QuerySet[Checkpoint]:
    return Checkpoint.objects.for_administration(administration).order_by("size")


def parse_integer(name: str, value: str | int | None, *, default: int | None = None) -> int:
    """A non-negative decimal integer from a query parameter, or a 400-worthy error."""
    if value is None or value == "":
        if default is None:
            raise LedgerError(LedgerErrorCode.TREE_SIZE_INVALID, f"{name} is required")
        return default
    text = str(value)
    if not text.isascii() or not text.isdigit() or len(text) > 19:
        code = (
            LedgerErrorCode.INDEX_OUT_OF_RANGE
            if name == "index"
            else LedgerErrorCode.TREE_SIZE_INVALID
        )
        raise LedgerError(code, f"{name} must be a non-negative decimal integer, got {text!r}")
    return int(text)


def _check_size(log: Log, name: str, size: int) -> None:
    if size == 0:
        raise LedgerError(LedgerErrorCode.TREE_SIZE_INVALID, f"{name} must be at least 1, got 0")
    if size > log.size:
        raise LedgerError(
            LedgerErrorCode.SIZE_BEYOND_TREE,
            f"{name} {size} is beyond the current tree size {log.size}",
        )


@dataclass(frozen=True)
class PublicEntry:
    """An integrated entry as the public API serves it.

    ``entry`` is None for an entry withheld from the public (a version 1 entry that carries a
    case or document identifier in clear): only its leaf hash is served.
    """

    index: int
    leaf_hash: bytes
    entry: bytes | None


def _public_entry(index: int, digest: bytes, payload: bytes) -> PublicEntry:
    # Decide from the bytes themselves, not from row columns that could be edited.
    try:
        value = json.loads(payload)
        kind, version = str(value.get("kind")), value.get("v")
    except (ValueError, AttributeError):
        return PublicEntry(index, digest, payload)  # damaged: auditors must see it fail
    if withheld_from_public(kind, version):
        return PublicEntry(index, digest, None)
    return PublicEntry(index, digest, payload)


def entry_at(administration: Administration, index: int) -> PublicEntry:
    log = require_log(administration)
    if index >= log.size:
        raise LedgerError(
            LedgerErrorCode.INDEX_OUT_OF_RANGE,
            f"index {index} is outside the tree of size {log.size}",
        )
    row = (
        Leaf.objects.filter(log=log, index=index)
        .values_list("entry__leaf_hash", "entry__payload")
        .first()
    )
    if row is None:
        raise LedgerError(LedgerErrorCode.ENTRY_NOT_FOUND, f"no entry at index {index}")
    return _public_entry(index, bytes(row[0]), bytes(row[1]))


def entries_from(administration: Administration, start: int, limit: int) -> list[PublicEntry]:
    log = require_log(administration)
    if start > log.size:
        raise LedgerError(
            LedgerErrorCode.INDEX_OUT_OF_RANGE,
            f"start {start} is beyond the tree of size {log.size}",
        )
    if not 1 <= limit <= MAX_PAGE:
        raise LedgerError(
            LedgerErrorCode.INDEX_OUT_OF_RANGE, f"limit must be between 1 and {MAX_PAGE}"
        )
    rows = (
        Leaf.objects.filter(log=log, index__gte=start, index__lt=min(start + limit, log.size))
        .order_by("index")
        .values_list("index", "entry__leaf_hash", "entry__payload")
    )
    return [_public_entry(i, bytes(h), bytes(p)) for i, h, p in rows]


def parse_hash(value: str) -> bytes:
    try:
        digest = base64.b64decode(value.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        try:
            digest = bytes.fromhex(value)
        except ValueError:
            raise LedgerError(
                LedgerErrorCode.HASH_INVALID, "hash must be base64 or hexadecimal"
            ) from None
    if len(digest) != merkle.HASH_SIZE:
        raise LedgerError(
            LedgerErrorCode.HASH_INVALID,
            f"hash is {len(digest)} bytes long, expected {merkle.HASH_SIZE}",
        )
    return digest


class _WithLeaf:
    """Reads the leaf's own hash in the same query as the proof's nodes."""

    def __init__(self, store: DatabaseNodeStore, index: int) -> None:
        self._store = store
        self.leaf_id = merkle.NodeId(0, index)
        self.leaf: bytes | None = None

    def get_nodes(self, ids: Sequence[merkle.NodeId]) -> list[bytes]:
        hashes = self._store.get_nodes([*ids, self.leaf_id])
        self.leaf = hashes[-1]
        return hashes[:-1]


@dataclass(frozen=True)
class InclusionProof:
    index: int
    tree_size: int
    leaf_hash: bytes
    hashes: list[bytes]


def inclusion_proof(
    administration: Administration,
    *,
    index: int | None = None,
    leaf_hash: bytes | None = None,
    size: int | None = None,
) -> InclusionProof:
    """RFC 9162 inclusion proof of the entry at ``index`` (or with ``leaf_hash``) in ``size``."""
    log = require_log(administration)
    tree_size = log.size if size is None else size
    _check_size(log, "tree size", tree_size)
    if leaf_hash is not None:
        found = (
            Leaf.objects.filter(log=log, entry__leaf_hash=leaf_hash)
            .order_by("index")
            .values_list("index", flat=True)
            .first()
        )
        if found is None:
            raise LedgerError(
                LedgerErrorCode.ENTRY_NOT_FOUND, "no integrated entry has this leaf hash"
            )
        index = found
    if index is None:
        raise LedgerError(LedgerErrorCode.INDEX_OUT_OF_RANGE, "give an index or a leaf hash")
    if index >= tree_size:
        raise LedgerError(
            LedgerErrorCode.INDEX_OUT_OF_RANGE,
            f"index {index} is outside a tree of size {tree_size}",
        )
    store = _WithLeaf(DatabaseNodeStore(log.pk), index)
    hashes = merkle.inclusion_proof(store, index, tree_size)
    stored_leaf = store.leaf if store.leaf is not None else store.get_nodes([store.leaf_id])[0]
    if leaf_hash is not None and stored_leaf != leaf_hash:
        raise LedgerError(
            LedgerErrorCode.ENTRY_NOT_FOUND, f"the leaf stored at index {index} has another hash"
        )
    leaf_hash = stored_leaf
    return InclusionProof(index, tree_size, leaf_hash, hashes)


def consistency_proof(administration: Administration, first: int, second: int) -> list[bytes]:
    log = require_log(administration)
    _check_size(log, "first tree size", first)
    if second < first:
        raise LedgerError(
            LedgerErrorCode.SIZES_OUT_OF_ORDER,
            f"second tree size {second} is smaller than first tree size {first}",
        )
    _check_size(log, "second tree size", second)
    return merkle.consistency_proof(DatabaseNodeStore(log.pk), first, second)


# --- who used my data --------------------------------------------------------------------


def disclosure_policy(administration: Administration) -> DisclosurePolicy:
    policy = DisclosurePolicy.objects.filter(administration=administration).first()
    return policy or DisclosurePolicy(administration=administration)


def data_usage_for(user: User, *, now: datetime | None = None) -> QuerySet[LedgerEntry]:
    """Entries about ``user`` that the person may see now, newest first.

    Accesses by an institution with a deferred disclosure stay out until ``days`` have passed
    since they were recorded; they are in the log all along.
    """
    moment = now or timezone.now()
    administration_id = user.administration_id
    if administration_id is None:
        return LedgerEntry.objects.none()
    hidden = Q(pk__in=[])
    for rule in DeferredDisclosure.objects.filter(administration_id=administration_id):
        hidden |= Q(
            institution_id=rule.institution_id, recorded_at__gt=moment - timedelta(days=rule.days)
        )
    return (
        LedgerEntry.objects.filter(administration_id=administration_id, subject=user)
        .exclude(hidden)
        .select_related("institution", "institution__administration", "actor", "leaf")
        .order_by("-recorded_at", "-id")
    )

"""The integrator: appends pending entries to each log's Merkle tree and signs checkpoints.

Entries wait in their table with a null index (written by :func:`ceiba.ledger.actions.record`
inside the caller's transaction). Each batch runs in one transaction that locks the log's head
row, so several integrators (several processes or hosts, a job run twice) append each entry
exactly once: whoever waits for the lock then sees the entries the other one integrated.
Nodes are written with COPY on PostgreSQL and one executemany on SQLite, because building
model instances would cost more than the hashing.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from django.db import connection, transaction
from django.utils import timezone

from ceiba.ledger import keys
from ceiba.ledger.checkpoint import Checkpoint as CheckpointHead
from ceiba.ledger.checkpoint import sign_checkpoint
from ceiba.ledger.errors import LedgerError, LedgerErrorCode
from ceiba.ledger.merkle import (
    MissingNodeError,
    NodeId,
    append_leaves,
    leaf_hash,
    root_hash,
)
from ceiba.ledger.merkle import (
    Node as TreeNode,
)
from ceiba.ledger.models import Checkpoint, LedgerEntry, Log, Node
from ceiba.ledger.note import Ed25519Signer

logger = logging.getLogger(__name__)

DEFAULT_BATCH_SIZE = 10_000


class DatabaseNodeStore:
    """The core's ``NodeStore`` over the ``ledger_node`` table: one query per call."""

    def __init__(self, log_id: int) -> None:
        self.log_id = log_id

    def get_nodes(self, ids: Sequence[NodeId]) -> list[bytes]:
        if not ids:
            return []
        unique = list(dict.fromkeys(ids))
        table = connection.ops.quote_name(Node._meta.db_table)
        # One point lookup per node, glued with UNION ALL: a long OR lets SQLite's planner
        # fall back to scanning the whole log.
        lookup = f'SELECT level, "index", hash FROM {table} WHERE log_id = %s AND level = %s AND "index" = %s'  # noqa: S608, E501 - only placeholders
        params: list[int] = []
        for node_id in unique:
            params += [self.log_id, node_id.level, node_id.index]
        with connection.cursor() as cursor:
            cursor.execute(" UNION ALL ".join([lookup] * len(unique)), params)
            found = {(level, index): bytes(digest) for level, index, digest in cursor.fetchall()}
        out = []
        for node_id in ids:
            digest = found.get((node_id.level, node_id.index))
            if digest is None:
                raise MissingNodeError(
                    f"node (level {node_id.level}, index {node_id.index}) is not stored"
                )
            out.append(digest)
        return out


class OverlayNodeStore:
    """New nodes not yet written, in front of a store that holds the older ones."""

    def __init__(self, nodes: Sequence[TreeNode], below: DatabaseNodeStore) -> None:
        self._new = {(n.level, n.index): n.hash for n in nodes}
        self._below = below

    def get_nodes(self, ids: Sequence[NodeId]) -> list[bytes]:
        missing = [i for i in ids if (i.level, i.index) not in self._new]
        older = dict(zip(missing, self._below.get_nodes(missing), strict=True))
        return [self._new.get((i.level, i.index)) or older[i] for i in ids]


def insert_nodes(log_id: int, nodes: Sequence[TreeNode]) -> None:
    if not nodes:
        return
    table = connection.ops.quote_name(Node._meta.db_table)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            raw = cursor.cursor
            with raw.copy(f'COPY {table} (log_id, level, "index", hash) FROM STDIN') as copy:
                for node in nodes:
                    copy.write_row((log_id, node.level, node.index, node.hash))
        else:
            cursor.executemany(
                f'INSERT INTO {table} (log_id, level, "index", hash) VALUES (%s, %s, %s, %s)',  # noqa: S608
                [(log_id, n.level, n.index, n.hash) for n in nodes],
            )


def _assign_indexes(ids: list[int], first: int, hashes: list[bytes]) -> None:
    table = connection.ops.quote_name(LedgerEntry._meta.db_table)
    now = timezone.now()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f'UPDATE {table} AS e SET "index" = v.idx, leaf_hash = v.h, '  # noqa: S608
                "integrated_at = %s "
                "FROM unnest(%s::bigint[], %s::bigint[], %s::bytea[]) AS v(id, idx, h) "
                'WHERE e.id = v.id AND e."index" IS NULL',
                [now, ids, list(range(first, first + len(ids))), hashes],
            )
        else:
            cursor.executemany(
                f'UPDATE {table} SET "index" = %s, leaf_hash = %s, integrated_at = %s '  # noqa: S608
                'WHERE id = %s AND "index" IS NULL',
                [
                    (first + i, h, now, pk)
                    for i, (pk, h) in enumerate(zip(ids, hashes, strict=True))
                ],
            )
        if cursor.rowcount != len(ids):
            # An entry was integrated behind the lock's back: refuse rather than fork the tree.
            raise LedgerError(
                LedgerErrorCode.ENTRY_INVALID,
                f"expected to integrate {len(ids)} entries, updated {cursor.rowcount}",
            )


def integrate_batch(log_id: int, batch_size: int = DEFAULT_BATCH_SIZE) -> int:
    """Append up to ``batch_size`` pending entries in one transaction; return how many."""
    with transaction.atomic():
        log = Log.objects.select_for_update().get(pk=log_id)
        rows = list(
            LedgerEntry.objects.filter(log_id=log_id, index__isnull=True)
            .order_by("id")
            .values_list("id", "payload")[:batch_size]
        )
        if not rows:
            return 0
        ids = [pk for pk, _payload in rows]
        hashes = [leaf_hash(bytes(payload)) for _pk, payload in rows]
        store = DatabaseNodeStore(log_id)
        nodes = append_leaves(store, log.size, hashes)
        insert_nodes(log_id, nodes)
        _assign_indexes(ids, log.size, hashes)
        new_size = log.size + len(rows)
        root = root_hash(OverlayNodeStore(nodes, store), new_size)
        Log.objects.filter(pk=log_id).update(
            size=new_size, root_hash=root, updated_at=timezone.now()
        )
        return len(rows)


def log_signer(log: Log) -> Ed25519Signer | None:
    """The log's signer, or None when `ceiba ledger init` has not created its key yet."""
    label = keys.log_key_label(log.administration.slug)
    if not keys.has_key(label):
        return None
    signer = Ed25519Signer(log.origin, keys.load_key(label))
    if log.vkey and signer.vkey != log.vkey:
        raise LedgerError(
            LedgerErrorCode.KEY_INVALID,
            f"the key in {keys.key_directory()} is not the key of log {log.origin}",
        )
    return signer


def publish_checkpoint(log_id: int) -> Checkpoint | None:
    """Sign and store a checkpoint of the log's current size, unless one exists already."""
    log = Log.objects.select_related("administration").get(pk=log_id)
    signer = log_signer(log)
    if signer is None:
        logger.warning("log %s has no signing key; run `ceiba ledger init`", log.origin)
        return None
    with transaction.atomic():
        log = Log.objects.select_for_update().get(pk=log_id)
        latest = Checkpoint.objects.filter(log_id=log_id).order_by("-size").first()
        if log.size == 0 or (latest is not None and latest.size >= log.size):
            return latest
        head = CheckpointHead(log.origin, log.size, bytes(log.root_hash))
        note = sign_checkpoint(head, [signer]).decode("utf-8")
        return Checkpoint.objects.create(
            administration_id=log.administration_id,
            log=log,
            size=log.size,
            root_hash=bytes(log.root_hash),
            note=note,
        )


@dataclass(frozen=True)
class IntegrationResult:
    log_id: int
    appended: int
    size: int
    checkpoint: Checkpoint | None


def integrate(log_id: int, *, batch_size: int = DEFAULT_BATCH_SIZE) -> IntegrationResult:
    """Integrate every pending entry of a log, then publish a checkpoint."""
    appended = 0
    while True:
        count = integrate_batch(log_id, batch_size)
        appended += count
        if count < batch_size:
            break
    checkpoint = publish_checkpoint(log_id)
    size = Log.objects.filter(pk=log_id).values_list("size", flat=True).get()
    return IntegrationResult(log_id, appended, size, checkpoint)


def integrate_all(*, batch_size: int = DEFAULT_BATCH_SIZE) -> list[IntegrationResult]:
    return [
        integrate(log_id, batch_size=batch_size)
        for log_id in Log.objects.order_by("pk").values_list("pk", flat=True)
    ]

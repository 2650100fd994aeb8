"""The integrator: appends pending entries to each log's Merkle tree and signs checkpoints.

``record()`` writes each entry with its leaf hash and a narrow ``ledger_pendingentry`` row in
the caller's transaction. Each batch runs in one transaction that locks the log's head row,
takes the oldest pending rows (DELETE ... RETURNING, so exactly the rows read are consumed),
appends their leaf hashes to the tree and writes one ``ledger_leaf`` row per entry (its index)
and the new nodes. Entries themselves are never rewritten: updating the wide entry rows and
all their indexes was what made integration slow. Several integrators (processes, hosts, a
job run twice) append each entry exactly once: whoever waits for the lock then finds the
pending rows gone. Leaves and nodes are written with COPY on PostgreSQL and one executemany on
SQLite, because building model instances would cost more than the hashing.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import psycopg
from django.db import connection, transaction
from django.utils import timezone

from ceiba.ledger import keys
from ceiba.ledger.checkpoint import Checkpoint as CheckpointHead
from ceiba.ledger.checkpoint import sign_checkpoint
from ceiba.ledger.errors import LedgerError, LedgerErrorCode
from ceiba.ledger.merkle import (
    MissingNodeError,
    NodeId,
    NodeRun,
    append_leaf_runs,
    root_hash,
)
from ceiba.ledger.models import Checkpoint, Leaf, Log, Node, PendingEntry
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
        if connection.vendor == "postgresql":
            found = self._fetch_postgresql(unique)
        else:
            found = self._fetch_sqlite(unique)
        out = []
        for node_id in ids:
            digest = found.get((node_id.level, node_id.index))
            if digest is None:
                raise MissingNodeError(
                    f"node (level {node_id.level}, index {node_id.index}) is not stored"
                )
            out.append(digest)
        return out

    def _fetch_sqlite(self, unique: list[NodeId]) -> dict[tuple[int, int], bytes]:
        table = connection.ops.quote_name(Node._meta.db_table)
        # One point lookup per node, glued with UNION ALL: a long OR lets SQLite's planner
        # fall back to scanning the whole log.
        lookup = f'SELECT level, "index", hash FROM {table} WHERE log_id = %s AND level = %s AND "index" = %s'  # noqa: S608, E501 - only placeholders
        params: list[int] = []
        for node_id in unique:
            params += [self.log_id, node_id.level, node_id.index]
        with connection.cursor() as cursor:
            cursor.execute(" UNION ALL ".join([lookup] * len(unique)), params)
            return {(level, index): bytes(digest) for level, index, digest in cursor.fetchall()}

    def _fetch_postgresql(self, unique: list[NodeId]) -> dict[tuple[int, int], bytes]:
        # One statement text for every proof, prepared once per connection: planning a
        # 40-branch UNION ALL cost more than running it. The scalar subquery makes each
        # wanted node a primary-key probe whatever the table's statistics say (a join was
        # planned as a scan of the whole log while statistics were stale).
        connection.ensure_connection()
        raw = _PreparedCursor(connection.connection)
        wrapped = (
            connection.make_debug_cursor(raw)  # type: ignore[arg-type]
            if connection.queries_logged
            else connection.make_cursor(raw)  # type: ignore[arg-type]
        )
        with wrapped as cursor:
            cursor.execute(
                _NODE_LOOKUP,
                [self.log_id, [n.level for n in unique], [n.index for n in unique]],
            )
            rows = cursor.fetchall()
        return {(level, index): bytes(h) for level, index, h in rows if h is not None}


_NODE_LOOKUP = (
    "SELECT q.level, q.idx, (SELECT hash FROM ledger_node "
    'WHERE log_id = %s::bigint AND level = q.level AND "index" = q.idx) '
    "FROM unnest(%s::smallint[], %s::bigint[]) AS q(level, idx)"
)


class _PreparedCursor(psycopg.Cursor[Any]):
    """A server-side binding cursor that prepares every statement it runs.

    Django turns psycopg's automatic preparation off (``prepare_threshold``) for the sake of
    connection poolers; the node lookup opts back in, being one hot statement.
    """

    def execute(
        self,
        query: Any,
        params: Any = None,
        *,
        prepare: bool | None = None,
        binary: bool | None = None,
    ) -> _PreparedCursor:
        super().execute(query, params, prepare=True, binary=binary)
        return self


class OverlayNodeStore:
    """New nodes not yet written, in front of a store that holds the older ones."""

    def __init__(self, runs: Sequence[NodeRun], below: DatabaseNodeStore) -> None:
        self._runs = {run.level: run for run in runs}
        self._below = below

    def _new(self, node_id: NodeId) -> bytes | None:
        run = self._runs.get(node_id.level)
        if run is None or not run.first <= node_id.index < run.first + len(run.hashes):
            return None
        return run.hashes[node_id.index - run.first]

    def get_nodes(self, ids: Sequence[NodeId]) -> list[bytes]:
        new = [self._new(i) for i in ids]
        missing = [i for i, digest in zip(ids, new, strict=True) if digest is None]
        older = iter(self._below.get_nodes(missing))
        return [digest if digest is not None else next(older) for digest in new]


def _copy(table: str, columns: str, lines: Iterable[str]) -> None:
    """COPY text-format ``lines`` into ``table`` on PostgreSQL, in one write.

    Formatting the rows here is several times cheaper than psycopg's per-row ``write_row``;
    the values are integers and ``\\x``-hex bytea, which need no escaping.
    """
    sql = f"COPY {table} ({columns}) FROM STDIN"
    with (
        connection.cursor() as cursor,
        connection.wrap_database_errors,
        cursor.cursor.copy(sql) as copy,
    ):
        copy.write("".join(lines))


def insert_nodes(log_id: int, runs: Sequence[NodeRun]) -> None:
    """Write new nodes, given as :func:`append_leaf_runs` returns them."""
    table = connection.ops.quote_name(Node._meta.db_table)
    if connection.vendor == "postgresql":
        _copy(
            table,
            'log_id, level, "index", hash',
            (
                f"{log_id}\t{run.level}\t{i}\t\\\\x{digest.hex()}\n"
                for run in runs
                for i, digest in enumerate(run.hashes, run.first)
            ),
        )
        return
    with connection.cursor() as cursor:
        cursor.executemany(
            f'INSERT INTO {table} (log_id, level, "index", hash) VALUES (%s, %s, %s, %s)',  # noqa: S608
            [
                (log_id, run.level, i, digest)
                for run in runs
                for i, digest in enumerate(run.hashes, run.first)
            ],
        )


def _take_pending(log_id: int, batch_size: int) -> list[tuple[int, bytes]]:
    """Delete and return the log's oldest ``batch_size`` pending (entry id, leaf hash) rows."""
    table = connection.ops.quote_name(PendingEntry._meta.db_table)
    oldest = f"SELECT entry_id FROM {table} WHERE log_id = %s ORDER BY entry_id LIMIT %s"  # noqa: S608
    # On PostgreSQL, = ANY(ARRAY(...)) makes the batch one primary-key probe per row; with
    # IN (...) the planner hash-joins against a scan of the whole queue, every batch.
    where = f"= ANY(ARRAY({oldest}))" if connection.vendor == "postgresql" else f"IN ({oldest})"
    with connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {table} WHERE entry_id {where} RETURNING entry_id, leaf_hash",  # noqa: S608
            [log_id, batch_size],
        )
        rows = cursor.fetchall()
    # RETURNING gives no order; entries enter the tree in the order they were written.
    rows.sort()
    return [(entry_id, bytes(digest)) for entry_id, digest in rows]


def insert_leaves(log_id: int, first: int, entry_ids: Sequence[int]) -> None:
    """Give ``entry_ids`` the leaf indexes ``first, first + 1, ...``.

    The primary key on the entry refuses an entry integrated twice, and the unique
    ``(log, index)`` an index given twice, so a broken lock fails the batch, not the tree.
    """
    table = connection.ops.quote_name(Leaf._meta.db_table)
    if connection.vendor == "postgresql":
        _copy(
            table,
            'entry_id, log_id, "index"',
            (f"{entry_id}\t{log_id}\t{i}\n" for i, entry_id in enumerate(entry_ids, first)),
        )
        return
    with connection.cursor() as cursor:
        cursor.executemany(
            f'INSERT INTO {table} (entry_id, log_id, "index") VALUES (%s, %s, %s)',  # noqa: S608
            [(entry_id, log_id, i) for i, entry_id in enumerate(entry_ids, first)],
        )


def integrate_batch(log_id: int, batch_size: int = DEFAULT_BATCH_SIZE) -> int:
    """Append up to ``batch_size`` pending entries in one transaction; return how many."""
    with transaction.atomic():
        # FOR NO KEY UPDATE: integrators exclude each other, while record() in other
        # transactions still takes its foreign-key share lock on the log row without waiting.
        log = Log.objects.select_for_update(no_key=True).get(pk=log_id)
        rows = _take_pending(log_id, batch_size)
        if not rows:
            return 0
        ids = [entry_id for entry_id, _digest in rows]
        hashes = [digest for _entry_id, digest in rows]
        store = DatabaseNodeStore(log_id)
        runs = append_leaf_runs(store, log.size, hashes)
        insert_nodes(log_id, runs)
        insert_leaves(log_id, log.size, ids)
        new_size = log.size + len(rows)
        root = root_hash(OverlayNodeStore(runs, store), new_size)
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
        log = Log.objects.select_for_update(no_key=True).get(pk=log_id)
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

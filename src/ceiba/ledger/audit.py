"""Auditing a log: recompute everything from the entries and check what was stored and signed.

The same checks run against the database (:func:`audit_log`, for ``ceiba ledger verify``) and
against the public API only (:mod:`ceiba.ledger.remote`, for ``ceiba ledger verify-remote``):
every entry's bytes are hashed again, the tree is rebuilt, and each checkpoint's signature,
root and consistency with the next one are checked. Each problem names the first entry index
it puts in doubt, so the operator knows from where the log can no longer be trusted.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from ceiba.ledger import merkle
from ceiba.ledger.canonical import CanonicalJSONError, decode_canonical
from ceiba.ledger.checkpoint import Checkpoint as CheckpointHead
from ceiba.ledger.checkpoint import CheckpointError, open_checkpoint
from ceiba.ledger.note import NoteError, Verifier


@dataclass(frozen=True)
class Problem:
    """One finding; ``index`` is the first entry index it concerns, when there is one."""

    index: int | None
    message: str

    def __str__(self) -> str:
        where = f"index {self.index}: " if self.index is not None else ""
        return where + self.message


@dataclass
class AuditReport:
    origin: str
    size: int = 0
    checkpoints: int = 0
    problems: list[Problem] = field(default_factory=list)
    withheld: int = 0  # entries known by their leaf hash only (the public API withholds them)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def first_bad_index(self) -> int | None:
        indexes = [p.index for p in self.problems if p.index is not None]
        return min(indexes) if indexes else None

    def add(self, index: int | None, message: str) -> None:
        self.problems.append(Problem(index, message))

    def summary(self) -> str:
        if self.ok:
            return (
                f"OK {self.origin}: {self.size} entries, tree and {self.checkpoints} "
                "checkpoints verified"
            )
        first = self.first_bad_index
        head = f"FAIL {self.origin}: {len(self.problems)} problem(s)"
        if first is not None:
            head += f"; first bad index {first}"
        return "\n".join([head, *(f"  {p}" for p in self.problems)])


class TreeRebuilder:
    """Rebuilds the tree from entries given in index order, checking each entry on the way."""

    def __init__(self, report: AuditReport) -> None:
        self.report = report
        self.store = merkle.InMemoryNodeStore()
        self.size = 0
        self.broken_at: int | None = None  # first index where the sequence itself broke
        self._pending: list[bytes] = []

    def add(self, index: int, entry: bytes, claimed_leaf: bytes | None) -> dict[str, object] | None:
        """Check and append one entry; return its decoded object, or None if unreadable."""
        if self.broken_at is not None:
            return None
        expected = self.size + len(self._pending)
        if index != expected:
            what = "missing" if index > expected else "duplicated or out of order"
            self.report.add(expected, f"entry {expected} is {what} (next stored index is {index})")
            self.broken_at = expected
            return None
        digest = merkle.leaf_hash(entry)
        if claimed_leaf is not None and claimed_leaf != digest:
            self.report.add(index, "the stored leaf hash is not the hash of the entry's bytes")
        self._pending.append(digest)
        if len(self._pending) >= 4096:
            self.flush()
        try:
            value = decode_canonical(entry)
        except CanonicalJSONError as exc:
            self.report.add(index, f"entry is not canonical JSON: {exc}")
            return None
        if not isinstance(value, dict):
            self.report.add(index, "entry is not a JSON object")
            return None
        if value.get("log") != self.report.origin:
            self.report.add(index, f"entry names log {value.get('log')!r}, not this log")
        return value

    def add_withheld(self, index: int, claimed_leaf: bytes) -> None:
        """Append an entry whose bytes the log withholds from the public, by its leaf hash."""
        if self.broken_at is not None:
            return
        expected = self.size + len(self._pending)
        if index != expected:
            what = "missing" if index > expected else "duplicated or out of order"
            self.report.add(expected, f"entry {expected} is {what} (next stored index is {index})")
            self.broken_at = expected
            return
        if len(claimed_leaf) != merkle.HASH_SIZE:
            self.report.add(index, "the served leaf hash is not 32 bytes long")
            self.broken_at = index
            return
        self.report.withheld += 1
        self._pending.append(claimed_leaf)
        if len(self._pending) >= 4096:
            self.flush()

    def flush(self) -> None:
        if self._pending:
            nodes = merkle.append_leaves(self.store, self.size, self._pending)
            self.store.put_nodes(nodes)
            self.size += len(self._pending)
            self._pending = []

    def root(self, size: int) -> bytes:
        self.flush()
        return merkle.root_hash(self.store, size)


def check_checkpoints(
    report: AuditReport,
    tree: TreeRebuilder,
    notes: Sequence[str],
    verifiers: Iterable[Verifier],
    *,
    label: str = "checkpoint",
) -> list[CheckpointHead]:
    """Check signed notes against the rebuilt tree: signature, origin, root, consistency."""
    tree.flush()
    known = list(verifiers)
    heads: list[CheckpointHead] = []
    mismatched: set[int] = set()
    for note in notes:
        try:
            head, _opened = open_checkpoint(note, known, origin=report.origin)
        except (NoteError, CheckpointError) as exc:
            size = _claimed_size(note)
            index = size - 1 if size else None
            report.add(index, f"{label} of size {size}: signature or format is invalid: {exc}")
            continue
        report.checkpoints += 1
        heads.append(head)
        available = tree.size if tree.broken_at is None else tree.broken_at
        if head.size > available:
            report.add(
                available,
                f"{label} of size {head.size} was signed, but only {available} entries can be "
                f"rebuilt: entries from index {available} are missing (deleted or rolled back)",
            )
            continue
        if head.size and tree.root(head.size) != head.root_hash:
            mismatched.add(head.size)
            report.add(
                head.size - 1,
                f"{label} of size {head.size}: its root hash does not match the entries "
                f"0..{head.size - 1} as stored now",
            )
    ordered = sorted(heads, key=lambda h: h.size)
    for older, newer in itertools.pairwise(ordered):
        if older.size == 0:
            continue
        if older.size == newer.size and older.root_hash != newer.root_hash:
            report.add(
                older.size - 1,
                f"split view: two different trees were signed at size {older.size}",
            )
            continue
        available = tree.size if tree.broken_at is None else tree.broken_at
        if newer.size > available or {older.size, newer.size} & mismatched:
            # Already reported against the entries; a proof over them would add only noise.
            continue
        try:
            proof = merkle.consistency_proof(tree.store, older.size, newer.size)
            merkle.verify_consistency(
                older.size, newer.size, proof, older.root_hash, newer.root_hash
            )
        except merkle.MerkleError as exc:
            report.add(
                older.size - 1,
                f"{label}s of size {older.size} and {newer.size} are not consistent: {exc}",
            )
    return ordered


def _claimed_size(note: str) -> int:
    lines = note.split("\n")
    if len(lines) > 1 and lines[1].isdigit():
        return int(lines[1])
    return 0

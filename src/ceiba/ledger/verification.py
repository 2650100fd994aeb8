"""``ceiba ledger verify``: audit one administration's stored log from its entries up."""

from __future__ import annotations

from collections.abc import Sequence

from ceiba.ledger import keys, merkle
from ceiba.ledger.actions import actor_value, commitment, committed_reference, subject_value
from ceiba.ledger.audit import AuditReport, TreeRebuilder, check_checkpoints
from ceiba.ledger.checkpoint import parse_cosigner_vkey
from ceiba.ledger.errors import LedgerError
from ceiba.ledger.models import (
    Checkpoint,
    Cosignature,
    Leaf,
    LedgerEntry,
    Log,
    Node,
    PendingEntry,
)
from ceiba.ledger.note import (
    Ed25519Signer,
    Ed25519Verifier,
    NoteError,
    Verifier,
    parse_note,
    parse_vkey,
)

CHUNK = 5000


def _verifiers(log: Log, report: AuditReport) -> list[Verifier]:
    verifiers: list[Verifier] = []
    if log.vkey:
        try:
            verifiers.append(parse_vkey(log.vkey))
        except NoteError as exc:
            report.add(None, f"the log's stored verifier key is invalid: {exc}")
    label = keys.log_key_label(log.administration.slug)
    if keys.has_key(label):
        try:
            key_verifier: Ed25519Verifier = Ed25519Signer(
                log.origin, keys.load_key(label)
            ).verifier()
        except LedgerError as exc:
            report.add(None, exc.message)
        else:
            if log.vkey and key_verifier.vkey != log.vkey:
                report.add(None, "the key file does not match the verifier key stored on the log")
            verifiers = [key_verifier]
    return verifiers


def audit_log(log: Log, *, seen: Sequence[str] = ()) -> AuditReport:
    """Recompute the log from its entries and check every stored node and checkpoint.

    ``seen`` are signed checkpoints kept outside the database (by a witness, an auditor, a
    citizen): a database restored from an older backup no longer reaches them.
    """
    report = AuditReport(origin=log.origin, size=log.size)
    tree = TreeRebuilder(report)
    rows = (
        Leaf.objects.filter(log=log)
        .order_by("index")
        .values_list(
            "index",
            "entry__payload",
            "entry__leaf_hash",
            "entry__salt",
            "entry__subject_id",
            "entry__subject_national_id",
            "entry__actor_id",
            "entry__actor_name",
            "entry__actor_role",
            "entry__kind",
            "entry__reference",
        )
    )
    for row in rows.iterator(chunk_size=CHUNK):
        (
            index,
            payload,
            leaf,
            salt,
            subject_id,
            national_id,
            actor_id,
            actor_name,
            role,
            kind,
            reference,
        ) = row
        value = tree.add(index, bytes(payload), bytes(leaf) if leaf is not None else None)
        if value is None:
            continue
        salt = bytes(salt)
        subject = value.get("subject")
        expected_subject = (
            commitment(salt, "subject", subject_value(subject_id, national_id))
            if subject_id is not None
            else None
        )
        if subject != expected_subject:
            report.add(
                index, "the person concerned stored with the entry is not the one it commits to"
            )
        actor = value.get("actor")
        expected_actor = (
            {
                "role": role,
                "commitment": commitment(salt, "actor", actor_value(actor_id, actor_name)),
            }
            if actor_id is not None
            else None
        )
        if actor != expected_actor:
            report.add(index, "the actor stored with the entry is not the one it commits to")
        if value.get("kind") != kind:
            report.add(index, f"the stored kind {kind!r} differs from the entry's")
        version = value.get("v")
        if value.get("reference") != committed_reference(
            salt, reference, version=version if isinstance(version, int) else 0
        ):
            report.add(index, "the reference stored with the entry is not the one it commits to")
    tree.flush()
    rebuilt = tree.size if tree.broken_at is None else tree.broken_at
    if tree.broken_at is None and rebuilt != log.size:
        first = min(rebuilt, log.size)
        report.add(first, f"the log head says {log.size} entries, {rebuilt} are stored")

    _check_nodes(log, tree, rebuilt, report)
    _check_unqueued(log, report)

    notes = list(Checkpoint.objects.filter(log=log).order_by("size").values_list("note", flat=True))
    verifiers = _verifiers(log, report)
    if notes and not verifiers:
        report.add(None, "checkpoints exist but the log has no verifier key to check them")
    else:
        check_checkpoints(report, tree, notes, verifiers)
        for checkpoint in Checkpoint.objects.filter(log=log).order_by("size"):
            if (
                tree.broken_at is None
                and 0 < checkpoint.size <= tree.size
                and bytes(checkpoint.root_hash) != tree.root(checkpoint.size)
            ):
                report.add(
                    checkpoint.size - 1,
                    f"the root stored beside checkpoint {checkpoint.size} differs from the tree",
                )
        if verifiers and seen:
            check_checkpoints(report, tree, list(seen), verifiers, label="checkpoint seen outside")
    _check_cosignatures(log, report)
    return report


def _check_nodes(log: Log, tree: TreeRebuilder, rebuilt: int, report: AuditReport) -> None:
    """Every stored leaf must be the hash of its entry, every stored node the hash of its two
    stored children; none may be missing or extra.

    Checking each node against its children (not against the rebuilt tree) names the lowest
    changed node, so the reported index is where the change is, not merely under it.
    """
    below: list[bytes | None] = []
    level = 0
    while True:
        width = rebuilt >> level
        stored = dict(
            Node.objects.filter(log=log, level=level)
            .order_by("index")
            .values_list("index", "hash")
            .iterator(chunk_size=CHUNK)
        )
        if not width and not stored:
            break
        current: list[bytes | None] = []
        for index in range(width):
            digest = stored.pop(index, None)
            first_leaf = index << level
            if digest is None:
                report.add(first_leaf, f"node (level {level}, index {index}) is missing")
                current.append(None)
                continue
            digest = bytes(digest)
            if level == 0:
                expected: bytes | None = tree.store.get_nodes([merkle.NodeId(0, index)])[0]
                what = "the hash of the entry's bytes"
            else:
                left, right = below[2 * index], below[2 * index + 1]
                # Above a changed node, its parent is expected to differ: report the lowest.
                expected = None if left is None or right is None else merkle.node_hash(left, right)
                what = "the hash of its two children"
            if expected is not None and digest != expected:
                report.add(
                    first_leaf,
                    f"stored node (level {level}, index {index}) differs from {what} "
                    f"(covers entries {first_leaf}..{((index + 1) << level) - 1})",
                )
                current.append(None)
            else:
                current.append(digest if expected is not None else None)
        for index in sorted(stored):
            if tree.broken_at is None:
                report.add(index << level, f"stored node (level {level}, index {index}) is extra")
        below = current
        level += 1


def _check_unqueued(log: Log, report: AuditReport) -> None:
    """Every entry is in the tree or waiting for it: one that is neither was taken off the queue.

    Such an entry is not committed to by any checkpoint yet, so no index can be named.
    """
    pending = PendingEntry.objects.filter(log=log).values("entry_id")
    lost = (
        LedgerEntry.objects.filter(log=log, leaf__isnull=True)
        .exclude(pk__in=pending)
        .values_list("pk", flat=True)
    )
    ids = list(lost[:10])
    if ids:
        report.add(
            None,
            f"entries neither in the tree nor waiting for it (ids {', '.join(map(str, ids))}"
            f"{', ...' if len(ids) == 10 else ''}): removed from the integration queue",
        )


def _check_cosignatures(log: Log, report: AuditReport) -> None:
    for cosignature in Cosignature.objects.filter(checkpoint__log=log).select_related(
        "checkpoint", "witness"
    ):
        verifier = parse_cosigner_vkey(cosignature.witness.vkey)
        text = parse_note(cosignature.checkpoint.note)[0]
        _, signatures = parse_note(text + "\n" + cosignature.line)
        if not signatures or not verifier.verify(text.encode(), signatures[0].signature):
            size = cosignature.checkpoint.size
            report.add(
                size - 1,
                f"the cosignature of {cosignature.witness.name} on checkpoint {size} "
                "does not verify",
            )


def audit_all(*, seen: Sequence[str] = ()) -> list[AuditReport]:
    return [
        audit_log(log, seen=seen)
        for log in Log.objects.select_related("administration").order_by("origin")
    ]

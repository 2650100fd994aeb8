"""Every change to the transparency log: recording entries, integrating them, witnesses.

:func:`record` is the only way anything enters the log.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from ceiba.ledger import keys
from ceiba.ledger.canonical import CanonicalJSONError, encode_entry
from ceiba.ledger.checkpoint import (
    CheckpointError,
    cosignature_timestamp,
    parse_checkpoint,
    parse_cosigner_vkey,
)
from ceiba.ledger.errors import LedgerError, LedgerErrorCode
from ceiba.ledger.merkle import leaf_hash
from ceiba.ledger.models import (
    Checkpoint,
    Cosignature,
    EntryKind,
    LedgerEntry,
    Log,
    PendingEntry,
    Witness,
)
from ceiba.ledger.note import Ed25519Signer, NoteError, parse_note
from ceiba.tenancy.models import Administration, Institution

if TYPE_CHECKING:
    from ceiba.accounts.models import User

# Version 2: ``reference`` is a salted commitment too. Version 1 entries carried it in clear;
# the public API withholds their bytes (docs/adr/0002-public-log-entries-carry-only-...).
ENTRY_VERSION = 2
_COMMITMENT_PREFIX = b"ceiba-ledger-commitment/v1\x00"
_MAX_PURPOSE = 2000
_MAX_REFERENCE = 200


def commitment(salt: bytes, label: str, value: str) -> str:
    """The salted SHA-256 commitment to a personal value, as lowercase hex.

    ``SHA-256("ceiba-ledger-commitment/v1" 0x00 || salt || label || 0x00 || value)``. Whoever
    holds the salt and the value (the person concerned, an auditor given both) can check it;
    nobody else learns the value from the published entry.
    """
    digest = hashlib.sha256(
        _COMMITMENT_PREFIX + salt + label.encode() + b"\x00" + value.encode("utf-8")
    )
    return digest.hexdigest()


def subject_value(subject_id: object, national_id: str) -> str:
    return f"{subject_id}\n{national_id}"


def actor_value(actor_id: object, actor_name: str) -> str:
    return f"{actor_id}\n{actor_name}"


def committed_reference(salt: bytes, reference: str, *, version: int = ENTRY_VERSION) -> str:
    """The ``reference`` field of an entry of ``version`` whose row holds ``reference``.

    From version 2 it is the salted commitment (label ``reference``), or ``""`` when there is
    no reference; version 1 entries carried the clear text. ``ceiba ledger verify`` compares
    the row's ``reference`` column with the entry through this function.
    """
    if version < 2:
        return reference
    return commitment(salt, "reference", reference) if reference else ""


def _public_identifiers(reference: str, people: list[User]) -> list[str]:
    """The values that must not appear in an entry's public fields."""
    values = []
    for part in reference.split("/"):
        value = part.split(":", 1)[-1]
        if len(value) >= 4:
            values.append(value)
    for person in people:
        values += [str(person.pk), person.pk.hex, person.national_id, person.email]
        if len(person.full_name.split()) >= 2:  # a one-word name may be an ordinary word
            values.append(person.full_name)
    return [value for value in values if len(value) >= 4]


def _check_public_fields(
    purpose: str, details: Mapping[str, Any] | None, reference: str, people: list[User]
) -> None:
    """Refuse an entry whose public ``purpose`` or ``details`` repeat what is committed."""
    public = purpose + "\n" + repr(details or {})
    for value in _public_identifiers(reference, people):
        if value in public:
            raise LedgerError(
                LedgerErrorCode.ENTRY_INVALID,
                "purpose and details are published: they must not repeat the reference or "
                "identify a person (put identifiers in reference)",
            )


def format_time(moment: datetime) -> str:
    """UTC, microseconds, ``Z``: one string per instant."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def origin_for(administration: Administration) -> str:
    """The log's origin line: ``<first hostname or slug>/ceiba-log``; fixed once the log exists."""
    hostname = administration.hostnames.order_by("hostname").values_list("hostname", flat=True)
    first = hostname.first()
    return f"{first or administration.slug}/ceiba-log"


def get_or_create_log(administration: Administration) -> Log:
    log = Log.objects.filter(administration=administration).first()
    if log is not None:
        return log
    try:
        with transaction.atomic():
            return Log.objects.create(
                administration=administration, origin=origin_for(administration)
            )
    except IntegrityError:
        # Another process created it first; its row is the log.
        return Log.objects.get(administration=administration)


def _check_tenant(what: str, obj_administration_id: object, administration: Administration) -> None:
    if obj_administration_id != administration.pk:
        raise LedgerError(
            LedgerErrorCode.WRONG_ADMINISTRATION,
            f"the {what} does not belong to administration {administration.slug}",
        )


def record(
    *,
    kind: EntryKind | str,
    actor: User | None,
    administration: Administration,
    institution: Institution | None = None,
    subject: User | None = None,
    purpose: str = "",
    reference: str = "",
    details: Mapping[str, Any] | None = None,
    now: datetime | None = None,
) -> LedgerEntry:
    """Write one ledger entry, pending integration, inside the caller's transaction.

    ``actor`` is the person acting (None: the platform itself); ``institution`` the institution
    acting, by default the actor's; ``subject`` the person whose data or case this is about;
    ``purpose`` the purpose or legal basis, fixed text; ``reference`` what it is about, such
    as ``"case:<case reference>"`` or ``"document:<number>"``, published only as a salted
    commitment; ``details`` a JSON object without floats (values of secret-looking keys are
    redacted). ``purpose`` and ``details`` are published as given: they must not repeat the
    reference or name a person (refused when they visibly do). Raise :class:`LedgerError` for
    invalid input. The entry's leaf hash is computed here (its bytes are final); the integrator,
    scheduled after commit, appends it to the tree later, so a rolled-back change leaves no
    entry and a burst of writes never waits on the tree or on the log's lock.
    """
    try:
        kind = EntryKind(kind)
    except ValueError:
        raise LedgerError(
            LedgerErrorCode.ENTRY_INVALID, f"unknown ledger entry kind {kind!r}"
        ) from None
    if not isinstance(purpose, str) or len(purpose) > _MAX_PURPOSE:
        raise LedgerError(
            LedgerErrorCode.ENTRY_INVALID,
            f"purpose must be text of at most {_MAX_PURPOSE} characters",
        )
    if not isinstance(reference, str) or len(reference) > _MAX_REFERENCE:
        raise LedgerError(
            LedgerErrorCode.ENTRY_INVALID,
            f"reference must be text of at most {_MAX_REFERENCE} characters",
        )
    if details is not None and not isinstance(details, Mapping):
        raise LedgerError(LedgerErrorCode.ENTRY_INVALID, "details must be a JSON object")
    if actor is not None:
        _check_tenant("actor", actor.administration_id, administration)
    if subject is not None:
        _check_tenant("subject", subject.administration_id, administration)
    if institution is None and actor is not None and actor.institution_id is not None:
        institution = actor.institution
    if institution is not None:
        _check_tenant("institution", institution.administration_id, administration)
    _check_public_fields(
        purpose, details, reference, [person for person in (actor, subject) if person is not None]
    )

    moment = now or timezone.now()
    salt = secrets.token_bytes(16)
    with transaction.atomic(savepoint=False):
        log = get_or_create_log(administration)
        actor_part: dict[str, Any] | None = None
        if actor is not None:
            actor_part = {
                "role": actor.role,
                "commitment": commitment(salt, "actor", actor_value(actor.pk, actor.full_name)),
            }
        entry_object = {
            "v": ENTRY_VERSION,
            "id": str(uuid.uuid4()),
            "log": log.origin,
            "kind": str(kind.value),
            "time": format_time(moment),
            "actor": actor_part,
            "institution": institution.member_id if institution is not None else None,
            "subject": (
                commitment(salt, "subject", subject_value(subject.pk, subject.national_id))
                if subject is not None
                else None
            ),
            "purpose": purpose,
            "reference": committed_reference(salt, reference),
            "details": dict(details) if details is not None else {},
        }
        try:
            payload = encode_entry(entry_object)
        except CanonicalJSONError as exc:
            raise LedgerError(LedgerErrorCode.ENTRY_INVALID, str(exc)) from None
        digest = leaf_hash(payload)
        entry = LedgerEntry.objects.create(
            administration=administration,
            log=log,
            kind=kind,
            recorded_at=moment,
            actor=actor,
            actor_role=actor.role if actor is not None else "",
            actor_name=actor.full_name if actor is not None else "",
            institution=institution,
            subject=subject,
            subject_national_id=subject.national_id if subject is not None else "",
            purpose=purpose,
            reference=reference,
            salt=salt,
            payload=payload,
            leaf_hash=digest,
        )
        PendingEntry.objects.create(entry=entry, log_id=entry.log_id, leaf_hash=digest)
        schedule_integration(log.pk)
    return entry


class _IntegrateAfterCommit:
    """An on_commit callback, recognizable so a transaction schedules each log only once."""

    def __init__(self, log_id: int) -> None:
        self.log_id = log_id

    def __call__(self) -> None:
        from ceiba.ledger.tasks import integrate_log

        integrate_log(self.log_id)


def schedule_integration(log_id: int) -> None:
    """Enqueue the integrator for ``log_id`` after commit, once per transaction."""
    connection = transaction.get_connection()
    for _savepoints, callback, _robust in connection.run_on_commit:
        if isinstance(callback, _IntegrateAfterCommit) and callback.log_id == log_id:
            return
    transaction.on_commit(_IntegrateAfterCommit(log_id), robust=True)


# --- keys, witnesses, cosignatures ---------------------------------------------------------


def do_init_log(administration: Administration, *, actor: User | None) -> Log:
    """Create the administration's log and its Ed25519 signing key; idempotent.

    The verifier key is stored on the log so that a key file swapped on disk is refused.
    """
    with transaction.atomic():
        log = get_or_create_log(administration)
        log = Log.objects.select_for_update().get(pk=log.pk)
        label = keys.log_key_label(administration.slug)
        if keys.has_key(label):
            signer = Ed25519Signer(log.origin, keys.load_key(label))
        else:
            signer = Ed25519Signer(log.origin, keys.create_key(label))
        if log.vkey and log.vkey != signer.vkey:
            raise LedgerError(
                LedgerErrorCode.KEY_INVALID,
                f"log {log.origin} is bound to another key ({log.vkey}); restore that key file",
            )
        if not log.vkey:
            log.vkey = signer.vkey
            log.save(update_fields=["vkey", "updated_at"])
            record(
                kind=EntryKind.ADMIN_CHANGE,
                actor=actor,
                administration=administration,
                purpose="Transparency log signing key created",
                details={"vkey": signer.vkey},
            )
    return log


def do_add_witness(
    administration: Administration, name: str, vkey: str, *, actor: User | None
) -> Witness:
    """Accept cosignatures from the witness with verifier key ``vkey`` (signature type 0x04)."""
    try:
        parse_cosigner_vkey(vkey)
    except NoteError as exc:
        raise LedgerError(LedgerErrorCode.KEY_INVALID, str(exc)) from None
    with transaction.atomic():
        witness, created = Witness.objects.get_or_create(
            administration=administration, vkey=vkey, defaults={"name": name}
        )
        if created:
            record(
                kind=EntryKind.ADMIN_CHANGE,
                actor=actor,
                administration=administration,
                purpose="Witness added",
                details={"witness": name, "vkey": vkey},
            )
    return witness


def do_add_cosignatures(
    administration: Administration, signed_note: str
) -> tuple[Checkpoint, list[str]]:
    """Store the known witnesses' valid cosignature lines on one of the log's checkpoints.

    Return the checkpoint and the names of the witnesses whose cosignature was accepted.
    Lines of unknown keys are ignored; an invalid line from a known witness is refused.
    """
    try:
        text, signatures = parse_note(signed_note)
        head = parse_checkpoint(text)
    except (NoteError, CheckpointError) as exc:
        raise LedgerError(LedgerErrorCode.COSIGNATURE_INVALID, str(exc)) from None
    checkpoint = Checkpoint.objects.filter(
        administration=administration, log__origin=head.origin, size=head.size
    ).first()
    if checkpoint is None or parse_note(checkpoint.note)[0] != text:
        raise LedgerError(
            LedgerErrorCode.COSIGNATURE_INVALID,
            f"the log never published this checkpoint ({head.origin}, size {head.size})",
        )
    witnesses = {}
    for witness in Witness.objects.filter(administration=administration):
        verifier = parse_cosigner_vkey(witness.vkey)
        witnesses[(verifier.name, verifier.key_id)] = (witness, verifier)
    accepted = []
    with transaction.atomic():
        for signature in signatures:
            known = witnesses.get((signature.name, signature.key_id))
            if known is None:
                continue
            witness, verifier = known
            if not verifier.verify(text.encode("utf-8"), signature.signature):
                raise LedgerError(
                    LedgerErrorCode.COSIGNATURE_INVALID,
                    f"the cosignature by witness {signature.name} does not verify",
                )
            signed_at = datetime.fromtimestamp(cosignature_timestamp(signature), tz=UTC)
            Cosignature.objects.get_or_create(
                administration=administration,
                checkpoint=checkpoint,
                witness=witness,
                defaults={"line": signature.line(), "signed_at": signed_at},
            )
            accepted.append(witness.name)
    if not accepted:
        raise LedgerError(
            LedgerErrorCode.COSIGNATURE_INVALID,
            "the note carries no cosignature of a known witness",
        )
    return checkpoint, accepted

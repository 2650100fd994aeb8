"""Every change to applications: drafts, documents, submission, workflow steps, assignment.

Each action runs in one transaction that locks the case row (``SELECT ... FOR UPDATE`` on
PostgreSQL), checks ``expected_version`` when given (a stale form gets ``case.stale``), writes
the history, the ledger entry and the applicant's notification (an outbox row, sent after
commit). Errors are :class:`~ceiba.cases.errors.CaseError` with a stable code and a message
translated for the person acting; nothing is half-saved.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.core.files import File
from django.db import IntegrityError, connection, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from jsonschema import Draft202012Validator, FormatChecker

from ceiba.accounts.models import LegalEntity, User
from ceiba.accounts.roles import Role
from ceiba.cases import filetypes, hooks, reference, sla
from ceiba.cases.errors import CaseError, CaseErrorCode
from ceiba.cases.models import (
    Case,
    CaseDocument,
    CaseEvent,
    CaseMessage,
    CaseNote,
    EventKind,
    MessageDirection,
    Phase,
    ReferenceCounter,
)
from ceiba.cases.workflow import APPLICANT_ROLES, STAFF_ROLES, Machine, is_applicant_of, text_of
from ceiba.catalog.definition import DocumentRequirement, ServiceDefinition, Transition
from ceiba.catalog.models import Service, ServiceVersion
from ceiba.catalog.queries import definition_for

MAX_AUTOMATIC_STEPS = 10
MAX_NOTE_LENGTH = 5000
MAX_ANSWERS_BYTES = 256 * 1024
MAX_IDEMPOTENCY_KEY = 128
APPLICANT_KIND = {Role.CITIZEN: "citizen", Role.BUSINESS_REP: "business"}

Upload = tuple[str, File]  # (requirement id, file)


@dataclass(frozen=True)
class SubmitResult:
    """The application and whether this call created it. For a new application,
    ``documents`` and ``history`` are what the submission wrote (the current documents, the
    public events), so the caller can answer without reading them back; ``None`` means read
    them."""

    case: Case
    created: bool
    documents: list[CaseDocument] | None = None
    history: list[CaseEvent] | None = None


# ---------------------------------------------------------------------------------------------
# Drafts and documents


@transaction.atomic
def do_start_draft(
    service: Service,
    *,
    actor: User,
    answers: Mapping[str, Any] | None = None,
    legal_entity: LegalEntity | None = None,
) -> Case:
    """A new draft application on the service's current version."""
    version = _current_version(service)
    entity = _check_applicant(service, actor, legal_entity)
    case = Case.objects.create(
        administration=service.administration,
        service=service,
        service_version=version,
        institution=service.institution,
        applicant=actor,
        legal_entity=entity,
        answers=_clean_answers(answers or {}),
        language=_language_of(actor),
        currency=service.administration.currency,
    )
    _event(case, EventKind.CREATED, actor, public=False)
    return case


@transaction.atomic
def do_save_draft(
    case: Case,
    *,
    actor: User,
    answers: Mapping[str, Any],
    expected_version: int | None = None,
) -> Case:
    """Replace the draft's answers (not validated until submission; merged by the caller)."""
    case = _lock(case, expected_version)
    _require_draft_owner(case, actor)
    case.answers = _clean_answers(answers)
    _bump(case)
    return case


@transaction.atomic
def do_upload_document(
    case: Case,
    *,
    actor: User,
    requirement: str,
    file: File,
    expected_version: int | None = None,
) -> CaseDocument:
    """Attach a file to a draft for one of the definition's document requirements; it
    replaces the earlier file for that requirement. The type is sniffed from the content."""
    case = _lock(case, expected_version)
    _require_draft_owner(case, actor)
    document = _store_document(case, definition_for(case.service_version), requirement, file, actor)
    _bump(case)
    return document


@transaction.atomic
def do_remove_document(
    document: CaseDocument, *, actor: User, expected_version: int | None = None
) -> None:
    case = _lock(document.case, expected_version)
    _require_draft_owner(case, actor)
    CaseDocument.objects.filter(pk=document.pk, case=case).update(is_current=False)
    _bump(case)


# ---------------------------------------------------------------------------------------------
# Submission


def do_submit_draft(case: Case, *, actor: User, expected_version: int | None = None) -> Case:
    """Submit a draft: validate the answers and documents against its version, give it a
    reference, enter the initial state. Submitting again an already submitted case returns
    it unchanged (a double click submits once)."""
    with transaction.atomic():
        locked = _lock(case, None)
        if not is_applicant_of(locked, actor):
            raise CaseError(CaseErrorCode.NOT_FOUND, _("This application does not exist."))
        if locked.phase != Phase.DRAFT:
            return locked
        if expected_version is not None and locked.version != expected_version:
            raise _stale()
        _submit(locked, actor)
        return locked


def do_submit_application(
    service: Service,
    *,
    actor: User,
    answers: Mapping[str, Any],
    legal_entity: LegalEntity | None = None,
    documents: Sequence[Upload] = (),
    idempotency_key: str = "",
) -> SubmitResult:
    """Create and submit an application in one go (the API's way).

    With an ``idempotency_key``, the same key and the same request return the case created the
    first time (``created=False``); the same key with a different request is refused with
    ``case.idempotency_conflict``.

    Everything is checked before anything is written (documents, then answers, then missing
    documents: the same errors, in the same order, as a draft submitted step by step); the
    case is then inserted once, already submitted. The reference number is taken just before
    the transaction, so the yearly counter row is never locked while the case is written:
    references are unique and increasing, but a request that fails at that point (a replayed
    key) leaves a gap.
    """
    key = idempotency_key.strip()
    if len(key) > MAX_IDEMPOTENCY_KEY:
        raise CaseError(
            CaseErrorCode.IDEMPOTENCY_CONFLICT,
            _("The idempotency key is longer than %(count)d characters.")
            % {"count": MAX_IDEMPOTENCY_KEY},
        )
    request_hash = _request_hash(service, answers, legal_entity, documents)
    try:
        version = _current_version(service)
        entity = _check_applicant(service, actor, legal_entity)
        definition = definition_for(version)
        uploads = [(_requirement(definition, requirement), file) for requirement, file in documents]
        types = [check_upload(requirement, file) for requirement, file in uploads]
        kept = validate_answers(definition, _clean_answers(answers))
        _check_documents(definition, kept, {requirement.id for requirement, _file in uploads})
    except CaseError:
        # A replayed key is answered (or refused as a conflict) before any other error.
        existing = _replay(service, actor, key, request_hash) if key else None
        if existing is None:
            raise
        return SubmitResult(existing, False)
    machine = Machine(definition)
    now = timezone.now()
    case = Case(
        administration=service.administration,
        service=service,
        service_version=version,
        institution=service.institution,
        applicant=actor,
        legal_entity=entity,
        answers=kept,
        language=_language_of(actor),
        currency=service.administration.currency,
        idempotency_key=key,
        request_hash=request_hash,
        phase=Phase.OPEN,
        submitted_at=now,
    )
    if definition.fees is not None:
        case.amount_due = definition.fees.total(kept).quantize(Decimal("0.01"))
        case.currency = definition.fees.currency
    _enter(case, machine, machine.initial, now)
    # One change after creation, as for a draft that is submitted.
    case.version += 1
    try:
        case.reference = _next_reference(case, now)
        with transaction.atomic():
            case.save(force_insert=True)
            stored: list[CaseDocument] = []
            for (requirement, file), content_type in zip(uploads, types, strict=True):
                earlier = [d for d in stored if d.requirement == requirement.id]
                for document in earlier:
                    document.is_current = False
                stored.append(
                    _save_document(
                        case,
                        requirement,
                        file,
                        content_type,
                        actor,
                        replaces=bool(earlier),
                        announce=False,  # part of the submission, as for a draft
                    )
                )
            event = _event(case, EventKind.SUBMITTED, actor, to_state=case.state)
            submitted_version = case.version
            _after_submit(case, machine, actor)
            # Automatic steps write events and bump the version; read those back.
            history = [event] if case.version == submitted_version else None
    except IntegrityError:
        # Two identical requests at once, or a replay: the first one created it.
        existing = _replay(service, actor, key, request_hash) if key else None
        if existing is None:
            raise
        return SubmitResult(existing, False)
    current = sorted(
        (document for document in stored if document.is_current),
        key=lambda document: (document.requirement, document.created_at),
    )
    return SubmitResult(case, True, documents=current, history=history)


def _replay(service: Service, actor: User, key: str, request_hash: str) -> Case | None:
    existing = Case.objects.filter(
        administration=service.administration, applicant=actor, idempotency_key=key
    ).first()
    if existing is not None and existing.request_hash != request_hash:
        raise CaseError(
            CaseErrorCode.IDEMPOTENCY_CONFLICT,
            _(
                "This idempotency key was already used for a different request. "
                "Use a new key for a new application."
            ),
        )
    return existing


def _request_hash(
    service: Service,
    answers: Mapping[str, Any],
    legal_entity: LegalEntity | None,
    documents: Sequence[Upload],
) -> str:
    files = []
    for requirement, file in documents:
        digest = hashlib.sha256()
        file.seek(0)
        for chunk in file.chunks():
            digest.update(chunk)
        file.seek(0)
        files.append([requirement, digest.hexdigest()])
    body = {
        "service": service.code,
        "answers": answers,
        "legal_entity": str(legal_entity.pk) if legal_entity else None,
        "documents": files,
    }
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _submit(case: Case, actor: User) -> None:
    definition = definition_for(case.service_version)
    answers = validate_answers(definition, case.answers)
    present = set(case.documents.filter(is_current=True).values_list("requirement", flat=True))
    _check_documents(definition, answers, present)
    now = timezone.now()
    case.answers = answers
    case.reference = _next_reference(case, now)
    case.phase = Phase.OPEN
    case.submitted_at = now
    if definition.fees is not None:
        case.amount_due = definition.fees.total(answers).quantize(Decimal("0.01"))
        case.currency = definition.fees.currency
    machine = Machine(definition)
    _enter(case, machine, machine.initial, now)
    _bump(case)
    _event(case, EventKind.SUBMITTED, actor, to_state=case.state)
    _after_submit(case, machine, actor)


def _after_submit(case: Case, machine: Machine, actor: User) -> None:
    _ledger(
        "case_submitted",
        case,
        actor,
        details={"service": case.service.code, "version": case.service_version.number},
    )
    _notify(case, machine, "")
    _run_automatic(case, machine)


def validate_answers(definition: ServiceDefinition, answers: Mapping[str, Any]) -> dict[str, Any]:
    """The answers without fields of hidden sections, or CaseError listing every problem."""
    shown = {
        name for section in definition.form.visible_sections(answers) for name in section.fields
    }
    kept = {name: value for name, value in answers.items() if name in shown}
    validator = _validator(definition)
    errors = []
    for error in validator.iter_errors(kept):
        path = ".".join(str(part) for part in error.absolute_path)
        if not path and error.validator == "required" and isinstance(error.instance, dict):
            missing = [n for n in error.validator_value if n not in error.instance]
            for name in missing:
                errors.append((name, _("Answer this question.")))
            continue
        errors.append((path, error.message))
    if errors:
        raise CaseError(
            CaseErrorCode.ANSWERS_INVALID,
            _("Some answers are missing or not valid."),
            errors=sorted(set(errors)),
        )
    return kept


def _validator(definition: ServiceDefinition) -> Draft202012Validator:
    """The compiled validator of the definition's form, built once per definition content."""
    validator = _VALIDATORS.get(definition.content_hash)
    if validator is None:
        validator = Draft202012Validator(
            definition.form.validation_schema(), format_checker=FormatChecker()
        )
        if len(_VALIDATORS) >= _VALIDATOR_CACHE_SIZE:
            _VALIDATORS.pop(next(iter(_VALIDATORS)))
        _VALIDATORS[definition.content_hash] = validator
    return validator


_VALIDATORS: dict[str, Draft202012Validator] = {}
_VALIDATOR_CACHE_SIZE = 256


def _check_documents(
    definition: ServiceDefinition, answers: Mapping[str, Any], present: set[str]
) -> None:
    missing = [
        (f"documents.{item.id}", _("Add this document: %(name)s") % {"name": text_of(item.label)})
        for item in definition.documents
        if item.is_required(answers) and item.id not in present
    ]
    if missing:
        raise CaseError(
            CaseErrorCode.DOCUMENT_MISSING, _("Some documents are missing."), errors=missing
        )


def _next_reference(case: Case, now: datetime) -> str:
    year = now.astimezone(sla.zone_of(case.administration)).year
    number = _take_number(case.administration_id, year)
    return reference.format_reference(reference.prefix_for(case.service.code), year, number)


# Standard SQL with RETURNING: PostgreSQL, and SQLite 3.35 or later.
_TAKE_NUMBER = (
    'UPDATE "cases_referencecounter" SET "last" = "last" + 1 '
    'WHERE "administration_id" = %s AND "year" = %s RETURNING "last"'
)


def _take_number(administration_id: Any, year: int) -> int:
    """The next number of the administration's yearly counter: one ``UPDATE ... RETURNING``
    (the row stays locked until the surrounding transaction, if any, ends)."""
    column = ReferenceCounter._meta.get_field("administration")
    key = column.get_db_prep_value(administration_id, connection)
    for _attempt in range(2):
        with connection.cursor() as cursor:
            cursor.execute(_TAKE_NUMBER, [key, year])
            row = cursor.fetchone()
        if row is not None:
            return int(row[0])
        try:
            with transaction.atomic():
                ReferenceCounter.objects.create(
                    administration_id=administration_id, year=year, last=1
                )
            return 1
        except IntegrityError:
            continue  # another request created this year's counter first
    raise RuntimeError("the reference counter could not be created")


# ---------------------------------------------------------------------------------------------
# Workflow


def do_transition_case(
    case: Case,
    transition: str,
    *,
    actor: User,
    expected_version: int,
    reason: str = "",
    message: str = "",
    note: str = "",
    answers: Mapping[str, Any] | None = None,
    documents: Sequence[Upload] = (),
) -> Case:
    """Take a manual transition of the case's workflow.

    Checks, under the row lock: the version the actor saw, the transition exists and leaves
    the current state, the actor's role and relation to the case (an officer of the case's
    institution, on a case not assigned to someone else; a supervisor of it; the applicant),
    the guard on the answers, and the inputs the transition requires (``reason``, ``message``).
    ``answers`` (merged into the current ones, then validated) and ``documents`` are accepted
    only by transitions that list them as inputs.
    """
    with transaction.atomic():
        locked = _lock(case, expected_version)
        machine = Machine(definition_for(locked.service_version))
        step = machine.transition(transition)
        inputs = {"reason": reason, "message": message, "note": note}
        machine.check(
            locked, step, actor, {k: v for k, v in inputs.items() if v or k in step.inputs}
        )
        extra = [
            name
            for name, given in (("answers", answers), ("documents", documents))
            if given and name not in step.inputs
        ]
        if extra:
            raise CaseError(
                CaseErrorCode.INPUT_REQUIRED,
                _("This step does not take new answers or documents."),
                errors=[(name, _("Not accepted by this step.")) for name in extra],
            )
        if answers:
            merged = {**locked.answers, **answers}
            locked.answers = validate_answers(machine.definition, merged)
        for requirement, file in documents:
            _store_document(locked, machine.definition, requirement, file, actor)
        _apply(locked, machine, step, actor, reason=reason, message=message, note=note)
        _run_automatic(locked, machine)
        return locked


def do_request_information(case: Case, *, actor: User, message: str, expected_version: int) -> Case:
    """Send the case back to the applicant with a message (the definition's step that takes a
    message and waits on the applicant)."""
    machine = Machine(definition_for(case.service_version))
    step = _find_step(
        machine,
        case,
        actor,
        lambda t: (
            "message" in t.inputs
            and not machine.is_final(t.target)
            and machine.sla_days(t.target) is None
        ),
    )
    return do_transition_case(
        case, step.name, actor=actor, expected_version=expected_version, message=message
    )


def do_answer_information_request(
    case: Case,
    *,
    actor: User,
    message: str,
    expected_version: int,
    answers: Mapping[str, Any] | None = None,
    documents: Sequence[Upload] = (),
) -> Case:
    """The applicant answers a request for information, with new documents or answers."""
    machine = Machine(definition_for(case.service_version))
    step = _find_step(
        machine,
        case,
        actor,
        lambda t: (
            not machine.is_final(t.target)
            and bool({"message", "documents", "answers"} & set(t.inputs))
        ),
    )
    return do_transition_case(
        case,
        step.name,
        actor=actor,
        expected_version=expected_version,
        message=message,
        answers=answers,
        documents=documents,
    )


def do_withdraw_case(case: Case, *, actor: User, expected_version: int) -> Case:
    """The applicant withdraws: the applicant's step from the current state to a final state."""
    machine = Machine(definition_for(case.service_version))
    step = _find_step(
        machine,
        case,
        actor,
        lambda t: machine.is_final(t.target) and bool(t.roles & APPLICANT_ROLES),
    )
    return do_transition_case(case, step.name, actor=actor, expected_version=expected_version)


def _find_step(machine: Machine, case: Case, actor: User, accept: Any) -> Transition:
    if case.phase != Phase.OPEN:
        raise CaseError(CaseErrorCode.CLOSED, _("This case is closed; nothing can change it."))
    for step in machine.available(case, actor):
        if accept(step):
            return step
    raise CaseError(
        CaseErrorCode.TRANSITION_NOT_ALLOWED, _("This step is not possible now for you.")
    )


def _apply(
    case: Case,
    machine: Machine,
    step: Transition,
    actor: User | None,
    *,
    reason: str = "",
    message: str = "",
    note: str = "",
    details: Mapping[str, Any] | None = None,
) -> None:
    now = timezone.now()
    source = case.state
    if actor is not None and actor.role == Role.OFFICER and case.assignee_id is None:
        case.assignee = actor  # acting on an unclaimed case claims it
    _enter(case, machine, step.target, now)
    _bump(case)
    _event(
        case,
        EventKind.AUTOMATIC if step.automatic else EventKind.TRANSITIONED,
        actor,
        transition=step.name,
        from_state=source,
        to_state=step.target,
        reason=reason.strip(),
        details=dict(details or {}),
    )
    if message.strip() and actor is not None:
        CaseMessage.objects.create(
            administration=case.administration,
            case=case,
            direction=MessageDirection.FROM_APPLICANT
            if actor is not None and actor.role in APPLICANT_ROLES
            else MessageDirection.TO_APPLICANT,
            author=actor,
            body=message.strip(),
        )
    if note.strip() and actor is not None:
        CaseNote.objects.create(
            administration=case.administration, case=case, author=actor, body=note.strip()
        )
    _ledger(
        "case_decided" if machine.is_final(step.target) else "case_transitioned",
        case,
        actor,
        details={"transition": step.name, "from": source, "to": step.target},
    )
    _notify(case, machine, reason.strip() or message.strip())
    if any(output.state == step.target for output in machine.definition.outputs):
        _schedule_outputs(case)


def _schedule_outputs(case: Case) -> None:
    """The certificate is rendered and signed by the job queue once the decision commits."""
    from ceiba.documents.tasks import issue_case_outputs

    case_id = str(case.pk)
    transaction.on_commit(lambda: issue_case_outputs(case_id))


def _enter(case: Case, machine: Machine, state: str, now: datetime) -> None:
    case.state = state
    case.state_entered_at = now
    case.overdue_notified_at = None
    days = machine.sla_days(state)
    case.due_at = sla.due_at(case.administration, now, days) if days else None
    if machine.is_final(state):
        case.phase = Phase.CLOSED
        case.closed_at = now
        case.due_at = None


def _run_automatic(case: Case, machine: Machine) -> None:
    """Take automatic steps from the current state while their hooks say proceed."""
    for _step in range(MAX_AUTOMATIC_STEPS):
        if case.phase != Phase.OPEN:
            return
        candidates = [t for t in machine.automatic_from(case.state) if machine.guard_holds(case, t)]
        if not candidates:
            return
        step = candidates[0]
        assert step.hook is not None
        try:
            result = hooks.get(step.hook)(case)
        except hooks.HookUnavailable:
            return  # the SLA job tries again
        case.checks = {
            **case.checks,
            step.hook: {
                "passed": result.passed,
                "summary": result.summary,
                "facts": result.facts,
                "at": timezone.now().isoformat(),
            },
        }
        if not result.proceed:
            _bump(case)
            _event(
                case,
                EventKind.AUTOMATIC,
                None,
                transition=step.name,
                from_state=case.state,
                to_state=case.state,
                details={"hook": step.hook, "passed": result.passed, "summary": result.summary},
                public=False,
            )
            return
        _apply(
            case,
            machine,
            step,
            None,
            details={"hook": step.hook, "passed": result.passed, "summary": result.summary},
        )


def do_run_automatic_steps(case: Case) -> Case:
    """Retry automatic steps of a case waiting on an unavailable hook (called by the SLA job)."""
    with transaction.atomic():
        locked = _lock(case, None)
        _run_automatic(locked, Machine(definition_for(locked.service_version)))
        return locked


# ---------------------------------------------------------------------------------------------
# Assignment, notes


def do_claim_case(case: Case, *, actor: User, expected_version: int | None = None) -> Case:
    """An officer or supervisor of the case's institution takes an unassigned case."""
    with transaction.atomic():
        locked = _lock(case, expected_version)
        _require_staff(locked, actor)
        if locked.phase != Phase.OPEN:
            raise CaseError(CaseErrorCode.CLOSED, _("This case is closed; nothing can change it."))
        if locked.assignee_id == actor.pk:
            return locked
        if locked.assignee_id is not None:
            raise CaseError(
                CaseErrorCode.STALE,
                _("Someone else has taken this case. Reload the page to see who."),
            )
        locked.assignee = actor
        _bump(locked)
        _event(locked, EventKind.CLAIMED, actor, public=False)
        _ledger("case_assigned", locked, actor, details={"assignment": "claimed"})
        return locked


def do_assign_case(
    case: Case, *, actor: User, assignee: User | None, expected_version: int | None = None
) -> Case:
    """A supervisor assigns or reassigns a case to an officer of the institution (or to
    nobody, back to the queue)."""
    with transaction.atomic():
        locked = _lock(case, expected_version)
        _require_staff(locked, actor)
        if actor.role != Role.SUPERVISOR:
            raise CaseError(CaseErrorCode.FORBIDDEN, _("Only a supervisor can assign cases."))
        if locked.phase != Phase.OPEN:
            raise CaseError(CaseErrorCode.CLOSED, _("This case is closed; nothing can change it."))
        if assignee is not None and (
            assignee.administration_id != locked.administration_id
            or assignee.institution_id != locked.institution_id
            or assignee.role not in STAFF_ROLES
            or not assignee.is_active
        ):
            raise CaseError(
                CaseErrorCode.ASSIGNEE_INVALID,
                _("Choose an active officer of this case's institution."),
                errors=[("assignee", _("Choose an active officer of this case's institution."))],
            )
        previous = locked.assignee_id
        locked.assignee = assignee
        _bump(locked)
        details = {
            "from": str(previous) if previous else None,
            "to": str(assignee.pk) if assignee else None,
        }
        _event(locked, EventKind.ASSIGNED, actor, details=details, public=False)
        # Who got the case stays in the case's history: account ids are not for the public log.
        _ledger(
            "case_assigned",
            locked,
            actor,
            details={"assignment": "assigned" if assignee else "unassigned"},
        )
        return locked


@transaction.atomic
def do_add_note(case: Case, *, actor: User, body: str) -> CaseNote:
    """An internal note by staff of the case's institution; never shown to the applicant."""
    _require_staff(case, actor)
    text = body.strip()
    if not text or len(text) > MAX_NOTE_LENGTH:
        raise CaseError(
            CaseErrorCode.INPUT_REQUIRED,
            _("Write a note of at most %(count)d characters.") % {"count": MAX_NOTE_LENGTH},
            errors=[
                (
                    "body",
                    _("Write a note of at most %(count)d characters.") % {"count": MAX_NOTE_LENGTH},
                )
            ],
        )
    return CaseNote.objects.create(
        administration=case.administration, case=case, author=actor, body=text
    )


def record_case_access(
    case: Case, *, actor: User, purpose: str = "", document: CaseDocument | None = None
) -> None:
    """Record that ``actor`` saw the applicant's data in this case (or one of its documents):
    a ``personal_data_viewed`` ledger entry naming the applicant, the actor's institution and
    the purpose (by default, processing the case). Call it on every view of a case or document
    by anyone but the applicant."""
    with transaction.atomic():
        _ledger(
            "personal_data_viewed",
            case,
            actor,
            purpose=purpose or "Case review",
            reference=_case_reference(case) + (f"/document:{document.pk}" if document else ""),
            details={"view": "document" if document else "case"},
        )


# ---------------------------------------------------------------------------------------------
# SLA


def do_mark_overdue(case: Case, *, now: datetime | None = None) -> bool:
    """Record once that the case passed its time limit in its current state; True if it did
    now. Safe to run twice: the second run finds ``overdue_notified_at`` set."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = _lock(case, None)
        if (
            locked.phase != Phase.OPEN
            or locked.due_at is None
            or locked.due_at >= now
            or locked.overdue_notified_at is not None
        ):
            return False
        locked.overdue_notified_at = now
        locked.save(update_fields=["overdue_notified_at", "updated_at"])
        _event(
            locked,
            EventKind.OVERDUE,
            None,
            from_state=locked.state,
            to_state=locked.state,
            public=False,
            details={"due_at": locked.due_at.isoformat()},
        )
        _notify_staff_overdue(locked)
        return True


# ---------------------------------------------------------------------------------------------
# Internals


def _lock(case: Case, expected_version: int | None) -> Case:
    try:
        locked = (
            Case.objects.select_for_update(of=("self",))
            .select_related("administration", "service", "service_version")
            .get(pk=case.pk, administration_id=case.administration_id)
        )
    except Case.DoesNotExist:
        raise CaseError(CaseErrorCode.NOT_FOUND, _("This application does not exist.")) from None
    if expected_version is not None and locked.version != expected_version:
        raise _stale()
    return locked


def _stale() -> CaseError:
    return CaseError(
        CaseErrorCode.STALE,
        _("This case changed since you opened it. Reload the page to see what changed."),
    )


def _bump(case: Case) -> None:
    case.version += 1
    case.save()


def _current_version(service: Service) -> ServiceVersion:
    if not service.is_published or service.current_version is None:
        raise CaseError(
            CaseErrorCode.SERVICE_UNAVAILABLE, _("This service is not available at the moment.")
        )
    return service.current_version


def _check_applicant(
    service: Service, actor: User, legal_entity: LegalEntity | None
) -> LegalEntity | None:
    kind = APPLICANT_KIND.get(actor.role)  # type: ignore[call-overload]
    if (
        kind is None
        or kind not in service.applicants
        or actor.administration_id != service.administration_id
        or not actor.is_active
    ):
        raise CaseError(
            CaseErrorCode.APPLICANT_NOT_ALLOWED,
            _("This service is not open to applications from your account."),
        )
    if actor.role == Role.BUSINESS_REP:
        if legal_entity is not None and legal_entity.pk != actor.legal_entity_id:
            raise CaseError(
                CaseErrorCode.APPLICANT_NOT_ALLOWED,
                _("You can apply only for the business you represent."),
            )
        return actor.legal_entity
    if legal_entity is not None:
        raise CaseError(
            CaseErrorCode.APPLICANT_NOT_ALLOWED,
            _("Only a business representative can apply for a business."),
        )
    return None


def _require_draft_owner(case: Case, actor: User) -> None:
    if not is_applicant_of(case, actor):
        raise CaseError(CaseErrorCode.NOT_FOUND, _("This application does not exist."))
    if case.phase != Phase.DRAFT:
        raise CaseError(
            CaseErrorCode.NOT_DRAFT, _("This application was already submitted; it cannot change.")
        )


def _require_staff(case: Case, actor: User) -> None:
    if (
        actor.role not in STAFF_ROLES
        or not actor.is_active
        or actor.administration_id != case.administration_id
        or actor.institution_id != case.institution_id
    ):
        raise CaseError(CaseErrorCode.FORBIDDEN, _("Your role does not allow this."))


def _clean_answers(answers: Mapping[str, Any]) -> dict[str, Any]:
    if not isinstance(answers, Mapping):
        raise CaseError(CaseErrorCode.ANSWERS_INVALID, _("The answers must be a JSON object."))
    try:
        encoded = json.dumps(dict(answers), allow_nan=False, default=_json_default)
    except (TypeError, ValueError):
        raise CaseError(
            CaseErrorCode.ANSWERS_INVALID, _("The answers must be a JSON object.")
        ) from None
    if len(encoded.encode()) > MAX_ANSWERS_BYTES:
        raise CaseError(CaseErrorCode.ANSWERS_INVALID, _("The answers are too long."))
    cleaned: dict[str, Any] = json.loads(encoded)
    return cleaned


def _json_default(value: object) -> object:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(type(value).__name__)


def _requirement(definition: ServiceDefinition, requirement_id: str) -> DocumentRequirement:
    requirement = next((d for d in definition.documents if d.id == requirement_id), None)
    if requirement is None:
        raise CaseError(
            CaseErrorCode.DOCUMENT_UNKNOWN,
            _("This service does not ask for this document."),
            errors=[(f"documents.{requirement_id}", _("Unknown document."))],
        )
    return requirement


def _store_document(
    case: Case,
    definition: ServiceDefinition,
    requirement_id: str,
    file: File,
    actor: User,
) -> CaseDocument:
    requirement = _requirement(definition, requirement_id)
    content_type = check_upload(requirement, file)
    return _save_document(case, requirement, file, content_type, actor, replaces=True)


def _save_document(
    case: Case,
    requirement: DocumentRequirement,
    file: File,
    content_type: str,
    actor: User,
    *,
    replaces: bool,
    announce: bool = True,
) -> CaseDocument:
    """Store a checked upload. ``replaces``: an earlier file for the requirement may exist;
    ``announce``: write a history event when the case is no longer a draft."""
    digest = hashlib.sha256()
    file.seek(0)
    for chunk in file.chunks():
        digest.update(chunk)
    file.seek(0)
    if replaces:
        CaseDocument.objects.filter(case=case, requirement=requirement.id, is_current=True).update(
            is_current=False
        )
    document = CaseDocument(
        administration=case.administration,
        case=case,
        requirement=requirement.id,
        original_name=(file.name or requirement.id).rsplit("/", 1)[-1][:255],
        content_type=content_type,
        size=file.size or 0,
        sha256=digest.hexdigest(),
        uploaded_by=actor,
    )
    document.file.save(document.original_name, file, save=False)
    try:
        document.save()
        if announce and case.phase != Phase.DRAFT:
            _event(case, EventKind.DOCUMENT_ADDED, actor, details={"document": str(document.pk)})
    except Exception:
        document.file.delete(save=False)
        raise
    return document


def check_upload(requirement: DocumentRequirement, file: File) -> str:
    """The sniffed media type of an acceptable upload, or CaseError saying what is wrong."""
    field = f"documents.{requirement.id}"
    size = file.size or 0
    if size <= 0:
        raise CaseError(
            CaseErrorCode.DOCUMENT_EMPTY,
            _("The file is empty."),
            errors=[(field, _("The file is empty."))],
        )
    if size > requirement.max_bytes:
        message = _("The file is larger than %(size)s MB.") % {
            "size": f"{requirement.max_bytes / 1024 / 1024:g}"
        }
        raise CaseError(CaseErrorCode.DOCUMENT_TOO_LARGE, message, errors=[(field, message)])
    file.seek(0)
    head = file.read(filetypes.HEAD_BYTES)
    file.seek(0)
    sniffed = filetypes.sniff(head if isinstance(head, bytes) else head.encode())
    accepted = ", ".join(t.split("/")[-1].upper() for t in requirement.mime_types)
    if filetypes.is_executable(sniffed):
        message = _("This file is a program, not a document. Accepted: %(types)s.") % {
            "types": accepted
        }
        raise CaseError(CaseErrorCode.DOCUMENT_TYPE, message, errors=[(field, message)])
    if sniffed is None or sniffed not in requirement.mime_types:
        message = _("The content of this file is not an accepted type. Accepted: %(types)s.") % {
            "types": accepted
        }
        raise CaseError(CaseErrorCode.DOCUMENT_TYPE, message, errors=[(field, message)])
    claimed = filetypes.extension_type(file.name or "")
    if claimed is not None and claimed != sniffed:
        message = _("The file name says %(claimed)s but the content is %(actual)s.") % {
            "claimed": claimed.split("/")[-1].upper(),
            "actual": sniffed.split("/")[-1].upper(),
        }
        raise CaseError(CaseErrorCode.DOCUMENT_TYPE, message, errors=[(field, message)])
    return sniffed


def _event(
    case: Case,
    kind: str,
    actor: User | None,
    *,
    transition: str = "",
    from_state: str = "",
    to_state: str = "",
    reason: str = "",
    details: dict[str, Any] | None = None,
    public: bool = True,
) -> CaseEvent:
    return CaseEvent.objects.create(
        administration=case.administration,
        case=case,
        kind=kind,
        transition=transition,
        from_state=from_state,
        to_state=to_state,
        actor=actor,
        actor_role=actor.role if actor is not None else "",
        reason=reason,
        details=details or {},
        public=public,
    )


def _case_reference(case: Case) -> str:
    """The ledger reference of a case: its reference number, readable by the applicant.

    The log publishes it only as a salted commitment; the clear text stays in the entry's row.
    """
    return f"case:{case.reference or case.pk}"


def _ledger(
    kind: str,
    case: Case,
    actor: User | None,
    *,
    purpose: str = "",
    reference: str = "",
    details: Mapping[str, Any] | None = None,
) -> None:
    from ceiba.ledger.actions import record

    institution = (
        actor.institution
        if actor is not None and actor.institution_id is not None
        else case.institution
    )
    record(
        kind=kind,
        actor=actor,
        administration=case.administration,
        institution=institution,
        subject=case.applicant,
        purpose=purpose or "Case processing",
        reference=reference or _case_reference(case),
        details=dict(details or {}),
    )


def _language_of(user: User) -> str:
    from django.conf import settings

    supported = {code for code, _name in settings.LANGUAGES}
    for candidate in (user.preferred_language, translation.get_language() or ""):
        code = (candidate or "").split("-")[0]
        if code in supported:
            return code
    return user.administration.default_language if user.administration else "fr"


def _phone_of(case: Case, definition: ServiceDefinition) -> str:
    for name, hints in definition.form.fields.items():
        value = case.answers.get(name)
        if hints.widget == "tel" and isinstance(value, str) and value.strip():
            return value.strip()
    return ""


def _notify(case: Case, machine: Machine, said: str) -> None:
    """Tell the applicant, in their language, that the case changed status."""
    from ceiba.notify.actions import send

    with translation.override(case.language):
        state = machine.state_label(case.state, case.language)
        service = text_of(machine.definition.name, case.language)
        subject = _("%(reference)s: %(state)s") % {"reference": case.reference, "state": state}
        lines = [
            _("Your application “%(service)s” (%(reference)s) is now: %(state)s.")
            % {"service": service, "reference": case.reference, "state": state}
        ]
        if said:
            lines += ["", said]
        lines += ["", _("Sign in to see your application and answer any request.")]
        sms = _("%(reference)s is now: %(state)s.") % {"reference": case.reference, "state": state}
    send(
        administration=case.administration,
        user=case.applicant,
        subject=subject,
        body="\n".join(lines),
        phone=_phone_of(case, machine.definition),
        sms_text=sms,
        language=case.language,
        topic=f"case:{case.pk}:v{case.version}",
    )


def _notify_staff_overdue(case: Case) -> None:
    from ceiba.notify.actions import send

    recipients: Iterable[User] = (
        [case.assignee]
        if case.assignee is not None
        else User.objects.filter(institution=case.institution, role=Role.SUPERVISOR, is_active=True)
    )
    for user in recipients:
        language = (user.preferred_language or case.administration.default_language)[:8]
        with translation.override(language):
            subject = _("Overdue: %(reference)s") % {"reference": case.reference}
            body = _("The case %(reference)s passed its time limit.") % {
                "reference": case.reference
            }
        send(
            administration=case.administration,
            user=user,
            subject=subject,
            body=body,
            language=language,
            topic=f"case:{case.pk}:overdue",
        )

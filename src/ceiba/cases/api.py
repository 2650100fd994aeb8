"""Applications and officer tasks over the REST API (``/api/v1/applications``, ``/api/v1/tasks``).

Applicants (citizens, business representatives) work on their own applications; officers and
supervisors on their institution's cases. Every read goes through ``cases.queries`` (scoped to
the caller's administration, which the authentication ties to the request's host), every change
through ``cases.actions``; refusals are problem+json with the action's stable code.
"""

import base64
import binascii
import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.core.files.base import ContentFile
from django.http import FileResponse, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import File, Form, Header, Query, Router, Schema, Status
from ninja.errors import HttpError
from ninja.files import UploadedFile
from ninja.pagination import LimitOffsetPagination, paginate
from pydantic import Field

from ceiba.accounts.models import User
from ceiba.accounts.permissions import require_permission
from ceiba.accounts.roles import Permission
from ceiba.api import api, problem
from ceiba.cases import actions, queries
from ceiba.cases.errors import CaseError
from ceiba.cases.models import Case, CaseDocument, CaseEvent, CaseMessage
from ceiba.cases.workflow import text_of
from ceiba.catalog import queries as catalog_queries

router = Router(tags=["applications"])
tasks_router = Router(tags=["tasks"])


@api.exception_handler(CaseError)
def _case_error(request: HttpRequest, exc: CaseError) -> HttpResponse:
    errors = [{"path": path, "message": message} for path, message in exc.errors]
    return problem(request, exc.status, exc.code.value, exc.message, errors=errors)


# ---------------------------------------------------------------------------------------------
# Schemas


class DocumentOut(Schema):
    id: uuid.UUID
    requirement: str
    original_name: str
    content_type: str
    size: int
    sha256: str
    created_at: datetime


class EventOut(Schema):
    kind: str
    transition: str
    from_state: str
    to_state: str
    actor_role: str
    reason: str
    created_at: datetime


class MessageOut(Schema):
    direction: str
    body: str
    created_at: datetime


class NoteOut(Schema):
    author: str
    body: str
    created_at: datetime


class StepOut(Schema):
    name: str
    label: str
    target: str
    inputs: list[str]


class ApplicationOut(Schema):
    id: uuid.UUID
    reference: str | None
    service: str
    service_id: uuid.UUID
    service_version: int
    phase: str
    state: str
    state_label: str
    version: int = Field(description="Send it back as `version` to change the case.")
    answers: dict[str, Any]
    amount_due: Decimal | None
    currency: str
    created_at: datetime
    submitted_at: datetime | None
    closed_at: datetime | None
    due_at: datetime | None
    overdue: bool
    assignee: uuid.UUID | None


class ApplicationDetail(ApplicationOut):
    documents: list[DocumentOut]
    history: list[EventOut]
    messages: list[MessageOut]
    steps: list[StepOut] = Field(description="The steps the caller may take now.")


class TaskDetail(ApplicationDetail):
    applicant: str
    applicant_national_id: str
    notes: list[NoteOut]


class DraftIn(Schema):
    service: str = Field(max_length=120, description="The service code (definition id).")
    answers: dict[str, Any] = Field(default_factory=dict)


class AnswersIn(Schema):
    answers: dict[str, Any] = Field(
        description="Answers to merge into the draft; a null value removes an answer."
    )
    version: int | None = None


class VersionIn(Schema):
    version: int | None = None


class InlineDocumentIn(Schema):
    requirement: str = Field(max_length=64)
    name: str = Field(max_length=255, description="The file name, e.g. passport.pdf.")
    content: str = Field(description="The file's bytes, base64-encoded.", max_length=2_000_000)


class SubmitIn(Schema):
    service: str = Field(max_length=120)
    answers: dict[str, Any] = Field(default_factory=dict)
    documents: list[InlineDocumentIn] = Field(default_factory=list, max_length=20)


class ReplyIn(Schema):
    message: str = Field(max_length=5000)
    answers: dict[str, Any] | None = None
    version: int


class TransitionIn(Schema):
    transition: str = Field(max_length=64)
    version: int = Field(description="The case version the officer saw.")
    reason: str = Field(default="", max_length=5000)
    message: str = Field(default="", max_length=5000)
    note: str = Field(default="", max_length=5000)


class AssignIn(Schema):
    assignee: uuid.UUID | None
    version: int | None = None


class NoteIn(Schema):
    body: str = Field(max_length=5000)


class TaskFilters(Schema):
    service: str = Field(default="", max_length=120)
    state: str = Field(default="", max_length=64)
    overdue: bool = False
    assignment: str = Field(default="all", pattern="^(mine|unassigned|all)$")
    q: str = Field(default="", max_length=32, description="A reference, or part of one.")


class ApplicationFilters(Schema):
    phase: str = Field(default="", pattern="^(|draft|open|closed)$")


# ---------------------------------------------------------------------------------------------
# Building the answers


def application_out(case: Case) -> dict[str, Any]:
    machine = queries.machine(case)
    return {
        "id": case.pk,
        "reference": case.reference,
        "service": case.service.code,
        "service_id": case.service_id,
        "service_version": case.service_version.number,
        "phase": case.phase,
        "state": case.state,
        "state_label": machine.state_label(case.state) if case.state else _("Draft"),
        "version": case.version,
        "answers": case.answers,
        "amount_due": case.amount_due,
        "currency": case.currency,
        "created_at": case.created_at,
        "submitted_at": case.submitted_at,
        "closed_at": case.closed_at,
        "due_at": case.due_at,
        "overdue": case.is_overdue,
        "assignee": case.assignee_id,
    }


def application_detail(
    case: Case,
    user: User,
    *,
    for_applicant: bool,
    documents: list[CaseDocument] | None = None,
    history: list[CaseEvent] | None = None,
    messages: list[CaseMessage] | None = None,
) -> dict[str, Any]:
    """The case with its documents, history, messages and next steps; pass those the caller
    has already (a case it just created) to skip reading them back."""
    return {
        **application_out(case),
        "documents": documents if documents is not None else list(queries.documents(case)),
        "history": (
            history
            if history is not None
            else list(queries.history(case, for_applicant=for_applicant))
        ),
        "messages": messages if messages is not None else list(queries.messages(case)),
        "steps": [
            {
                "name": step.name,
                "label": text_of(step.label),
                "target": step.target,
                "inputs": list(step.inputs),
            }
            for step in queries.available_transitions(case, user)
        ],
    }


def _applicant(request: HttpRequest) -> User:
    return require_permission(request, Permission.APPLY)


def _staff(request: HttpRequest) -> User:
    return require_permission(request, Permission.PROCESS_CASES)


def _own_case(user: User, application_id: str) -> Case:
    case = queries.case_for_applicant(user, _uuid(application_id))
    if case is None:
        raise HttpError(404, _("This application does not exist."))
    return case


def _staff_case(user: User, task_id: str) -> Case:
    case = queries.case_for_staff(user, _uuid(task_id))
    if case is None:
        raise HttpError(404, _("This case does not exist."))
    return case


def _uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


def _document(case: Case, document_id: str) -> CaseDocument:
    document = queries.document_of(case, _uuid(document_id))
    if document is None:
        raise HttpError(404, _("This document does not exist."))
    return document


def _download(document: CaseDocument) -> FileResponse:
    response = FileResponse(
        document.file.open("rb"),
        content_type=document.content_type,
        as_attachment=False,
        filename=document.original_name,
    )
    response["Content-Security-Policy"] = "sandbox"
    return response


# ---------------------------------------------------------------------------------------------
# Applicants


@router.post(
    "",
    response={201: ApplicationDetail},
    summary="Start a draft application",
)
def start_draft(request: HttpRequest, body: DraftIn) -> Status[dict[str, Any]]:
    user = _applicant(request)
    service = catalog_queries.service(request.administration, body.service)  # type: ignore[attr-defined]
    if service is None:
        raise HttpError(404, _("No such service."))
    case = actions.do_start_draft(service, actor=user, answers=body.answers)
    return Status(201, application_detail(case, user, for_applicant=True))


@router.post(
    "/submit",
    response={200: ApplicationDetail, 201: ApplicationDetail},
    summary="Create and submit an application in one request (idempotent)",
    description="Send an `Idempotency-Key` header (any unique string of at most 128 "
    "characters): the same key with the same body returns the application created the first "
    "time (200); the same key with a different body is refused with 409 "
    "`case.idempotency_conflict`.",
)
def submit_application(
    request: HttpRequest,
    body: SubmitIn,
    idempotency_key: str = Header(default="", alias="Idempotency-Key", max_length=128),
) -> Status[dict[str, Any]]:
    user = _applicant(request)
    service = catalog_queries.service(request.administration, body.service)  # type: ignore[attr-defined]
    if service is None:
        raise HttpError(404, _("No such service."))
    documents = []
    for index, item in enumerate(body.documents):
        try:
            content = base64.b64decode(item.content, validate=True)
        except (binascii.Error, ValueError):
            return problem(  # type: ignore[return-value]
                request,
                422,
                "request.invalid",
                _("The request is not valid."),
                errors=[{"path": f"body.documents.{index}.content", "message": _("Not base64.")}],
            )
        documents.append((item.requirement, ContentFile(content, name=item.name)))
    result = actions.do_submit_application(
        service,
        actor=user,
        answers=body.answers,
        documents=documents,
        idempotency_key=idempotency_key,
    )
    if not result.created:
        return Status(200, application_detail(result.case, user, for_applicant=True))
    detail = application_detail(
        result.case,
        user,
        for_applicant=True,
        documents=result.documents,
        history=result.history,
        messages=[],  # nobody wrote to a case created by this request yet
    )
    return Status(201, detail)


@router.get("", response=list[ApplicationOut], summary="My applications")
@paginate(LimitOffsetPagination)
def my_applications(
    request: HttpRequest, filters: Query[ApplicationFilters]
) -> list[dict[str, Any]]:
    user = _applicant(request)
    cases = queries.cases_of_applicant(user).order_by("-created_at")
    if filters.phase:
        cases = cases.filter(phase=filters.phase)
    return [application_out(case) for case in cases]


@router.get("/{application_id}", response=ApplicationDetail, summary="One of my applications")
def my_application(request: HttpRequest, application_id: str) -> dict[str, Any]:
    user = _applicant(request)
    return application_detail(_own_case(user, application_id), user, for_applicant=True)


@router.patch("/{application_id}", response=ApplicationDetail, summary="Change a draft's answers")
def update_draft(request: HttpRequest, application_id: str, body: AnswersIn) -> dict[str, Any]:
    user = _applicant(request)
    case = _own_case(user, application_id)
    merged = {**case.answers, **body.answers}
    merged = {key: value for key, value in merged.items() if value is not None}
    case = actions.do_save_draft(case, actor=user, answers=merged, expected_version=body.version)
    return application_detail(case, user, for_applicant=True)


@router.post(
    "/{application_id}/documents",
    response={201: DocumentOut},
    summary="Upload a document to a draft (multipart)",
    description="Form fields: `requirement` (the id of one of the service's document "
    "requirements) and `file`. The type is sniffed from the content; a program renamed .pdf "
    "is refused.",
)
def upload_document(
    request: HttpRequest,
    application_id: str,
    requirement: Form[str],
    file: File[UploadedFile],
    version: Form[int | None] = None,
) -> Status[CaseDocument]:
    user = _applicant(request)
    case = _own_case(user, application_id)
    document = actions.do_upload_document(
        case, actor=user, requirement=requirement, file=file, expected_version=version
    )
    return Status(201, document)


@router.get(
    "/{application_id}/documents/{document_id}",
    response={200: None},
    summary="Download one of my documents",
)
def my_document(request: HttpRequest, application_id: str, document_id: str) -> FileResponse:
    user = _applicant(request)
    return _download(_document(_own_case(user, application_id), document_id))


@router.delete(
    "/{application_id}/documents/{document_id}",
    response={204: None},
    summary="Remove a document from a draft",
)
def remove_document(request: HttpRequest, application_id: str, document_id: str) -> Status[None]:
    user = _applicant(request)
    document = _document(_own_case(user, application_id), document_id)
    actions.do_remove_document(document, actor=user)
    return Status(204, None)


@router.post(
    "/{application_id}/submit",
    response=ApplicationDetail,
    summary="Submit a draft",
    description="Submitting an already submitted application returns it unchanged.",
)
def submit_draft(request: HttpRequest, application_id: str, body: VersionIn) -> dict[str, Any]:
    user = _applicant(request)
    case = actions.do_submit_draft(
        _own_case(user, application_id), actor=user, expected_version=body.version
    )
    return application_detail(case, user, for_applicant=True)


@router.post(
    "/{application_id}/reply",
    response=ApplicationDetail,
    summary="Answer a request for more information",
)
def reply(request: HttpRequest, application_id: str, body: ReplyIn) -> dict[str, Any]:
    user = _applicant(request)
    case = actions.do_answer_information_request(
        _own_case(user, application_id),
        actor=user,
        message=body.message,
        answers=body.answers,
        expected_version=body.version,
    )
    return application_detail(case, user, for_applicant=True)


@router.post(
    "/{application_id}/withdraw", response=ApplicationDetail, summary="Withdraw an application"
)
def withdraw(request: HttpRequest, application_id: str, body: VersionIn) -> dict[str, Any]:
    user = _applicant(request)
    case = _own_case(user, application_id)
    case = actions.do_withdraw_case(
        case, actor=user, expected_version=body.version if body.version else case.version
    )
    return application_detail(case, user, for_applicant=True)


# ---------------------------------------------------------------------------------------------
# Officers


@tasks_router.get(
    "",
    response=list[ApplicationOut],
    summary="The work queue",
    description="Open cases of the caller's institution, most urgent first (an officer sees "
    "unassigned cases and their own). Filters: service code, state, overdue, assignment "
    "(mine, unassigned, all), q (reference). Paginated with `limit` and `offset`.",
)
@paginate(LimitOffsetPagination)
def work_queue(request: HttpRequest, filters: Query[TaskFilters]) -> Any:
    user = _staff(request)
    cases = queries.work_queue(
        user,
        queries.QueueFilters(
            service=filters.service,
            state=filters.state,
            overdue=filters.overdue,
            assignment=filters.assignment,
            text=filters.q,
        ),
    )
    return _LazyCases(cases)


class _LazyCases:
    """A queryset the paginator can count and slice, turned into answers only for the page."""

    def __init__(self, cases: Any) -> None:
        self.cases = cases

    def __len__(self) -> int:
        return int(self.cases.count())

    def count(self) -> int:
        return len(self)

    def __getitem__(self, index: slice) -> list[dict[str, Any]]:
        return [application_out(case) for case in self.cases[index]]


def task_detail(case: Case, user: User) -> dict[str, Any]:
    return {
        **application_detail(case, user, for_applicant=False),
        "applicant": case.applicant.full_name or case.applicant.email,
        "applicant_national_id": case.applicant.national_id,
        "notes": [
            {"author": str(note.author), "body": note.body, "created_at": note.created_at}
            for note in queries.notes(case)
        ],
    }


@tasks_router.get(
    "/{task_id}",
    response=TaskDetail,
    summary="One case, as its officer sees it (the access is recorded)",
)
def task(request: HttpRequest, task_id: str) -> dict[str, Any]:
    user = _staff(request)
    case = _staff_case(user, task_id)
    actions.record_case_access(case, actor=user)
    return task_detail(case, user)


@tasks_router.post("/{task_id}/claim", response=TaskDetail, summary="Take an unassigned case")
def claim(request: HttpRequest, task_id: str, body: VersionIn) -> dict[str, Any]:
    user = _staff(request)
    case = actions.do_claim_case(
        _staff_case(user, task_id), actor=user, expected_version=body.version
    )
    return task_detail(case, user)


@tasks_router.post("/{task_id}/assign", response=TaskDetail, summary="Assign a case (supervisors)")
def assign(request: HttpRequest, task_id: str, body: AssignIn) -> dict[str, Any]:
    user = require_permission(request, Permission.SUPERVISE_CASES)
    case = _staff_case(user, task_id)
    assignee = None
    if body.assignee is not None:
        assignee = queries.assignable_staff(user, case).filter(pk=body.assignee).first()
        if assignee is None:
            return problem(  # type: ignore[return-value]
                request,
                422,
                "case.assignee_invalid",
                _("Choose an active officer of this case's institution."),
                errors=[{"path": "assignee", "message": _("Not an officer of this case.")}],
            )
    case = actions.do_assign_case(
        case, actor=user, assignee=assignee, expected_version=body.version
    )
    return task_detail(case, user)


@tasks_router.post(
    "/{task_id}/transitions",
    response=TaskDetail,
    summary="Take a workflow step",
    description="`transition` is one of the step names in `steps`; `version` the case version "
    "the officer saw (409 `case.stale` if it changed). Steps that need a `reason` or a "
    "`message` refuse without one (422 `case.input_required`).",
)
def transition(request: HttpRequest, task_id: str, body: TransitionIn) -> dict[str, Any]:
    user = _staff(request)
    case = actions.do_transition_case(
        _staff_case(user, task_id),
        body.transition,
        actor=user,
        expected_version=body.version,
        reason=body.reason,
        message=body.message,
        note=body.note,
    )
    return task_detail(case, user)


@tasks_router.post("/{task_id}/notes", response={201: NoteOut}, summary="Add an internal note")
def add_note(request: HttpRequest, task_id: str, body: NoteIn) -> Status[dict[str, Any]]:
    user = _staff(request)
    note = actions.do_add_note(_staff_case(user, task_id), actor=user, body=body.body)
    return Status(
        201, {"author": str(note.author), "body": note.body, "created_at": note.created_at}
    )


@tasks_router.get(
    "/{task_id}/documents/{document_id}",
    response={200: None},
    summary="View a case document (the access is recorded)",
)
def task_document(request: HttpRequest, task_id: str, document_id: str) -> FileResponse:
    user = _staff(request)
    case = _staff_case(user, task_id)
    document = _document(case, document_id)
    actions.record_case_access(case, actor=user, document=document)
    return _download(document)

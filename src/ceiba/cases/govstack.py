"""The GovStack Registration building block's API, as a facade over Ceiba's catalog and cases.

Mounted under ``/govstack/registration/``; its own OpenAPI document is at
``/govstack/registration/openapi.json``. The mapping to Ceiba (see docs/govstack.md):

- a *service* is a published catalog service (``serviceId`` = the service's id);
- an *eForm* is one version of its definition (``eFormId`` = the version's id, ``schema`` = the
  form's JSON Schema), ``latest`` when it is the current version;
- an *application file* is a case (``fileId`` = the case id);
- a *task* is an open case waiting for the institution (``taskId`` = ``mainTaskId`` = the case
  id); completing it takes one workflow transition;
- *documents* are uploads to one of the caller's draft applications.

Where the building block's feature files and its OpenAPI file disagree, the feature files win:
errors are ``application/json`` (problem fields plus the ``systemError`` fields), statistics are
also served at ``/data/statistics/1.0``, a malformed ``Information-Mediator-Client`` header is a
400. Every call is scoped to ``request.administration`` and checked against the caller's role.
"""

import json
import re
import uuid
from datetime import date, datetime, timedelta
from typing import Any, Literal

from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import File, NinjaAPI, Query, Schema
from ninja.errors import HttpError
from ninja.files import UploadedFile as NinjaUploadedFile
from pydantic import Field

from ceiba.accounts.models import User
from ceiba.accounts.permissions import require_permission
from ceiba.accounts.roles import Permission, Role
from ceiba.api import ApiTokenAuth, TenantSessionAuth, install_error_handlers
from ceiba.cases import actions, queries
from ceiba.cases.errors import CaseError
from ceiba.cases.models import Case, Phase
from ceiba.cases.workflow import APPLICANT_ROLES, Machine, machine_for, text_of
from ceiba.catalog import queries as catalog_queries
from ceiba.catalog.models import Service, ServiceVersion

HEADER = "Information-Mediator-Client"
# INSTANCE/CLASS/MEMBER/SUBSYSTEM, as X-Road names a client subsystem.
_CLIENT = re.compile(
    r"^[A-Za-z0-9._-]{1,64}/[A-Za-z0-9._-]{1,16}/[A-Za-z0-9._-]{1,64}/[^/\s]{1,64}$"
)
MAX_PAGE = 200

govstack_api = NinjaAPI(
    title="GovStack Registration building block (Ceiba facade)",
    version="0.1.1",
    description="The GovStack Registration BB API on top of Ceiba's catalog and cases. "
    "Calls that read or change applications need a Ceiba API token or session; every call is "
    "scoped to the administration serving the request's host.",
    auth=[ApiTokenAuth(), TenantSessionAuth()],
    urls_namespace="govstack",
)


# ---------------------------------------------------------------------------------------------
# Errors: JSON (the feature files expect application/json), with RFC 9457 members and the
# building block's systemError members.


def error(request: HttpRequest, status: int, code: str, message: str, **extra: Any) -> HttpResponse:
    body = {
        "type": "about:blank",
        "title": message,
        "status": status,
        "code": code,
        "message": message,
        "localizedMessage": message,
        "traceId": getattr(request, "request_id", ""),
        **extra,
    }
    return govstack_api.create_response(request, body, status=status)


install_error_handlers(govstack_api, error, validation_status=400)


@govstack_api.exception_handler(CaseError)
def _case_error(request: HttpRequest, exc: CaseError) -> HttpResponse:
    errors = [{"path": path, "message": message} for path, message in exc.errors]
    return error(request, exc.status, exc.code.value, exc.message, errors=errors)


def mediator_client(request: HttpRequest, *, required: bool) -> str | None:
    """The calling subsystem named by the Information-Mediator-Client header; 400 if malformed."""
    value = request.headers.get(HEADER)
    if value is None:
        if required:
            raise HttpError(400, _("The Information-Mediator-Client header is required."))
        return None
    if not _CLIENT.match(value.strip()):
        raise HttpError(
            400,
            _("The Information-Mediator-Client header must read INSTANCE/CLASS/MEMBER/SUBSYSTEM."),
        )
    return value.strip()


def wrap(values: dict[str, Any]) -> dict[str, Any]:
    """The building block types every form value as an object: ``{"field": {"value": ...}}``."""
    return {key: {"value": value} for key, value in values.items()}


def unwrap(values: dict[str, Any]) -> dict[str, Any]:
    """Accept both ``{"field": {"value": v}}`` (the schema's shape) and ``{"field": v}``."""
    return {
        key: value["value"] if isinstance(value, dict) and set(value) == {"value"} else value
        for key, value in values.items()
    }


def _uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


# ---------------------------------------------------------------------------------------------
# Schemas (names and fields as in GovStack_Registration_BB_API.json)


class Property(Schema):
    code: str
    value: str


class ServiceOut(Schema):
    id: str
    name: str
    version: str
    type: Literal["None", "Private", "Public"]
    isExecutable: bool
    isClosed: bool
    description: str
    serviceBody: list[Property]


class EFormListItem(Schema):
    eFormId: str
    name: str
    description: str
    version: str
    latest: bool


class EFormOut(EFormListItem):
    schema_: dict[str, Any] = Field(alias="schema")


class StatusModel(Schema):
    code: Literal["PENDING", "APPROVED", "SENDBACK", "REJECTED"]
    title: str


class FormData(Schema):
    data: dict[str, Any] = Field(default_factory=dict)
    eFormId: str | None = None


class ApplicationFileSubmit(Schema):
    applicationName: str | None = Field(default=None, max_length=200)
    applicantId: str = Field(max_length=64)
    created: datetime | None = None
    formData: FormData | None = None
    documentUrls: list[str] = Field(default_factory=list, max_length=50)


class ApplicationData(Schema):
    applicationName: str
    applicantId: str
    created: datetime
    formData: FormData
    documentUrls: list[str]


class ApplicationFileResponse(Schema):
    fileId: str
    registered: datetime | None
    serviceId: str
    serviceName: str
    status: StatusModel
    ended: bool
    applicantId: str
    applicationData: ApplicationData


class ApplicationListItem(Schema):
    fileId: str
    mainTaskId: str
    taskTitle: str
    roleId: str
    roleName: str
    assigneeId: str
    operatorName: str
    status: StatusModel
    applicantId: str
    created: datetime
    registered: datetime | None
    description: str
    serviceName: str
    serviceId: str
    eformId: str
    documentUrls: list[str]
    additionalMeta: dict[str, Any]


class UploadResponse(Schema):
    code: int
    type: str
    message: str
    url: str


class TaskOut(Schema):
    taskId: str
    taskName: str
    mainTaskId: str
    name: str
    assigneeId: str
    roleId: str
    created: datetime
    description: str
    serviceId: str
    serviceName: str
    fileId: str
    eFormId: str
    status: StatusModel


class DataTaskOut(TaskOut):
    formVariables: dict[str, Any]
    data: dict[str, Any]


class AdditionalData(Schema):
    data: dict[str, Any] = Field(default_factory=dict)


class CompletedTaskOut(Schema):
    taskId: str
    fileId: str
    serviceId: str
    status: StatusModel
    variables: dict[str, Any]


class StatisticsReferences(Schema):
    startDate: date | None
    endDate: date | None
    registrationName: str | None
    operator: str | None
    role: str | None
    timeframeDay: bool
    timeframeWeek: bool
    timeframeMonth: bool
    timeframeYear: bool


class StatisticsOut(Schema):
    processed: int
    approved: int
    sentBack: int
    rejected: int
    references: StatisticsReferences


# ---------------------------------------------------------------------------------------------
# Mapping Ceiba objects to the building block's shapes


def status_of(case: Case, machine: Machine) -> StatusModel:
    """PENDING while the institution works; SENDBACK when the applicant must act; at the end
    APPROVED if the final state issues an output, else REJECTED (also for withdrawn)."""
    if case.phase == Phase.DRAFT:
        return StatusModel(code="PENDING", title=_("Draft"))
    title = machine.state_label(case.state)
    if machine.is_final(case.state):
        issues = any(output.state == case.state for output in machine.definition.outputs)
        return StatusModel(code="APPROVED" if issues else "REJECTED", title=title)
    applicant_moves = [
        t
        for t in machine.definition.workflow.transitions_from(case.state)
        if t.roles & APPLICANT_ROLES and not machine.is_final(t.target)
    ]
    return StatusModel(code="SENDBACK" if applicant_moves else "PENDING", title=title)


def _service_out(service: Service) -> ServiceOut:
    version = service.current_version
    institution = service.institution
    return ServiceOut(
        id=str(service.pk),
        name=service.name,
        version=version.label if version else "",
        type="Public",
        isExecutable=service.is_published and version is not None,
        isClosed=False,
        description=service.description,
        serviceBody=[
            Property(code="code", value=service.code),
            Property(code="institution", value=institution.member_id),
            Property(code="sector", value=service.sector),
            Property(code="lifeEvents", value=",".join(service.life_events)),
            Property(code="applicants", value=",".join(service.applicants)),
        ],
    )


def _eform_item(version: ServiceVersion, service: Service) -> dict[str, Any]:
    definition = catalog_queries.definition_for(version)
    return {
        "eFormId": str(version.pk),
        "name": text_of(definition.name),
        "description": text_of(definition.description),
        "version": str(version.number),
        "latest": service.current_version_id == version.pk,
        "schema": definition.form.validation_schema(),
    }


def _document_urls(request: HttpRequest, case: Case) -> list[str]:
    return [
        request.build_absolute_uri(f"/api/v1/applications/{case.pk}/documents/{document.pk}")
        for document in case.documents.all()
        if document.is_current
    ]


def _file_response(request: HttpRequest, case: Case) -> ApplicationFileResponse:
    machine = machine_for(case.service_version)
    status = status_of(case, machine)
    return ApplicationFileResponse(
        fileId=str(case.pk),
        registered=case.submitted_at,
        serviceId=str(case.service_id),
        serviceName=case.service.name,
        status=status,
        ended=case.phase == Phase.CLOSED,
        applicantId=str(case.applicant_id),
        applicationData=ApplicationData(
            applicationName=case.reference or "",
            applicantId=str(case.applicant_id),
            created=case.created_at,
            formData=FormData(data=wrap(case.answers), eFormId=str(case.service_version_id)),
            documentUrls=_document_urls(request, case),
        ),
    )


def _task_fields(case: Case) -> dict[str, Any]:
    machine = machine_for(case.service_version)
    return {
        "taskId": str(case.pk),
        "taskName": machine.state_label(case.state),
        "mainTaskId": str(case.pk),
        "name": case.reference or "",
        "assigneeId": str(case.assignee_id or ""),
        "roleId": Role.OFFICER.value,
        "created": case.state_entered_at or case.created_at,
        "description": case.service.name,
        "serviceId": str(case.service_id),
        "serviceName": case.service.name,
        "fileId": str(case.pk),
        "eFormId": str(case.service_version_id),
        "status": status_of(case, machine),
    }


def _page(first: int | None, maximum: int | None) -> tuple[int, int]:
    start = max(first or 0, 0)
    size = MAX_PAGE if maximum is None else min(max(maximum, 0), MAX_PAGE)
    return start, size


_SORTS = {"created": "created_at", "id": "id", "name": "reference", "dueDate": "due_at"}


def _sorted(cases: Any, sort_by: str | None, sort_order: str | None) -> Any:
    if sort_by is None:
        return cases
    field = _SORTS.get(sort_by)
    if field is None:
        raise HttpError(400, _("sortBy must be one of: %s.") % ", ".join(sorted(_SORTS)))
    if sort_order not in (None, "asc", "desc"):
        raise HttpError(400, _("sortOrder must be asc or desc."))
    return cases.order_by(f"-{field}" if sort_order == "desc" else field, "id")


def _caller(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


def _visible_case(request: HttpRequest, file_id: str) -> Case:
    """A case the caller may read: their own application, or one of their institution's."""
    case_id = _uuid(file_id)
    user = _caller(request)
    case = None
    if case_id is not None:
        case = (
            queries.case_for_staff(user, case_id)
            if user.has_role_permission(Permission.PROCESS_CASES)
            else queries.case_for_applicant(user, case_id)
        )
    if case is None:
        raise HttpError(404, _("Application file was not found."))
    return case


# ---------------------------------------------------------------------------------------------
# Available services


@govstack_api.get(
    "/services",
    response=list[ServiceOut],
    auth=None,
    tags=["Available Services"],
    summary="List services",
)
def services(request: HttpRequest, name: str | None = None) -> list[ServiceOut]:
    mediator_client(request, required=False)
    found = list(catalog_queries.published_services(request.administration))  # type: ignore[attr-defined]
    items = [_service_out(service) for service in found]
    if name is not None:
        wanted = name.strip().casefold()
        items = [
            item
            for item, service in zip(items, found, strict=True)
            if wanted in item.name.casefold()
            or any(wanted in text.casefold() for text in service.names.values())
        ]
    return items


def _service(request: HttpRequest, service_id: str) -> Service:
    key = _uuid(service_id)
    service = (
        catalog_queries.service_by_id(request.administration, key)  # type: ignore[attr-defined]
        if key
        else None
    )
    if service is None:
        raise HttpError(404, _("Service not found."))
    return service


@govstack_api.get(
    "/services/{serviceId}",
    response=ServiceOut,
    auth=None,
    tags=["Available Services"],
    summary="One service",
)
def service(request: HttpRequest, serviceId: str) -> ServiceOut:
    mediator_client(request, required=False)
    return _service_out(_service(request, serviceId))


@govstack_api.get(
    "/services/{serviceId}/eForms",
    response=list[EFormOut],
    auth=None,
    tags=["Available Services"],
    summary="The e-forms of a service, one per definition version",
)
def service_eforms(request: HttpRequest, serviceId: str) -> list[dict[str, Any]]:
    mediator_client(request, required=False)
    found = _service(request, serviceId)
    return [_eform_item(version, found) for version in catalog_queries.versions(found)]


@govstack_api.get(
    "/eForms/{eFormId}",
    response=EFormOut,
    auth=None,
    tags=["Available Services"],
    summary="One e-form",
)
def eform(request: HttpRequest, eFormId: str) -> dict[str, Any]:
    mediator_client(request, required=False)
    key = _uuid(eFormId)
    published = catalog_queries.published_services(request.administration)  # type: ignore[attr-defined]
    version = (
        ServiceVersion.objects.filter(pk=key, service__in=published)
        .select_related("service")
        .first()
        if key
        else None
    )
    if version is None:
        raise HttpError(404, _("eForm not found."))
    return _eform_item(version, version.service)


# ---------------------------------------------------------------------------------------------
# Applications (applicants and operators)


def _caller_kind(request: HttpRequest) -> str:
    user = _caller(request)
    if user.has_role_permission(Permission.PROCESS_CASES):
        return "operator"
    require_permission(request, Permission.APPLY)
    return "applicant"


@govstack_api.post(
    "/services/{serviceId}/applications",
    response=ApplicationFileResponse,
    tags=["Applicant"],
    summary="Submit an application file",
    description="The caller is the applicant: `applicantId` must be the caller's account id. "
    "`formData.data` are the answers, validated against the service's current e-form; "
    "`documentUrls` are urls returned by POST /documents. Send an `Idempotency-Key` header to "
    "make retries safe.",
)
def submit_application(
    request: HttpRequest,
    serviceId: str,
    body: ApplicationFileSubmit,
) -> ApplicationFileResponse:
    mediator_client(request, required=True)
    user = require_permission(request, Permission.APPLY)
    found = _service(request, serviceId)
    if body.applicantId != str(user.pk):
        raise HttpError(403, _("applicantId must be the id of the account that submits."))
    form = body.formData or FormData()
    if form.eFormId not in (None, "", str(found.current_version_id)):
        return error(  # type: ignore[return-value]
            request,
            409,
            "case.eform_outdated",
            _("This eForm is not the service's current one; fetch it again."),
            errors=[{"path": "formData.eFormId", "message": _("Not the current eForm.")}],
        )
    documents = [_staged(request, user, url, index) for index, url in enumerate(body.documentUrls)]
    result = actions.do_submit_application(
        found,
        actor=user,
        answers=unwrap(form.data),
        documents=documents,
        idempotency_key=request.headers.get("Idempotency-Key", ""),
    )
    return _file_response(request, result.case)


@govstack_api.get(
    "/applications",
    response=list[ApplicationListItem],
    tags=["Applicant", "Operator"],
    summary="Application files the caller may see",
)
def applications(
    request: HttpRequest,
    serviceId: str | None = None,
    applicantId: str | None = None,
    firstResult: int | None = None,
    maxResult: int | None = None,
    sortBy: str | None = None,
    sortOrder: str | None = None,
) -> list[ApplicationListItem]:
    mediator_client(request, required=True)
    user = _caller(request)
    if _caller_kind(request) == "operator":
        cases = queries.staff_cases(user)
    else:
        cases = queries.cases_of_applicant(user).exclude(phase=Phase.DRAFT)
    if serviceId is not None:
        key = _uuid(serviceId)
        cases = cases.filter(service_id=key) if key else cases.none()
    if applicantId is not None:
        key = _uuid(applicantId)
        cases = cases.filter(applicant_id=key) if key else cases.none()
    cases = _sorted(cases, sortBy, sortOrder).select_related(
        "service", "service_version", "assignee", "administration"
    )
    start, size = _page(firstResult, maxResult)
    items = []
    for case in cases[start : start + size]:
        fields = _task_fields(case)
        items.append(
            ApplicationListItem(
                fileId=str(case.pk),
                mainTaskId=str(case.pk),
                taskTitle=fields["taskName"],
                roleId=Role.OFFICER.value,
                roleName=str(Role.OFFICER.label),
                assigneeId=fields["assigneeId"],
                operatorName=str(case.assignee) if case.assignee else "",
                status=fields["status"],
                applicantId=str(case.applicant_id),
                created=case.created_at,
                registered=case.submitted_at,
                description=case.reference or "",
                serviceName=case.service.name,
                serviceId=str(case.service_id),
                eformId=str(case.service_version_id),
                documentUrls=_document_urls(request, case),
                additionalMeta={"data": {}},
            )
        )
    return items


@govstack_api.get(
    "/applications/{fileId}",
    response=ApplicationFileResponse,
    tags=["Applicant", "Operator"],
    summary="One application file",
)
def application(request: HttpRequest, fileId: str) -> ApplicationFileResponse:
    mediator_client(request, required=True)
    _caller_kind(request)
    case = _visible_case(request, fileId)
    user = _caller(request)
    if user.has_role_permission(Permission.PROCESS_CASES):
        actions.record_case_access(case, actor=user, purpose="GovStack application file read")
    return _file_response(request, case)


@govstack_api.put(
    "/applications/{fileId}",
    response=ApplicationFileResponse,
    tags=["Operator"],
    summary="Record an operator's form data on an application file",
    description="Ceiba never rewrites what the applicant declared: the operator's "
    "`formData.data` is kept as an internal note of the case. `applicantId` is required by the "
    "schema and not used (an application's applicant never changes).",
)
def update_application(
    request: HttpRequest,
    fileId: str,
    body: ApplicationFileSubmit,
) -> ApplicationFileResponse:
    mediator_client(request, required=True)
    user = require_permission(request, Permission.PROCESS_CASES)
    case = _visible_case(request, fileId)
    data = body.formData.data if body.formData else {}
    if data:
        actions.do_add_note(
            case,
            actor=user,
            body=_("Operator form data: %(data)s")
            % {"data": json.dumps(data, ensure_ascii=False, sort_keys=True)[:4900]},
        )
    return _file_response(request, case)


# ---------------------------------------------------------------------------------------------
# Documents: staged uploads, attached when an application names them in documentUrls


STAGING = "govstack-uploads"


def _staged(request: HttpRequest, user: User, url: str, index: int) -> tuple[str, Any]:
    match = re.fullmatch(r"urn:ceiba:upload:([0-9a-f-]{36})", url.strip())
    if match is None:
        raise HttpError(
            400, _("documentUrls[%d] is not a url returned by POST /documents.") % index
        )
    folder = f"{STAGING}/{user.administration_id}/{user.pk}/{match.group(1)}"
    try:
        _dirs, names = default_storage.listdir(folder)
    except FileNotFoundError:
        names = []
    if len(names) != 1:
        raise HttpError(400, _("documentUrls[%d] names no upload of yours.") % index)
    requirement = names[0].partition("--")[0]
    return requirement, default_storage.open(f"{folder}/{names[0]}", "rb")


@govstack_api.post(
    "/documents",
    response={200: UploadResponse},
    tags=["Applicant", "Operator"],
    summary="Upload a document",
    description="Multipart field `file`. `additionalMetadata` names the service's document "
    "requirement the file answers (e.g. `requester_identity`); the returned `url` goes into "
    "an application's `documentUrls`, where the file is checked against that requirement.",
)
def upload(
    request: HttpRequest,
    file: File[NinjaUploadedFile] | None = None,
    additionalMetadata: str | None = Query(default=None, max_length=64),
) -> UploadResponse:
    user = require_permission(request, Permission.APPLY)
    upload_file: UploadedFile | None = file or request.FILES.get("file")
    if upload_file is None or not upload_file.size:
        raise HttpError(400, _("Send the document as the multipart field 'file'."))
    if upload_file.size > 10 * 1024 * 1024:
        raise HttpError(400, _("The file is larger than 10 MB."))
    requirement = re.sub(r"[^a-z0-9_-]", "_", (additionalMetadata or "document").lower())[:64]
    key = uuid.uuid4()
    name = re.sub(r"[^A-Za-z0-9._-]", "_", (upload_file.name or "document"))[-100:]
    default_storage.save(
        f"{STAGING}/{user.administration_id}/{user.pk}/{key}/{requirement}--{name}", upload_file
    )
    return UploadResponse(
        code=200, type="upload", message=_("File uploaded."), url=f"urn:ceiba:upload:{key}"
    )


# ---------------------------------------------------------------------------------------------
# Tasks (operators)


def _task(request: HttpRequest, task_id: str) -> Case:
    user = require_permission(request, Permission.PROCESS_CASES)
    key = _uuid(task_id)
    case = queries.case_for_staff(user, key) if key else None
    if case is None or case.phase != Phase.OPEN:
        raise HttpError(404, _("Task not found."))
    return case


@govstack_api.get(
    "/tasks", response=list[TaskOut], tags=["Operator"], summary="Open tasks (the work queue)"
)
def tasks(
    request: HttpRequest,
    mainTaskId: str | None = None,
    fileId: str | None = None,
    assigneeId: str | None = None,
    firstResult: int | None = None,
    maxResult: int | None = None,
    sortBy: str | None = None,
    sortOrder: str | None = None,
) -> list[TaskOut]:
    mediator_client(request, required=False)
    user = require_permission(request, Permission.PROCESS_CASES)
    cases = queries.work_queue(user)
    for value in (mainTaskId, fileId):
        if value is not None:
            key = _uuid(value)
            cases = cases.filter(pk=key) if key else cases.none()
    if assigneeId is not None:
        key = _uuid(assigneeId)
        cases = cases.filter(assignee_id=key) if key else cases.none()
    cases = _sorted(cases, sortBy, sortOrder)
    start, size = _page(firstResult, maxResult)
    return [TaskOut(**_task_fields(case)) for case in cases[start : start + size]]


@govstack_api.get("/tasks/{taskId}", response=DataTaskOut, tags=["Operator"], summary="One task")
def task(request: HttpRequest, taskId: str) -> DataTaskOut:
    mediator_client(request, required=False)
    case = _task(request, taskId)
    user = _caller(request)
    actions.record_case_access(case, actor=user, purpose="GovStack task read")
    steps = queries.available_transitions(case, user)
    return DataTaskOut(
        **_task_fields(case),
        formVariables={"transitions": {"data": {t.name: list(t.inputs) for t in steps}}},
        data=wrap(case.answers),
    )


@govstack_api.post(
    "/tasks/{taskId}/complete",
    response=CompletedTaskOut,
    tags=["Operator"],
    summary="Complete a task: take one workflow step",
    description="`data.transition` names the step (one of the task's `formVariables."
    "transitions`); without it, the only step the caller may take that needs no input. "
    "`data.reason`, `data.message`, `data.note` are the step's inputs.",
)
def complete_task(
    request: HttpRequest,
    taskId: str,
    body: AdditionalData,
) -> CompletedTaskOut:
    mediator_client(request, required=False)
    case = _task(request, taskId)
    user = _caller(request)
    data = unwrap(body.data)
    name = data.get("transition")
    if name is None:
        candidates = [t for t in queries.available_transitions(case, user) if not t.inputs]
        if len(candidates) != 1:
            return error(  # type: ignore[return-value]
                request,
                400,
                "request.invalid",
                _("Name the step in data.transition."),
                errors=[{"path": "data.transition", "message": _("Required here.")}],
            )
        name = candidates[0].name
    inputs = {key: data.get(key, "") for key in ("reason", "message", "note")}
    if not isinstance(name, str) or not all(isinstance(v, str) for v in inputs.values()):
        raise HttpError(400, _("data.transition, reason, message and note must be text."))
    case = actions.do_transition_case(
        case,
        name,
        actor=user,
        expected_version=int(data.get("version") or case.version),
        **inputs,
    )
    return CompletedTaskOut(
        taskId=taskId,
        fileId=str(case.pk),
        serviceId=str(case.service_id),
        status=status_of(case, machine_for(case.service_version)),
        variables={"transition": {"data": wrap({"name": name, "state": case.state})}},
    )


# ---------------------------------------------------------------------------------------------
# Statistics


class StatisticsFilters(Schema):
    startDate: date | None = None
    endDate: date | None = None
    registrationName: str | None = Field(default=None, max_length=200)
    operator: str | None = Field(default=None, max_length=200)
    role: str | None = Field(default=None, max_length=64)
    timeframe: Literal["day", "week", "month", "year"] | None = None


MAX_BUCKETS = 400


def _buckets(start: date, end: date, timeframe: str | None) -> list[tuple[date, date]]:
    if timeframe is None:
        return [(start, end)]
    buckets: list[tuple[date, date]] = []
    current = start
    while current <= end and len(buckets) < MAX_BUCKETS:
        if timeframe == "day":
            following = current + timedelta(days=1)
        elif timeframe == "week":
            following = current + timedelta(days=7)
        elif timeframe == "month":
            following = (current.replace(day=1) + timedelta(days=32)).replace(day=1)
        else:
            following = current.replace(year=current.year + 1, month=1, day=1)
        buckets.append((current, min(following - timedelta(days=1), end)))
        current = following
    return buckets


def _statistics(request: HttpRequest, filters: StatisticsFilters) -> Any:
    mediator_client(request, required=True)
    administration = request.administration  # type: ignore[attr-defined]
    published = list(catalog_queries.published_services(administration))
    if filters.registrationName:
        wanted = filters.registrationName.strip().casefold()
        published = [
            s
            for s in published
            if wanted == s.code.casefold()
            or any(wanted == name.casefold() for name in s.names.values())
        ]
        if not published:
            raise HttpError(404, _("No registration of that name."))
    today = timezone.localdate()
    end = filters.endDate or today
    start = filters.startDate or (end - timedelta(days=365))
    if start > end:
        raise HttpError(400, _("startDate is after endDate."))
    from ceiba.cases.models import CaseEvent

    events = CaseEvent.objects.filter(
        administration=administration,
        case__service__in=published,
        kind="transitioned",
        created_at__date__gte=start,
        created_at__date__lte=end,
    ).select_related("case__service_version")
    if filters.operator:
        events = events.filter(actor__full_name__iexact=filters.operator.strip())
    if filters.role:
        events = events.filter(actor_role=filters.role.strip().lower())
    counted: list[tuple[date, str]] = []
    for event in events.iterator():
        machine = machine_for(event.case.service_version)
        if machine.is_final(event.to_state):
            issues = any(o.state == event.to_state for o in machine.definition.outputs)
            counted.append((event.created_at.date(), "approved" if issues else "rejected"))
        elif status_of_state(machine, event.to_state) == "SENDBACK":
            counted.append((event.created_at.date(), "sentBack"))
    results = []
    for first, last in _buckets(start, end, filters.timeframe):
        inside = [kind for day, kind in counted if first <= day <= last]
        approved = inside.count("approved")
        rejected = inside.count("rejected")
        results.append(
            StatisticsOut(
                processed=approved + rejected,
                approved=approved,
                sentBack=inside.count("sentBack"),
                rejected=rejected,
                references=StatisticsReferences(
                    startDate=first,
                    endDate=last,
                    registrationName=filters.registrationName,
                    operator=filters.operator,
                    role=filters.role,
                    timeframeDay=filters.timeframe == "day",
                    timeframeWeek=filters.timeframe == "week",
                    timeframeMonth=filters.timeframe == "month",
                    timeframeYear=filters.timeframe == "year",
                ),
            )
        )
    return results


def status_of_state(machine: Machine, state: str) -> str:
    moves = [
        t
        for t in machine.definition.workflow.transitions_from(state)
        if t.roles & APPLICANT_ROLES and not machine.is_final(t.target)
    ]
    return "SENDBACK" if moves else "PENDING"


@govstack_api.get(
    "/data/statistics",
    response=list[StatisticsOut],
    exclude_none=True,
    auth=None,
    tags=["Statistics API"],
    summary="Processing statistics",
)
def statistics(request: HttpRequest, filters: Query[StatisticsFilters]) -> Any:
    return _statistics(request, filters)


@govstack_api.get(
    "/data/statistics/1.0",
    response=list[StatisticsOut],
    exclude_none=True,
    auth=None,
    tags=["Statistics API"],
    summary="Processing statistics (the path the feature files call)",
)
def statistics_versioned(request: HttpRequest, filters: Query[StatisticsFilters]) -> Any:
    return _statistics(request, filters)

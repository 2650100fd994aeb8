"""The citizen portal: start an application, answer it step by step, upload documents, review,
submit, and follow it in "My applications".

Every page works without JavaScript. Views are thin: they check the visitor may apply, find the
application among the visitor's own (another person's is a 404), validate with
``cases.forms`` and change state only through ``cases.actions``.
"""

from __future__ import annotations

import functools
import re
import uuid
from collections.abc import Callable, Mapping
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_http_methods, require_POST

from ceiba.accounts.models import User
from ceiba.accounts.roles import Permission
from ceiba.cases import actions
from ceiba.cases import queries as case_queries
from ceiba.cases.errors import CaseError, CaseErrorCode
from ceiba.cases.forms import (
    DocumentsForm,
    SectionForm,
    answer_errors,
    document_required,
    localize,
    size_text,
    visible_answers,
    widget_for,
)
from ceiba.cases.models import Case, CaseDocument
from ceiba.cases.workflow import Machine
from ceiba.catalog import queries as catalog_queries
from ceiba.catalog.definition import Section, ServiceDefinition
from ceiba.catalog.formula import FormulaError
from ceiba.catalog.views import describe_fees, expected_working_days, money
from ceiba.documents import queries as document_queries

View = Callable[..., HttpResponse]
MAX_MESSAGE = 5000
FORM_ALLOWANCE = 1024 * 1024  # the other fields of an upload form, generously
SUBMIT_KEYS = "portal_submit_keys"
KEY_PATTERN = re.compile(r"[0-9a-f]{32}")


def applicant_view(view: View) -> View:
    """Signed-in people whose role may apply; anyone else is sent to sign in or refused."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not request.user.has_role_permission(Permission.APPLY):
            raise PermissionDenied("portal: role may not apply")
        return view(request, *args, **kwargs)

    return wrapped


def upload_limit(back: str) -> Callable[[View], View]:
    """Refuse a request body larger than every file the service accepts together, before it is
    read (CSRF checking parses the body, so this check runs first and CSRF right after it), and
    send the person back to the ``back`` page with a message."""
    return functools.partial(_upload_limit, back=back)


def _upload_limit(view: View, *, back: str) -> View:
    protected = csrf_protect(view)

    @csrf_exempt
    @wraps(view)
    def wrapped(request: HttpRequest, case_id: uuid.UUID) -> HttpResponse:
        if request.method == "POST" and request.user.is_authenticated:
            case = _case(request, case_id)
            definition = _definition(case)
            limit = sum(d.max_bytes for d in definition.documents) + FORM_ALLOWANCE
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = 0
            if length > limit:
                messages.error(
                    request,
                    _(
                        "The files you chose are too large together (%(size)s). "
                        "Send at most %(limit)s at a time."
                    )
                    % {"size": size_text(length), "limit": size_text(limit)},
                )
                response = redirect(back, case.pk)
                response.status_code = 303
                return response
        return protected(request, case_id)

    return wrapped


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _case(request: HttpRequest, case_id: uuid.UUID) -> Case:
    administration = request.administration  # type: ignore[attr-defined]
    case = case_queries.case_for_applicant(_user(request), case_id)
    if case is None or case.administration_id != administration.pk:
        raise Http404
    return case


def _documents_by_requirement(case: Case) -> dict[str, CaseDocument]:
    return {document.requirement: document for document in case_queries.documents(case)}


def _hrefs(items: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """(anchor, message) from the forms as (href, message) for the error summary."""
    return [(f"#{anchor}" if anchor else "", message) for anchor, message in items]


def _definition(case: Case) -> ServiceDefinition:
    return catalog_queries.definition_for(case.service_version)


def _posted_version(request: HttpRequest) -> int:
    try:
        return int(request.POST.get("version", ""))
    except ValueError:
        return -1


def _steps(definition: ServiceDefinition, answers: Mapping[str, Any]) -> tuple[Section, ...]:
    return definition.form.visible_sections(answers)


def _total(definition: ServiceDefinition, answers: Mapping[str, Any]) -> int:
    return len(_steps(definition, answers)) + (1 if definition.documents else 0)


def _fail(request: HttpRequest, error: CaseError, fallback: str) -> HttpResponse:
    """Show an action's refusal on the page the person comes from."""
    messages.error(request, error.message)
    return redirect(fallback)


# ---------------------------------------------------------------------------------------------
# Starting


@applicant_view
@require_http_methods(["GET", "POST"])
def start(request: HttpRequest, code: str) -> HttpResponse:
    administration = request.administration  # type: ignore[attr-defined]
    user = _user(request)
    service = catalog_queries.service(administration, code)
    if service is None:
        raise Http404
    legal_entity = user.legal_entity if user.role == "business_rep" else None
    errors: list[tuple[str, str]] = []
    chosen = request.POST.get("on_behalf_of", "")
    if request.method == "POST":
        # A double click posts the same key twice: the second opens the draft the first made.
        key = request.POST.get("start_key", "")[:64]
        started: dict[str, str] = request.session.get("portal_started", {})
        if key and key in started:
            return redirect("portal:step", started[key], 1)
        if legal_entity is not None and chosen != str(legal_entity.pk):
            errors.append(("id_on_behalf_of_0", _("Select the business you are applying for")))
        else:
            try:
                case = actions.do_start_draft(service, actor=user, legal_entity=legal_entity)
            except CaseError as error:
                errors.append(("", error.message))
            else:
                if key:
                    request.session["portal_started"] = {**started, key: str(case.pk)}
                return redirect("portal:step", case.pk, 1)
    return render(
        request,
        "cases/portal/start.html",
        {
            "service": service,
            "legal_entity": legal_entity,
            "chosen": chosen,
            "errors": _hrefs(errors),
            "start_key": uuid.uuid4().hex,
        },
        status=400 if errors else 200,
    )


# ---------------------------------------------------------------------------------------------
# Steps


@applicant_view
@require_http_methods(["GET", "POST"])
def step(request: HttpRequest, case_id: uuid.UUID, step_number: int) -> HttpResponse:
    number = step_number
    case = _case(request, case_id)
    if not case.is_draft:
        return redirect("portal:application", case.pk)
    definition = _definition(case)
    sections = _steps(definition, case.answers)
    if number == len(sections) + 1 and definition.documents:
        return redirect("portal:documents", case.pk)
    if not 1 <= number <= len(sections):
        raise Http404
    section = sections[number - 1]
    form = SectionForm(definition.form, section, answers=case.answers)
    summary: list[tuple[str, str]] = []
    if request.method == "POST":
        draft = request.POST.get("action") == "draft"
        form = SectionForm(
            definition.form, section, answers=case.answers, data=request.POST, draft=draft
        )
        if _posted_version(request) != case.version:
            summary = [("", _stale_message())]
        elif form.is_valid():
            answers = form.answers()
            try:
                case = actions.do_save_draft(
                    case, actor=_user(request), answers=answers, expected_version=case.version
                )
            except CaseError as error:
                return _fail(request, error, request.path)
            if draft:
                messages.success(request, _draft_saved_message())
                return redirect("portal:applications")
            return redirect(_after_section(case, definition, section))
        else:
            summary = form.summary()
    return render(
        request,
        "cases/portal/step.html",
        {
            "case": case,
            "service_name": localize(definition.name),
            "title": localize(section.title),
            "description": localize(section.description),
            "fields": form.rendered_fields(),
            "summary": _hrefs(summary),
            "step": number,
            "total": _total(definition, case.answers),
        },
        status=400 if summary else 200,
    )


def _after_section(case: Case, definition: ServiceDefinition, section: Section) -> str:
    sections = _steps(definition, case.answers)
    index = next(i for i, s in enumerate(sections) if s.id == section.id)
    if index + 1 < len(sections):
        return reverse("portal:step", args=[case.pk, index + 2])
    if definition.documents:
        return reverse("portal:documents", args=[case.pk])
    return reverse("portal:review", args=[case.pk])


def _stale_message() -> str:
    return _(
        "This application was changed in another window or tab since you opened this page. "
        "Check the answers below and send them again."
    )


def _draft_saved_message() -> str:
    return _(
        "Your answers are saved. You can come back to this application at any time from "
        "“My applications”."
    )


# ---------------------------------------------------------------------------------------------
# Documents


@require_http_methods(["GET", "POST"])
@applicant_view
@upload_limit("portal:documents")
def documents(request: HttpRequest, case_id: uuid.UUID) -> HttpResponse:
    case = _case(request, case_id)
    if not case.is_draft:
        return redirect("portal:application", case.pk)
    definition = _definition(case)
    if not definition.documents:
        return redirect("portal:review", case.pk)
    answers = visible_answers(definition.form, case.answers)
    form = DocumentsForm(definition.documents, answers=answers)
    summary: list[tuple[str, str]] = []
    if request.method == "POST":
        form = DocumentsForm(
            definition.documents, answers=answers, data=request.POST, files=request.FILES
        )
        if _posted_version(request) != case.version:
            summary = [("", _stale_message())]
        elif form.is_valid():
            try:
                for requirement_id, upload in form.checked.items():
                    actions.do_upload_document(
                        case, actor=_user(request), requirement=requirement_id, file=upload.file
                    )
            except CaseError as error:
                anchor = f"id_doc_{requirement_id}"
                summary = [(anchor, message) for _path, message in error.errors] or [
                    (anchor, error.message)
                ]
                form.add_error(f"doc_{requirement_id}", summary[0][1])
            else:
                if request.POST.get("action") == "draft":
                    messages.success(request, _draft_saved_message())
                    return redirect("portal:applications")
                return redirect("portal:review", case.pk)
        else:
            summary = form.summary()
        case.refresh_from_db()
    uploaded = _documents_by_requirement(case)
    rows = form.rows()
    for row in rows:
        row["uploaded"] = uploaded.get(row["requirement"].id)
        row["uploaded_size"] = size_text(row["uploaded"].size) if row["uploaded"] else ""
    total = _total(definition, case.answers)
    return render(
        request,
        "cases/portal/documents.html",
        {
            "case": case,
            "service_name": localize(definition.name),
            "rows": rows,
            "summary": _hrefs(summary),
            "step": total,
            "total": total,
        },
        status=400 if summary else 200,
    )


# ---------------------------------------------------------------------------------------------
# Review and submission


@applicant_view
@require_http_methods(["GET"])
def review(request: HttpRequest, case_id: uuid.UUID) -> HttpResponse:
    case = _case(request, case_id)
    if not case.is_draft:
        return redirect("portal:application", case.pk)
    return _render_review(request, case, [])


def _render_review(
    request: HttpRequest, case: Case, extra: list[tuple[str, str]], status: int = 200
) -> HttpResponse:
    definition = _definition(case)
    answers = visible_answers(definition.form, case.answers)
    sections = _steps(definition, answers)
    uploaded = _documents_by_requirement(case)
    problems = _hrefs(extra)
    for error in answer_errors(definition.form, answers):
        url = reverse("portal:step", args=[case.pk, error.step])
        problems.append((f"{url}#{error.anchor}", error.message))
    document_rows = []
    for requirement in definition.documents:
        required = document_required(requirement, answers)
        document = uploaded.get(requirement.id)
        anchor = f"id_doc_{requirement.id}"
        document_rows.append(
            {
                "label": localize(requirement.label),
                "uploaded": document,
                "required": required,
                "anchor": anchor,
            }
        )
        if required and document is None:
            url = reverse("portal:documents", args=[case.pk])
            problems.append(
                (
                    f"{url}#{anchor}",
                    _("Upload “%(label)s”") % {"label": localize(requirement.label)},
                )
            )
    section_rows = [
        {
            "title": localize(section.title),
            "step": index,
            "rows": [
                {
                    "label": localize(definition.form.fields[name].label),
                    "value": display_value(definition, name, answers[name]),
                    "anchor": _anchor(definition, name),
                }
                for name in section.fields
                if name in answers
            ],
        }
        for index, section in enumerate(sections, 1)
    ]
    back = (
        reverse("portal:documents", args=[case.pk])
        if definition.documents
        else reverse("portal:step", args=[case.pk, len(sections)])
    )
    return render(
        request,
        "cases/portal/review.html",
        {
            "case": case,
            "service_name": localize(definition.name),
            "sections": section_rows,
            "documents": document_rows,
            "problems": problems,
            "fee": _fee_for(definition, answers),
            "idempotency_key": uuid.uuid4().hex,
            "back_url": back,
        },
        status=status,
    )


def _anchor(definition: ServiceDefinition, name: str) -> str:
    from ceiba.cases.forms import field_anchor

    prop = definition.form.schema["properties"].get(name, {})
    return field_anchor(name, widget_for(prop, definition.form.fields.get(name)))


def display_value(definition: ServiceDefinition, name: str, value: Any) -> str:
    """An answer as the applicant chose it: option labels, yes/no, dates in their language."""
    hints = definition.form.fields.get(name)
    options = hints.options if hints else {}
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if isinstance(value, list):
        return "\n".join(localize(options.get(str(item))) or str(item) for item in value)
    if str(value) in options:
        return localize(options[str(value)])
    prop = definition.form.schema["properties"].get(name, {})
    if prop.get("format") == "date" and isinstance(value, str):
        from datetime import date

        try:
            return date_format(date.fromisoformat(value), "DATE_FORMAT")
        except ValueError:
            return value
    return str(value)


def _fee_for(definition: ServiceDefinition, answers: Mapping[str, Any]) -> str:
    if definition.fees is None:
        return _("Free")
    try:
        total = definition.fees.total(answers)
    except FormulaError:  # an answer the fee needs is missing: state the rule instead
        return describe_fees(definition.fees, definition).summary
    return money(total, definition.fees.currency) if total else _("Free")


@applicant_view
@require_POST
def submit(request: HttpRequest, case_id: uuid.UUID) -> HttpResponse:
    """Submit once. The review page carries a fresh idempotency key: the same key posted again
    (a double click, a reload of the POST) shows the receipt of the one application it made;
    a key already used for another application is refused; the row lock in the action makes
    two simultaneous posts submit once."""
    case = _case(request, case_id)
    key = request.POST.get("idempotency_key", "")
    used: dict[str, str] = request.session.get(SUBMIT_KEYS, {})
    if not KEY_PATTERN.fullmatch(key):
        return _render_review(request, case, [("", _incomplete_message())], status=400)
    if key in used and used[key] != str(case.pk):
        return _render_review(request, case, [("", _key_reused_message())], status=409)
    if not case.is_draft:
        # The second click of a double click: the first one submitted it.
        return redirect("portal:receipt", case.pk)
    try:
        case = actions.do_submit_draft(
            case, actor=_user(request), expected_version=_posted_version(request)
        )
    except CaseError as error:
        case.refresh_from_db()
        if not case.is_draft:
            return redirect("portal:receipt", case.pk)
        if error.code == CaseErrorCode.STALE:
            return _render_review(request, case, [("", _stale_message())], status=409)
        return _render_review(request, case, [("", error.message)], status=400)
    # Keep the last keys only: the session is not a log.
    request.session[SUBMIT_KEYS] = dict(list({**used, key: str(case.pk)}.items())[-20:])
    return redirect("portal:receipt", case.pk)


def _incomplete_message() -> str:
    return _("This form is incomplete. Check your answers and submit again.")


def _key_reused_message() -> str:
    return _(
        "This page was already used to submit another application. "
        "Check your answers and submit again."
    )


@applicant_view
@require_http_methods(["GET"])
def receipt(request: HttpRequest, case_id: uuid.UUID) -> HttpResponse:
    case = _case(request, case_id)
    if case.is_draft:
        return redirect("portal:review", case.pk)
    definition = _definition(case)
    return render(
        request,
        "cases/portal/receipt.html",
        {
            "case": case,
            "service_name": localize(definition.name),
            "fee": money(case.amount_due, case.currency) if case.amount_due else "",
            "working_days": expected_working_days(definition),
        },
    )


# ---------------------------------------------------------------------------------------------
# My applications


@applicant_view
@require_http_methods(["GET"])
def application_list(request: HttpRequest) -> HttpResponse:
    cases = case_queries.cases_of_applicant(_user(request)).select_related(
        "legal_entity", "institution", "service__administration"
    )
    rows = []
    for case in cases:
        machine = Machine(_definition(case))
        if case.is_draft:
            status, url = _("Draft: not sent yet"), reverse("portal:step", args=[case.pk, 1])
        else:
            status = machine.state_label(case.state)
            url = reverse("portal:application", args=[case.pk])
        rows.append(
            {
                "case": case,
                "service": case.service.name,
                "status": status,
                "url": url,
                "attention": bool(machine.available(case, _user(request)))
                and _waits_on_applicant(machine, case),
            }
        )
    return render(request, "cases/portal/list.html", {"rows": rows})


def _waits_on_applicant(machine: Machine, case: Case) -> bool:
    return case.phase == "open" and machine.sla_days(case.state) is None


@applicant_view
@require_http_methods(["GET"])
def application_detail(request: HttpRequest, case_id: uuid.UUID) -> HttpResponse:
    case = _case(request, case_id)
    if case.is_draft:
        return redirect("portal:step", case.pk, 1)
    return _render_detail(request, case)


def _render_detail(
    request: HttpRequest,
    case: Case,
    *,
    form: DocumentsForm | None = None,
    message: str = "",
    summary: list[tuple[str, str]] | None = None,
    status: int = 200,
) -> HttpResponse:
    user = _user(request)
    definition = _definition(case)
    machine = Machine(definition)
    available = machine.available(case, user)
    respond = next(
        (
            t
            for t in available
            if not machine.is_final(t.target) and {"message", "documents"} & set(t.inputs)
        ),
        None,
    )
    withdraw = next((t for t in available if machine.is_final(t.target)), None)
    if respond is not None and form is None:
        form = DocumentsForm(definition.documents, answers=case.answers)
    timeline = [
        {
            "when": event.created_at,
            "label": machine.state_label(event.to_state)
            if event.to_state
            else event.get_kind_display(),
            "reason": event.reason,
        }
        for event in case_queries.history(case, for_applicant=True)
    ]
    issued = list(document_queries.documents_of_case(case))
    issued_templates = {document.template for document in issued}
    # Issuing runs as a job after the decision commits: say so until the document is there.
    preparing = any(
        output.state == case.state and output.template not in issued_templates
        for output in definition.outputs
    )
    return render(
        request,
        "cases/portal/detail.html",
        {
            "issued": issued,
            "preparing": preparing,
            "case": case,
            "service_name": localize(definition.name),
            "status": machine.state_label(case.state),
            "fee": money(case.amount_due, case.currency) if case.amount_due else "",
            "waiting_on_you": respond is not None,
            "timeline": timeline,
            "case_messages": case_queries.messages(case),
            "documents": case_queries.documents(case),
            "respond": respond,
            "respond_rows": form.rows() if respond is not None and form else [],
            "message": message,
            "summary": _hrefs(summary or []),
            "withdraw": withdraw,
        },
        status=status,
    )


@require_POST
@applicant_view
@upload_limit("portal:application")
def respond(request: HttpRequest, case_id: uuid.UUID) -> HttpResponse:
    case = _case(request, case_id)
    definition = _definition(case)
    form = DocumentsForm(
        definition.documents, answers=case.answers, data=request.POST, files=request.FILES
    )
    message = request.POST.get("message", "").strip()
    summary: list[tuple[str, str]] = []
    if not message:
        summary.append(("id_message", _("Write your answer to the officer")))
    elif len(message) > MAX_MESSAGE:
        summary.append(
            (
                "id_message",
                _("Your answer must be %(limit)s characters or fewer") % {"limit": MAX_MESSAGE},
            )
        )
    valid = form.is_valid()
    summary += form.summary()
    if _posted_version(request) != case.version:
        summary = [("", _stale_message())]
    if summary or not valid:
        return _render_detail(
            request, case, form=form, message=message, summary=summary, status=400
        )
    uploads = [(requirement, checked.file) for requirement, checked in form.checked.items()]
    try:
        actions.do_answer_information_request(
            case,
            actor=_user(request),
            message=message,
            expected_version=case.version,
            documents=uploads,
        )
    except CaseError as error:
        items = [("", error.message)] + [
            (f"id_doc_{path.removeprefix('documents.')}", text) for path, text in error.errors
        ]
        return _render_detail(
            request, case, form=form, message=message, summary=items, status=error.status
        )
    messages.success(request, _("Your answer was sent to the institution."))
    return redirect("portal:application", case.pk)


@applicant_view
@require_http_methods(["GET", "POST"])
def withdraw(request: HttpRequest, case_id: uuid.UUID) -> HttpResponse:
    case = _case(request, case_id)
    if case.is_draft:
        return redirect("portal:step", case.pk, 1)
    definition = _definition(case)
    if request.method == "POST":
        try:
            actions.do_withdraw_case(
                case, actor=_user(request), expected_version=_posted_version(request)
            )
        except CaseError as error:
            return _fail(request, error, reverse("portal:application", args=[case.pk]))
        messages.success(request, _("Your application was withdrawn."))
        return redirect("portal:application", case.pk)
    return render(
        request,
        "cases/portal/withdraw.html",
        {"case": case, "service_name": localize(definition.name)},
    )

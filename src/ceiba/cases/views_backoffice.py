"""The officers' back office: work queue, case page, and the forms that act on a case.

Thin views: they check the role, read through ``cases.queries``, act through
``cases.actions`` and render. Every view of a case or a document is recorded with
``record_case_access``. Works without JavaScript.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from ceiba.accounts.models import User
from ceiba.accounts.roles import Permission, Role
from ceiba.cases import actions, queries
from ceiba.cases.errors import CaseError, CaseErrorCode
from ceiba.cases.models import Case
from ceiba.cases.workflow import text_of


def _staff(request: HttpRequest) -> User:
    user = request.user
    if not isinstance(user, User) or not user.has_role_permission(Permission.PROCESS_CASES):
        raise PermissionDenied(_("Your role does not allow this."))
    administration = getattr(request, "administration", None)
    if administration is None or user.administration_id != administration.pk:
        raise PermissionDenied(_("Your role does not allow this."))
    return user


def _case(user: User, case_id: Any) -> Case:
    case = queries.case_for_staff(user, case_id)
    if case is None:
        raise Http404(_("This case does not exist or is not in your queue."))
    return case


def _version(request: HttpRequest) -> int | None:
    try:
        return int(request.POST.get("version", ""))
    except ValueError:
        return None


@login_required
@require_GET
def queue(request: HttpRequest) -> HttpResponse:
    user = _staff(request)
    assignment = request.GET.get("assignment", "all")
    filters = queries.QueueFilters(
        service=request.GET.get("service", "")[:120],
        state=request.GET.get("state", "")[:64],
        overdue=request.GET.get("overdue") == "1",
        assignment=assignment if assignment in queries.ASSIGNMENT_FILTERS else "all",
        text=request.GET.get("q", "")[:32],
    )
    cases = list(queries.work_queue(user, filters)[:200])
    rows = [
        {"case": case, "state": queries.machine(case).state_label(case.state, get_language())}
        for case in cases
    ]
    services = sorted(
        {(c.service.code, c.service.name) for c in queries.work_queue(user)[:500]}
        | ({(filters.service, filters.service)} if filters.service else set())
    )
    return render(
        request,
        "cases/backoffice/queue.html",
        {
            "rows": rows,
            "filters": filters,
            "services": services,
            "is_supervisor": user.role == Role.SUPERVISOR,
        },
    )


@login_required
@require_GET
def case_detail(request: HttpRequest, case_id: Any) -> HttpResponse:
    user = _staff(request)
    case = _case(user, case_id)
    actions.record_case_access(case, actor=user, purpose="Case review in the back office")
    return _render_case(request, user, case)


def _render_case(
    request: HttpRequest,
    user: User,
    case: Case,
    *,
    error: CaseError | None = None,
    posted: dict[str, str] | None = None,
) -> HttpResponse:
    language = get_language()
    machine = queries.machine(case)
    definition = machine.definition
    answers = []
    for section in definition.form.visible_sections(case.answers):
        rows = []
        for name in section.fields:
            if name not in case.answers:
                continue
            hints = definition.form.fields.get(name)
            rows.append(
                {
                    "label": text_of(hints.label, language) if hints else name,
                    "value": _display(case.answers[name], hints, language),
                }
            )
        if rows:
            answers.append({"title": text_of(section.title, language), "rows": rows})
    requirements = {d.id: text_of(d.label, language) for d in definition.documents}
    documents = [
        {"document": doc, "label": requirements.get(doc.requirement, doc.requirement)}
        for doc in queries.documents(case)
    ]
    transitions = [
        {
            "name": step.name,
            "label": text_of(step.label, language),
            "inputs": [i for i in step.inputs if i in ("reason", "message", "note")],
            "guard_ok": machine.guard_holds(case, step),
            "final": machine.is_final(step.target),
        }
        for step in queries.available_transitions(case, user)
    ]
    history = [
        {
            "event": event,
            "from": machine.state_label(event.from_state, language) if event.from_state else "",
            "to": machine.state_label(event.to_state, language) if event.to_state else "",
        }
        for event in queries.history(case, for_applicant=False)
    ]
    checks = [
        {"hook": name, "passed": result.get("passed"), "summary": _(result.get("summary", ""))}
        for name, result in (case.checks or {}).items()
    ]
    context = {
        "case": case,
        "state_label": machine.state_label(case.state, language),
        "service_name": text_of(definition.name, language),
        "answers": answers,
        "documents": documents,
        "history": history,
        "messages_list": queries.messages(case),
        "notes": queries.notes(case),
        "transitions": transitions,
        "checks": checks,
        "staff": queries.assignable_staff(user, case),
        "may_claim": case.assignee_id is None and case.phase == "open",
        "is_supervisor": user.role == Role.SUPERVISOR,
        "error": error,
        "posted": posted or {},
    }
    return render(
        request, "cases/backoffice/case.html", context, status=error.status if error else 200
    )


def _display(value: Any, hints: Any, language: str | None) -> str:
    options = hints.options if hints is not None else {}
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if isinstance(value, list):
        return ", ".join(_display(item, hints, language) for item in value)
    if isinstance(value, str) and value in options:
        return text_of(options[value], language)
    return str(value)


def _act(request: HttpRequest, case_id: Any, act: Any, done: str) -> HttpResponse:
    user = _staff(request)
    case = _case(user, case_id)
    try:
        act(user, case)
    except CaseError as error:
        fresh = _case(user, case_id) if queries.case_for_staff(user, case_id) else None
        if fresh is None:
            messages.error(request, error.message)
            return redirect("backoffice:queue")
        posted = {k: str(v)[:5000] for k, v in request.POST.items() if k != "csrfmiddlewaretoken"}
        return _render_case(request, user, fresh, error=error, posted=posted)
    messages.success(request, done)
    if queries.case_for_staff(user, case.pk) is None:
        return redirect("backoffice:queue")
    return redirect("backoffice:case", case_id=case.pk)


@login_required
@require_POST
def case_claim(request: HttpRequest, case_id: Any) -> HttpResponse:
    return _act(
        request,
        case_id,
        lambda user, case: actions.do_claim_case(
            case, actor=user, expected_version=_version(request)
        ),
        _("You took this case."),
    )


@login_required
@require_POST
def case_assign(request: HttpRequest, case_id: Any) -> HttpResponse:
    def assign(user: User, case: Case) -> None:
        if user.role != Role.SUPERVISOR:
            raise CaseError(CaseErrorCode.FORBIDDEN, _("Only a supervisor can assign cases."))
        wanted = request.POST.get("assignee", "")
        assignee = None
        if wanted:
            assignee = queries.assignable_staff(user, case).filter(pk=_uuid(wanted)).first()
            if assignee is None:
                raise CaseError(
                    CaseErrorCode.ASSIGNEE_INVALID,
                    _("Choose an active officer of this case's institution."),
                )
        actions.do_assign_case(
            case, actor=user, assignee=assignee, expected_version=_version(request)
        )

    return _act(request, case_id, assign, _("The case was assigned."))


def _uuid(text: str) -> Any:
    import uuid

    try:
        return uuid.UUID(text)
    except ValueError:
        return None


@login_required
@require_POST
def case_transition(request: HttpRequest, case_id: Any) -> HttpResponse:
    def transition(user: User, case: Case) -> None:
        version = _version(request)
        if version is None:
            raise CaseError(
                CaseErrorCode.STALE, _("This form is out of date. Reload the page and try again.")
            )
        actions.do_transition_case(
            case,
            request.POST.get("transition", "")[:64],
            actor=user,
            expected_version=version,
            reason=request.POST.get("reason", ""),
            message=request.POST.get("message", ""),
            note=request.POST.get("note", ""),
        )

    return _act(request, case_id, transition, _("Done: the applicant has been notified."))


@login_required
@require_POST
def case_note(request: HttpRequest, case_id: Any) -> HttpResponse:
    return _act(
        request,
        case_id,
        lambda user, case: actions.do_add_note(case, actor=user, body=request.POST.get("body", "")),
        _("Your note was added."),
    )


@login_required
@require_GET
def case_document(request: HttpRequest, case_id: Any, document_id: Any) -> FileResponse:
    user = _staff(request)
    case = _case(user, case_id)
    document = queries.document_of(case, document_id)
    if document is None:
        raise Http404(_("This document does not exist."))
    actions.record_case_access(
        case, actor=user, purpose="Case review in the back office", document=document
    )
    response = FileResponse(document.file.open("rb"), content_type=document.content_type)
    name = document.original_name.replace('"', "")
    response["Content-Disposition"] = (
        f"inline; filename=\"{quote(name)}\"; filename*=UTF-8''{quote(name)}"
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    # The file is the applicant's: nothing in it may run script with the back office's rights.
    response["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; sandbox"
    return response

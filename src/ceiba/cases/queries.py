"""Reads of cases, each scoped to the administration and to what the person may see."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import F, Q, QuerySet
from django.utils import timezone

from ceiba.accounts.models import User
from ceiba.accounts.roles import Role
from ceiba.cases.models import Case, CaseDocument, CaseEvent, CaseMessage, CaseNote, Phase
from ceiba.cases.workflow import STAFF_ROLES, Machine, is_applicant_of, machine_for
from ceiba.catalog.definition import Transition

ASSIGNMENT_FILTERS = ("mine", "unassigned", "all")


@dataclass(frozen=True)
class QueueFilters:
    service: str = ""  # service code
    state: str = ""
    overdue: bool = False
    assignment: str = "all"  # "mine", "unassigned" or "all"
    text: str = ""  # a reference, or part of one


def _is_staff(user: User) -> bool:
    return bool(
        user.is_authenticated
        and user.is_active
        and user.role in STAFF_ROLES
        and user.institution_id is not None
    )


def staff_cases(user: User) -> QuerySet[Case]:
    """Submitted cases the staff member may open: those of their institution; an officer sees
    the unassigned ones and their own, a supervisor all of them."""
    if not _is_staff(user):
        return Case.objects.none()
    scope: dict[str, Any] = {
        "administration_id": user.administration_id,
        "institution_id": user.institution_id,
    }
    cases = Case.objects.filter(**scope).exclude(phase=Phase.DRAFT)
    if user.role == Role.OFFICER:
        cases = cases.filter(Q(assignee__isnull=True) | Q(assignee=user))
    return cases


def work_queue(user: User, filters: QueueFilters | None = None) -> QuerySet[Case]:
    """The institution's open cases, most urgent first, with the given filters."""
    filters = filters or QueueFilters()
    cases = (
        staff_cases(user)
        .filter(phase=Phase.OPEN)
        .select_related("service", "service_version", "assignee", "applicant", "administration")
    )
    if filters.service:
        cases = cases.filter(service__code=filters.service)
    if filters.state:
        cases = cases.filter(state=filters.state)
    if filters.overdue:
        cases = cases.filter(due_at__lt=timezone.now())
    if filters.assignment == "mine":
        cases = cases.filter(assignee=user)
    elif filters.assignment == "unassigned":
        cases = cases.filter(assignee__isnull=True)
    if filters.text.strip():
        cases = cases.filter(reference__icontains=filters.text.strip()[:32])
    # Cases with a time limit first, earliest due first; then the oldest waiting on applicants.
    return cases.order_by(F("due_at").asc(nulls_last=True), "submitted_at")


def case_for_staff(user: User, case_id: Any) -> Case | None:
    try:
        return (
            staff_cases(user)
            .select_related(
                "service",
                "service_version",
                "applicant",
                "legal_entity",
                "assignee",
                "institution",
                "administration",
            )
            .filter(pk=case_id)
            .first()
        )
    except (ValueError, TypeError):
        return None


def cases_of_applicant(user: User) -> QuerySet[Case]:
    """The person's applications, and for a business representative the business's."""
    if not user.is_authenticated or user.role not in (Role.CITIZEN, Role.BUSINESS_REP):
        return Case.objects.none()
    condition = Q(applicant=user)
    if user.role == Role.BUSINESS_REP and user.legal_entity_id:
        condition |= Q(legal_entity_id=user.legal_entity_id)
    return Case.objects.filter(condition, administration=user.administration).select_related(
        "service", "service_version", "administration"
    )


def case_for_applicant(user: User, case_id: Any) -> Case | None:
    try:
        return cases_of_applicant(user).filter(pk=case_id).first()
    except (ValueError, TypeError):
        return None


def case_by_reference(user: User, text: str) -> Case | None:
    """A case the person may see, by its reference as typed (check character verified)."""
    from ceiba.cases import reference

    if not reference.is_valid_reference(text):
        return None
    wanted = reference.normalize(text)
    pool = staff_cases(user) if _is_staff(user) else cases_of_applicant(user)
    return pool.filter(reference=wanted).first()


def documents(case: Case) -> QuerySet[CaseDocument]:
    return case.documents.filter(is_current=True).order_by("requirement", "created_at")


def document_of(case: Case, document_id: Any) -> CaseDocument | None:
    try:
        return case.documents.filter(pk=document_id).first()
    except (ValueError, TypeError):
        return None


def history(case: Case, *, for_applicant: bool) -> QuerySet[CaseEvent]:
    events = case.events.select_related("actor")
    return events.filter(public=True) if for_applicant else events


def messages(case: Case) -> QuerySet[CaseMessage]:
    return case.messages.select_related("author")


def notes(case: Case) -> QuerySet[CaseNote]:
    return case.notes.select_related("author")


def machine(case: Case) -> Machine:
    return machine_for(case.service_version)


def available_transitions(case: Case, user: User) -> list[Transition]:
    """Manual steps the person may take on the case now (guards not yet evaluated)."""
    if case.phase != Phase.OPEN:
        return []
    return machine(case).available(case, user)


def assignable_staff(user: User, case: Case) -> QuerySet[User]:
    """Who a supervisor may assign the case to."""
    if user.role != Role.SUPERVISOR or user.institution_id != case.institution_id:
        return User.objects.none()
    return User.objects.filter(
        administration_id=case.administration_id,
        institution_id=case.institution_id,
        role__in=list(STAFF_ROLES),
        is_active=True,
    ).order_by("full_name", "email")


def overdue_cases(now: Any = None) -> QuerySet[Case]:
    """Every administration's open cases past their time limit and not yet flagged."""
    return Case.objects.filter(
        phase=Phase.OPEN, due_at__lt=now or timezone.now(), overdue_notified_at__isnull=True
    )


def may_view_as_applicant(case: Case, user: User) -> bool:
    return is_applicant_of(case, user)

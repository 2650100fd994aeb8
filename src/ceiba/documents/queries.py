"""Reads of issued documents, filtered by administration and by who is asking."""

from __future__ import annotations

import datetime as dt

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from ceiba.accounts.models import User
from ceiba.accounts.roles import INSTITUTION_ROLES, Role
from ceiba.cases.models import Case
from ceiba.documents.models import IssuedDocument
from ceiba.documents.revocation import RevocationEntry, RevocationList
from ceiba.tenancy.models import Administration


def visible_documents(user: User, administration: Administration) -> QuerySet[IssuedDocument]:
    """What ``user`` may see and download: their own documents, their business's documents
    (business representatives), or every document of their institution (officers and
    supervisors). Nothing of another administration."""
    documents = IssuedDocument.objects.filter(administration=administration).select_related(
        "institution", "institution__administration", "supersedes"
    )
    if not user.is_authenticated or user.administration_id != administration.pk:
        return documents.none()
    allowed = Q(applicant=user)
    if user.role == Role.BUSINESS_REP and user.legal_entity_id is not None:
        allowed |= Q(legal_entity_id=user.legal_entity_id)
    if user.role in INSTITUTION_ROLES and user.institution_id is not None:
        allowed |= Q(institution_id=user.institution_id)
    return documents.filter(allowed)


def visible_document(
    user: User, administration: Administration, number: str
) -> IssuedDocument | None:
    return visible_documents(user, administration).filter(number=number).first()


def documents_of_case(case: Case) -> QuerySet[IssuedDocument]:
    """The documents issued for ``case``, newest first, each annotated with ``superseded``
    (a correction replaced it). The caller has checked that the visitor may see the case."""
    if not case.reference:
        return IssuedDocument.objects.none()
    return (
        IssuedDocument.objects.filter(
            administration_id=case.administration_id, case_reference=case.reference
        )
        .annotate(superseded=Exists(IssuedDocument.objects.filter(supersedes=OuterRef("pk"))))
        .order_by("-issued_at", "-created_at")  # a correction may be issued the same second
    )


def document_by_number(administration: Administration, number: str) -> IssuedDocument | None:
    """For public verification only: the caller shows nothing but what the document prints."""
    return (
        IssuedDocument.objects.filter(administration=administration, number=number)
        .select_related("institution", "institution__administration", "applicant")
        .first()
    )


def is_superseded(document: IssuedDocument) -> bool:
    return IssuedDocument.objects.filter(supersedes=document).exists()


def revocation_entries(administration: Administration) -> list[RevocationEntry]:
    rows = (
        IssuedDocument.objects.filter(administration=administration)
        .revoked()
        .order_by("number")
        .values_list("number", "revoked_at", "revocation_reason")
    )
    return [RevocationEntry(number, revoked_at, reason) for number, revoked_at, reason in rows]


def revocation_list(
    administration: Administration, administration_name: str, now: dt.datetime | None = None
) -> RevocationList:
    """The current list (unsigned, for in-process checks). Revocations are never undone, so
    the number of entries is a sequence that only grows."""
    entries = revocation_entries(administration)
    return RevocationList(
        administration=administration_name,
        issued_at=(now or timezone.now()).replace(microsecond=0),
        sequence=len(entries),
        entries=tuple(entries),
    )

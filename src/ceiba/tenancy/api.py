from __future__ import annotations

import uuid

from django.http import HttpRequest
from ninja import Router, Schema
from ninja.errors import HttpError

from ceiba.tenancy import queries

router = Router(tags=["tenancy"])


class InstitutionOut(Schema):
    id: uuid.UUID
    member_id: str
    names: dict[str, str]
    kind: str
    sector: str


class AdministrationOut(Schema):
    slug: str
    names: dict[str, str]
    default_language: str
    time_zone: str
    currency: str


@router.get("/administration", response=AdministrationOut, auth=None, summary="This administration")
def administration(request: HttpRequest) -> AdministrationOut:
    current = request.administration  # type: ignore[attr-defined]
    return AdministrationOut(
        slug=current.slug,
        names=current.names,
        default_language=current.default_language,
        time_zone=current.time_zone,
        currency=current.currency,
    )


@router.get("/institutions", response=list[InstitutionOut], auth=None, summary="Institutions")
def institutions(request: HttpRequest) -> list[InstitutionOut]:
    return [
        InstitutionOut(
            id=item.pk,
            member_id=item.member_id,
            names=item.names,
            kind=item.kind,
            sector=item.sector,
        )
        for item in queries.institutions(request.administration)  # type: ignore[attr-defined]
    ]


@router.get(
    "/institutions/{member_class}/{member_code}",
    response=InstitutionOut,
    auth=None,
    summary="One institution by its member identifier",
)
def institution(request: HttpRequest, member_class: str, member_code: str) -> InstitutionOut:
    item = queries.institution_by_member(
        request.administration,  # type: ignore[attr-defined]
        f"{member_class}/{member_code}",
    )
    if item is None:
        raise HttpError(404, "No such institution.")
    return InstitutionOut(
        id=item.pk, member_id=item.member_id, names=item.names, kind=item.kind, sector=item.sector
    )

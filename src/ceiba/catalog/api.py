"""The catalog over the REST API: search services, read one with its current definition.

Public (no sign-in): the catalog is what the portal shows to anyone. Scoped to the
administration serving the host.
"""

import uuid
from decimal import Decimal
from typing import Any

from django.http import HttpRequest
from django.utils.translation import get_language
from ninja import Query, Router, Schema
from ninja.errors import HttpError
from ninja.pagination import LimitOffsetPagination, paginate
from pydantic import Field

from ceiba.catalog import queries
from ceiba.catalog.definition import ServiceDefinition
from ceiba.catalog.models import Service
from ceiba.tenancy import queries as tenancy_queries

router = Router(tags=["catalog"])


def text_of(texts: dict[str, str] | None, fallback: str) -> str:
    if not texts:
        return ""
    language = (get_language() or fallback).split("-")[0]
    return texts.get(language) or texts.get(fallback) or next(iter(texts.values()), "")


class ServiceFilters(Schema):
    q: str = Field(default="", max_length=200, description="Words to find, in any language.")
    institution: str = Field(
        default="", max_length=80, description="Member id of the institution, e.g. GOV/70000001."
    )
    sector: str = Field(default="", max_length=64)
    life_event: str = Field(default="", max_length=64)


class ServiceSummary(Schema):
    id: uuid.UUID
    code: str
    name: str
    description: str
    names: dict[str, str]
    institution: str
    sector: str
    life_events: list[str]
    applicants: list[str]
    version: int | None


class DocumentOut(Schema):
    id: str
    type: str
    label: str
    mime_types: list[str]
    max_bytes: int
    requirement: str
    when: str | None


class FeeOut(Schema):
    id: str
    label: str
    kind: str
    amount: Decimal | None
    formula: str | None
    when: str | None


class StateOut(Schema):
    id: str
    label: str
    sla_working_days: int | None
    final: bool


class TransitionOut(Schema):
    name: str
    label: str
    sources: list[str]
    target: str
    roles: list[str]
    inputs: list[str]
    automatic: bool


class SectionOut(Schema):
    id: str
    title: str
    fields: list[str]
    condition: dict[str, Any] | None


class FormOut(Schema):
    schema_: dict[str, Any] = Field(alias="schema", description="JSON Schema 2020-12 of answers.")
    sections: list[SectionOut]
    fields: dict[str, dict[str, Any]]


class ServiceDetail(ServiceSummary):
    version_id: uuid.UUID
    version_label: str
    currency: str | None
    form: FormOut
    documents: list[DocumentOut]
    fees: list[FeeOut]
    states: list[StateOut]
    transitions: list[TransitionOut]
    initial_state: str


def summary(service: Service) -> dict[str, Any]:
    fallback = service.administration.default_language
    return {
        "id": service.pk,
        "code": service.code,
        "name": text_of(service.names, fallback),
        "description": text_of(service.descriptions, fallback),
        "names": service.names,
        "institution": service.institution.member_id,
        "sector": service.sector,
        "life_events": service.life_events,
        "applicants": service.applicants,
        "version": service.current_version.number if service.current_version else None,
    }


def form_out(definition: ServiceDefinition, fallback: str) -> dict[str, Any]:
    return {
        "schema": definition.form.validation_schema(),
        "sections": [
            {
                "id": section.id,
                "title": text_of(section.title, fallback),
                "fields": list(section.fields),
                "condition": section.condition,
            }
            for section in definition.form.sections
        ],
        "fields": {
            name: {
                "label": text_of(hints.label, fallback),
                "help": text_of(hints.help, fallback) if hints.help else None,
                "widget": hints.widget,
                "options": {key: text_of(value, fallback) for key, value in hints.options.items()},
            }
            for name, hints in definition.form.fields.items()
        },
    }


def detail(service: Service) -> dict[str, Any]:
    version = service.current_version
    assert version is not None  # published services have one
    definition = queries.definition_for(version)
    fallback = service.administration.default_language
    fees = definition.fees
    return {
        **summary(service),
        "version_id": version.pk,
        "version_label": version.label,
        "currency": fees.currency if fees else None,
        "form": form_out(definition, fallback),
        "documents": [
            {
                "id": item.id,
                "type": item.type,
                "label": text_of(item.label, fallback),
                "mime_types": list(item.mime_types),
                "max_bytes": item.max_bytes,
                "requirement": item.requirement,
                "when": item.when.source if item.when else None,
            }
            for item in definition.documents
        ],
        "fees": [
            {
                "id": item.id,
                "label": text_of(item.label, fallback),
                "kind": item.kind,
                "amount": item.amount,
                "formula": item.formula.source if item.formula else None,
                "when": item.when.source if item.when else None,
            }
            for item in (fees.items if fees else ())
        ],
        "states": [
            {
                "id": state.id,
                "label": text_of(state.label, fallback),
                "sla_working_days": state.sla_working_days,
                "final": state.final,
            }
            for state in definition.workflow.states.values()
        ],
        "transitions": [
            {
                "name": item.name,
                "label": text_of(item.label, fallback),
                "sources": list(item.sources),
                "target": item.target,
                "roles": sorted(item.roles),
                "inputs": list(item.inputs),
                "automatic": item.automatic,
            }
            for item in definition.workflow.transitions
        ],
        "initial_state": definition.workflow.initial,
    }


@router.get(
    "/services",
    response=list[ServiceSummary],
    auth=None,
    summary="Search the catalog",
    description="Published services, filtered by words (any language, accents ignored), "
    "institution, sector and life event. Paginated with `limit` and `offset`.",
)
@paginate(LimitOffsetPagination)
def services(request: HttpRequest, filters: Query[ServiceFilters]) -> list[dict[str, Any]]:
    administration = request.administration  # type: ignore[attr-defined]
    institution = None
    if filters.institution:
        institution = tenancy_queries.institution_by_member(administration, filters.institution)
        if institution is None:
            return []
    found = queries.published_services(
        administration,
        institution=institution,
        sector=filters.sector,
        life_event=filters.life_event,
        text=filters.q,
    )
    return [summary(service) for service in found]


@router.get(
    "/services/{service_code}",
    response=ServiceDetail,
    by_alias=True,
    auth=None,
    summary="One service with its current definition and form schema",
    description="`service_code` is the definition id (e.g. civil-registry.birth-certificate-copy) "
    "or the service's UUID.",
)
def service(request: HttpRequest, service_code: str) -> dict[str, Any]:
    administration = request.administration  # type: ignore[attr-defined]
    found = queries.service(administration, service_code)
    if found is None:
        try:
            found = queries.service_by_id(administration, uuid.UUID(service_code))
        except ValueError:
            found = None
    if found is None:
        raise HttpError(404, "No such service.")
    return detail(found)

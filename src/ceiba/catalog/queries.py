"""Reads of the catalog, scoped to one administration."""

from __future__ import annotations

import json
import unicodedata
from typing import Any

from django.db.models import QuerySet

from ceiba.catalog.definition import ServiceDefinition, load_text
from ceiba.catalog.models import Service, ServiceVersion
from ceiba.tenancy.models import Administration, Institution


def published_services(
    administration: Administration,
    *,
    institution: Institution | None = None,
    sector: str = "",
    life_event: str = "",
    text: str = "",
) -> QuerySet[Service]:
    """Services citizens can see, filtered; ``text`` matches every word, in any language."""
    services = (
        Service.objects.published()
        .filter(administration=administration)
        .select_related("institution", "current_version", "administration")
    )
    if institution is not None:
        services = services.filter(institution=institution)
    if sector:
        services = services.filter(sector=sector)
    if life_event:
        # JSON containment is not on SQLite; the padded text search is exact on tags.
        services = services.filter(life_events__icontains=f'"{life_event}"')
    for word in fold(text).split()[:10]:
        services = services.filter(search_text__contains=word)
    return services


def service(administration: Administration, code: str) -> Service | None:
    return published_services(administration).filter(code=code).first()


def service_by_id(administration: Administration, service_id: Any) -> Service | None:
    try:
        return published_services(administration).filter(pk=service_id).first()
    except (ValueError, TypeError):
        return None


def sectors(administration: Administration) -> list[str]:
    return sorted(set(published_services(administration).values_list("sector", flat=True)))


def life_events(administration: Administration) -> list[str]:
    events: set[str] = set()
    for tags in published_services(administration).values_list("life_events", flat=True):
        events.update(tags)
    return sorted(events)


def versions(service: Service) -> QuerySet[ServiceVersion]:
    return service.versions.all()


def definition_for(version: ServiceVersion) -> ServiceDefinition:
    """The parsed definition of a stored version (cached per content hash, per process)."""
    cached = _DEFINITIONS.get(version.content_hash)
    if cached is not None:
        return cached
    # JSON is YAML, so the stored document goes through the same validation as files.
    text = json.dumps(version.raw, ensure_ascii=False)
    definition = load_text(text, file=f"{version.service_id}#{version.number}")
    if definition.content_hash != version.content_hash:
        raise ValueError(f"stored definition does not match its hash {version.content_hash}")
    if len(_DEFINITIONS) >= _CACHE_SIZE:
        _DEFINITIONS.pop(next(iter(_DEFINITIONS)))
    _DEFINITIONS[version.content_hash] = definition
    return definition


# Parsed definitions are immutable and keyed by content: a per-process cache, never stale.
_CACHE_SIZE = 256
_DEFINITIONS: dict[str, ServiceDefinition] = {}


def fold(text: str) -> str:
    """Lower case without accents, for searches typed on phones."""
    return "".join(
        char
        for char in unicodedata.normalize("NFKD", text.casefold())
        if not unicodedata.combining(char)
    )

"""Load service definitions into an administration's catalog."""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from django.db import transaction

from ceiba.accounts.models import User
from ceiba.catalog.definition import (
    DefinitionError,
    DefinitionInvalid,
    ServiceDefinition,
    load_paths,
)
from ceiba.catalog.models import Service, ServiceVersion
from ceiba.catalog.queries import fold
from ceiba.tenancy.models import Administration, Institution

# The packs shipped with the platform (in a source checkout or an editable install).
PACKS_DIR = Path(__file__).resolve().parents[3] / "packs"


@dataclass(frozen=True)
class LoadedService:
    code: str
    status: str  # "created", "new_version" or "unchanged"
    version: int
    source: str


@dataclass
class LoadResult:
    services: list[LoadedService] = field(default_factory=list)

    @property
    def changed(self) -> int:
        return sum(1 for entry in self.services if entry.status != "unchanged")


def do_load_service_definitions(
    paths: Iterable[str | os.PathLike[str]],
    *,
    administration: Administration,
    actor: User | None,
) -> LoadResult:
    """Validate every file, then load all of them in one transaction, or raise
    ``DefinitionInvalid`` and load nothing.

    A service whose content hash is unchanged keeps its version; a changed one gets a new
    ``ServiceVersion`` that becomes current, while cases already started stay on theirs.
    Each definition's institution (its X-Road member id) must exist in the administration.
    """
    from ceiba.cases.hooks import registered

    definitions = load_paths(paths, hooks=registered())
    return do_load_definitions(definitions, administration=administration, actor=actor)


@transaction.atomic
def do_load_definitions(
    definitions: Sequence[ServiceDefinition],
    *,
    administration: Administration,
    actor: User | None,
) -> LoadResult:
    """Load already parsed definitions (see :func:`do_load_service_definitions`)."""
    from ceiba.ledger.actions import record
    from ceiba.ledger.models import EntryKind

    institutions: dict[str, Institution] = {}
    errors = []
    for definition in definitions:
        member_class, _sep, member_code = definition.institution.partition("/")
        institution = Institution.objects.filter(
            administration=administration, member_class=member_class, member_code=member_code
        ).first()
        if institution is None:
            errors.append(
                DefinitionError(
                    definition.source,
                    None,
                    "institution",
                    f"no institution {definition.institution!r} in administration "
                    f"{administration.slug!r}",
                )
            )
        else:
            institutions[definition.id] = institution
    if errors:
        raise DefinitionInvalid(errors)

    result = LoadResult()
    for definition in definitions:
        service, created = Service.objects.select_for_update().get_or_create(
            administration=administration,
            code=definition.id,
            defaults={"institution": institutions[definition.id]},
        )
        version = ServiceVersion.objects.filter(
            service=service, content_hash=definition.content_hash
        ).first()
        status = "unchanged"
        if version is None:
            last = service.versions.order_by("-number").values_list("number", flat=True).first()
            version = ServiceVersion.objects.create(
                administration=administration,
                service=service,
                number=(last or 0) + 1,
                label=definition.version,
                content_hash=definition.content_hash,
                raw=definition.raw,
                source=definition.source[:500],
                loaded_by=actor,
            )
            status = "created" if created else "new_version"
        elif service.current_version_id != version.pk:
            status = "new_version"  # back to an earlier content: make it current again
        service.institution = institutions[definition.id]
        service.names = definition.name
        service.descriptions = definition.description
        service.sector = definition.sector
        service.life_events = list(definition.life_events)
        service.applicants = list(definition.applicants)
        service.current_version = version
        service.search_text = _search_text(definition)
        service.save()
        if status != "unchanged":
            record(
                kind=EntryKind.ADMIN_CHANGE,
                actor=actor,
                administration=administration,
                institution=service.institution,
                purpose="catalog.load",
                # The catalog is public: the service is named in clear, no reference needed.
                details={
                    "service": service.code,
                    "version": version.number,
                    "content_hash": version.content_hash,
                },
            )
        result.services.append(
            LoadedService(definition.id, status, version.number, definition.source)
        )
    return result


def _search_text(definition: ServiceDefinition) -> str:
    parts = [definition.id, definition.sector, *definition.life_events]
    parts += list(definition.name.values()) + list(definition.description.values())
    return fold(" ".join(parts))

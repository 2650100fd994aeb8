from __future__ import annotations

from django.db.models import QuerySet

from ceiba.tenancy.models import Administration, Institution


def administration_for_host(host: str) -> Administration | None:
    """Resolve the administration serving `host`.

    A deployment with a single active administration serves it on every host; with several,
    only a registered hostname resolves.
    """
    hostname = host.split(":")[0].lower().rstrip(".")
    registered = Administration.objects.filter(hostnames__hostname=hostname).first()
    if registered is not None:
        # A host registered to a deactivated administration serves nobody else's portal.
        return registered if registered.is_active else None
    active = list(Administration.objects.filter(is_active=True)[:2])
    if len(active) == 1:
        return active[0]
    return None


def institutions(administration: Administration) -> QuerySet[Institution]:
    return (
        Institution.objects.for_administration(administration)
        .filter(is_active=True)
        .select_related("administration")
    )


def institution_by_member(administration: Administration, member_id: str) -> Institution | None:
    member_class, _sep, member_code = member_id.partition("/")
    return (
        institutions(administration)
        .filter(member_class=member_class, member_code=member_code)
        .first()
    )

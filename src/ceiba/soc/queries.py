from __future__ import annotations

from django.db.models import QuerySet

from ceiba.accounts.models import User
from ceiba.accounts.roles import Permission, Role
from ceiba.soc.models import SecurityEvent
from ceiba.tenancy.models import Administration


def security_events_for(
    user: User, administration: Administration | None
) -> QuerySet[SecurityEvent]:
    """Events of the administration serving the request that the user may see.

    Everybody, platform administrators included, reads one administration's events through a
    tenant host; reading across administrations is for the Django admin only.
    """
    if administration is None or not user.has_role_permission(Permission.VIEW_SECURITY_EVENTS):
        return SecurityEvent.objects.none()
    if user.role != Role.PLATFORM_ADMIN and user.administration_id != administration.pk:
        return SecurityEvent.objects.none()
    return SecurityEvent.objects.filter(administration=administration)

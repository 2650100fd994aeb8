from __future__ import annotations

from django.db.models import QuerySet

from ceiba.accounts.models import User
from ceiba.accounts.roles import Permission, Role
from ceiba.soc.models import SecurityEvent


def security_events_for(user: User) -> QuerySet[SecurityEvent]:
    """Events the user may see: their administration's, or all for a platform administrator."""
    if not user.has_role_permission(Permission.VIEW_SECURITY_EVENTS):
        return SecurityEvent.objects.none()
    if user.role == Role.PLATFORM_ADMIN:
        return SecurityEvent.objects.all()
    if user.administration_id is None:
        return SecurityEvent.objects.none()
    return SecurityEvent.objects.filter(administration_id=user.administration_id)

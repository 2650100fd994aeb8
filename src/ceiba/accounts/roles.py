"""Roles and what each may do. One role per account; people with two roles have two accounts."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    CITIZEN = "citizen", _("Citizen")
    BUSINESS_REP = "business_rep", _("Business representative")
    OFFICER = "officer", _("Officer")
    SUPERVISOR = "supervisor", _("Supervisor")
    SOC_ANALYST = "soc_analyst", _("SOC analyst")
    ADMIN = "admin", _("Administration administrator")
    PLATFORM_ADMIN = "platform_admin", _("Platform administrator")


PUBLIC_ROLES = frozenset({Role.CITIZEN, Role.BUSINESS_REP})
STAFF_ROLES = frozenset(
    {Role.OFFICER, Role.SUPERVISOR, Role.SOC_ANALYST, Role.ADMIN, Role.PLATFORM_ADMIN}
)
INSTITUTION_ROLES = frozenset({Role.OFFICER, Role.SUPERVISOR})


class Permission(models.TextChoices):
    """Capabilities checked by views and the API; granted to roles in ROLE_PERMISSIONS."""

    APPLY = "apply", _("Apply for services")
    APPLY_FOR_BUSINESS = "apply_for_business", _("Apply on behalf of a business")
    PROCESS_CASES = "process_cases", _("Process cases")
    SUPERVISE_CASES = "supervise_cases", _("Supervise and reassign cases")
    VIEW_SECURITY_EVENTS = "view_security_events", _("View security events")
    MANAGE_INCIDENTS = "manage_incidents", _("Manage incidents")
    MANAGE_ADMINISTRATION = "manage_administration", _("Manage the administration")
    MANAGE_USERS = "manage_users", _("Manage accounts")
    MANAGE_PLATFORM = "manage_platform", _("Manage the platform")


ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    Role.CITIZEN: frozenset({Permission.APPLY}),
    Role.BUSINESS_REP: frozenset({Permission.APPLY, Permission.APPLY_FOR_BUSINESS}),
    Role.OFFICER: frozenset({Permission.PROCESS_CASES}),
    Role.SUPERVISOR: frozenset({Permission.PROCESS_CASES, Permission.SUPERVISE_CASES}),
    Role.SOC_ANALYST: frozenset({Permission.VIEW_SECURITY_EVENTS, Permission.MANAGE_INCIDENTS}),
    Role.ADMIN: frozenset(
        {
            Permission.MANAGE_ADMINISTRATION,
            Permission.MANAGE_USERS,
            Permission.VIEW_SECURITY_EVENTS,
        }
    ),
    Role.PLATFORM_ADMIN: frozenset(
        {
            Permission.MANAGE_PLATFORM,
            Permission.MANAGE_ADMINISTRATION,
            Permission.MANAGE_USERS,
            Permission.VIEW_SECURITY_EVENTS,
        }
    ),
}

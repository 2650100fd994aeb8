from __future__ import annotations

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja.errors import HttpError

from ceiba.accounts.models import User
from ceiba.web.middleware import record_permission_denied


def require_permission(request: HttpRequest, permission: str) -> User:
    """Return the signed-in account if its role grants `permission`; else record and refuse."""
    user = request.user
    if not user.is_authenticated or not user.has_role_permission(permission):
        record_permission_denied(request, f"missing permission {permission}")
        raise HttpError(403, _("Your role does not allow this."))
    return user

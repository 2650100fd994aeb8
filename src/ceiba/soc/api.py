from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Router, Schema
from ninja.pagination import LimitOffsetPagination, paginate

from ceiba.accounts.permissions import require_permission
from ceiba.accounts.roles import Permission
from ceiba.soc import queries
from ceiba.soc.models import SecurityEvent

router = Router(tags=["soc"])


class SecurityEventOut(Schema):
    id: uuid.UUID
    occurred_at: datetime
    category: str
    action: str
    outcome: str
    actor_name: str
    source_ip: str | None
    normalized: dict[str, Any]

    @staticmethod
    def resolve_normalized(obj: SecurityEvent) -> dict[str, Any]:
        return obj.to_normalized()


@router.get("/security-events", response=list[SecurityEventOut], summary="Security events")
@paginate(LimitOffsetPagination)
def security_events(request: HttpRequest) -> QuerySet[SecurityEvent]:
    user = require_permission(request, Permission.VIEW_SECURITY_EVENTS)
    administration = getattr(request, "administration", None)
    return queries.security_events_for(user, administration).select_related("administration")

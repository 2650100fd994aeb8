from __future__ import annotations

import logging
from typing import Any

from django.http import HttpRequest

from ceiba.soc.models import EventAction, EventCategory, EventOutcome, SecurityEvent
from ceiba.tenancy.models import Administration
from ceiba.web.clientip import client_ip

logger = logging.getLogger("ceiba.security")

_SECRET_MARKERS = ("password", "secret", "token", "otp", "code", "key")


def _redact(details: dict[str, Any]) -> dict[str, Any]:
    return {
        key: "[redacted]" if any(marker in key.lower() for marker in _SECRET_MARKERS) else value
        for key, value in details.items()
    }


def record_security_event(
    *,
    category: EventCategory | str,
    action: EventAction | str,
    outcome: EventOutcome | str,
    request: HttpRequest | None = None,
    actor: Any = None,
    actor_name: str = "",
    administration: Administration | None = None,
    target: str = "",
    reason: str = "",
    details: dict[str, Any] | None = None,
) -> SecurityEvent:
    """Record one security-relevant event. The single door for the monitoring center.

    `actor` is the account concerned (may be anonymous/None); `actor_name` is what identifies
    an actor without an account (the e-mail typed in a failed sign-in). Request metadata
    (source address, user agent, request id, administration) is taken from `request`.
    Secrets in `details` are redacted by key name.
    """
    if actor is not None and not getattr(actor, "is_authenticated", False):
        actor = None
    if administration is None and request is not None:
        administration = getattr(request, "administration", None)
    if administration is None and actor is not None:
        administration = actor.administration
    meta = request.META if request is not None else {}
    event = SecurityEvent.objects.create(
        administration=administration,
        category=str(category),
        action=str(action),
        outcome=str(outcome),
        actor_id=actor.pk if actor is not None else None,
        actor_name=(actor.email if actor is not None else actor_name)[:254],
        actor_role=actor.role if actor is not None else "",
        source_ip=(client_ip(request) if request is not None else None) or None,
        user_agent=str(meta.get("HTTP_USER_AGENT", ""))[:512],
        request_id=getattr(request, "request_id", "") if request is not None else "",
        http_method=request.method or "" if request is not None else "",
        url_path=request.path[:512] if request is not None else "",
        target=target[:200],
        reason=reason[:200],
        details=_redact(details or {}),
    )
    logger.info(
        "security event %s/%s %s",
        event.category,
        event.action,
        event.outcome,
        extra={"security_event": str(event.id)},
    )
    return event

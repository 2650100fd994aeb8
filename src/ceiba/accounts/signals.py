"""Turn Django's authentication signals into security events."""

from __future__ import annotations

from typing import Any

from axes.signals import user_locked_out
from django.contrib.admin.models import LogEntry
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.contrib.contenttypes.models import ContentType
from django.db.models.signals import post_save
from django.dispatch import receiver
from django.http import HttpRequest

from ceiba.soc.actions import record_security_event
from ceiba.soc.models import EventAction, EventCategory, EventOutcome


@receiver(user_logged_in)
def _logged_in(sender: Any, request: HttpRequest, user: Any, **kwargs: Any) -> None:
    record_security_event(
        category=EventCategory.AUTHENTICATION,
        action=EventAction.LOGIN,
        outcome=EventOutcome.SUCCESS,
        request=request,
        actor=user,
    )


@receiver(user_logged_out)
def _logged_out(sender: Any, request: HttpRequest, user: Any, **kwargs: Any) -> None:
    if user is not None:
        record_security_event(
            category=EventCategory.AUTHENTICATION,
            action=EventAction.LOGOUT,
            outcome=EventOutcome.SUCCESS,
            request=request,
            actor=user,
        )


@receiver(user_login_failed)
def _login_failed(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
) -> None:
    if request is None:
        return
    record_security_event(
        category=EventCategory.AUTHENTICATION,
        action=EventAction.LOGIN,
        outcome=EventOutcome.FAILURE,
        request=request,
        actor_name=str(credentials.get("username", "")),
        reason="bad_credentials",
    )


@receiver(user_locked_out)
def _locked_out(
    sender: Any, request: HttpRequest, username: str | None, ip_address: str | None, **kwargs: Any
) -> None:
    record_security_event(
        category=EventCategory.AUTHENTICATION,
        action=EventAction.LOCKOUT,
        outcome=EventOutcome.FAILURE,
        request=request,
        actor_name=(username or "").partition(":")[2] or (username or ""),
        reason="too_many_failures",
    )


@receiver(post_save, sender=LogEntry)
def _admin_change(sender: Any, instance: LogEntry, created: bool, **kwargs: Any) -> None:
    if not created:
        return
    record_security_event(
        category=EventCategory.CONFIGURATION,
        action=EventAction.ADMIN_CHANGE,
        outcome=EventOutcome.SUCCESS,
        actor=instance.user,
        target=_admin_target(instance),
        details={"change": instance.get_action_flag_display(), "object": instance.object_repr},
    )


def _admin_target(entry: LogEntry) -> str:
    content_type = (
        ContentType.objects.get_for_id(entry.content_type_id) if entry.content_type_id else None
    )
    if content_type is None:
        return ""
    return f"{content_type.app_label}.{content_type.model}:{entry.object_id}"

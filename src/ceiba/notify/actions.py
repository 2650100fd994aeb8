"""The single door for messages to people: :func:`send` writes outbox rows; delivery follows
after commit (``notify.tasks.deliver``)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from ceiba.accounts.models import User
from ceiba.notify.hooks import sms_gateway
from ceiba.notify.models import MAX_ATTEMPTS, Channel, Notification, Status
from ceiba.tenancy.models import Administration

logger = logging.getLogger("ceiba.notify")
SMS_MAX_CHARS = 480


def send(
    *,
    administration: Administration,
    subject: str,
    body: str,
    user: User | None = None,
    email: str = "",
    phone: str = "",
    language: str = "",
    topic: str = "",
    sms_text: str = "",
) -> list[Notification]:
    """Queue an e-mail (to ``email``, else the user's address) and, when a phone number is
    given, an SMS (``sms_text``, else the subject). Runs in the caller's transaction: a rolled
    back change sends nothing. Texts must already be in the recipient's language."""
    rows: list[Notification] = []
    address = email or (user.email if user is not None else "")
    if address:
        rows.append(
            Notification(
                administration=administration,
                channel=Channel.EMAIL,
                recipient=address[:254],
                user=user,
                language=language,
                subject=subject[:200],
                body=body,
                topic=topic[:120],
            )
        )
    if phone:
        rows.append(
            Notification(
                administration=administration,
                channel=Channel.SMS,
                recipient=phone[:254],
                user=user,
                language=language,
                subject="",
                body=(sms_text or subject)[:SMS_MAX_CHARS],
                topic=topic[:120],
            )
        )
    Notification.objects.bulk_create(rows)
    ids = [row.pk for row in rows]
    if ids:
        transaction.on_commit(lambda: _enqueue(ids))
    return rows


def _enqueue(ids: Sequence[Any]) -> None:
    from ceiba.notify.tasks import deliver

    for notification_id in ids:
        deliver(str(notification_id))


def do_deliver_notification(notification_id: Any) -> bool:
    """Send one outbox row if nobody else has; return True when this call sent it.

    The move pending -> sending is one conditional UPDATE: of two workers, one claims it.
    A delivery error puts the row back to pending (or failed after MAX_ATTEMPTS) and is raised,
    so the job queue retries later.
    """
    claimed = Notification.objects.filter(pk=notification_id, status=Status.PENDING).update(
        status=Status.SENDING, attempts=F("attempts") + 1, claimed_at=timezone.now()
    )
    if claimed != 1:
        return False
    notification = Notification.objects.get(pk=notification_id)
    try:
        provider_id = _deliver(notification)
    except Exception as exc:
        failed = notification.attempts >= MAX_ATTEMPTS
        Notification.objects.filter(pk=notification.pk, status=Status.SENDING).update(
            status=Status.FAILED if failed else Status.PENDING,
            last_error=f"{exc.__class__.__name__}: {exc}"[:500],
        )
        logger.warning("notification %s not delivered: %s", notification.pk, exc)
        raise
    Notification.objects.filter(pk=notification.pk, status=Status.SENDING).update(
        status=Status.SENT, sent_at=timezone.now(), provider_id=provider_id[:200], last_error=""
    )
    return True


def _deliver(notification: Notification) -> str:
    if notification.channel == Channel.EMAIL:
        message = EmailMessage(notification.subject, notification.body, to=[notification.recipient])
        message.extra_headers["X-Ceiba-Notification"] = str(notification.pk)
        message.send()
        return str(notification.pk)
    return sms_gateway().send(notification.recipient, notification.body)


def pending_ids(limit: int = 500) -> list[Any]:
    return list(
        Notification.objects.filter(status=Status.PENDING)
        .order_by("created_at")
        .values_list("pk", flat=True)[:limit]
    )

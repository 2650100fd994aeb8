from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from ceiba.notify import actions


@db_task(retries=5, retry_delay=60)
def deliver(notification_id: str) -> bool:
    """Deliver one outbox row; safe to run twice (the second run finds it claimed)."""
    return actions.do_deliver_notification(notification_id)


@db_periodic_task(crontab(minute="*/5"))
def deliver_pending() -> int:
    """Pick up rows whose delivery job was lost (a worker restart); sends each at most once."""
    sent = 0
    for notification_id in actions.pending_ids():
        try:
            sent += int(actions.do_deliver_notification(notification_id))
        except Exception:  # noqa: S112 - already recorded on the row; the next sweep retries
            continue
    return sent

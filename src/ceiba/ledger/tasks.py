"""Background jobs of the transparency log: integrate pending entries, sign checkpoints."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task


@db_task()
def integrate_log(log_id: int) -> int:
    """Append a log's pending entries to its tree and publish a checkpoint; safe to run twice."""
    from ceiba.ledger.integrator import integrate

    return integrate(log_id).appended


@db_periodic_task(crontab(minute="*"))
def integrate_all_logs() -> int:
    """Catch up every log, in case an after-commit job was lost."""
    from ceiba.ledger.integrator import integrate_all

    return sum(result.appended for result in integrate_all())

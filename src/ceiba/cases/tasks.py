"""Background jobs of cases: SLA timers and retries of automatic steps. Safe to run twice."""

from __future__ import annotations

import logging

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from ceiba.cases import actions, queries
from ceiba.cases.errors import CaseError
from ceiba.cases.models import Case, Phase

logger = logging.getLogger("ceiba.cases")


def mark_overdue_cases(now: object = None) -> int:
    """Flag every case past its time limit once and tell its officer (or supervisors)."""
    flagged = 0
    for case in queries.overdue_cases(now).select_related("administration")[:1000]:
        try:
            flagged += int(actions.do_mark_overdue(case, now=now))  # type: ignore[arg-type]
        except CaseError as exc:
            logger.warning("case %s not flagged: %s", case.pk, exc)
    return flagged


def retry_automatic_steps() -> int:
    """Run automatic steps still pending (a hook was unavailable)."""
    from ceiba.cases.workflow import machine_for

    moved = 0
    for case in Case.objects.filter(phase=Phase.OPEN).select_related("service_version")[:5000]:
        machine = machine_for(case.service_version)
        if not machine.automatic_from(case.state):
            continue
        before = case.state
        after = actions.do_run_automatic_steps(case)
        moved += int(after.state != before)
    return moved


@db_periodic_task(crontab(minute="*/10"))
def sla_sweep() -> int:
    return mark_overdue_cases()


@db_periodic_task(crontab(minute="*/15"))
def automatic_steps_sweep() -> int:
    return retry_automatic_steps()

from __future__ import annotations

from huey.contrib.djhuey import db_task

from ceiba.cases.models import Case
from ceiba.documents.actions import do_issue_case_outputs


@db_task(retries=3, retry_delay=30)
def issue_case_outputs(case_id: str) -> None:
    """Issue the documents of a case's current state (after a transition commits).

    Rendering and signing take a few hundred milliseconds, so they happen here and not in the
    officer's request. Safe to run twice.
    """
    case = (
        Case.objects.select_related(
            "administration", "institution", "applicant", "legal_entity", "service_version"
        )
        .filter(pk=case_id)
        .first()
    )
    if case is not None:
        do_issue_case_outputs(case)

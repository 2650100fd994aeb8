"""Several integrators at once (PostgreSQL row locks): each entry is appended exactly once."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from django.db import connection

from ceiba.ledger import actions
from ceiba.ledger.integrator import integrate
from ceiba.ledger.models import LedgerEntry, Log
from ceiba.ledger.verification import audit_log
from tests.conftest import Tenant
from tests.ledger.conftest import record_accesses


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_integrators_append_each_entry_once(
    tenant_a: Tenant, ledger_var: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL row locks (set CEIBA_TEST_DATABASE_URL)")
    actions.do_init_log(tenant_a.administration, actor=None)
    # given: 400 pending entries (no after-commit job, so the integrators find them all)
    monkeypatch.setattr(actions, "schedule_integration", lambda log_id: None)
    for _ in range(4):
        record_accesses(tenant_a, 100)
    log = Log.objects.get()
    start = threading.Barrier(4)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            start.wait()
            integrate(log.pk, batch_size=37)
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)
        finally:
            connection.close()

    # when: four integrators race
    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # then: one tree, every entry once, and it verifies
    assert errors == []
    log.refresh_from_db()
    assert log.size == 401
    indexes = sorted(LedgerEntry.objects.filter(log=log).values_list("leaf__index", flat=True))
    assert indexes == list(range(401))
    report = audit_log(log)
    assert report.ok, report.summary()

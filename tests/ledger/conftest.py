from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.db import transaction

from ceiba.accounts.roles import Role
from ceiba.ledger import actions
from ceiba.ledger.integrator import integrate
from ceiba.ledger.models import EntryKind, LedgerEntry, Log
from tests.conftest import Tenant


@pytest.fixture
def ledger_var(settings: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Keys and witness state under a temporary var directory."""
    settings.VAR_DIR = tmp_path
    monkeypatch.setenv("CEIBA_KEY_PASSPHRASE", "a test passphrase, long enough")
    monkeypatch.delenv("CEIBA_KEYS_DIR", raising=False)
    return tmp_path


def record_accesses(tenant: Tenant, count: int, **overrides: Any) -> list[LedgerEntry]:
    """``count`` officer accesses to the citizen's data, through the real action."""
    entries = []
    with transaction.atomic():
        for i in range(count):
            arguments: dict[str, Any] = {
                "kind": EntryKind.PERSONAL_DATA_VIEWED,
                "actor": tenant.users[Role.OFFICER],
                "administration": tenant.administration,
                "subject": tenant.users[Role.CITIZEN],
                "purpose": f"Case review {i}",
                "reference": f"case:{i:08d}",
            }
            arguments.update(overrides)
            entries.append(actions.record(**arguments))
    return entries


@pytest.fixture
def grown_log(tenant_a: Tenant, ledger_var: Path) -> Callable[[int], Log]:
    """Initialize tenant A's log, then grow it by n entries and integrate (a checkpoint each)."""
    actions.do_init_log(tenant_a.administration, actor=None)

    def grow(count: int) -> Log:
        record_accesses(tenant_a, count)
        log = Log.objects.get(administration=tenant_a.administration)
        integrate(log.pk, batch_size=7)
        log.refresh_from_db()
        return log

    return grow

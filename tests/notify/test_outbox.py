from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from django.core import mail

from ceiba.accounts.roles import Role
from ceiba.notify import actions
from ceiba.notify.models import Channel, Notification, Status
from tests.conftest import Tenant


@pytest.fixture(autouse=True)
def _var(settings: Any, tmp_path: Path) -> None:
    settings.VAR_DIR = tmp_path


def test_rows_are_sent_after_commit_exactly_once(
    tenant_a: Tenant, django_capture_on_commit_callbacks: Any, tmp_path: Path
) -> None:
    citizen = tenant_a.users[Role.CITIZEN]
    with django_capture_on_commit_callbacks(execute=True):
        rows = actions.send(
            administration=tenant_a.administration,
            user=citizen,
            subject="Hello",
            body="Body",
            phone="+237 600 000 000",
            sms_text="Hi",
        )
        assert mail.outbox == []  # nothing leaves before commit
    assert {row.channel for row in rows} == {Channel.EMAIL, Channel.SMS}
    assert [m.to for m in mail.outbox] == [[citizen.email]]
    sms = [
        json.loads(line) for line in (tmp_path / "sms" / "outbox.jsonl").read_text().splitlines()
    ]
    assert [(m["to"], m["text"]) for m in sms] == [("+237 600 000 000", "Hi")]
    assert set(Notification.objects.values_list("status", flat=True)) == {Status.SENT}
    # a second delivery (a retried job, a sweep) sends nothing
    for row in rows:
        assert actions.do_deliver_notification(row.pk) is False
    assert len(mail.outbox) == 1


def test_failure_goes_back_to_pending_then_succeeds(tenant_a: Tenant, settings: Any) -> None:
    settings.CEIBA_SMS_GATEWAY = "tests.notify.test_outbox.FlakyGateway"
    FlakyGateway.calls = 0
    (row,) = actions.send(
        administration=tenant_a.administration, subject="s", body="b", phone="+1 555 0100"
    )
    with pytest.raises(ConnectionError):
        actions.do_deliver_notification(row.pk)
    row.refresh_from_db()
    assert (row.status, row.attempts) == (Status.PENDING, 1)
    assert "ConnectionError" in row.last_error
    assert actions.do_deliver_notification(row.pk) is True
    row.refresh_from_db()
    assert (row.status, row.attempts, row.provider_id) == (Status.SENT, 2, "ok-2")
    assert FlakyGateway.calls == 2


def test_rolled_back_transaction_sends_nothing(tenant_a: Tenant) -> None:
    from django.db import transaction

    def change_that_fails() -> None:
        with transaction.atomic():
            actions.send(
                administration=tenant_a.administration,
                user=tenant_a.users[Role.CITIZEN],
                subject="s",
                body="b",
            )
            raise RuntimeError

    with pytest.raises(RuntimeError):
        change_that_fails()
    assert not Notification.objects.exists()
    assert mail.outbox == []


class FlakyGateway:
    calls = 0

    def send(self, to: str, text: str) -> str:
        FlakyGateway.calls += 1
        if FlakyGateway.calls == 1:
            raise ConnectionError("gateway down")
        return f"ok-{FlakyGateway.calls}"

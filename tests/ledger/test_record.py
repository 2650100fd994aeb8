"""ceiba.ledger.actions.record: the one door into the log."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.db import transaction

from ceiba.accounts.roles import Role
from ceiba.ledger import actions, merkle
from ceiba.ledger.canonical import REDACTED, decode_canonical
from ceiba.ledger.errors import LedgerError, LedgerErrorCode
from ceiba.ledger.models import EntryKind, LedgerEntry, Log, PendingEntry
from tests.conftest import Tenant

pytestmark = pytest.mark.django_db


def _record(tenant: Tenant, **overrides: Any) -> LedgerEntry:
    arguments: dict[str, Any] = {
        "kind": EntryKind.PERSONAL_DATA_VIEWED,
        "actor": tenant.users[Role.OFFICER],
        "administration": tenant.administration,
        "subject": tenant.users[Role.CITIZEN],
        "purpose": "Birth certificate request, Civil Code art. 42",
        "reference": "case:7d3c0a4e-9f5b-4a57-bb1e-0f1c9a6a1c11",
        "details": {"fields": ["name", "birth_date"]},
    }
    arguments.update(overrides)
    with transaction.atomic():
        return actions.record(**arguments)


def test_record_writes_a_pending_canonical_entry_with_commitments(tenant_a: Tenant) -> None:
    officer, citizen = tenant_a.users[Role.OFFICER], tenant_a.users[Role.CITIZEN]

    entry = _record(tenant_a)

    entry.refresh_from_db()
    assert entry.index is None
    # the leaf hash is final at once; the entry waits in the queue for its index
    assert bytes(entry.leaf_hash) == merkle.leaf_hash(bytes(entry.payload))
    pending = PendingEntry.objects.get(entry=entry)
    assert (pending.log_id, bytes(pending.leaf_hash)) == (entry.log_id, bytes(entry.leaf_hash))
    assert entry.institution == tenant_a.institution  # the officer's institution by default
    payload = decode_canonical(bytes(entry.payload))
    assert payload["kind"] == "personal_data_viewed"
    assert payload["log"] == "alpha.example/ceiba-log"
    assert payload["institution"] == "GOV/70000001"
    assert payload["actor"]["role"] == "officer"
    assert payload["details"] == {"fields": ["name", "birth_date"]}
    salt = bytes(entry.salt)
    assert payload["subject"] == actions.commitment(
        salt, "subject", f"{citizen.pk}\n{citizen.national_id}"
    )
    assert payload["actor"]["commitment"] == actions.commitment(
        salt, "actor", f"{officer.pk}\n{officer.full_name}"
    )
    # nothing personal is in clear in what the tree hashes
    text = bytes(entry.payload).decode()
    for personal in (citizen.national_id, str(citizen.pk), officer.full_name, str(officer.pk)):
        assert personal not in text
    assert Log.objects.get(administration=tenant_a.administration).size == 0


def test_two_entries_never_share_bytes(tenant_a: Tenant) -> None:
    first, second = _record(tenant_a), _record(tenant_a)
    assert bytes(first.payload) != bytes(second.payload)


def test_secrets_in_details_are_redacted(tenant_a: Tenant) -> None:
    entry = _record(tenant_a, details={"otp": "123456", "api_key": "k", "step": "mfa"})
    payload = json.loads(bytes(entry.payload))
    assert payload["details"] == {"api_key": REDACTED, "otp": REDACTED, "step": "mfa"}


def test_system_entries_have_no_actor(tenant_a: Tenant) -> None:
    entry = _record(tenant_a, actor=None, subject=None, kind=EntryKind.ADMIN_CHANGE)
    payload = json.loads(bytes(entry.payload))
    assert payload["actor"] is None
    assert payload["subject"] is None
    assert payload["institution"] is None


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"kind": "case_eaten"}, "unknown ledger entry kind 'case_eaten'"),
        ({"details": {"amount": 1.5}}, "$.details.amount: float 1.5 is not allowed"),
        ({"details": ["not", "an", "object"]}, "details must be a JSON object"),
        ({"reference": "x" * 201}, "reference must be text of at most 200"),
    ],
)
def test_invalid_input_is_refused_with_a_reason(
    tenant_a: Tenant, overrides: dict[str, Any], message: str
) -> None:
    with pytest.raises(LedgerError) as caught:
        _record(tenant_a, **overrides)
    assert caught.value.code == LedgerErrorCode.ENTRY_INVALID
    assert message in caught.value.message
    assert not LedgerEntry.objects.exists()


def test_people_of_another_administration_are_refused(tenant_a: Tenant, tenant_b: Tenant) -> None:
    with pytest.raises(LedgerError) as caught:
        _record(tenant_a, subject=tenant_b.users[Role.CITIZEN])
    assert caught.value.code == LedgerErrorCode.WRONG_ADMINISTRATION
    with pytest.raises(LedgerError):
        _record(tenant_a, actor=tenant_b.users[Role.OFFICER])
    with pytest.raises(LedgerError):
        _record(tenant_a, institution=tenant_b.institution)
    assert not LedgerEntry.objects.exists()


def test_a_rolled_back_change_leaves_no_entry(tenant_a: Tenant) -> None:
    class AbortError(Exception):
        pass

    def change_then_fail() -> None:
        with transaction.atomic():
            actions.record(
                kind=EntryKind.CASE_SUBMITTED,
                actor=tenant_a.users[Role.CITIZEN],
                administration=tenant_a.administration,
                subject=tenant_a.users[Role.CITIZEN],
            )
            raise AbortError

    with pytest.raises(AbortError):
        change_then_fail()
    assert not LedgerEntry.objects.exists()


def test_integration_runs_after_commit_once_per_transaction(
    tenant_a: Tenant, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
        for _ in range(3):
            actions.record(
                kind=EntryKind.CASE_TRANSITIONED,
                actor=tenant_a.users[Role.OFFICER],
                administration=tenant_a.administration,
            )
        assert not LedgerEntry.objects.integrated().exists()  # nothing hashed in the request
    integrations = [c for c in callbacks if isinstance(c, actions._IntegrateAfterCommit)]
    assert len(integrations) == 1
    assert sorted(LedgerEntry.objects.values_list("leaf__index", flat=True)) == [0, 1, 2]
    assert Log.objects.get().size == 3

"""`ceiba ledger verify`: every kind of tampering is caught and the first bad index named."""

from __future__ import annotations

import base64
from collections.abc import Callable
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError
from django.db.models import F

from ceiba.ledger.integrator import integrate
from ceiba.ledger.models import Checkpoint, Leaf, LedgerEntry, Log, Node, PendingEntry
from tests.conftest import Tenant
from tests.ledger.conftest import record_accesses

pytestmark = pytest.mark.django_db


def verify(*args: str) -> tuple[int, str]:
    out = StringIO()
    try:
        call_command("ledger", "verify", *args, stdout=out)
    except CommandError as exc:
        return exc.returncode, out.getvalue() + str(exc)
    return 0, out.getvalue()


def test_an_untouched_log_verifies(grown_log: Callable[[int], Log]) -> None:
    grown_log(9)
    grown_log(12)
    code, output = verify()
    assert code == 0, output
    assert "OK alpha.example/ceiba-log: 22 entries, tree and 2 checkpoints verified" in output


def test_one_changed_byte_in_an_entry(grown_log: Callable[[int], Log]) -> None:
    log = grown_log(20)
    entry = LedgerEntry.objects.get(log=log, leaf__index=13)
    payload = bytearray(entry.payload)
    payload[payload.index(b"Case review") + 5] ^= 0x01  # "review" -> "rdview"
    LedgerEntry.objects.filter(pk=entry.pk).update(payload=bytes(payload))

    code, output = verify()

    assert code == 1
    assert "first bad index 13" in output
    assert "index 13: the stored leaf hash is not the hash of the entry's bytes" in output


def test_a_changed_person_behind_a_commitment(grown_log: Callable[[int], Log]) -> None:
    log = grown_log(6)
    LedgerEntry.objects.filter(log=log, leaf__index=4).update(
        subject_national_id="NID-someone-else"
    )
    code, output = verify()
    assert code == 1
    assert "index 4: the person concerned stored with the entry is not the one it commits" in output


def test_one_changed_byte_in_a_node(grown_log: Callable[[int], Log]) -> None:
    log = grown_log(20)
    node = Node.objects.get(log=log, level=2, index=3)  # covers entries 12..15
    digest = bytearray(node.hash)
    digest[0] ^= 0xFF
    Node.objects.filter(log=log, level=2, index=3).update(hash=bytes(digest))

    code, output = verify()

    assert code == 1
    assert "first bad index 12" in output
    assert "stored node (level 2, index 3) differs" in output


def test_a_deleted_entry(grown_log: Callable[[int], Log]) -> None:
    log = grown_log(10)
    LedgerEntry.objects.filter(log=log, leaf__index=5).delete()
    code, output = verify()
    assert code == 1
    assert "first bad index 5" in output
    assert "entry 5 is missing" in output


def test_reordered_entries(grown_log: Callable[[int], Log]) -> None:
    log = grown_log(10)
    third = Leaf.objects.get(log=log, index=3)
    Leaf.objects.filter(log=log, index=4).update(index=1000)
    Leaf.objects.filter(pk=third.pk).update(index=4)
    Leaf.objects.filter(log=log, index=1000).update(index=3)
    assert Leaf.objects.filter(log=log, index__gte=3, index__lte=4).count() == 2

    code, output = verify()

    assert code == 1
    assert "first bad index 3" in output
    assert "stored node (level 0, index 3) differs" in output


def test_an_entry_taken_off_the_integration_queue(
    grown_log: Callable[[int], Log], tenant_a: Tenant
) -> None:
    log = grown_log(3)
    # given: a new entry whose queue row is deleted before the integrator sees it
    (entry,) = record_accesses(tenant_a, 1)
    PendingEntry.objects.filter(entry=entry).delete()
    integrate(log.pk)

    code, output = verify()

    assert code == 1
    assert f"entries neither in the tree nor waiting for it (ids {entry.pk})" in output


def test_an_entry_integrated_twice_fails_the_batch(grown_log: Callable[[int], Log]) -> None:
    log = grown_log(3)
    # given: an integrated entry queued again (a second integrator behind a broken lock)
    entry = LedgerEntry.objects.get(log=log, leaf__index=2)
    PendingEntry.objects.create(entry=entry, log=log, leaf_hash=entry.leaf_hash)

    with pytest.raises(IntegrityError):
        integrate(log.pk)

    assert Log.objects.get(pk=log.pk).size == 4
    assert verify()[0] == 0


def test_a_forged_checkpoint_signature(grown_log: Callable[[int], Log]) -> None:
    log = grown_log(6)
    checkpoint = Checkpoint.objects.get(log=log)
    text, _sep, signature_line = checkpoint.note.rpartition("\n\n")
    name, b64 = signature_line.strip().removeprefix("\u2014 ").split(" ")
    raw = bytearray(base64.b64decode(b64))
    raw[10] ^= 0x01
    forged = f"{text}\n\n\u2014 {name} {base64.b64encode(raw).decode()}\n"
    Checkpoint.objects.filter(pk=checkpoint.pk).update(note=forged)

    code, output = verify()

    assert code == 1
    assert "first bad index 6" in output
    assert "checkpoint of size 7: signature or format is invalid" in output
    assert "does not verify" in output


def test_a_rolled_back_database_is_caught_by_a_checkpoint_kept_outside(
    grown_log: Callable[[int], Log], tmp_path: Path
) -> None:
    grown_log(5)  # size 6: the state of the backup
    log = grown_log(4)  # size 10: a witness saw this one
    seen = tmp_path / "seen.checkpoint"
    seen.write_text(Checkpoint.objects.get(log=log, size=10).note)
    # the database is restored from the backup taken at size 6
    LedgerEntry.objects.filter(log=log, leaf__index__gte=6).delete()
    Node.objects.filter(log=log, level=0, index__gte=6).delete()
    Node.objects.filter(log=log, level=1, index__gte=3).delete()
    Node.objects.filter(log=log, level__gte=2).exclude(level=2, index=0).delete()
    Checkpoint.objects.filter(log=log, size=10).delete()
    old = Checkpoint.objects.get(log=log, size=6)
    Log.objects.filter(pk=log.pk).update(size=F("size") - 4, root_hash=old.root_hash)

    assert verify()[0] == 0  # consistent in itself: only an outside memory can tell
    code, output = verify("--checkpoint", str(seen))

    assert code == 1
    assert "first bad index 6" in output
    assert "entries from index 6 are missing (deleted or rolled back)" in output

"""verify-remote and witness against a real server (pytest-django's live_server)."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from ceiba.ledger import keys
from ceiba.ledger.checkpoint import Checkpoint as Head
from ceiba.ledger.checkpoint import open_checkpoint, parse_cosigner_vkey, sign_checkpoint
from ceiba.ledger.models import Checkpoint, Cosignature, LedgerEntry, Log, Node
from ceiba.ledger.note import Ed25519Signer, parse_vkey

pytestmark = pytest.mark.django_db(transaction=True)


def ledger(*args: str) -> tuple[int, str, str]:
    out, err = StringIO(), StringIO()
    try:
        call_command("ledger", *args, stdout=out, stderr=err)
    except CommandError as exc:
        return exc.returncode, out.getvalue() + str(exc), err.getvalue()
    return 0, out.getvalue(), err.getvalue()


def _sign(log: Log, size: int, root: bytes) -> str:
    signer = Ed25519Signer(log.origin, keys.load_key(keys.log_key_label("alpha")))
    return sign_checkpoint(Head(log.origin, size, root), [signer]).decode()


def test_verify_remote_checks_a_live_log(grown_log: Callable[[int], Log], live_server: Any) -> None:
    grown_log(30)
    log = grown_log(40)

    code, output, _err = ledger("verify-remote", live_server.url, "--vkey", log.vkey)

    assert code == 0, output
    assert "OK alpha.example/ceiba-log: 71 entries, tree and 3 checkpoints verified" in output


def test_verify_remote_names_a_tampered_entry(
    grown_log: Callable[[int], Log], live_server: Any
) -> None:
    log = grown_log(12)
    entry = LedgerEntry.objects.get(log=log, leaf__index=9)
    LedgerEntry.objects.filter(pk=entry.pk).update(payload=bytes(entry.payload).replace(b"9", b"8"))

    code, output, _err = ledger("verify-remote", live_server.url, "--vkey", log.vkey)

    assert code == 1
    assert "first bad index 9" in output
    assert "index 9: the stored leaf hash is not the hash of the entry's bytes" in output


def test_witness_cosigns_and_the_log_republishes_it(
    grown_log: Callable[[int], Log], live_server: Any, ledger_var: Path
) -> None:
    state = str(ledger_var / "witness")
    log = grown_log(3)
    code, output, err = ledger(
        "witness", live_server.url, "--name", "auditor.example/w1", "--state-dir", state
    )
    assert code == 0, output
    witness_vkey = err.strip().removeprefix("witness key: ")
    assert (
        ledger("add-witness", "--administration", "alpha", "--name", "auditor", witness_vkey)[0]
        == 0
    )
    log = grown_log(5)

    code, output, _err = ledger(
        "witness", live_server.url, "--name", "auditor.example/w1", "--state-dir", state, "--submit"
    )

    assert code == 0, output
    assert Cosignature.objects.count() == 1
    published = Checkpoint.objects.get(log=log, size=log.size)
    from django.test import Client

    served = Client(HTTP_HOST="alpha.example").get("/ledger/checkpoint").content.decode()
    assert served.startswith(published.note)
    open_checkpoint(served, [parse_cosigner_vkey(witness_vkey)])  # the cosignature verifies
    open_checkpoint(served, [parse_vkey(log.vkey)])  # and so does the log's signature
    assert ledger("verify")[0] == 0


def test_witness_detects_a_rollback(
    grown_log: Callable[[int], Log], live_server: Any, ledger_var: Path
) -> None:
    state = str(ledger_var / "witness")
    grown_log(5)
    log = grown_log(4)  # size 10, seen by the witness
    assert ledger("witness", live_server.url, "--name", "w.example/1", "--state-dir", state)[0] == 0
    # restore the database from a backup taken at size 6
    LedgerEntry.objects.filter(log=log, leaf__index__gte=6).delete()
    for level, index in Node.objects.filter(log=log).values_list("level", "index"):
        if (index + 1) << level > 6:  # nodes that did not exist yet at size 6
            Node.objects.filter(log=log, level=level, index=index).delete()
    Checkpoint.objects.filter(log=log, size=10).delete()
    old = Checkpoint.objects.get(log=log, size=6)
    Log.objects.filter(pk=log.pk).update(size=6, root_hash=old.root_hash)

    code, output, _err = ledger(
        "witness", live_server.url, "--name", "w.example/1", "--state-dir", state
    )

    assert code == 1
    assert "rollback" in output
    assert "saw size 10" in output
    assert "(index 6)" in output


def test_witness_detects_a_split_view(
    grown_log: Callable[[int], Log], live_server: Any, ledger_var: Path
) -> None:
    state = str(ledger_var / "witness")
    log = grown_log(5)
    assert ledger("witness", live_server.url, "--name", "w.example/1", "--state-dir", state)[0] == 0
    # the log signs another tree of the same size for someone else
    other_root = hashlib.sha256(b"another history").digest()
    Checkpoint.objects.filter(log=log, size=log.size).update(note=_sign(log, log.size, other_root))

    code, output, _err = ledger(
        "witness", live_server.url, "--name", "w.example/1", "--state-dir", state
    )

    assert code == 1
    assert (
        f"split view: alpha.example/ceiba-log shows two different trees of size {log.size}"
        in output
    )


def test_witness_detects_a_fork_at_a_larger_size(
    grown_log: Callable[[int], Log], live_server: Any, ledger_var: Path
) -> None:
    state = str(ledger_var / "witness")
    grown_log(5)
    assert ledger("witness", live_server.url, "--name", "w.example/1", "--state-dir", state)[0] == 0
    log = grown_log(3)
    forged_root = base64.b64decode(base64.b64encode(hashlib.sha256(b"fork").digest()))
    Checkpoint.objects.filter(log=log, size=log.size).update(note=_sign(log, log.size, forged_root))

    code, output, _err = ledger(
        "witness", live_server.url, "--name", "w.example/1", "--state-dir", state
    )

    assert code == 1
    assert "does not extend the tree of size 6" in output

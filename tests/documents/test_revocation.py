from __future__ import annotations

import base64
import datetime as dt
import json
from pathlib import Path

import pytest

from ceiba.documents.pki import Pki, init_pki
from ceiba.documents.revocation import (
    RevocationEntry,
    RevocationListError,
    build_revocation_list,
    parse_revocation_list,
)

NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)
ENTRY = RevocationEntry("CR-2026-000001", NOW, "Issued in error")


def _signed(pki: Pki, signer: str = "revocation") -> bytes:
    identity = pki.revocation_identity() if signer == "revocation" else pki.signing_identity(signer)
    return build_revocation_list(
        [ENTRY],
        identity.key,
        identity.certificate,
        administration="Republic of Example",
        sequence=3,
        issued_at=NOW,
    )


def test_a_signed_list_parses_and_finds_entries(pki: Pki) -> None:
    revocations = parse_revocation_list(_signed(pki), pki.root_pem())
    assert revocations.sequence == 3
    assert revocations.issued_at == NOW
    assert revocations.lookup("CR-2026-000001") == ENTRY
    assert revocations.lookup("CR-2026-000002") is None


def test_an_altered_list_is_rejected(pki: Pki) -> None:
    envelope = json.loads(_signed(pki))
    content = json.loads(base64.b64decode(envelope["content"]))
    content["entries"] = []
    envelope["content"] = base64.b64encode(json.dumps(content).encode()).decode()
    with pytest.raises(RevocationListError, match="signature does not match"):
        parse_revocation_list(json.dumps(envelope).encode(), pki.root_pem())


def test_only_the_revocation_signer_may_sign_lists(pki: Pki) -> None:
    with pytest.raises(RevocationListError, match="may not sign revocation lists"):
        parse_revocation_list(_signed(pki, "civil-registry"), pki.root_pem())


def test_a_list_from_another_root_is_rejected(tmp_path: Path, pki: Pki) -> None:
    foreign = init_pki(tmp_path, "Forgers United", {}, "x")
    with pytest.raises(RevocationListError, match="not signed under this root"):
        parse_revocation_list(_signed(foreign), pki.root_pem())


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"not json",
        b"[]",
        b'{"format": "other"}',
        b'{"format": "ceiba-revocation-list/1"}',
        b'{"format": "ceiba-revocation-list/1", "content": "***", "signature": "", '
        b'"certificate": ""}',
    ],
)
def test_malformed_lists_are_clear_errors(data: bytes, pki: Pki) -> None:
    with pytest.raises(RevocationListError):
        parse_revocation_list(data, pki.root_pem())


def test_naive_times_are_refused(pki: Pki) -> None:
    identity = pki.revocation_identity()
    with pytest.raises(RevocationListError, match="timezone-aware"):
        build_revocation_list(
            [RevocationEntry("X", dt.datetime(2026, 1, 1), "r")],
            identity.key,
            identity.certificate,
            administration="A",
            sequence=1,
            issued_at=NOW,
        )

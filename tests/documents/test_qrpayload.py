from __future__ import annotations

import datetime as dt
import zlib
from pathlib import Path

import base45
import pytest
import rfc8785
import segno

from ceiba.documents.pki import Pki, init_pki
from ceiba.documents.qrpayload import (
    PREFIX,
    QRPayloadError,
    QRPayloadErrorCode,
    build_qr_payload,
    qr_svg,
    verify_qr_payload,
)
from ceiba.documents.revocation import RevocationEntry, RevocationList
from tests.documents.conftest import FACTS

ISSUED_AT = dt.datetime.now(dt.UTC).replace(microsecond=0)


@pytest.fixture(scope="module")
def payload(pki: Pki) -> str:
    identity = pki.signing_identity("civil-registry")
    return build_qr_payload("CR-2026-000001", FACTS, ISSUED_AT, identity.key, identity.certificate)


def _binary(payload: str) -> bytes:
    return base45.b45decode(payload[len(PREFIX) :])


def _text(binary: bytes) -> str:
    return PREFIX + base45.b45encode(binary).decode("ascii")


def _deflate(body: bytes) -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    return compressor.compress(body) + compressor.flush()


def _expect(code: QRPayloadErrorCode, payload: str, pki: Pki) -> QRPayloadError:
    with pytest.raises(QRPayloadError) as caught:
        verify_qr_payload(payload, pki.root_certificate, pki.certificate_bundle_pem())
    assert caught.value.code is code, caught.value
    return caught.value


def test_a_payload_verifies_offline_with_root_and_bundle(payload: str, pki: Pki) -> None:
    verified = verify_qr_payload(payload, pki.root_pem(), pki.certificate_bundle_pem())
    assert verified.document_number == "CR-2026-000001"
    assert verified.facts == FACTS
    assert verified.issued_at == ISSUED_AT
    assert verified.institution == "Civil Registry"
    assert verified.revocation is None


def test_the_payload_is_compact_and_fits_qr_alphanumeric_mode(payload: str) -> None:
    assert len(payload) < 300
    qr = segno.make(payload, error="m", micro=False)
    assert qr.mode == "alphanumeric"
    svg = qr_svg(payload)
    assert svg.startswith("<svg")
    assert svg.rstrip().endswith("</svg>")


def test_altered_facts_are_rejected_as_forged(payload: str, pki: Pki) -> None:
    binary = _binary(payload)
    body = rfc8785.dumps(
        {
            "f": {**FACTS, "holder": "Eve Forger"},
            "n": "CR-2026-000001",
            "t": int(ISSUED_AT.timestamp()),
        }
    )
    forged = _text(binary[:73] + _deflate(body))
    error = _expect(QRPayloadErrorCode.BAD_SIGNATURE, forged, pki)
    assert error.message == "This code was forged or altered: its seal does not match."


def test_a_flipped_signature_bit_is_rejected(payload: str, pki: Pki) -> None:
    binary = bytearray(_binary(payload))
    binary[40] ^= 0x01
    _expect(QRPayloadErrorCode.BAD_SIGNATURE, _text(bytes(binary)), pki)


def test_a_payload_signed_under_another_root_is_untrusted(tmp_path: Path, pki: Pki) -> None:
    foreign = init_pki(tmp_path, "Forgers United", {"civil-registry": "Civil Registry"}, "x")
    identity = foreign.signing_identity("civil-registry")
    forged = build_qr_payload(
        "CR-2026-000001", FACTS, ISSUED_AT, identity.key, identity.certificate
    )
    _expect(QRPayloadErrorCode.UNKNOWN_SIGNER, forged, pki)
    with pytest.raises(QRPayloadError) as caught:
        verify_qr_payload(
            forged,
            pki.root_certificate,
            pki.certificate_bundle_pem() + foreign.certificate_bundle_pem(),
        )
    assert caught.value.code is QRPayloadErrorCode.UNTRUSTED_SIGNER


def test_a_non_signing_key_cannot_issue_payloads(pki: Pki) -> None:
    tsa = pki.tsa_identity()
    forged = build_qr_payload("CR-1", FACTS, ISSUED_AT, tsa.key, tsa.certificate)
    with pytest.raises(QRPayloadError) as caught:
        verify_qr_payload(forged, pki.root_certificate, [tsa.certificate])
    assert caught.value.code is QRPayloadErrorCode.UNTRUSTED_SIGNER


def test_a_payload_dated_outside_the_certificate_validity_is_refused(pki: Pki) -> None:
    identity = pki.signing_identity("civil-registry")
    too_early = ISSUED_AT - dt.timedelta(days=3650)
    payload = build_qr_payload("CR-1", FACTS, too_early, identity.key, identity.certificate)
    _expect(QRPayloadErrorCode.SIGNER_NOT_VALID, payload, pki)


@pytest.mark.parametrize(
    "text",
    ["", "https://example.org/", PREFIX, PREFIX + "!!!", PREFIX + "00", PREFIX + "A" * 30000],
    ids=["empty", "url", "prefix-only", "not-base45", "truncated", "too-long"],
)
def test_malformed_payloads_are_rejected(text: str, pki: Pki) -> None:
    _expect(QRPayloadErrorCode.MALFORMED, text, pki)


def test_unknown_versions_non_canonical_bodies_and_bombs_are_rejected(
    payload: str, pki: Pki
) -> None:
    binary = _binary(payload)
    _expect(QRPayloadErrorCode.UNSUPPORTED_VERSION, _text(b"\x02" + binary[1:]), pki)
    spaced = b'{"f": {}, "n": "X", "t": 1}'
    _expect(QRPayloadErrorCode.MALFORMED, _text(binary[:73] + _deflate(spaced)), pki)
    bomb = _deflate(b'{"f":{"a":"' + b"A" * 1_000_000 + b'"},"n":"X","t":1}')
    _expect(QRPayloadErrorCode.MALFORMED, _text(binary[:73] + bomb), pki)
    _expect(QRPayloadErrorCode.MALFORMED, _text(binary[:73] + b"\xff\xfe"), pki)


def test_a_revoked_document_is_flagged(payload: str, pki: Pki) -> None:
    entry = RevocationEntry("CR-2026-000001", ISSUED_AT, "Superseded")
    revocations = RevocationList("Republic of Example", ISSUED_AT, 1, (entry,))
    verified = verify_qr_payload(
        payload, pki.root_certificate, pki.certificate_bundle_pem(), revocations=revocations
    )
    assert verified.revocation == entry


def test_oversized_facts_cannot_be_encoded(pki: Pki) -> None:
    identity = pki.signing_identity("civil-registry")
    with pytest.raises(QRPayloadError) as caught:
        build_qr_payload("X", {"a": "b" * 5000}, ISSUED_AT, identity.key, identity.certificate)
    assert caught.value.code is QRPayloadErrorCode.TOO_LARGE

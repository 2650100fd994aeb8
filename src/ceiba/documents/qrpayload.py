"""The QR code on issued documents: the certified facts, signed, checkable offline.

Text form: ``"CB1:" + base45(binary)``, all in the QR alphanumeric alphabet, so segno
encodes it in alphanumeric mode. Binary form (byte offsets)::

    0       1 byte    version, 0x01
    1..8    8 bytes   key id: first 8 bytes of SHA-256 over the signing certificate (DER)
    9..72   64 bytes  ECDSA P-256 signature, raw r || s (32 bytes each, big-endian)
    73..    rest      raw DEFLATE (RFC 1951) of the canonical JSON body (RFC 8785)

    body = {"f": {certified facts, as printed}, "n": "document number", "t": unix seconds}
    signed message = b"ceiba-qr/1\\x00" || version || key id || canonical JSON body

The verifier needs the root certificate (the only trust anchor) and the bundle of
institution signing certificates (public data, published with the root; each one is
checked against the root, so shipping them adds no trust). See docs/documents.md.
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import io
import json
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import base45
import rfc8785
import segno
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

from ceiba.documents.keystore import KeySigner
from ceiba.documents.pki import is_issued_by
from ceiba.documents.revocation import RevocationEntry, RevocationList

__all__ = [
    "PREFIX",
    "QRPayloadError",
    "QRPayloadErrorCode",
    "VerifiedQRPayload",
    "build_qr_payload",
    "canonical_body",
    "key_id",
    "qr_svg",
    "verify_qr_payload",
]

PREFIX = "CB1:"
VERSION = 1
_DOMAIN = b"ceiba-qr/1\x00"
_KEY_ID_LENGTH = 8
_SIGNATURE_LENGTH = 64
_HEADER_LENGTH = 1 + _KEY_ID_LENGTH + _SIGNATURE_LENGTH
MAX_BODY_BYTES = 4096
MAX_PAYLOAD_CHARS = 4 * MAX_BODY_BYTES


class QRPayloadErrorCode(enum.StrEnum):
    MALFORMED = "malformed"
    UNSUPPORTED_VERSION = "unsupported_version"
    UNKNOWN_SIGNER = "unknown_signer"
    UNTRUSTED_SIGNER = "untrusted_signer"
    BAD_SIGNATURE = "bad_signature"
    SIGNER_NOT_VALID = "signer_not_valid"
    TOO_LARGE = "too_large"


_MESSAGES = {
    QRPayloadErrorCode.MALFORMED: "This code is not a document code of this administration.",
    QRPayloadErrorCode.UNSUPPORTED_VERSION: "This code uses a format this verifier does not know.",
    QRPayloadErrorCode.UNKNOWN_SIGNER: (
        "This code was signed by an institution this verifier does not know; update the app."
    ),
    QRPayloadErrorCode.UNTRUSTED_SIGNER: "This code was not signed by this administration.",
    QRPayloadErrorCode.BAD_SIGNATURE: "This code was forged or altered: its seal does not match.",
    QRPayloadErrorCode.SIGNER_NOT_VALID: (
        "This code was sealed outside the validity of the institution's certificate."
    ),
    QRPayloadErrorCode.TOO_LARGE: "The certified facts are too large for a QR code.",
}


class QRPayloadError(Exception):
    """A payload that cannot be built or trusted; ``code`` says why, precisely."""

    def __init__(self, code: QRPayloadErrorCode, detail: str = "") -> None:
        self.code = code
        self.message = _MESSAGES[code]
        self.detail = detail
        super().__init__(f"{self.message} ({detail})" if detail else self.message)


@dataclass(frozen=True)
class VerifiedQRPayload:
    document_number: str
    issued_at: dt.datetime
    facts: dict[str, Any]
    institution: str | None
    certificate: x509.Certificate
    revocation: RevocationEntry | None = None


def key_id(certificate: x509.Certificate) -> bytes:
    return hashlib.sha256(certificate.public_bytes(serialization.Encoding.DER)).digest()[
        :_KEY_ID_LENGTH
    ]


def canonical_body(document_number: str, issued_at: dt.datetime, facts: Mapping[str, Any]) -> bytes:
    """The exact bytes the QR signature covers (without the domain header)."""
    if issued_at.tzinfo is None:
        raise ValueError("issued_at must be timezone-aware.")
    return rfc8785.dumps({"f": dict(facts), "n": document_number, "t": int(issued_at.timestamp())})


def _message(kid: bytes, body: bytes) -> bytes:
    return _DOMAIN + bytes([VERSION]) + kid + body


def build_qr_payload(
    document_number: str,
    facts: Mapping[str, Any],
    issued_at: dt.datetime,
    signer: KeySigner,
    certificate: x509.Certificate,
) -> str:
    """Sign the certified facts and encode them as QR text (``CB1:...``)."""
    body = canonical_body(document_number, issued_at, facts)
    if len(body) > MAX_BODY_BYTES:
        raise QRPayloadError(QRPayloadErrorCode.TOO_LARGE, f"{len(body)} bytes")
    kid = key_id(certificate)
    r, s = decode_dss_signature(signer.sign(_message(kid, body)))
    signature = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    deflated = compressor.compress(body) + compressor.flush()
    binary = bytes([VERSION]) + kid + signature + deflated
    return PREFIX + base45.b45encode(binary).decode("ascii")


def _inflate(data: bytes) -> bytes:
    decompressor = zlib.decompressobj(-15)
    try:
        body = decompressor.decompress(data, MAX_BODY_BYTES + 1)
    except zlib.error as exc:
        raise QRPayloadError(QRPayloadErrorCode.MALFORMED, f"body: {exc}") from None
    if len(body) > MAX_BODY_BYTES or decompressor.unconsumed_tail:
        raise QRPayloadError(QRPayloadErrorCode.MALFORMED, "body too large")
    if not decompressor.eof or decompressor.unused_data:
        raise QRPayloadError(QRPayloadErrorCode.MALFORMED, "body truncated or padded")
    return body


def _parse_body(body: bytes) -> tuple[str, dt.datetime, dict[str, Any]]:
    try:
        parsed = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise QRPayloadError(QRPayloadErrorCode.MALFORMED, "body is not JSON") from None
    if (
        not isinstance(parsed, dict)
        or set(parsed) != {"f", "n", "t"}
        or not isinstance(parsed["n"], str)
        or not isinstance(parsed["f"], dict)
        or not isinstance(parsed["t"], int)
        or isinstance(parsed["t"], bool)
    ):
        raise QRPayloadError(QRPayloadErrorCode.MALFORMED, "body has the wrong fields")
    if rfc8785.dumps(parsed) != body:
        raise QRPayloadError(QRPayloadErrorCode.MALFORMED, "body is not canonical JSON")
    try:
        issued_at = dt.datetime.fromtimestamp(parsed["t"], dt.UTC)
    except (OverflowError, OSError, ValueError):
        raise QRPayloadError(QRPayloadErrorCode.MALFORMED, "issue time out of range") from None
    return parsed["n"], issued_at, parsed["f"]


def _load_certificates(
    certificates: Iterable[x509.Certificate] | bytes,
) -> list[x509.Certificate]:
    if isinstance(certificates, bytes):
        return x509.load_pem_x509_certificates(certificates) if certificates.strip() else []
    return list(certificates)


def verify_qr_payload(
    payload: str,
    root: x509.Certificate | bytes,
    certificates: Iterable[x509.Certificate] | bytes,
    *,
    revocations: RevocationList | None = None,
) -> VerifiedQRPayload:
    """Check a scanned payload offline; raise :class:`QRPayloadError` with a precise code.

    ``root`` is the trust anchor (certificate or PEM); ``certificates`` the institution
    signing certificates (objects or a PEM bundle), each checked against the root here.
    """
    if isinstance(root, bytes):
        root = x509.load_pem_x509_certificate(root)
    if not isinstance(payload, str) or not payload.startswith(PREFIX):
        raise QRPayloadError(QRPayloadErrorCode.MALFORMED, f"does not start with {PREFIX}")
    if len(payload) > MAX_PAYLOAD_CHARS:
        raise QRPayloadError(QRPayloadErrorCode.MALFORMED, "payload too long")
    try:
        binary = base45.b45decode(payload[len(PREFIX) :])
    except (ValueError, KeyError, TypeError):
        raise QRPayloadError(QRPayloadErrorCode.MALFORMED, "not base45") from None
    if len(binary) <= _HEADER_LENGTH:
        raise QRPayloadError(QRPayloadErrorCode.MALFORMED, "payload truncated")
    if binary[0] != VERSION:
        raise QRPayloadError(QRPayloadErrorCode.UNSUPPORTED_VERSION, f"version {binary[0]}")
    kid = binary[1 : 1 + _KEY_ID_LENGTH]
    raw_signature = binary[1 + _KEY_ID_LENGTH : _HEADER_LENGTH]
    body = _inflate(binary[_HEADER_LENGTH:])
    document_number, issued_at, facts = _parse_body(body)

    certificate = next((c for c in _load_certificates(certificates) if key_id(c) == kid), None)
    if certificate is None:
        raise QRPayloadError(QRPayloadErrorCode.UNKNOWN_SIGNER, f"key id {kid.hex()}")
    if not is_issued_by(certificate, root):
        raise QRPayloadError(QRPayloadErrorCode.UNTRUSTED_SIGNER, "not issued by the root")
    try:
        usage = certificate.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        raise QRPayloadError(QRPayloadErrorCode.UNTRUSTED_SIGNER, "no key usage") from None
    if not usage.content_commitment:
        raise QRPayloadError(QRPayloadErrorCode.UNTRUSTED_SIGNER, "not a document signer")
    public_key = certificate.public_key()
    if not isinstance(public_key, ec.EllipticCurvePublicKey):
        raise QRPayloadError(QRPayloadErrorCode.UNTRUSTED_SIGNER, "not an ECDSA key")
    signature = encode_dss_signature(
        int.from_bytes(raw_signature[:32], "big"), int.from_bytes(raw_signature[32:], "big")
    )
    try:
        public_key.verify(signature, _message(kid, body), ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        raise QRPayloadError(QRPayloadErrorCode.BAD_SIGNATURE) from None
    if not certificate.not_valid_before_utc <= issued_at <= certificate.not_valid_after_utc:
        raise QRPayloadError(QRPayloadErrorCode.SIGNER_NOT_VALID, issued_at.isoformat())
    organization = certificate.subject.get_attributes_for_oid(x509.NameOID.ORGANIZATION_NAME)
    return VerifiedQRPayload(
        document_number=document_number,
        issued_at=issued_at,
        facts=facts,
        institution=str(organization[0].value) if organization else None,
        certificate=certificate,
        revocation=revocations.lookup(document_number) if revocations else None,
    )


def qr_svg(payload: str, *, scale: int = 3, dark: str = "#000") -> str:
    """The payload as an SVG QR code (error correction M), to embed in the HTML template."""
    qr = segno.make(payload, error="m", micro=False)
    buffer = io.BytesIO()
    qr.save(buffer, kind="svg", scale=scale, dark=dark, xmldecl=False, svgns=True)
    return buffer.getvalue().decode("utf-8")

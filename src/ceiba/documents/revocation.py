"""Signed lists of revoked documents, published at a stable URL and usable offline.

A list names revoked *documents* (by number), not certificates, so it is not an X.509 CRL.
It is signed by the PKI's revocation-list signer, whose certificate is issued by the root
with the ``cRLSign`` key usage; a verifier needs only the root certificate to trust it.

File format (UTF-8 JSON, see docs/documents.md)::

    {"format": "ceiba-revocation-list/1",
     "content": base64(canonical JSON, RFC 8785),
     "signature": base64(DER ECDSA-SHA256 signature over the content bytes),
     "certificate": base64(DER revocation-list signer certificate)}

    content = {"administration": str, "issued_at": "YYYY-MM-DDTHH:MM:SSZ", "sequence": int,
               "entries": [{"document_number": str, "revoked_at": "...Z", "reason": str}]}
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import rfc8785
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from ceiba.documents.keystore import KeySigner
from ceiba.documents.pki import is_issued_by

__all__ = [
    "FORMAT",
    "RevocationEntry",
    "RevocationList",
    "RevocationListError",
    "build_revocation_list",
    "parse_revocation_list",
]

FORMAT = "ceiba-revocation-list/1"
MAX_LIST_BYTES = 64 * 1024 * 1024


class RevocationListError(Exception):
    """The revocation list is malformed, forged, or not from this administration."""


@dataclass(frozen=True)
class RevocationEntry:
    document_number: str
    revoked_at: dt.datetime
    reason: str


@dataclass(frozen=True)
class RevocationList:
    administration: str
    issued_at: dt.datetime
    sequence: int
    entries: tuple[RevocationEntry, ...]

    def lookup(self, document_number: str) -> RevocationEntry | None:
        for entry in self.entries:
            if entry.document_number == document_number:
                return entry
        return None


def _timestamp(moment: dt.datetime) -> str:
    if moment.tzinfo is None:
        raise RevocationListError("Revocation times must be timezone-aware.")
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_timestamp(value: Any, field: str) -> dt.datetime:
    if not isinstance(value, str):
        raise RevocationListError(f"Field {field!r} must be a UTC time string.")
    try:
        return dt.datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)
    except ValueError:
        raise RevocationListError(f"Field {field!r} is not a YYYY-MM-DDTHH:MM:SSZ time.") from None


def build_revocation_list(
    entries: Iterable[RevocationEntry],
    key: KeySigner,
    certificate: x509.Certificate,
    *,
    administration: str,
    sequence: int,
    issued_at: dt.datetime,
) -> bytes:
    """Serialize and sign a revocation list; ``sequence`` grows with every publication."""
    content = rfc8785.dumps(
        {
            "administration": administration,
            "issued_at": _timestamp(issued_at),
            "sequence": sequence,
            "entries": [
                {
                    "document_number": e.document_number,
                    "revoked_at": _timestamp(e.revoked_at),
                    "reason": e.reason,
                }
                for e in sorted(entries, key=lambda e: e.document_number)
            ],
        }
    )
    envelope = {
        "format": FORMAT,
        "content": base64.b64encode(content).decode("ascii"),
        "signature": base64.b64encode(key.sign(content)).decode("ascii"),
        "certificate": base64.b64encode(
            certificate.public_bytes(serialization.Encoding.DER)
        ).decode("ascii"),
    }
    return json.dumps(envelope, indent=1).encode("utf-8") + b"\n"


def _b64(envelope: dict[str, Any], field: str) -> bytes:
    value = envelope.get(field)
    if not isinstance(value, str):
        raise RevocationListError(f"The revocation list has no {field!r}.")
    try:
        return base64.b64decode(value, validate=True)
    except binascii.Error:
        raise RevocationListError(f"Field {field!r} is not valid base64.") from None


def _check_signer(signer: x509.Certificate, root: x509.Certificate, at: dt.datetime) -> None:
    if not is_issued_by(signer, root):
        raise RevocationListError("The revocation list was not signed under this root.")
    try:
        usage = signer.extensions.get_extension_for_class(x509.KeyUsage).value
        constraints = signer.extensions.get_extension_for_class(x509.BasicConstraints).value
    except x509.ExtensionNotFound:
        raise RevocationListError(
            "The signer's certificate may not sign revocation lists."
        ) from None
    if not usage.crl_sign or constraints.ca:
        raise RevocationListError("The signer's certificate may not sign revocation lists.")
    if not signer.not_valid_before_utc <= at <= signer.not_valid_after_utc:
        raise RevocationListError("The revocation list signer's certificate was not valid then.")


def parse_revocation_list(data: bytes, root: x509.Certificate | bytes) -> RevocationList:
    """Check the list's signature against ``root`` (certificate or PEM) and return it."""
    if isinstance(root, bytes):
        try:
            root = x509.load_pem_x509_certificate(root)
        except ValueError:
            raise RevocationListError("The root certificate is not a PEM certificate.") from None
    if len(data) > MAX_LIST_BYTES:
        raise RevocationListError("The revocation list is too large.")
    try:
        envelope = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        raise RevocationListError("This is not a revocation list (not JSON).") from None
    if not isinstance(envelope, dict) or envelope.get("format") != FORMAT:
        raise RevocationListError(f"This is not a {FORMAT} revocation list.")
    content = _b64(envelope, "content")
    signature = _b64(envelope, "signature")
    try:
        signer = x509.load_der_x509_certificate(_b64(envelope, "certificate"))
    except ValueError:
        raise RevocationListError("The signer's certificate is malformed.") from None
    public_key = signer.public_key()
    if not isinstance(public_key, ec.EllipticCurvePublicKey):
        raise RevocationListError("The signer's certificate is not an ECDSA certificate.")
    try:
        public_key.verify(signature, content, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        raise RevocationListError("The revocation list's signature does not match.") from None
    try:
        body = json.loads(content)
        issued_at = _parse_timestamp(body["issued_at"], "issued_at")
        administration = body["administration"]
        sequence = body["sequence"]
        raw_entries = body["entries"]
    except (ValueError, KeyError, TypeError):
        raise RevocationListError("The revocation list's content is malformed.") from None
    if not isinstance(raw_entries, list) or not isinstance(sequence, int):
        raise RevocationListError("The revocation list's content is malformed.")
    _check_signer(signer, root, issued_at)
    entries = []
    for raw in raw_entries:
        if not isinstance(raw, dict) or not isinstance(raw.get("document_number"), str):
            raise RevocationListError("A revocation entry is malformed.")
        entries.append(
            RevocationEntry(
                document_number=raw["document_number"],
                revoked_at=_parse_timestamp(raw.get("revoked_at"), "revoked_at"),
                reason=str(raw.get("reason", "")),
            )
        )
    return RevocationList(str(administration), issued_at, sequence, tuple(entries))

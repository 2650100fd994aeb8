"""Verify a signed document with nothing but the administration's root certificate.

No network, no database: pyHanko validates the PAdES signature with the root as the only
trust anchor. The signing certificate is checked at the time of the signature timestamp
(issued by the administration's own TSA), so documents stay valid after the signing
certificate expires or is rotated; a signature made with an already-expired certificate is
reported as expired.
"""

from __future__ import annotations

import argparse
import datetime as dt
import enum
import json
import sys
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

from asn1crypto import cms
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.ades.report import AdESIndeterminate
from pyhanko.sign.diff_analysis import ModificationLevel
from pyhanko.sign.validation import EmbeddedPdfSignature, validate_pdf_signature
from pyhanko.sign.validation.status import PdfSignatureStatus, SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext

from ceiba.documents.pdfsign import DOCUMENT_NUMBER_KEY
from ceiba.documents.revocation import (
    RevocationEntry,
    RevocationList,
    RevocationListError,
    parse_revocation_list,
)

__all__ = [
    "MAX_PDF_BYTES",
    "MESSAGES",
    "VerificationResult",
    "VerificationSetupError",
    "VerificationStatus",
    "main",
    "verify_pdf",
]

MAX_PDF_BYTES = 50 * 1024 * 1024


class VerificationStatus(enum.StrEnum):
    VALID = "valid"
    INVALID = "invalid"
    UNTRUSTED = "untrusted"
    EXPIRED = "expired"
    REVOKED = "revoked"
    NOT_A_PDF = "not_a_pdf"


MESSAGES: dict[VerificationStatus, str] = {
    VerificationStatus.VALID: (
        "This document is genuine: it was issued by the institution named below and has not "
        "been changed since."
    ),
    VerificationStatus.INVALID: (
        "This document was changed after it was issued, or its seal is damaged. Do not rely on it."
    ),
    VerificationStatus.UNTRUSTED: (
        "This document was not issued by this administration. Do not rely on it."
    ),
    VerificationStatus.EXPIRED: (
        "This document was sealed with an expired certificate, so it is not valid. Ask the "
        "issuing institution for a new copy."
    ),
    VerificationStatus.REVOKED: (
        "This document was withdrawn by the issuing institution and is no longer valid."
    ),
    VerificationStatus.NOT_A_PDF: "This file is not a PDF document, so it cannot be checked.",
}

_EXPIRY_PROBLEMS = {
    AdESIndeterminate.EXPIRED,
    AdESIndeterminate.OUT_OF_BOUNDS_NO_POE,
    AdESIndeterminate.OUT_OF_BOUNDS_NOT_REVOKED,
}
_ACCEPTED_UPDATES = {ModificationLevel.NONE, ModificationLevel.LTA_UPDATES}


class VerificationSetupError(Exception):
    """The verifier itself is misconfigured (unreadable root or revocation list)."""


@dataclass(frozen=True)
class VerificationResult:
    """The answer to "can I rely on this document?", for people and for programs.

    ``message`` is for the person checking; ``detail`` is technical and for logs.
    """

    status: VerificationStatus
    message: str
    detail: str = ""
    document_number: str | None = None
    institution: str | None = None
    signer: str | None = None
    signed_at: dt.datetime | None = None
    revoked_at: dt.datetime | None = None
    revocation_reason: str | None = None

    @property
    def is_valid(self) -> bool:
        return self.status is VerificationStatus.VALID

    def as_dict(self) -> dict[str, str | None]:
        def iso(moment: dt.datetime | None) -> str | None:
            return moment.isoformat() if moment else None

        return {
            "status": self.status.value,
            "message": self.message,
            "detail": self.detail,
            "document_number": self.document_number,
            "institution": self.institution,
            "signer": self.signer,
            "signed_at": iso(self.signed_at),
            "revoked_at": iso(self.revoked_at),
            "revocation_reason": self.revocation_reason,
        }


def _result(status: VerificationStatus, detail: str, **facts: object) -> VerificationResult:
    return VerificationResult(status, MESSAGES[status], detail, **facts)  # type: ignore[arg-type]


def _load_root(root_pem: bytes | x509.Certificate) -> x509.Certificate:
    if isinstance(root_pem, x509.Certificate):
        return root_pem
    try:
        return x509.load_pem_x509_certificate(root_pem)
    except ValueError as exc:
        raise VerificationSetupError("The root certificate is not a PEM certificate.") from exc


def _timestamp_time(signer_info: cms.SignerInfo) -> dt.datetime | None:
    """The time in the signature timestamp token, before the token itself is validated."""
    unsigned = signer_info["unsigned_attrs"]
    if not unsigned:
        return None
    for attribute in unsigned:
        if attribute["type"].native == "signature_time_stamp_token":
            token = attribute["values"][0]
            tst_info = token["content"]["encap_content_info"]["content"].parsed
            moment = tst_info["gen_time"].native
            assert isinstance(moment, dt.datetime)
            return moment
    return None


def _name_part(certificate: asn1_x509.Certificate, part: str) -> str | None:
    value = certificate.subject.native.get(part)
    return str(value) if value is not None else None


def _document_number(reader: PdfFileReader) -> str | None:
    info = reader.trailer_view.get("/Info")
    if info is None:
        return None
    value = info.get_object().get(DOCUMENT_NUMBER_KEY)
    return str(value) if isinstance(value, str) else None


def _validate(
    embedded: EmbeddedPdfSignature, root: asn1_x509.Certificate, now: dt.datetime
) -> tuple[PdfSignatureStatus, dt.datetime | None]:
    timestamp_time = _timestamp_time(embedded.signer_info)
    signer_moment = timestamp_time or now
    signer_context = ValidationContext(
        trust_roots=[root],
        moment=signer_moment,
        best_signature_time=signer_moment,
        allow_fetching=False,
        revocation_mode="soft-fail",
    )
    timestamp_context = ValidationContext(
        trust_roots=[root], moment=now, allow_fetching=False, revocation_mode="soft-fail"
    )
    status = validate_pdf_signature(
        embedded,
        signer_validation_context=signer_context,
        ts_validation_context=timestamp_context,
    )
    return status, timestamp_time


def _judge(
    status: PdfSignatureStatus, timestamp_time: dt.datetime | None
) -> tuple[VerificationStatus, str]:
    if not (status.intact and status.valid):
        return VerificationStatus.INVALID, "signature does not match the document bytes"
    if status.coverage not in (
        SignatureCoverageLevel.ENTIRE_FILE,
        SignatureCoverageLevel.ENTIRE_REVISION,
    ):
        return VerificationStatus.INVALID, f"signature coverage is {status.coverage}"
    if status.modification_level not in _ACCEPTED_UPDATES:
        return (
            VerificationStatus.INVALID,
            f"document changed after signing: {status.modification_level}",
        )
    tst = status.timestamp_validity
    if timestamp_time is not None:
        if tst is None or not (tst.intact and tst.valid):
            return VerificationStatus.INVALID, "signature timestamp is damaged"
        if not tst.trusted:
            return VerificationStatus.UNTRUSTED, (
                f"timestamp not from this administration's TSA: {tst.trust_problem_indic}"
            )
    if status.revoked:
        return VerificationStatus.REVOKED, "signing certificate revoked"
    if status.trust_problem_indic in _EXPIRY_PROBLEMS:
        return VerificationStatus.EXPIRED, (
            f"signing certificate not valid at signing time: {status.trust_problem_indic}"
        )
    if not status.trusted:
        return VerificationStatus.UNTRUSTED, (f"no chain to the root: {status.trust_problem_indic}")
    return VerificationStatus.VALID, status.summary()


def verify_pdf(
    pdf_bytes: bytes,
    root_pem: bytes | x509.Certificate,
    crl: bytes | RevocationList | None = None,
    *,
    now: dt.datetime | None = None,
) -> VerificationResult:
    """Check a signed PDF's integrity, its chain to ``root_pem`` and the revocation list.

    ``crl`` is a signed revocation list (raw bytes, verified here against the root, or an
    already verified :class:`RevocationList`). Raises :class:`VerificationSetupError` only
    when the root or the list is unusable; every problem with the PDF is a status.
    """
    now = now or dt.datetime.now(dt.UTC)
    root = _load_root(root_pem)
    revocations: RevocationList | None
    if isinstance(crl, bytes):
        try:
            revocations = parse_revocation_list(crl, root)
        except RevocationListError as exc:
            raise VerificationSetupError(f"Unusable revocation list: {exc}") from exc
    else:
        revocations = crl

    if len(pdf_bytes) > MAX_PDF_BYTES:
        return _result(VerificationStatus.NOT_A_PDF, "larger than any issued document (50 MB)")
    if b"%PDF-" not in pdf_bytes[:1024]:
        return _result(VerificationStatus.NOT_A_PDF, "no PDF header")
    root_asn1 = asn1_x509.Certificate.load(root.public_bytes(serialization.Encoding.DER))
    # pyHanko parses attacker-controlled bytes and can fail in many ways (PdfReadError,
    # KeyError, ValueError, ...); each of them means the file cannot be relied on, and the
    # cause is kept in ``detail`` rather than dropped.
    try:
        reader = PdfFileReader(BytesIO(pdf_bytes), strict=False)
        signatures = [s for s in reader.embedded_signatures if s.sig_object_type == "/Sig"]
    except Exception as exc:
        return _result(VerificationStatus.NOT_A_PDF, f"unreadable PDF: {exc!r}")
    if not signatures:
        return _result(VerificationStatus.INVALID, "the PDF carries no signature")
    try:
        document_number = _document_number(reader)
        outcomes = [(s, *_validate(s, root_asn1, now)) for s in signatures]
    except Exception as exc:
        return _result(VerificationStatus.INVALID, f"signature cannot be processed: {exc!r}")

    # The last signature covers the document as issued; report the first failure otherwise.
    last, last_status, last_time = outcomes[-1]
    verdict, detail = VerificationStatus.VALID, ""
    for _, status, timestamp_time in outcomes:
        verdict, detail = _judge(status, timestamp_time)
        if verdict is not VerificationStatus.VALID:
            break
    signer_cert = last.signer_cert
    facts: dict[str, object] = {
        "document_number": document_number,
        "institution": _name_part(signer_cert, "organization_name"),
        "signer": _name_part(signer_cert, "common_name"),
        "signed_at": last_time or last_status.signer_reported_dt,
    }
    if verdict is VerificationStatus.VALID and revocations is not None and document_number:
        entry: RevocationEntry | None = revocations.lookup(document_number)
        if entry is not None:
            return _result(
                VerificationStatus.REVOKED,
                f"listed in revocation list #{revocations.sequence}",
                revoked_at=entry.revoked_at,
                revocation_reason=entry.reason,
                **facts,
            )
    return _result(verdict, detail, **facts)


def main(argv: list[str]) -> int:
    """``ceiba verify FILE.pdf --root root.pem [--revocations FILE] [--json]``.

    Exit status: 0 valid, 1 any other verdict, 2 the verifier could not run.
    """
    parser = argparse.ArgumentParser(
        prog="ceiba verify",
        description="Verify a signed document offline, with the administration's root "
        "certificate as the only trust anchor.",
    )
    parser.add_argument("file", type=Path, help="the PDF document to check")
    parser.add_argument("--root", type=Path, required=True, help="root certificate (PEM)")
    parser.add_argument("--revocations", type=Path, help="a downloaded revocation list")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 2
    try:
        pdf_bytes = args.file.read_bytes()
        root_pem = args.root.read_bytes()
        crl = args.revocations.read_bytes() if args.revocations else None
        result = verify_pdf(pdf_bytes, root_pem, crl)
    except (OSError, VerificationSetupError) as exc:
        sys.stderr.write(f"ceiba verify: {exc}\n")
        return 2
    if args.json:
        sys.stdout.write(json.dumps(result.as_dict(), indent=2) + "\n")
    else:
        lines = [f"{result.status.value.upper()}: {result.message}"]
        for label, value in (
            ("Document number", result.document_number),
            ("Issued by", result.institution),
            ("Signed at", result.signed_at.isoformat() if result.signed_at else None),
            ("Revoked at", result.revoked_at.isoformat() if result.revoked_at else None),
            ("Revocation reason", result.revocation_reason),
            ("Details", result.detail),
        ):
            if value:
                lines.append(f"  {label}: {value}")
        sys.stdout.write("\n".join(lines) + "\n")
    return 0 if result.is_valid else 1

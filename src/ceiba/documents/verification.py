"""Public verification of issued documents: an uploaded PDF, a scanned QR payload or a number.

Every answer is a :class:`DocumentCheck` with a stable status and a plain-language message.
Only what the document itself prints is ever shown (institution, date, certified facts), and
only when the document is genuine: an invalid or foreign document gets the verdict and nothing
else, so a forged file cannot make this page repeat its claims.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass, field
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from ceiba.documents import actions, queries
from ceiba.documents.administration_pki import open_pki
from ceiba.documents.certificates import TEMPLATES
from ceiba.documents.models import IssuedDocument
from ceiba.documents.offline import MAX_PDF_BYTES, VerificationStatus, verify_pdf
from ceiba.documents.pki import Pki, PkiError
from ceiba.documents.qrpayload import QRPayloadError, QRPayloadErrorCode, verify_qr_payload
from ceiba.tenancy.models import Administration, localized


class CheckStatus(enum.StrEnum):
    VALID = "valid"
    REVOKED = "revoked"
    SUPERSEDED = "superseded"
    INVALID = "invalid"
    UNTRUSTED = "untrusted"
    EXPIRED = "expired"
    NOT_A_PDF = "not_a_pdf"
    TOO_LARGE = "too_large"
    FORGED_QR = "forged_qr"
    UNREADABLE_QR = "unreadable_qr"
    UNKNOWN_NUMBER = "unknown_number"
    NO_INPUT = "no_input"


MESSAGES: dict[CheckStatus, Promise] = {
    CheckStatus.VALID: _(
        "This document is genuine: it was issued by the institution named below and has not "
        "been changed since."
    ),
    CheckStatus.REVOKED: _(
        "This document was withdrawn by the issuing institution and is no longer valid."
    ),
    CheckStatus.SUPERSEDED: _(
        "This document was replaced by a corrected one and is no longer valid. Ask the holder "
        "for the new document."
    ),
    CheckStatus.INVALID: _(
        "This document was changed after it was issued, or its seal is damaged. Do not rely on it."
    ),
    CheckStatus.UNTRUSTED: _(
        "This document was not issued by this administration. Do not rely on it."
    ),
    CheckStatus.EXPIRED: _(
        "This document was sealed with an expired certificate, so it is not valid. Ask the "
        "issuing institution for a new copy."
    ),
    CheckStatus.NOT_A_PDF: _("This file is not a PDF document, so it cannot be checked."),
    CheckStatus.TOO_LARGE: _(
        "This file is larger than 50 MB. Issued documents are much smaller, so this is not one "
        "of them."
    ),
    CheckStatus.FORGED_QR: _(
        "The QR code does not match its seal: it was altered or forged. Do not rely on it."
    ),
    CheckStatus.UNREADABLE_QR: _(
        "This is not the QR code of a document of this administration. Scan the code again."
    ),
    CheckStatus.UNKNOWN_NUMBER: _(
        "No document with this number was issued here. Check the number and try again."
    ),
    CheckStatus.NO_INPUT: _("Upload a PDF, paste a scanned QR code or type a document number."),
}

# Statuses of a document that is what it claims to be (its facts may be shown).
GENUINE = frozenset({CheckStatus.VALID, CheckStatus.REVOKED, CheckStatus.SUPERSEDED})

_PDF_STATUS = {
    VerificationStatus.INVALID: CheckStatus.INVALID,
    VerificationStatus.UNTRUSTED: CheckStatus.UNTRUSTED,
    VerificationStatus.EXPIRED: CheckStatus.EXPIRED,
    VerificationStatus.NOT_A_PDF: CheckStatus.NOT_A_PDF,
}
_QR_STATUS = {
    QRPayloadErrorCode.BAD_SIGNATURE: CheckStatus.FORGED_QR,
    QRPayloadErrorCode.MALFORMED: CheckStatus.UNREADABLE_QR,
    QRPayloadErrorCode.UNSUPPORTED_VERSION: CheckStatus.UNREADABLE_QR,
    QRPayloadErrorCode.TOO_LARGE: CheckStatus.UNREADABLE_QR,
    QRPayloadErrorCode.UNKNOWN_SIGNER: CheckStatus.UNTRUSTED,
    QRPayloadErrorCode.UNTRUSTED_SIGNER: CheckStatus.UNTRUSTED,
    QRPayloadErrorCode.SIGNER_NOT_VALID: CheckStatus.EXPIRED,
}


@dataclass(frozen=True)
class DocumentCheck:
    status: CheckStatus
    number: str | None = None
    title: str | None = None
    institution: str | None = None
    issued_at: dt.datetime | None = None
    revoked_at: dt.datetime | None = None
    revocation_reason: str | None = None
    facts: list[tuple[str, str]] = field(default_factory=list)

    @property
    def message(self) -> str:
        return str(MESSAGES[self.status])

    @property
    def is_valid(self) -> bool:
        return self.status is CheckStatus.VALID

    @property
    def is_genuine(self) -> bool:
        return self.status in GENUINE

    def as_dict(self) -> dict[str, Any]:
        return {
            "status": self.status.value,
            "message": self.message,
            "document_number": self.number,
            "title": self.title,
            "institution": self.institution,
            "issued_at": self.issued_at.isoformat() if self.issued_at else None,
            "revoked_at": self.revoked_at.isoformat() if self.revoked_at else None,
            "revocation_reason": self.revocation_reason,
            "facts": [{"label": label, "value": value} for label, value in self.facts],
        }


def _labelled(template: str, facts: dict[str, Any]) -> list[tuple[str, str]]:
    certificate = TEMPLATES.get(template)
    if certificate is None:
        return [(key, str(value)) for key, value in facts.items()]
    return certificate.labelled(facts)


def _from_document(
    document: IssuedDocument, method: str, facts: dict[str, Any] | None = None
) -> DocumentCheck:
    """The answer for a document identified from a trusted source; counts the check."""
    actions.do_record_verification(document, method=method)
    administration = document.administration
    if document.revoked_at is not None:
        status = CheckStatus.REVOKED
    elif queries.is_superseded(document):
        status = CheckStatus.SUPERSEDED
    else:
        status = CheckStatus.VALID
    return DocumentCheck(
        status=status,
        number=document.number,
        title=document.title,
        # As the document prints it: in the document's language.
        institution=localized(
            document.institution.names, document.language, administration.default_language
        ),
        issued_at=document.issued_at,
        revoked_at=document.revoked_at,
        revocation_reason=document.revocation_reason or None,
        facts=_labelled(document.template, facts if facts is not None else document.facts),
    )


def _pki(administration: Administration) -> Pki | None:
    try:
        return open_pki(administration)
    except PkiError:
        return None  # Nothing was ever issued here, so nothing can verify.


def check_number(administration: Administration, text: str) -> DocumentCheck:
    number = actions.normalize_document_number(text)[:40]
    document = queries.document_by_number(administration, number) if number else None
    if document is None:
        return DocumentCheck(CheckStatus.UNKNOWN_NUMBER)
    return _from_document(document, "number")


def check_pdf(administration: Administration, pdf: bytes) -> DocumentCheck:
    if len(pdf) > MAX_PDF_BYTES:
        return DocumentCheck(CheckStatus.TOO_LARGE)
    if b"%PDF-" not in pdf[:1024]:
        return DocumentCheck(CheckStatus.NOT_A_PDF)
    pki = _pki(administration)
    if pki is None:
        return DocumentCheck(CheckStatus.UNTRUSTED)
    revocations = queries.revocation_list(administration, pki.administration_name)
    result = verify_pdf(pdf, pki.root_certificate, revocations)
    if result.status not in (VerificationStatus.VALID, VerificationStatus.REVOKED):
        return DocumentCheck(_PDF_STATUS[result.status])
    document = (
        queries.document_by_number(administration, result.document_number)
        if result.document_number
        else None
    )
    if document is None:
        # Sealed by this administration's PKI but unknown here: genuine, nothing more to show.
        return DocumentCheck(
            CheckStatus(result.status.value),
            number=result.document_number,
            institution=result.institution,
            issued_at=result.signed_at,
        )
    return _from_document(document, "pdf")


def check_qr(administration: Administration, payload: str) -> DocumentCheck:
    pki = _pki(administration)
    if pki is None:
        return DocumentCheck(CheckStatus.UNREADABLE_QR)
    try:
        verified = verify_qr_payload(
            payload.strip(), pki.root_certificate, pki.signing_certificates()
        )
    except QRPayloadError as exc:
        return DocumentCheck(_QR_STATUS.get(exc.code, CheckStatus.UNREADABLE_QR))
    document = queries.document_by_number(administration, verified.document_number)
    if document is None:
        return DocumentCheck(
            CheckStatus.VALID,
            number=verified.document_number,
            institution=verified.institution,
            issued_at=verified.issued_at,
            facts=[(key, str(value)) for key, value in verified.facts.items()],
        )
    # The facts shown are the ones signed into the code the visitor holds.
    return _from_document(document, "qr", facts=verified.facts)

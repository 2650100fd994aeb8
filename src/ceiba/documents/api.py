"""Public verification as JSON: the same answer as the /verify page."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Router, Schema, Status

from ceiba.documents import views
from ceiba.documents.verification import CheckStatus

router = Router(tags=["documents"])


class FactOut(Schema):
    label: str
    value: str


class CheckOut(Schema):
    status: str
    message: str
    document_number: str | None
    title: str | None
    institution: str | None
    issued_at: str | None
    revoked_at: str | None
    revocation_reason: str | None
    facts: list[FactOut]


_REQUEST_BODY = {
    "requestBody": {
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "file": {"type": "string", "format": "binary"},
                        "qr": {"type": "string"},
                        "number": {"type": "string"},
                    },
                }
            },
            "application/x-www-form-urlencoded": {
                "schema": {
                    "type": "object",
                    "properties": {"qr": {"type": "string"}, "number": {"type": "string"}},
                }
            },
        }
    }
}


@router.post(
    "/verify",
    auth=None,
    response={200: CheckOut, 413: CheckOut},
    openapi_extra=_REQUEST_BODY,
    summary="Verify a document (PDF upload, scanned QR text or document number)",
)
def verify(request: HttpRequest) -> Status:
    """Send one of ``file`` (the PDF, at most 50 MB), ``qr`` (the scanned text) or ``number``.

    ``status`` is one of: valid, revoked, superseded, invalid, untrusted, expired, not_a_pdf,
    too_large, forged_qr, unreadable_qr, unknown_number, no_input. The body is not read when
    its declared length is over the limit (413).
    """
    check = views.check_request(request)
    return Status(413 if check.status is CheckStatus.TOO_LARGE else 200, check.as_dict())

"""Stable error codes of the cases app and the exception every action raises."""

from __future__ import annotations

from enum import Enum

from django.utils.functional import Promise


class CaseErrorCode(Enum):
    NOT_FOUND = "case.not_found"
    FORBIDDEN = "case.forbidden"
    STALE = "case.stale"
    NOT_DRAFT = "case.not_draft"
    CLOSED = "case.closed"
    SERVICE_UNAVAILABLE = "case.service_unavailable"
    APPLICANT_NOT_ALLOWED = "case.applicant_not_allowed"
    ANSWERS_INVALID = "case.answers_invalid"
    DOCUMENT_MISSING = "case.document_missing"
    DOCUMENT_UNKNOWN = "case.document_unknown"
    DOCUMENT_TYPE = "case.document_type"
    DOCUMENT_TOO_LARGE = "case.document_too_large"
    DOCUMENT_EMPTY = "case.document_empty"
    TRANSITION_UNKNOWN = "case.transition_unknown"
    TRANSITION_NOT_ALLOWED = "case.transition_not_allowed"
    GUARD_FAILED = "case.guard_failed"
    INPUT_REQUIRED = "case.input_required"
    IDEMPOTENCY_CONFLICT = "case.idempotency_conflict"
    ASSIGNEE_INVALID = "case.assignee_invalid"
    HOOK_UNAVAILABLE = "case.hook_unavailable"


# The HTTP status an API or a view answers with for each code.
HTTP_STATUS: dict[CaseErrorCode, int] = {
    CaseErrorCode.NOT_FOUND: 404,
    CaseErrorCode.FORBIDDEN: 403,
    CaseErrorCode.STALE: 409,
    CaseErrorCode.NOT_DRAFT: 409,
    CaseErrorCode.CLOSED: 409,
    CaseErrorCode.SERVICE_UNAVAILABLE: 404,
    CaseErrorCode.APPLICANT_NOT_ALLOWED: 403,
    CaseErrorCode.ANSWERS_INVALID: 422,
    CaseErrorCode.DOCUMENT_MISSING: 422,
    CaseErrorCode.DOCUMENT_UNKNOWN: 422,
    CaseErrorCode.DOCUMENT_TYPE: 415,
    CaseErrorCode.DOCUMENT_TOO_LARGE: 413,
    CaseErrorCode.DOCUMENT_EMPTY: 422,
    CaseErrorCode.TRANSITION_UNKNOWN: 422,
    CaseErrorCode.TRANSITION_NOT_ALLOWED: 403,
    CaseErrorCode.GUARD_FAILED: 409,
    CaseErrorCode.INPUT_REQUIRED: 422,
    CaseErrorCode.IDEMPOTENCY_CONFLICT: 409,
    CaseErrorCode.ASSIGNEE_INVALID: 422,
    CaseErrorCode.HOOK_UNAVAILABLE: 503,
}


class CaseError(Exception):
    """A refused operation: ``code`` is stable, ``message`` translated for the person acting,
    ``errors`` lists ``(field path, message)`` for invalid answers or inputs."""

    def __init__(
        self,
        code: CaseErrorCode,
        message: str | Promise,
        *,
        errors: list[tuple[str, str]] | None = None,
    ) -> None:
        self.code = code
        self.message = str(message)
        self.errors = list(errors or [])
        super().__init__(self.message)

    @property
    def status(self) -> int:
        return HTTP_STATUS[self.code]

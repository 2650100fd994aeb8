"""Stable error codes of the documents app."""

from __future__ import annotations

import enum

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


class DocumentErrorCode(enum.StrEnum):
    UNKNOWN_TEMPLATE = "documents.unknown_template"
    WRONG_ADMINISTRATION = "documents.wrong_administration"
    NOT_FOUND = "documents.not_found"
    ALREADY_REVOKED = "documents.already_revoked"
    ALREADY_SUPERSEDED = "documents.already_superseded"
    REASON_REQUIRED = "documents.reason_required"
    NOT_ALLOWED = "documents.not_allowed"
    SIGNING_FAILED = "documents.signing_failed"


MESSAGES: dict[DocumentErrorCode, Promise] = {
    DocumentErrorCode.UNKNOWN_TEMPLATE: _("There is no certificate template with this name."),
    DocumentErrorCode.WRONG_ADMINISTRATION: _(
        "The institution, applicant and document must belong to the same administration."
    ),
    DocumentErrorCode.NOT_FOUND: _("No document with this number was found."),
    DocumentErrorCode.ALREADY_REVOKED: _("This document has already been revoked."),
    DocumentErrorCode.ALREADY_SUPERSEDED: _("This document has already been replaced."),
    DocumentErrorCode.REASON_REQUIRED: _("Give the reason for revoking the document."),
    DocumentErrorCode.NOT_ALLOWED: _("Your role does not allow this."),
    DocumentErrorCode.SIGNING_FAILED: _("The document could not be signed. Try again later."),
}


class DocumentError(Exception):
    def __init__(self, code: DocumentErrorCode, detail: str = "") -> None:
        self.code = code
        self.detail = detail
        super().__init__(f"{code.value}: {detail}" if detail else code.value)

    @property
    def message(self) -> str:
        return str(MESSAGES[self.code])

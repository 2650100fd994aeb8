"""Every operation that changes issued documents: issue, revoke, count a verification."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Mapping
from typing import Any

from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.utils import timezone, translation

from ceiba.accounts.models import LegalEntity, User
from ceiba.accounts.roles import Permission
from ceiba.cases.models import Case
from ceiba.catalog.definition import Form
from ceiba.documents.administration_pki import institution_code, signing_pki
from ceiba.documents.certificates import TEMPLATES
from ceiba.documents.errors import DocumentError, DocumentErrorCode
from ceiba.documents.models import IssuedDocument
from ceiba.documents.pdfsign import AdministrationTimeStamper, render_pdf, sign_pdf
from ceiba.documents.qrpayload import build_qr_payload, qr_svg
from ceiba.ledger import actions as ledger_actions
from ceiba.ledger.models import EntryKind
from ceiba.tenancy.models import Administration, AdministrationHostname, Institution, localized

# Crockford's base32: no I, L, O, U, so a typed number survives handwriting and phone calls.
_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_TYPO = str.maketrans({"O": "0", "I": "1", "L": "1"})
_MAX_REASON = 500


def new_document_number(prefix: str, year: int) -> str:
    """``BC-2026-7K3M-9QXD-A2F4``: 60 random bits, so numbers cannot be guessed or counted."""
    groups = ["".join(secrets.choice(_ALPHABET) for _ in range(4)) for _ in range(3)]
    return "-".join([prefix, str(year), *groups])


def normalize_document_number(text: str) -> str:
    """Uppercase, no spaces, and the usual typos of the random part fixed (O->0, I/L->1)."""
    parts = "".join(text.split()).upper().split("-")
    return "-".join(parts[:2] + [part.translate(_TYPO) for part in parts[2:]])


def _verify_url(administration: Administration) -> str:
    hostname = (
        AdministrationHostname.objects.filter(administration=administration)
        .order_by("hostname")
        .values_list("hostname", flat=True)
        .first()
    )
    return f"https://{hostname}/verify" if hostname else "/verify"


def do_issue_document(
    *,
    administration: Administration,
    institution: Institution,
    applicant: User,
    template: str,
    answers: Mapping[str, Any],
    form: Form | None = None,
    language: str | None = None,
    title: str | None = None,
    legal_entity: LegalEntity | None = None,
    case_reference: str = "",
    supersedes: IssuedDocument | None = None,
    actor: User | None,
) -> IssuedDocument:
    """Render, sign and store a certificate, and record the issuance in the ledger.

    The certified facts are the template's printed facts taken from ``answers``, written in
    the document's language with the choice labels and date fields of ``form`` (the service
    definition's form the answers were given in). With
    ``supersedes``, the new document replaces an earlier one (a correction); the earlier one
    stays as it is and verification reports it as superseded.
    """
    certificate = TEMPLATES.get(template)
    if certificate is None:
        raise DocumentError(DocumentErrorCode.UNKNOWN_TEMPLATE, template)
    related = [institution.administration_id, applicant.administration_id]
    if legal_entity is not None:
        related.append(legal_entity.administration_id)
    if supersedes is not None:
        related.append(supersedes.administration_id)
    if any(pk != administration.pk for pk in related):
        raise DocumentError(DocumentErrorCode.WRONG_ADMINISTRATION)
    if supersedes is not None and IssuedDocument.objects.filter(supersedes=supersedes).exists():
        raise DocumentError(DocumentErrorCode.ALREADY_SUPERSEDED, supersedes.number)

    language = (language or applicant.preferred_language or administration.default_language).split(
        "-"
    )[0]
    facts = certificate.certified_facts(answers, form=form, language=language)
    # The QR code carries Unix seconds; keep the stored time identical to what is signed.
    issued_at = timezone.now().replace(microsecond=0)
    number = new_document_number(certificate.prefix, issued_at.year)

    pki = signing_pki(administration, institution)
    identity = pki.signing_identity(institution_code(institution))
    tsa = pki.tsa_identity()
    payload = build_qr_payload(number, facts, issued_at, identity.key, identity.certificate)
    with translation.override(language):
        title = title or str(certificate.title)
        html = render_to_string(
            certificate.html_template,
            {
                "administration_name": localized(
                    administration.names, language, administration.default_language
                ),
                "institution_name": localized(
                    institution.names, language, administration.default_language
                ),
                "title": title,
                "number": number,
                "rows": certificate.labelled(facts),
                "issued_at": issued_at,
                "qr_svg": qr_svg(payload),
                "verify_url": _verify_url(administration),
                "supersedes": supersedes.number if supersedes else "",
                "language": language,
            },
        )
    pdf = sign_pdf(
        render_pdf(html),
        identity.key,
        identity.chain,
        AdministrationTimeStamper(tsa.key, tsa.certificate, tsa.chain),
        document_number=number,
        reason=title,
        location=localized(administration.names, "en", administration.default_language),
    )
    document = IssuedDocument(
        administration=administration,
        institution=institution,
        case_reference=case_reference,
        applicant=applicant,
        legal_entity=legal_entity,
        number=number,
        template=template,
        title=title[:200],
        language=language,
        facts=facts,
        qr_payload=payload,
        sha256=hashlib.sha256(pdf).hexdigest(),
        signing_certificate=identity.key.label,
        issued_at=issued_at,
        supersedes=supersedes,
    )
    document.pdf.save(f"{number}.pdf", ContentFile(pdf), save=False)
    try:
        with transaction.atomic():
            document.save(force_insert=True)
            ledger_actions.record(
                kind=EntryKind.DOCUMENT_ISSUED,
                actor=actor,
                administration=administration,
                institution=institution,
                subject=applicant,
                reference=f"document:{number}",
                # The superseded number and the case reference would unlock personal data:
                # the document row keeps them, the log commits to this document's number.
                details={"template": template, "sha256": document.sha256},
            )
    except BaseException:
        # The row did not commit: do not leave an orphan signed PDF behind.
        document.pdf.storage.delete(document.pdf.name)
        raise
    return document


def can_revoke(user: User, document: IssuedDocument) -> bool:
    return (
        user.is_authenticated
        and user.has_role_permission(Permission.SUPERVISE_CASES)
        and user.administration_id == document.administration_id
        and user.institution_id == document.institution.pk
    )


def do_revoke_document(document: IssuedDocument, *, reason: str, actor: User) -> IssuedDocument:
    """Withdraw a document: verification reports it revoked and the published list names it."""
    reason = " ".join(reason.split())
    if not reason:
        raise DocumentError(DocumentErrorCode.REASON_REQUIRED)
    if len(reason) > _MAX_REASON:
        reason = reason[:_MAX_REASON]
    if not can_revoke(actor, document):
        raise DocumentError(DocumentErrorCode.NOT_ALLOWED)
    with transaction.atomic():
        locked = IssuedDocument.objects.select_for_update().get(pk=document.pk)
        if locked.revoked_at is not None:
            raise DocumentError(DocumentErrorCode.ALREADY_REVOKED, locked.number)
        locked.revoked_at = timezone.now()
        locked.revocation_reason = reason
        locked.revoked_by = actor
        locked.save(update_fields=["revoked_at", "revocation_reason", "revoked_by"])
        ledger_actions.record(
            kind=EntryKind.DOCUMENT_REVOKED,
            actor=actor,
            administration=locked.administration,
            institution=locked.institution,
            subject=locked.applicant,
            reference=f"document:{locked.number}",
            # The reason is free text an officer wrote: it stays on the document row.
            details={},
        )
    return locked


def do_record_verification(
    document: IssuedDocument, *, method: str, now: dt.datetime | None = None
) -> None:
    """Count one check of a document. Who checked is deliberately not recorded anywhere."""
    now = now or timezone.now()
    with transaction.atomic():
        IssuedDocument.objects.filter(pk=document.pk).update(
            verification_count=F("verification_count") + 1, last_verified_at=now
        )
        ledger_actions.record(
            kind=EntryKind.DOCUMENT_VERIFIED,
            actor=None,
            administration=document.administration,
            institution=document.institution,
            subject=document.applicant,
            reference=f"document:{document.number}",
            details={"method": method},
        )


def do_issue_case_outputs(case: Case, *, actor: User | None = None) -> list[IssuedDocument]:
    """Issue every output the case's service definition names for the state the case is in.

    Safe to run twice: an output already issued for this case (same reference and template)
    is not issued again. Called by the job queue after a transition commits, and by the demo.
    """
    from ceiba.catalog.queries import definition_for

    if not case.reference:
        return []
    definition = definition_for(case.service_version)
    issued = []
    for output in definition.outputs:
        if output.state != case.state:
            continue
        already = IssuedDocument.objects.filter(
            administration=case.administration,
            case_reference=case.reference,
            template=output.template,
        ).exists()
        if already:
            continue
        language = case.language or case.administration.default_language
        issued.append(
            do_issue_document(
                administration=case.administration,
                institution=case.institution,
                applicant=case.applicant,
                template=output.template,
                answers=case.answers,
                form=definition.form,
                language=language,
                title=localized(output.title, language, case.administration.default_language),
                legal_entity=case.legal_entity,
                case_reference=case.reference,
                actor=actor,
            )
        )
    return issued

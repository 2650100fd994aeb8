from __future__ import annotations

import hashlib
import shutil
from pathlib import Path
from typing import Any

import pytest

from ceiba.accounts.roles import Role
from ceiba.documents.administration_pki import open_pki
from ceiba.documents.errors import DocumentError, DocumentErrorCode
from ceiba.documents.models import IssuedDocument
from ceiba.documents.offline import VerificationStatus, verify_pdf
from ceiba.documents.qrpayload import verify_qr_payload
from ceiba.ledger.models import EntryKind, LedgerEntry
from tests.conftest import Tenant
from tests.documents.conftest import BIRTH_ANSWERS, issue_birth_certificate, modify_one_byte
from tests.documents.test_offline import _nss_trusting, _pdfsig, _pyhanko_validate

pytestmark = pytest.mark.django_db


def _pdf_bytes(document: IssuedDocument) -> bytes:
    with document.pdf.open("rb") as handle:
        return handle.read()


def test_an_issued_certificate_is_a_signed_pdf_with_only_the_printed_facts(
    tenant_a: Tenant, document_storage: Path
) -> None:
    document = issue_birth_certificate(tenant_a)

    pdf = _pdf_bytes(document)
    assert pdf.startswith(b"%PDF-")
    assert Path(document.pdf.path).is_relative_to(document_storage / "media")
    assert document.sha256 == hashlib.sha256(pdf).hexdigest()
    assert document.facts["family_name"] == "Ndiaye"
    assert "court_order_reference" not in document.facts
    assert "requester_relationship" not in document.facts
    assert document.language == "fr"
    pki = open_pki(tenant_a.administration)
    result = verify_pdf(pdf, pki.root_pem())
    assert result.status is VerificationStatus.VALID, result.detail
    assert result.document_number == document.number
    assert result.institution == "État civil alpha"


def test_issuance_is_recorded_in_the_ledger(tenant_a: Tenant, document_storage: Path) -> None:
    document = issue_birth_certificate(tenant_a)

    entry = LedgerEntry.objects.get(
        administration=tenant_a.administration, kind=EntryKind.DOCUMENT_ISSUED
    )
    assert entry.reference == f"document:{document.number}"


def test_the_qr_code_carries_the_printed_facts_signed(
    tenant_a: Tenant, document_storage: Path
) -> None:
    document = issue_birth_certificate(tenant_a)
    pki = open_pki(tenant_a.administration)
    verified = verify_qr_payload(
        document.qr_payload, pki.root_certificate, pki.certificate_bundle_pem()
    )
    assert verified.document_number == document.number
    assert verified.facts == document.facts
    assert verified.issued_at == document.issued_at
    assert verified.institution == "État civil alpha"


def test_numbers_are_unique_random_and_human_friendly(
    tenant_a: Tenant, document_storage: Path
) -> None:
    first = issue_birth_certificate(tenant_a)
    second = issue_birth_certificate(tenant_a)
    assert first.number != second.number
    for number in (first.number, second.number):
        prefix, year, *groups = number.split("-")
        assert prefix == "BC"
        assert year.isdigit()
        assert len(groups) == 3
        assert all(len(g) == 4 and not set(g) & set("ILOU") for g in groups)


def test_an_issued_document_is_never_modified(tenant_a: Tenant, document_storage: Path) -> None:
    document = issue_birth_certificate(tenant_a)
    document.facts = {**document.facts, "family_name": "Forged"}
    with pytest.raises(ValueError, match="never modified"):
        document.save()
    with pytest.raises(ValueError, match="never modified"):
        document.save(update_fields=["facts"])
    document.refresh_from_db()
    assert document.facts["family_name"] == "Ndiaye"


def test_a_correction_supersedes_the_earlier_document_once(
    tenant_a: Tenant, document_storage: Path
) -> None:
    original = issue_birth_certificate(tenant_a)
    corrected = issue_birth_certificate(
        tenant_a, answers={**BIRTH_ANSWERS, "given_names": "Awa Marie"}, supersedes=original
    )
    assert corrected.supersedes == original
    original.refresh_from_db()
    assert original.superseded_by == corrected
    assert original.facts["given_names"] == "Awa"
    with pytest.raises(DocumentError) as excinfo:
        issue_birth_certificate(tenant_a, supersedes=original)
    assert excinfo.value.code is DocumentErrorCode.ALREADY_SUPERSEDED


def test_wrong_template_and_other_administration_are_refused(
    tenant_a: Tenant, tenant_b: Tenant, document_storage: Path
) -> None:
    with pytest.raises(DocumentError) as excinfo:
        issue_birth_certificate(tenant_a, template="civil-registry/no-such-thing")
    assert excinfo.value.code is DocumentErrorCode.UNKNOWN_TEMPLATE
    with pytest.raises(DocumentError) as excinfo:
        issue_birth_certificate(tenant_a, applicant=tenant_b.users[Role.CITIZEN])
    assert excinfo.value.code is DocumentErrorCode.WRONG_ADMINISTRATION
    assert not IssuedDocument.objects.exists()
    assert not list((document_storage / "media").rglob("*.pdf"))


@pytest.mark.parametrize(
    ("template", "answers"),
    [
        (
            "commerce-registry/certificate-of-registration",
            {"business_name": "Coop Démo SARL", "legal_form": "sarl", "share_capital": "1000000"},
        ),
        (
            "education/place-offer-letter",
            {"child_given_names": "Issa", "child_family_name": "Diop", "level": "primary"},
        ),
        (
            "education/certificate-of-enrollment",
            {"child_given_names": "Issa", "child_family_name": "Diop", "grade": "CP"},
        ),
        ("agriculture/input-voucher", {"farmer_id": "FR-001", "crops": ["maize", "rice"]}),
        ("tax/assessment-notice", {"tax_id": "T-123", "fiscal_year": 2025, "tax_due": "150000"}),
    ],
)
def test_every_pack_template_renders_and_signs(
    tenant_a: Tenant, document_storage: Path, template: str, answers: dict[str, Any]
) -> None:
    document = issue_birth_certificate(tenant_a, template=template, answers=answers, language="en")
    pki = open_pki(tenant_a.administration)
    assert verify_pdf(_pdf_bytes(document), pki.root_pem()).is_valid
    assert set(document.facts) == set(answers)
    assert all(isinstance(value, str) for value in document.facts.values())


@pytest.mark.skipif(shutil.which("pdfsig") is None, reason="pdfsig (poppler-utils) absent")
def test_pdfsig_validates_an_issued_certificate(
    tenant_a: Tenant, document_storage: Path, tmp_path: Path
) -> None:
    document = issue_birth_certificate(tenant_a)
    root = tmp_path / "root.pem"
    root.write_bytes(open_pki(tenant_a.administration).root_pem())
    nss = _nss_trusting(root, tmp_path / "nss")
    report = _pdfsig(Path(document.pdf.path), nss)
    assert "Signature Validation: Signature is Valid." in report
    if nss is not None:
        assert "Certificate Validation: Certificate is Trusted." in report
    modified = tmp_path / "modified.pdf"
    modified.write_bytes(modify_one_byte(_pdf_bytes(document)))
    assert "Signature is Valid" not in _pdfsig(modified, nss)


def test_pyhanko_cli_validates_an_issued_certificate(
    tenant_a: Tenant, document_storage: Path, tmp_path: Path
) -> None:
    document = issue_birth_certificate(tenant_a)
    root = tmp_path / "root.pem"
    root.write_bytes(open_pki(tenant_a.administration).root_pem())
    valid = _pyhanko_validate(Path(document.pdf.path), root)
    assert valid.returncode == 0, valid.stderr
    assert ":INTACT:TRUSTED,TIMESTAMP_TOKEN<INTACT:TRUSTED>,UNTOUCHED" in valid.stdout
    modified = tmp_path / "modified.pdf"
    modified.write_bytes(modify_one_byte(_pdf_bytes(document)))
    assert _pyhanko_validate(modified, root).returncode != 0


def test_the_demo_issues_one_signed_certificate_to_the_demo_citizen(
    document_storage: Path,
) -> None:
    from ceiba.web.demo import load_demo

    result = load_demo()
    again = load_demo()
    documents = IssuedDocument.objects.filter(administration=result.administration)
    assert documents.count() == 1
    document = documents.get()
    assert document.applicant.email == "citoyen@demo.example"
    assert again.administration == result.administration
    pki = open_pki(result.administration)
    assert verify_pdf(_pdf_bytes(document), pki.root_pem()).is_valid

"""Certified facts read as the document's language writes them: choice labels, not codes, and
dates as words; and exactly those texts are stored, signed into the QR code, printed on the PDF
and shown by /verify, which names the institution as the document prints it."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from django.test import Client

from ceiba.catalog.definition import Form, load_paths
from ceiba.documents.administration_pki import open_pki
from ceiba.documents.certificates import TEMPLATES
from ceiba.documents.models import IssuedDocument
from ceiba.documents.qrpayload import verify_qr_payload
from tests.conftest import Tenant
from tests.documents.conftest import BIRTH_ANSWERS, BIRTH_TEMPLATE, issue_birth_certificate

PACKS = Path(__file__).resolve().parents[2] / "packs"
BIRTH = TEMPLATES[BIRTH_TEMPLATE]
VOUCHER = TEMPLATES["agriculture/input-voucher"]


def _form(pack: str) -> Form:
    return load_paths([PACKS / pack])[0].form


@pytest.fixture(scope="module")
def birth_form() -> Form:
    return _form("civil-registry/birth-certificate-copy.yaml")


@pytest.mark.parametrize(
    ("language", "copy_type", "born"),
    [
        ("fr", "Copie intégrale", "14 mars 1991"),
        ("es", "Copia íntegra", "14 de marzo de 1991"),
        ("en", "Full copy", "March 14, 1991"),
    ],
)
def test_choices_and_dates_are_written_in_the_document_language(
    birth_form: Form, language: str, copy_type: str, born: str
) -> None:
    facts = BIRTH.certified_facts(BIRTH_ANSWERS, form=birth_form, language=language)

    assert facts["copy_type"] == copy_type
    assert facts["date_of_birth"] == born
    assert facts["family_name"] == "Ndiaye"
    assert facts["place_of_birth"] == "Thiès"
    assert "court_order_reference" not in facts


def test_several_choices_are_listed_by_their_labels() -> None:
    form = _form("agriculture/farmer-input-subsidy.yaml")

    facts = VOUCHER.certified_facts(
        {"farmer_id": "SN-012345", "crops": ["maize", "cassava"], "hectares": 2.5},
        form=form,
        language="fr",
    )

    assert facts == {"farmer_id": "SN-012345", "crops": "Maïs, Manioc", "hectares": "2.5"}


def test_without_a_definition_answers_are_printed_as_given() -> None:
    facts = BIRTH.certified_facts(BIRTH_ANSWERS, language="fr")
    assert facts["copy_type"] == "full_copy"
    assert facts["date_of_birth"] == "1991-03-14"


def test_an_answer_that_is_not_a_date_is_kept_as_it_is(birth_form: Form) -> None:
    facts = BIRTH.certified_facts(
        {**BIRTH_ANSWERS, "date_of_birth": "14/03/1991", "copy_type": "unknown_kind"},
        form=birth_form,
        language="fr",
    )
    assert facts["date_of_birth"] == "14/03/1991"
    assert facts["copy_type"] == "unknown_kind"


@pytest.mark.django_db
def test_what_is_stored_is_what_is_signed_printed_and_verified(
    tenant_a: Tenant, document_storage: Path, birth_form: Form
) -> None:
    # given: a French certificate issued with the service definition's form
    document = issue_birth_certificate(tenant_a, form=birth_form, language="fr")
    assert document.facts["copy_type"] == "Copie intégrale"
    assert document.facts["date_of_birth"] == "14 mars 1991"

    # then: the QR code signs the same texts
    pki = open_pki(tenant_a.administration)
    verified = verify_qr_payload(
        document.qr_payload, pki.root_certificate, pki.certificate_bundle_pem()
    )
    assert verified.facts == document.facts

    # and the PDF prints them
    if shutil.which("pdftotext"):
        text = subprocess.run(
            ["pdftotext", "-enc", "UTF-8", document.pdf.path, "-"],
            capture_output=True,
            check=True,
            text=True,
        ).stdout
        for value in document.facts.values():
            assert value in text, value
        assert "full_copy" not in text
        assert "1991-03-14" not in text

    # and /verify shows them, whatever the visitor's language
    page = (
        Client(HTTP_HOST=tenant_a.host, HTTP_ACCEPT_LANGUAGE="en")
        .post("/verify", {"number": document.number})
        .content.decode()
    )
    assert "Copie intégrale" in page
    assert "14 mars 1991" in page
    assert "full_copy" not in page


@pytest.mark.django_db
def test_verify_names_the_institution_in_the_document_language(
    tenant_a: Tenant, document_storage: Path, birth_form: Form
) -> None:
    # given: an administration whose default language is French, and an English certificate
    assert tenant_a.administration.default_language == "fr"
    document = issue_birth_certificate(tenant_a, form=birth_form, language="en")
    assert document.language == "en"

    # when: it is checked by number, on the page and through the API, by a French visitor
    client = Client(HTTP_HOST=tenant_a.host, HTTP_ACCEPT_LANGUAGE="fr")
    page = client.post("/verify", {"number": document.number}).content.decode()
    body = client.post("/api/v1/documents/verify", {"number": document.number}).json()

    # then: both name the institution as the English document prints it
    assert body["institution"] == "Civil registry alpha"
    assert "Civil registry alpha" in page
    assert "État civil alpha" not in page
    assert {"label": "Type de copie", "value": "Full copy"} in body["facts"]
    assert IssuedDocument.objects.get(pk=document.pk).verification_count == 2

"""The bad-input list of the issue, through the real /verify page and the JSON API."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import base45
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from ceiba.documents.administration_pki import institution_code, open_pki
from ceiba.documents.models import IssuedDocument
from ceiba.documents.offline import MAX_PDF_BYTES
from ceiba.documents.pdfsign import AdministrationTimeStamper, render_pdf, sign_pdf
from ceiba.documents.pki import CertificateProfile, SigningIdentity, issue_certificate
from ceiba.documents.qrpayload import PREFIX
from tests.conftest import Tenant
from tests.documents.conftest import SignFn, certificate_html, issue_birth_certificate
from tests.documents.conftest import modify_one_byte as one_byte_changed

pytestmark = pytest.mark.django_db


def english_client(host: str) -> Client:
    """A visitor who chose English (the administration's default is French)."""
    client = Client(HTTP_HOST=host)
    client.cookies["ceiba_language"] = "en"
    return client


def _pdf(document: IssuedDocument) -> bytes:
    with document.pdf.open("rb") as handle:
        return handle.read()


def _page(host: str, **data: Any) -> tuple[int, str]:
    response = english_client(host).post("/verify", data)
    return response.status_code, response.content.decode()


def _api(host: str, **data: Any) -> tuple[int, dict[str, Any]]:
    response = english_client(host).post("/api/v1/documents/verify", data)
    return response.status_code, response.json()


def _upload(content: bytes, name: str = "certificate.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def _both(host: str, field: str, value: Any) -> tuple[str, dict[str, Any]]:
    """Ask the page and the API the same question; both must agree on the status."""
    if isinstance(value, bytes):
        status_page, page = _page(host, document=_upload(value))
        status_api, body = _api(host, file=_upload(value))
    else:
        status_page, page = _page(host, **{field: value})
        status_api, body = _api(host, **{field: value})
    assert status_page == status_api
    assert f"verdict-{body['status']}" in page
    return page, body


def test_the_page_works_without_javascript_and_links_the_public_files(tenant_a: Tenant) -> None:
    response = english_client(tenant_a.host).get("/verify")
    assert response.status_code == 200
    page = response.content.decode()
    assert 'enctype="multipart/form-data"' in page
    assert "<script" not in page
    for link in ("/verify/root.pem", "/verify/certificates.pem", "/verify/revocations.json"):
        assert link in page


def test_a_genuine_certificate_is_valid_by_upload_qr_and_number(
    tenant_a: Tenant, document_storage: Path
) -> None:
    document = issue_birth_certificate(tenant_a)
    for field, value in (
        ("document", _pdf(document)),
        ("qr", document.qr_payload),
        ("number", document.number.lower().replace("-", " - ", 1)),
    ):
        page, body = _both(tenant_a.host, field, value)
        assert body["status"] == "valid"
        assert body["document_number"] == document.number
        assert body["institution"] == "État civil alpha"
        assert {"label": "Family name", "value": "Ndiaye"} in body["facts"]
        assert "Ndiaye" in page
        assert "État civil alpha" in page
        # Answers that are not printed are never shown.
        assert "SECRET-COURT-REF-77" not in page
        assert "SECRET-COURT-REF-77" not in str(body)


def test_a_one_byte_modified_pdf_is_invalid_and_shows_nothing_else(
    tenant_a: Tenant, document_storage: Path
) -> None:
    document = issue_birth_certificate(tenant_a)
    page, body = _both(tenant_a.host, "document", one_byte_changed(_pdf(document)))
    assert body["status"] == "invalid"
    assert "changed after it was issued" in body["message"]
    assert body["facts"] == []
    assert body["document_number"] is None
    assert "Ndiaye" not in page
    assert document.number not in page


def test_a_pdf_signed_outside_the_chain_is_untrusted(
    tenant_a: Tenant, document_storage: Path, sign: SignFn
) -> None:
    issue_birth_certificate(tenant_a)  # the administration has a PKI of its own
    # `sign` uses another PKI (the crypto tests' "Republic of Example").
    _page_text, body = _both(tenant_a.host, "document", sign())
    assert body["status"] == "untrusted"
    assert "not issued by this administration" in body["message"]
    assert body["institution"] is None


def test_a_pdf_signed_with_an_expired_certificate_is_expired(
    tenant_a: Tenant, document_storage: Path
) -> None:
    issue_birth_certificate(tenant_a)
    pki = open_pki(tenant_a.administration)
    now = dt.datetime.now(dt.UTC)
    key = pki.keystore.create_key("institution-expired-test")
    current = pki.signing_identity(institution_code(tenant_a.institution))
    expired = issue_certificate(
        pki.root_certificate,
        pki.keystore.load_key("root"),
        key.public_key,
        current.certificate.subject,
        CertificateProfile.DOCUMENT_SIGNING,
        not_before=now - dt.timedelta(days=400),
        not_after=now - dt.timedelta(days=30),
    )
    tsa = pki.tsa_identity()
    identity = SigningIdentity(key, expired, (expired, pki.root_certificate))
    pdf = sign_pdf(
        render_pdf(certificate_html("BC-2026-AAAA-BBBB-CCCC", {"holder": "X"})),
        identity.key,
        identity.chain,
        AdministrationTimeStamper(tsa.key, tsa.certificate, tsa.chain),
        document_number="BC-2026-AAAA-BBBB-CCCC",
    )
    _page_text, body = _both(tenant_a.host, "document", pdf)
    assert body["status"] == "expired"


def test_a_forged_qr_payload_is_reported_as_forged(
    tenant_a: Tenant, document_storage: Path
) -> None:
    document = issue_birth_certificate(tenant_a)
    binary = bytearray(base45.b45decode(document.qr_payload[len(PREFIX) :]))
    binary[20] ^= 0x01  # inside the signature
    forged = PREFIX + base45.b45encode(bytes(binary)).decode()
    page, body = _both(tenant_a.host, "qr", forged)
    assert body["status"] == "forged_qr"
    assert "Ndiaye" not in page
    _page_text, body = _both(tenant_a.host, "qr", "HELLO WORLD")
    assert body["status"] == "unreadable_qr"
    document.refresh_from_db()
    assert document.verification_count == 0


def test_an_unknown_number_is_reported_plainly(tenant_a: Tenant, document_storage: Path) -> None:
    issue_birth_certificate(tenant_a)
    page, body = _both(tenant_a.host, "number", "BC-2026-0000-0000-0000")
    assert body["status"] == "unknown_number"
    assert "No document with this number" in page


def test_a_non_pdf_upload_is_refused_politely(tenant_a: Tenant, document_storage: Path) -> None:
    issue_birth_certificate(tenant_a)
    for content in (b"GIF89a\x01\x00\x01\x00", b"<html>not a pdf</html>", b""):
        page, body = _both(tenant_a.host, "document", content or b" ")
        assert body["status"] == "not_a_pdf"
        assert "not a PDF document" in page
    # A PDF header on garbage is still no PDF that can be relied on.
    _page_text, body = _both(tenant_a.host, "document", b"%PDF-1.7\n" + b"\x00" * 2000)
    assert body["status"] in {"not_a_pdf", "invalid"}


def test_a_50_mb_upload_is_refused_before_it_is_read(tenant_a: Tenant) -> None:
    big = _upload(b"%PDF-1.7\n" + b"0" * MAX_PDF_BYTES)
    response = english_client(tenant_a.host).post("/verify", {"document": big})
    assert response.status_code == 413
    assert "larger than 50 MB" in response.content.decode()
    big.seek(0)
    response = english_client(tenant_a.host).post("/api/v1/documents/verify", {"file": big})
    assert response.status_code == 413
    assert response.json()["status"] == "too_large"


def test_an_empty_form_asks_for_something_to_check(tenant_a: Tenant) -> None:
    status, body = _api(tenant_a.host)
    assert status == 200
    assert body["status"] == "no_input"


def test_another_administrations_document_is_unknown_here(
    tenant_a: Tenant, tenant_b: Tenant, document_storage: Path
) -> None:
    theirs = issue_birth_certificate(tenant_b)
    issue_birth_certificate(tenant_a)
    assert _api(tenant_a.host, number=theirs.number)[1]["status"] == "unknown_number"
    assert _api(tenant_a.host, qr=theirs.qr_payload)[1]["status"] == "untrusted"
    assert _api(tenant_a.host, file=_upload(_pdf(theirs)))[1]["status"] == "untrusted"
    theirs.refresh_from_db()
    assert theirs.verification_count == 0

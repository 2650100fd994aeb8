"""Uploads are checked on the server: content type sniffed, extension consistent, size capped."""

from __future__ import annotations

from pathlib import Path

import pytest
from django import forms
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation
from django.utils.datastructures import MultiValueDict

from ceiba.cases.forms import DocumentsForm, check_upload, document_required, sniff_media_type
from ceiba.catalog.definition import DocumentRequirement, ServiceDefinition, load_paths

PACKS = Path(__file__).resolve().parents[2] / "packs"
PDF = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n%%EOF\n"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 64
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 64 + b"This program"


@pytest.fixture(scope="module")
def birth() -> ServiceDefinition:
    return next(d for d in load_paths([PACKS]) if d.id == "civil-registry.birth-certificate-copy")


@pytest.fixture(autouse=True)
def english() -> object:
    with translation.override("en"):
        yield


def identity(birth: ServiceDefinition) -> DocumentRequirement:
    return next(d for d in birth.documents if d.id == "requester_identity")


def test_content_is_sniffed_from_the_first_bytes() -> None:
    assert sniff_media_type(PDF) == "application/pdf"
    assert sniff_media_type(JPEG) == "image/jpeg"
    assert sniff_media_type(PNG) == "image/png"
    assert sniff_media_type(EXE) == "application/x-msdownload"
    assert sniff_media_type(b"\x7fELF\x02\x01") == "application/x-executable"
    assert sniff_media_type(b"hello") is None


def test_an_exe_renamed_pdf_is_refused(birth: ServiceDefinition) -> None:
    upload = SimpleUploadedFile("passport.pdf", EXE, content_type="application/pdf")
    with pytest.raises(forms.ValidationError) as refused:
        check_upload(upload, identity(birth))
    assert refused.value.code == "wrong_type"
    assert refused.value.messages == [
        "The file for “Applicant's identity document” must be a PDF, JPEG or PNG file; "
        "this file is not one"
    ]


def test_a_file_larger_than_the_limit_is_refused(birth: ServiceDefinition) -> None:
    big = PDF + b"0" * (5 * 1024 * 1024)
    with pytest.raises(forms.ValidationError) as refused:
        check_upload(SimpleUploadedFile("id.pdf", big), identity(birth))
    assert refused.value.code == "too_large"
    assert refused.value.messages == [
        "The file for “Applicant's identity document” must be smaller than 5 MB (it is 5 MB)"
    ]


def test_a_jpeg_named_pdf_is_refused_as_mislabelled(birth: ServiceDefinition) -> None:
    with pytest.raises(forms.ValidationError) as refused:
        check_upload(SimpleUploadedFile("id.pdf", JPEG), identity(birth))
    assert refused.value.code == "mislabelled"
    assert "is named .pdf but holds a JPEG file" in refused.value.messages[0]


def test_an_empty_file_is_refused(birth: ServiceDefinition) -> None:
    with pytest.raises(forms.ValidationError) as refused:
        check_upload(SimpleUploadedFile("id.pdf", b""), identity(birth))
    assert refused.value.code == "empty"


def test_a_good_file_keeps_the_sniffed_type_not_the_browser_one(birth: ServiceDefinition) -> None:
    checked = check_upload(
        SimpleUploadedFile("C:\\scans\\id card.png", PNG, content_type="application/pdf"),
        identity(birth),
    )
    assert checked.media_type == "image/png"
    assert checked.name == "id card.png"
    assert checked.size == len(PNG)


def test_court_order_accepts_pdf_only(birth: ServiceDefinition) -> None:
    court = next(d for d in birth.documents if d.id == "court_order")
    with pytest.raises(forms.ValidationError) as refused:
        check_upload(SimpleUploadedFile("order.png", PNG), court)
    assert "must be a PDF file" in refused.value.messages[0]


def test_documents_form_lists_types_size_and_whether_each_is_required(
    birth: ServiceDefinition,
) -> None:
    form = DocumentsForm(birth.documents, answers={"requester_relationship": "self"})
    rows = {row["requirement"].id: row for row in form.rows()}
    assert rows["requester_identity"]["types"] == "PDF, JPEG or PNG"
    assert rows["requester_identity"]["max_size"] == "5 MB"
    assert rows["requester_identity"]["required"] is True
    assert rows["court_order"]["required"] is False
    assert rows["court_order"]["max_size"] == "10 MB"
    assert 'accept="application/pdf,image/jpeg,image/png"' in str(
        rows["requester_identity"]["bound"]
    )
    # a condition on a question not answered yet counts as needed
    assert document_required(rows["court_order"]["requirement"], {}) is True


def test_documents_form_reports_each_bad_file_in_the_summary(birth: ServiceDefinition) -> None:
    files = MultiValueDict(
        {
            "doc_requester_identity": [SimpleUploadedFile("id.pdf", EXE)],
            "doc_court_order": [SimpleUploadedFile("order.pdf", PDF)],
        }
    )
    form = DocumentsForm(
        birth.documents,
        answers={"requester_relationship": "legal_representative"},
        data={},
        files=files,
    )
    assert not form.is_valid()
    assert [anchor for anchor, _m in form.summary()] == ["id_doc_requester_identity"]
    assert list(form.checked) == ["court_order"]
    assert form.checked["court_order"].media_type == "application/pdf"

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ceiba.documents.offline import VerificationStatus, main, verify_pdf
from ceiba.documents.pdfsign import PdfSigningError, render_pdf, sign_pdf
from ceiba.documents.pki import (
    CertificateProfile,
    Pki,
    SigningIdentity,
    init_pki,
    issue_certificate,
    rotate_signing_certificate,
)
from ceiba.documents.revocation import RevocationEntry, build_revocation_list
from tests.documents.conftest import INSTITUTIONS, PASSPHRASE, SignFn, modify_one_byte


def _pdfsig(pdf: Path, nss_dir: Path | None) -> str:
    command = ["pdfsig"]
    if nss_dir is not None:
        command += ["-nssdir", f"sql:{nss_dir}"]
    return subprocess.run(
        [*command, str(pdf)], capture_output=True, text=True, check=False, timeout=60
    ).stdout


def _nss_trusting(root: Path, directory: Path) -> Path | None:
    """An NSS database that trusts only the root, so pdfsig checks the chain too."""
    if shutil.which("certutil") is None:
        return None
    directory.mkdir()
    db = f"sql:{directory}"
    subprocess.run(["certutil", "-N", "-d", db, "--empty-password"], check=True, timeout=60)
    subprocess.run(
        ["certutil", "-A", "-d", db, "-n", "root", "-t", "CT,C,C", "-i", str(root)],
        check=True,
        timeout=60,
    )
    return directory


def _pyhanko_validate(pdf: Path, root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pyhanko",
            "sign",
            "validate",
            "--trust",
            str(root),
            "--trust-replace",
            str(pdf),
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def test_a_rendered_and_signed_certificate_is_valid(signed_pdf: bytes, root_pem: bytes) -> None:
    result = verify_pdf(signed_pdf, root_pem)
    assert result.status is VerificationStatus.VALID, result.detail
    assert result.document_number == "CR-2026-000001"
    assert result.institution == "Civil Registry"
    assert result.signed_at is not None
    assert "genuine" in result.message


def test_a_one_byte_modified_copy_is_invalid(signed_pdf: bytes, root_pem: bytes) -> None:
    result = verify_pdf(modify_one_byte(signed_pdf), root_pem)
    assert result.status is VerificationStatus.INVALID
    assert "changed" in result.message


@pytest.mark.skipif(shutil.which("pdfsig") is None, reason="pdfsig (poppler-utils) absent")
def test_pdfsig_agrees_valid_and_then_invalid(files: dict[str, Path], tmp_path: Path) -> None:
    nss = _nss_trusting(files["root"], tmp_path / "nss")
    report = _pdfsig(files["signed"], nss)
    assert "Signature Validation: Signature is Valid." in report
    assert "Total document signed" in report
    if nss is not None:
        assert "Certificate Validation: Certificate is Trusted." in report
    modified = tmp_path / "modified.pdf"
    modified.write_bytes(modify_one_byte(files["signed"].read_bytes()))
    report = _pdfsig(modified, nss)
    assert "Signature Validation: Digest Mismatch." in report
    assert "Signature is Valid" not in report


def test_pyhanko_cli_with_the_root_as_trust_anchor_agrees(
    files: dict[str, Path], tmp_path: Path
) -> None:
    valid = _pyhanko_validate(files["signed"], files["root"])
    assert valid.returncode == 0, valid.stderr
    assert ":INTACT:TRUSTED,TIMESTAMP_TOKEN<INTACT:TRUSTED>,UNTOUCHED" in valid.stdout
    modified = tmp_path / "modified.pdf"
    modified.write_bytes(modify_one_byte(files["signed"].read_bytes()))
    invalid = _pyhanko_validate(modified, files["root"])
    assert invalid.returncode != 0
    assert ":INVALID" in invalid.stdout


def test_a_pdf_signed_outside_the_chain_is_untrusted(
    tmp_path: Path, sign: SignFn, root_pem: bytes
) -> None:
    foreign = init_pki(tmp_path, "Forgers United", {"civil-registry": "Civil Registry"}, "x")
    # Signed by a look-alike institution, timestamped by the real TSA.
    forged = sign(foreign.signing_identity("civil-registry"))
    result = verify_pdf(forged, root_pem)
    assert result.status is VerificationStatus.UNTRUSTED
    assert "not issued by this administration" in result.message
    # A look-alike TSA is caught as well.
    fully_forged = sign(foreign.signing_identity("civil-registry"), tsa=foreign.tsa_identity())
    assert verify_pdf(fully_forged, root_pem).status is VerificationStatus.UNTRUSTED


def test_a_signature_made_with_an_expired_certificate_is_expired(
    pki: Pki, sign: SignFn, root_pem: bytes
) -> None:
    now = dt.datetime.now(dt.UTC)
    key = pki.keystore.create_key("institution-expired-test")
    expired = issue_certificate(
        pki.root_certificate,
        pki.keystore.load_key("root"),
        key.public_key,
        pki.signing_identity("civil-registry").certificate.subject,
        CertificateProfile.DOCUMENT_SIGNING,
        not_before=now - dt.timedelta(days=400),
        not_after=now - dt.timedelta(days=30),
    )
    pdf = sign(SigningIdentity(key, expired, (expired, pki.root_certificate)))
    result = verify_pdf(pdf, root_pem)
    assert result.status is VerificationStatus.EXPIRED, result.detail
    assert "expired" in result.message


def test_a_document_signed_while_valid_stays_valid_after_the_certificate_expires(
    tmp_path: Path, sign: SignFn
) -> None:
    # given a PKI created four years ago, whose first signing certificate ended last year
    now = dt.datetime.now(dt.UTC)
    old = init_pki(
        tmp_path, "Republic of Example", INSTITUTIONS, "p", now=now - dt.timedelta(days=4 * 365)
    )
    identity = old.signing_identity("civil-registry")
    assert identity.certificate.not_valid_after_utc < now
    # when a document was timestamped two years ago, while the certificate was valid
    pdf = sign(identity, tsa=old.tsa_identity(), at=now - dt.timedelta(days=2 * 365))
    # then it still verifies today
    result = verify_pdf(pdf, old.root_pem())
    assert result.status is VerificationStatus.VALID, result.detail


def test_rotation_keeps_documents_signed_with_the_old_key_valid(
    tmp_path: Path, sign: SignFn
) -> None:
    pki = init_pki(tmp_path, "Republic of Example", INSTITUTIONS, PASSPHRASE)
    before = sign(pki.signing_identity("civil-registry"), tsa=pki.tsa_identity())
    rotate_signing_certificate(tmp_path, "civil-registry", PASSPHRASE)
    after_rotation = init_pki(tmp_path, "Republic of Example", INSTITUTIONS, PASSPHRASE)
    after = sign(after_rotation.signing_identity("civil-registry"), tsa=pki.tsa_identity())
    assert after_rotation.current_generation("civil-registry") == 2
    assert verify_pdf(before, pki.root_pem()).status is VerificationStatus.VALID
    assert verify_pdf(after, pki.root_pem()).status is VerificationStatus.VALID


def test_a_revoked_document_is_reported_revoked_with_its_date(
    pki: Pki, signed_pdf: bytes, root_pem: bytes
) -> None:
    revoked_at = dt.datetime.now(dt.UTC).replace(microsecond=0)
    signer = pki.revocation_identity()
    crl = build_revocation_list(
        [
            RevocationEntry("CR-2026-000001", revoked_at, "Issued in error"),
            RevocationEntry("CR-2026-000999", revoked_at, "Superseded"),
        ],
        signer.key,
        signer.certificate,
        administration="Republic of Example",
        sequence=7,
        issued_at=revoked_at,
    )
    result = verify_pdf(signed_pdf, root_pem, crl)
    assert result.status is VerificationStatus.REVOKED
    assert result.revoked_at == revoked_at
    assert result.revocation_reason == "Issued in error"
    assert "withdrawn" in result.message
    not_listed = build_revocation_list(
        [],
        signer.key,
        signer.certificate,
        administration="Republic of Example",
        sequence=8,
        issued_at=revoked_at,
    )
    assert verify_pdf(signed_pdf, root_pem, not_listed).status is VerificationStatus.VALID


@pytest.mark.parametrize(
    "data",
    [b"", b"hello, world", b"\x89PNG\r\n\x1a\n" + b"\0" * 100, b"%PDF-1.7\n garbage \n%%EOF"],
    ids=["empty", "text", "png", "pdf-header-only"],
)
def test_non_pdf_bytes_are_not_a_pdf(data: bytes, root_pem: bytes) -> None:
    result = verify_pdf(data, root_pem)
    assert result.status is VerificationStatus.NOT_A_PDF
    assert result.message == "This file is not a PDF document, so it cannot be checked."


def test_an_oversized_upload_is_refused_without_parsing(root_pem: bytes) -> None:
    result = verify_pdf(b"%PDF-1.7\n" + b"0" * (50 * 1024 * 1024), root_pem)
    assert result.status is VerificationStatus.NOT_A_PDF
    assert "50 MB" in result.detail


def test_an_unsigned_or_truncated_pdf_is_invalid(signed_pdf: bytes, root_pem: bytes) -> None:
    unsigned = render_pdf("<p>No signature here</p>")
    assert verify_pdf(unsigned, root_pem).status is VerificationStatus.INVALID
    truncated = verify_pdf(signed_pdf[: len(signed_pdf) // 2], root_pem)
    assert truncated.status in {VerificationStatus.INVALID, VerificationStatus.NOT_A_PDF}


def test_sign_pdf_refuses_garbage_and_mismatched_keys(pki: Pki) -> None:
    identity = pki.signing_identity("civil-registry")
    other = pki.signing_identity("land-office")
    tsa = pki.tsa_identity()
    from ceiba.documents.pdfsign import AdministrationTimeStamper

    stamper = AdministrationTimeStamper(tsa.key, tsa.certificate, tsa.chain)
    with pytest.raises(PdfSigningError, match="not a PDF"):
        sign_pdf(b"not a pdf", identity.key, identity.chain, stamper)
    with pytest.raises(PdfSigningError, match="does not match"):
        sign_pdf(render_pdf("<p>x</p>"), other.key, identity.chain, stamper)


def test_the_cli_reports_valid_and_invalid_with_exit_codes(
    files: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([str(files["signed"]), "--root", str(files["root"])]) == 0
    out = capsys.readouterr().out
    assert out.startswith("VALID: ")
    assert "Document number: CR-2026-000001" in out
    modified = tmp_path / "modified.pdf"
    modified.write_bytes(modify_one_byte(files["signed"].read_bytes()))
    assert main([str(modified), "--root", str(files["root"]), "--json"]) == 1
    assert json.loads(capsys.readouterr().out)["status"] == "invalid"


def test_the_cli_explains_setup_errors(
    files: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([str(files["signed"]), "--root", str(tmp_path / "missing.pem")]) == 2
    assert "missing.pem" in capsys.readouterr().err
    bad_list = tmp_path / "revocations.json"
    bad_list.write_text("{}")
    args = [str(files["signed"]), "--root", str(files["root"]), "--revocations", str(bad_list)]
    assert main(args) == 2
    assert "revocation list" in capsys.readouterr().err
    assert main([]) == 2

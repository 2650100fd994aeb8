from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID

from ceiba.documents.pki import (
    PkiError,
    init_pki,
    is_issued_by,
    load_pki,
    rotate_signing_certificate,
)

PASS = "pass"


def test_init_pki_creates_a_root_tsa_revocation_signer_and_institution_certificates(
    tmp_path: Path,
) -> None:
    pki = init_pki(tmp_path, "Republic of Example", {"civil-registry": "Civil Registry"}, PASS)
    root = pki.root_certificate
    assert root.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    signing = pki.signing_identity("civil-registry")
    assert is_issued_by(signing.certificate, root)
    usage = signing.certificate.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.content_commitment
    assert usage.digital_signature
    assert not usage.crl_sign
    assert signing.chain == (signing.certificate, root)
    tsa = pki.tsa_identity().certificate
    eku = tsa.extensions.get_extension_for_class(x509.ExtendedKeyUsage)
    assert eku.critical
    assert list(eku.value) == [ExtendedKeyUsageOID.TIME_STAMPING]
    revocation = pki.revocation_identity().certificate
    assert revocation.extensions.get_extension_for_class(x509.KeyUsage).value.crl_sign
    assert pki.institution_name("civil-registry") == "Civil Registry"


def test_init_pki_is_idempotent_and_adds_new_institutions(tmp_path: Path) -> None:
    first = init_pki(tmp_path, "Republic of Example", {"civil-registry": "Civil Registry"}, PASS)
    cert_before = first.signing_identity("civil-registry").certificate
    # when
    again = init_pki(
        tmp_path,
        "Republic of Example",
        {"civil-registry": "Civil Registry", "land-office": "Land Office"},
        PASS,
    )
    # then
    assert again.root_pem() == first.root_pem()
    assert again.signing_identity("civil-registry").certificate == cert_before
    assert again.institution_codes == ["civil-registry", "land-office"]


def test_init_pki_refuses_another_administration_and_bad_codes(tmp_path: Path) -> None:
    init_pki(tmp_path, "Republic of Example", {}, PASS)
    with pytest.raises(PkiError, match="holds the PKI of"):
        init_pki(tmp_path, "Other Republic", {}, PASS)
    with pytest.raises(PkiError, match="Invalid institution code"):
        init_pki(tmp_path, "Republic of Example", {"Bad Code!": "x"}, PASS)
    with pytest.raises(PkiError, match="No PKI"):
        load_pki(tmp_path / "missing", PASS)


def test_rotation_issues_a_new_current_certificate_and_keeps_the_old_one(
    tmp_path: Path,
) -> None:
    pki = init_pki(tmp_path, "Republic of Example", {"civil-registry": "Civil Registry"}, PASS)
    old = pki.signing_identity("civil-registry").certificate
    # when
    new = rotate_signing_certificate(tmp_path, "civil-registry", PASS)
    # then
    pki = load_pki(tmp_path, PASS)
    assert pki.current_generation("civil-registry") == 2
    assert pki.signing_identity("civil-registry").certificate == new
    assert pki.signing_identity("civil-registry", generation=1).certificate == old
    assert new.public_key() != old.public_key()
    assert set(pki.signing_certificates("civil-registry")) == {old, new}
    with pytest.raises(PkiError, match="No institution"):
        rotate_signing_certificate(tmp_path, "nowhere", PASS)


def test_certificates_never_outlive_the_root(tmp_path: Path) -> None:
    now = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
    pki = init_pki(tmp_path, "Republic of Example", {"civil-registry": "C"}, PASS, now=now)
    root_end = pki.root_certificate.not_valid_after_utc
    for certificate in [*pki.signing_certificates(), pki.tsa_identity().certificate]:
        assert certificate.not_valid_after_utc <= root_end
        assert certificate.not_valid_before_utc <= now

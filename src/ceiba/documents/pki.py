"""The administration's own PKI: a root CA, per-institution document-signing certificates,
a timestamping authority and a revocation-list signer.

All keys are ECDSA P-256 (see docs/documents.md for why). Every private-key operation goes
through :class:`~ceiba.documents.keystore.KeySigner`, certificate issuance included, so
the root key can live in an HSM as well.

On disk, under the directory given to :func:`init_pki` (``var/keys`` in a deployment)::

    pki.json                          manifest: administration, institutions, generations
    certs/root.pem                    the trust anchor that verifiers download
    certs/tsa.pem  certs/revocation.pem
    certs/institution-<code>-<n>.pem  one per signing-key generation, never deleted
    <label>.key.pem                   encrypted private keys (FileKeyStore)
"""

from __future__ import annotations

import datetime as dt
import enum
import json
import os
import re
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from ceiba.documents.keystore import FileKeyStore, KeySigner, KeyStore

__all__ = [
    "CertificateProfile",
    "Pki",
    "PkiError",
    "SigningIdentity",
    "create_root_certificate",
    "init_pki",
    "issue_certificate",
    "load_certificate_pem",
    "load_pki",
    "rotate_signing_certificate",
]

ROOT_LABEL = "root"
TSA_LABEL = "tsa"
REVOCATION_LABEL = "revocation"
ROOT_VALIDITY = dt.timedelta(days=20 * 365)
TSA_VALIDITY = dt.timedelta(days=10 * 365)
REVOCATION_VALIDITY = dt.timedelta(days=5 * 365)
SIGNING_VALIDITY = dt.timedelta(days=3 * 365)
_INSTITUTION_CODE = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
_MANIFEST = "pki.json"


class PkiError(Exception):
    """The PKI directory is missing, inconsistent, or the request makes no sense."""


class CertificateProfile(enum.Enum):
    DOCUMENT_SIGNING = "document-signing"
    TIMESTAMPING = "timestamping"
    REVOCATION_LIST = "revocation-list"


@dataclass(frozen=True)
class SigningIdentity:
    """A key and the certificate chain that vouches for it, leaf first, root last."""

    key: KeySigner
    certificate: x509.Certificate
    chain: tuple[x509.Certificate, ...]


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _sign_with_key_signer(
    builder: x509.CertificateBuilder, issuer_key: KeySigner
) -> x509.Certificate:
    # cryptography only signs with in-memory keys; sign the TBS with a throwaway key of the
    # same algorithm to get the exact bytes, then replace the signature by one made through
    # the KeySigner so HSM-held keys can issue certificates too.
    placeholder = ec.generate_private_key(ec.SECP256R1())
    draft = builder.sign(placeholder, hashes.SHA256())
    parsed = asn1_x509.Certificate.load(draft.public_bytes(serialization.Encoding.DER))
    final = asn1_x509.Certificate(
        {
            "tbs_certificate": parsed["tbs_certificate"],
            "signature_algorithm": parsed["signature_algorithm"],
            "signature_value": issuer_key.sign(draft.tbs_certificate_bytes),
        }
    )
    return x509.load_der_x509_certificate(final.dump())


def _name(common_name: str, organization: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, common_name[:64]),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization[:64]),
        ]
    )


def create_root_certificate(
    key: KeySigner,
    administration_name: str,
    *,
    now: dt.datetime | None = None,
    validity: dt.timedelta = ROOT_VALIDITY,
) -> x509.Certificate:
    """Self-sign the administration's root CA certificate (path length 0: no intermediates)."""
    now = now or _utcnow()
    subject = _name(f"{administration_name} Root CA", administration_name)
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + validity)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(ski, critical=False)
    )
    return _sign_with_key_signer(builder, key)


def issue_certificate(
    issuer_certificate: x509.Certificate,
    issuer_key: KeySigner,
    subject_public_key: ec.EllipticCurvePublicKey,
    subject: x509.Name,
    profile: CertificateProfile,
    *,
    not_before: dt.datetime,
    not_after: dt.datetime,
) -> x509.Certificate:
    """Issue an end-entity certificate of one of the PKI's three profiles."""
    if not_after <= not_before:
        raise PkiError("A certificate must end after it starts.")
    signs_documents = profile is CertificateProfile.DOCUMENT_SIGNING
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer_certificate.subject)
        .public_key(subject_public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                # PAdES validators (pyHanko's default) require non-repudiation on signers;
                # only document signers get it, so no other key can pass for one.
                content_commitment=signs_documents,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                # The revocation-list signer is told apart from document signers by this bit.
                crl_sign=profile is CertificateProfile.REVOCATION_LIST,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(subject_public_key), False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(
                issuer_certificate.public_key()  # type: ignore[arg-type]
            ),
            critical=False,
        )
    )
    if profile is CertificateProfile.TIMESTAMPING:
        # RFC 3161 section 2.3: the TSA certificate carries only this purpose, critically.
        builder = builder.add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True
        )
    return _sign_with_key_signer(builder, issuer_key)


def load_certificate_pem(data: bytes) -> x509.Certificate:
    try:
        return x509.load_pem_x509_certificate(data)
    except ValueError as exc:
        raise PkiError("This is not a PEM-encoded X.509 certificate.") from exc


def is_issued_by(certificate: x509.Certificate, issuer: x509.Certificate) -> bool:
    """True when ``issuer`` signed ``certificate`` (names and signature both match)."""
    try:
        certificate.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def _pem(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(serialization.Encoding.PEM)


def _signing_label(code: str, generation: int) -> str:
    return f"institution-{code}-{generation}"


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class Pki:
    """A read view of a PKI directory. Private keys are opened only when asked for."""

    def __init__(self, directory: Path, keystore: KeyStore) -> None:
        self.directory = directory
        self.keystore = keystore
        try:
            manifest: dict[str, Any] = json.loads((directory / _MANIFEST).read_text("utf-8"))
        except FileNotFoundError as exc:
            raise PkiError(f"No PKI in {directory}; run `ceiba pki init` first.") from exc
        except ValueError as exc:
            raise PkiError(f"{directory / _MANIFEST} is damaged.") from exc
        self.administration_name: str = manifest["administration"]
        self._institutions: dict[str, dict[str, Any]] = manifest["institutions"]
        self.root_certificate = self._certificate(ROOT_LABEL)

    def _certificate(self, label: str) -> x509.Certificate:
        path = self.directory / "certs" / f"{label}.pem"
        try:
            return load_certificate_pem(path.read_bytes())
        except FileNotFoundError as exc:
            raise PkiError(f"Certificate {path} is missing.") from exc

    def _identity(self, label: str) -> SigningIdentity:
        certificate = self._certificate(label)
        key = self.keystore.load_key(label)
        if key.public_key.public_numbers() != certificate.public_key().public_numbers():  # type: ignore[union-attr]
            raise PkiError(f"Key {label!r} does not match its certificate.")
        return SigningIdentity(key, certificate, (certificate, self.root_certificate))

    def root_pem(self) -> bytes:
        return _pem(self.root_certificate)

    @property
    def institution_codes(self) -> list[str]:
        return sorted(self._institutions)

    def institution_name(self, code: str) -> str:
        return str(self._entry(code)["name"])

    def _entry(self, code: str) -> dict[str, Any]:
        try:
            return self._institutions[code]
        except KeyError:
            raise PkiError(f"No institution {code!r} in this PKI.") from None

    def current_generation(self, code: str) -> int:
        return int(self._entry(code)["current"])

    def signing_identity(self, code: str, generation: int | None = None) -> SigningIdentity:
        """The key and chain an institution signs with (the current generation by default)."""
        entry = self._entry(code)
        generation = entry["current"] if generation is None else generation
        if generation not in entry["generations"]:
            raise PkiError(f"Institution {code!r} has no signing key generation {generation}.")
        return self._identity(_signing_label(code, generation))

    def signing_certificates(self, code: str | None = None) -> list[x509.Certificate]:
        """Every document-signing certificate ever issued (rotated ones included)."""
        codes = [code] if code else self.institution_codes
        return [
            self._certificate(_signing_label(c, generation))
            for c in codes
            for generation in self._entry(c)["generations"]
        ]

    def certificate_bundle_pem(self) -> bytes:
        """The institution certificates a QR verifier app ships (trust still comes from root)."""
        return b"".join(_pem(c) for c in self.signing_certificates())

    def tsa_identity(self) -> SigningIdentity:
        return self._identity(TSA_LABEL)

    def revocation_identity(self) -> SigningIdentity:
        return self._identity(REVOCATION_LABEL)


def _ensure_key(keystore: KeyStore, label: str) -> KeySigner:
    return keystore.load_key(label) if keystore.has_key(label) else keystore.create_key(label)


def _ensure_issued(
    directory: Path,
    keystore: KeyStore,
    label: str,
    root: SigningIdentity,
    subject: x509.Name,
    profile: CertificateProfile,
    now: dt.datetime,
    validity: dt.timedelta,
) -> None:
    path = directory / "certs" / f"{label}.pem"
    if path.exists():
        return
    key = _ensure_key(keystore, label)
    not_after = min(now + validity, root.certificate.not_valid_after_utc)
    certificate = issue_certificate(
        root.certificate,
        root.key,
        key.public_key,
        subject,
        profile,
        not_before=now - dt.timedelta(minutes=5),
        not_after=not_after,
    )
    _write_atomically(path, _pem(certificate))


def _write_manifest(directory: Path, manifest: dict[str, Any]) -> None:
    data = json.dumps(manifest, indent=2, sort_keys=True).encode("utf-8") + b"\n"
    _write_atomically(directory / _MANIFEST, data)


def init_pki(
    directory: Path | str,
    administration_name: str,
    institutions: Mapping[str, str],
    passphrase: bytes | str,
    *,
    keystore: KeyStore | None = None,
    now: dt.datetime | None = None,
) -> Pki:
    """Create whatever is missing of the PKI; running it again changes nothing that exists.

    ``institutions`` maps an institution code (lowercase letters, digits, '-') to its
    display name. New codes get a first signing key; existing ones keep theirs.
    """
    directory = Path(directory)
    now = now or _utcnow()
    if not administration_name.strip():
        raise PkiError("The administration needs a name.")
    for code, name in institutions.items():
        if not _INSTITUTION_CODE.match(code):
            raise PkiError(f"Invalid institution code {code!r}: use a-z, 0-9 and '-'.")
        if not name.strip():
            raise PkiError(f"Institution {code!r} needs a name.")
    keystore = keystore or FileKeyStore(directory, passphrase)
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)

    manifest_path = directory / _MANIFEST
    if manifest_path.exists():
        manifest: dict[str, Any] = json.loads(manifest_path.read_text("utf-8"))
        if manifest["administration"] != administration_name:
            raise PkiError(
                f"{directory} holds the PKI of {manifest['administration']!r}, "
                f"not {administration_name!r}."
            )
    else:
        manifest = {"administration": administration_name, "institutions": {}}

    root_key = _ensure_key(keystore, ROOT_LABEL)
    root_path = directory / "certs" / f"{ROOT_LABEL}.pem"
    if root_path.exists():
        root_certificate = load_certificate_pem(root_path.read_bytes())
    else:
        root_certificate = create_root_certificate(root_key, administration_name, now=now)
        _write_atomically(root_path, _pem(root_certificate))
    root = SigningIdentity(root_key, root_certificate, (root_certificate,))

    _ensure_issued(
        directory,
        keystore,
        TSA_LABEL,
        root,
        _name(f"{administration_name} Timestamping Authority", administration_name),
        CertificateProfile.TIMESTAMPING,
        now,
        TSA_VALIDITY,
    )
    _ensure_issued(
        directory,
        keystore,
        REVOCATION_LABEL,
        root,
        _name(f"{administration_name} Revocation List Signer", administration_name),
        CertificateProfile.REVOCATION_LIST,
        now,
        REVOCATION_VALIDITY,
    )
    for code, name in institutions.items():
        entry = manifest["institutions"].setdefault(
            code, {"name": name, "generations": [1], "current": 1}
        )
        for generation in entry["generations"]:
            _ensure_issued(
                directory,
                keystore,
                _signing_label(code, generation),
                root,
                _name(f"{name} (document signing {generation})", name),
                CertificateProfile.DOCUMENT_SIGNING,
                now,
                SIGNING_VALIDITY,
            )
    _write_manifest(directory, manifest)
    return Pki(directory, keystore)


def load_pki(
    directory: Path | str, passphrase: bytes | str, *, keystore: KeyStore | None = None
) -> Pki:
    directory = Path(directory)
    return Pki(directory, keystore or FileKeyStore(directory, passphrase))


def rotate_signing_certificate(
    directory: Path | str,
    institution_code: str,
    passphrase: bytes | str,
    *,
    keystore: KeyStore | None = None,
    now: dt.datetime | None = None,
) -> x509.Certificate:
    """Give an institution a new signing key and certificate and make it current.

    The old certificates stay in ``certs/`` and in the bundle, so documents signed with
    them keep verifying; the old private key may be destroyed afterwards.
    """
    directory = Path(directory)
    now = now or _utcnow()
    pki = load_pki(directory, passphrase, keystore=keystore)
    manifest: dict[str, Any] = json.loads((directory / _MANIFEST).read_text("utf-8"))
    entry = manifest["institutions"].get(institution_code)
    if entry is None:
        raise PkiError(f"No institution {institution_code!r} in this PKI.")
    generation = max(entry["generations"]) + 1
    root = SigningIdentity(
        pki.keystore.load_key(ROOT_LABEL), pki.root_certificate, (pki.root_certificate,)
    )
    label = _signing_label(institution_code, generation)
    _ensure_issued(
        directory,
        pki.keystore,
        label,
        root,
        _name(f"{entry['name']} (document signing {generation})", entry["name"]),
        CertificateProfile.DOCUMENT_SIGNING,
        now,
        SIGNING_VALIDITY,
    )
    entry["generations"].append(generation)
    entry["current"] = generation
    _write_manifest(directory, manifest)
    return load_certificate_pem((directory / "certs" / f"{label}.pem").read_bytes())

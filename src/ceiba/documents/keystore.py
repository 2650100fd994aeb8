"""Private keys for signing documents, behind one interface.

Everything that signs (certificates, PDFs, timestamps, QR payloads, revocation lists) goes
through :class:`KeySigner`, so a PKCS#11 HSM can replace :class:`FileKeyStore` without any
change to the callers: an HSM-backed store only has to return objects that implement
:class:`KeySigner` for the same labels (see docs/documents.md).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Protocol, runtime_checkable

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

__all__ = [
    "FileKeyStore",
    "KeyAlreadyExistsError",
    "KeyNotFoundError",
    "KeySigner",
    "KeyStore",
    "KeyStoreError",
    "WrongPassphraseError",
]

_LABEL = re.compile(r"^[a-z0-9][a-z0-9._-]{0,99}$")


class KeyStoreError(Exception):
    """A key could not be created, found or opened."""


class WrongPassphraseError(KeyStoreError):
    """The passphrase does not open the key store."""


class KeyNotFoundError(KeyStoreError):
    """No key with that label exists in the store."""


class KeyAlreadyExistsError(KeyStoreError):
    """A key with that label exists already; keys are never overwritten."""


@runtime_checkable
class KeySigner(Protocol):
    """An ECDSA P-256 private key that signs but never hands out its secret.

    ``sign`` returns a DER-encoded ECDSA signature (RFC 3279 ``Ecdsa-Sig-Value``) over
    SHA-256 of ``data``, as X.509, CMS and RFC 3161 expect. A PKCS#11 token computing
    ``CKM_ECDSA_SHA256`` returns raw ``r || s``; its adapter converts with
    ``cryptography.hazmat.primitives.asymmetric.utils.encode_dss_signature``.
    """

    @property
    def label(self) -> str: ...

    @property
    def public_key(self) -> ec.EllipticCurvePublicKey: ...

    def sign(self, data: bytes) -> bytes: ...


class KeyStore(Protocol):
    """Creates and opens signing keys by label ("root", "tsa", "institution-x-1", ...)."""

    def create_key(self, label: str) -> KeySigner: ...

    def load_key(self, label: str) -> KeySigner: ...

    def has_key(self, label: str) -> bool: ...


class _InMemoryKeySigner:
    """A decrypted key held in this process only."""

    def __init__(self, label: str, private_key: ec.EllipticCurvePrivateKey) -> None:
        self._label = label
        self._private_key = private_key

    @property
    def label(self) -> str:
        return self._label

    @property
    def public_key(self) -> ec.EllipticCurvePublicKey:
        return self._private_key.public_key()

    def sign(self, data: bytes) -> bytes:
        return self._private_key.sign(data, ec.ECDSA(hashes.SHA256()))

    def __repr__(self) -> str:
        return f"<KeySigner {self._label!r}>"


class FileKeyStore:
    """Keys as PKCS#8 PEM files encrypted with the caller's passphrase.

    Each key lives in ``<directory>/<label>.key.pem`` with mode 0600, encrypted with
    ``BestAvailableEncryption`` (currently AES-256-CBC with a scrypt/PBKDF2-derived key, as
    chosen by ``cryptography``). Files are created exclusively, so two processes racing to
    create the same key cannot overwrite each other; the loser gets
    :class:`KeyAlreadyExistsError`.
    """

    def __init__(self, directory: Path | str, passphrase: bytes | str) -> None:
        if isinstance(passphrase, str):
            passphrase = passphrase.encode("utf-8")
        if not passphrase:
            raise KeyStoreError(
                "An empty passphrase would leave the keys unprotected; set CEIBA_KEY_PASSPHRASE."
            )
        self.directory = Path(directory)
        self._passphrase = passphrase

    def _path(self, label: str) -> Path:
        if not _LABEL.match(label):
            raise KeyStoreError(f"Invalid key label {label!r}: use a-z, 0-9, '.', '_' and '-'.")
        return self.directory / f"{label}.key.pem"

    def has_key(self, label: str) -> bool:
        return self._path(label).exists()

    def create_key(self, label: str) -> KeySigner:
        path = self._path(label)
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        private_key = ec.generate_private_key(ec.SECP256R1())
        pem = private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(self._passphrase),
        )
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError as exc:
            raise KeyAlreadyExistsError(
                f"Key {label!r} exists already in {self.directory}."
            ) from exc
        with os.fdopen(fd, "wb") as handle:
            handle.write(pem)
            handle.flush()
            os.fsync(handle.fileno())
        return _InMemoryKeySigner(label, private_key)

    def load_key(self, label: str) -> KeySigner:
        path = self._path(label)
        try:
            pem = path.read_bytes()
        except FileNotFoundError as exc:
            raise KeyNotFoundError(f"No key {label!r} in {self.directory}.") from exc
        try:
            private_key = serialization.load_pem_private_key(pem, password=self._passphrase)
        except ValueError as exc:
            # cryptography raises ValueError both for a wrong passphrase and for a damaged
            # file; an encrypted PEM header tells which one the operator should look at.
            if b"ENCRYPTED PRIVATE KEY" in pem:
                raise WrongPassphraseError(
                    f"The passphrase does not open key {label!r}; check CEIBA_KEY_PASSPHRASE."
                ) from exc
            raise KeyStoreError(f"Key file {path} is damaged or not a private key.") from exc
        except TypeError as exc:
            raise KeyStoreError(f"Key file {path} is not encrypted; refusing to use it.") from exc
        if not isinstance(private_key, ec.EllipticCurvePrivateKey) or not isinstance(
            private_key.curve, ec.SECP256R1
        ):
            raise KeyStoreError(f"Key {label!r} is not an ECDSA P-256 key.")
        return _InMemoryKeySigner(label, private_key)

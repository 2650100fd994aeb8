"""The logs' Ed25519 signing keys, encrypted at rest under ``CEIBA_KEYS_DIR`` (``var/keys``).

Each administration's log key is a PKCS#8 PEM file ``ledger-<slug>.key.pem`` (mode 0600),
encrypted with the passphrase from ``CEIBA_KEY_PASSPHRASE``. In development, when that variable
is unset, a random passphrase is generated once into ``<CEIBA_VAR_DIR>/keys/passphrase``
(mode 0600); production refuses to run without the variable. Witness keys live alongside, as
``witness-<name>.key.pem``.
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
import secrets
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.conf import settings

from ceiba.ledger.errors import LedgerError, LedgerErrorCode

PASSPHRASE_ENV = "CEIBA_KEY_PASSPHRASE"  # noqa: S105 - a variable name, not a secret
KEYS_DIR_ENV = "CEIBA_KEYS_DIR"
_LABEL = re.compile(r"^[a-z0-9][a-z0-9._-]{0,120}$")


def key_directory() -> Path:
    """``CEIBA_KEYS_DIR`` (shared with the document PKI), by default ``<CEIBA_VAR_DIR>/keys``."""
    configured = os.environ.get(KEYS_DIR_ENV, "").strip()
    return Path(configured) if configured else Path(settings.VAR_DIR) / "keys"


def passphrase() -> bytes:
    """The key passphrase: ``CEIBA_KEY_PASSPHRASE``, or the development passphrase file."""
    value = os.environ.get(PASSPHRASE_ENV, "")
    if value:
        return value.encode("utf-8")
    if getattr(settings, "CEIBA_MODE", "development") == "production":
        raise LedgerError(
            LedgerErrorCode.KEY_MISSING,
            f"{PASSPHRASE_ENV} is not set; production keys need an operator-held passphrase",
        )
    path = key_directory() / "passphrase"
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_bytes().strip()
    with os.fdopen(fd, "wb") as handle:
        handle.write(secrets.token_urlsafe(32).encode("ascii"))
    return path.read_bytes().strip()


def _path(label: str) -> Path:
    if not _LABEL.match(label):
        raise LedgerError(LedgerErrorCode.KEY_INVALID, f"invalid key label {label!r}")
    return key_directory() / f"{label}.key.pem"


def create_key(label: str) -> Ed25519PrivateKey:
    """Generate and store a new key; never overwrite one (two racing processes: one wins)."""
    path = _path(label)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    private = Ed25519PrivateKey.generate()
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(passphrase()),
    )
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise LedgerError(
            LedgerErrorCode.KEY_INVALID, f"key {label!r} exists already in {path.parent}"
        ) from None
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
        handle.flush()
        os.fsync(handle.fileno())
    return private


def has_key(label: str) -> bool:
    return _path(label).exists()


def load_key(label: str) -> Ed25519PrivateKey:
    path = _path(label)
    try:
        stat = path.stat()
    except FileNotFoundError:
        raise LedgerError(
            LedgerErrorCode.KEY_MISSING,
            f"no key {label!r} in {path.parent}; run `ceiba ledger init`",
        ) from None
    secret = passphrase()
    return _decrypt(str(path), stat.st_mtime_ns, hashlib.sha256(secret).hexdigest(), secret)


@functools.lru_cache(maxsize=64)
def _decrypt(path: str, _mtime_ns: int, _secret_digest: str, secret: bytes) -> Ed25519PrivateKey:
    # Decrypting is deliberately slow (key derivation); one decryption per process and file.
    pem = Path(path).read_bytes()
    try:
        key = serialization.load_pem_private_key(pem, password=secret)
    except (ValueError, TypeError):
        raise LedgerError(
            LedgerErrorCode.KEY_INVALID,
            f"the passphrase does not open {path}; check {PASSPHRASE_ENV}",
        ) from None
    if not isinstance(key, Ed25519PrivateKey):
        raise LedgerError(LedgerErrorCode.KEY_INVALID, f"{path} is not an Ed25519 key")
    return key


def log_key_label(slug: str) -> str:
    return f"ledger-{slug}"

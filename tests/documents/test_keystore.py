from __future__ import annotations

import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from ceiba.documents.keystore import (
    FileKeyStore,
    KeyAlreadyExistsError,
    KeyNotFoundError,
    KeySigner,
    KeyStoreError,
    WrongPassphraseError,
)


def test_a_created_key_signs_and_reopens_with_the_same_passphrase(tmp_path: Path) -> None:
    # given
    store = FileKeyStore(tmp_path, "correct passphrase")
    created = store.create_key("root")
    # when
    reopened = FileKeyStore(tmp_path, "correct passphrase").load_key("root")
    signature = reopened.sign(b"data")
    # then
    assert isinstance(reopened, KeySigner)
    created.public_key.verify(signature, b"data", ec.ECDSA(hashes.SHA256()))
    assert store.has_key("root")


def test_keys_are_encrypted_at_rest_and_private_to_the_owner(tmp_path: Path) -> None:
    FileKeyStore(tmp_path, "correct passphrase").create_key("tsa")
    path = tmp_path / "tsa.key.pem"
    pem = path.read_bytes()
    assert pem.startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    with pytest.raises(TypeError):
        serialization.load_pem_private_key(pem, password=None)


def test_a_wrong_passphrase_is_a_clear_error(tmp_path: Path) -> None:
    FileKeyStore(tmp_path, "correct passphrase").create_key("root")
    with pytest.raises(WrongPassphraseError, match="CEIBA_KEY_PASSPHRASE"):
        FileKeyStore(tmp_path, "wrong passphrase").load_key("root")


def test_an_unencrypted_key_file_is_refused(tmp_path: Path) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    (tmp_path / "root.key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    with pytest.raises(KeyStoreError, match="not encrypted"):
        FileKeyStore(tmp_path, "pass").load_key("root")


def test_a_damaged_key_file_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "root.key.pem").write_bytes(b"not a key")
    with pytest.raises(KeyStoreError, match="damaged"):
        FileKeyStore(tmp_path, "pass").load_key("root")


def test_missing_keys_bad_labels_and_overwrites_are_refused(tmp_path: Path) -> None:
    store = FileKeyStore(tmp_path, "pass")
    with pytest.raises(KeyNotFoundError):
        store.load_key("nothing")
    with pytest.raises(KeyStoreError, match="Invalid key label"):
        store.create_key("../escape")
    store.create_key("root")
    with pytest.raises(KeyAlreadyExistsError):
        store.create_key("root")


def test_an_empty_passphrase_is_refused(tmp_path: Path) -> None:
    with pytest.raises(KeyStoreError, match="empty passphrase"):
        FileKeyStore(tmp_path, "")

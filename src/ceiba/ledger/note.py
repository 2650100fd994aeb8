"""C2SP signed notes (c2sp.org/signed-note) with Ed25519 keys.

A note is UTF-8 text ending in a newline, a blank line, then one line per signature:
``— <key name> base64(uint32 key ID || signature)``. A key is identified by its name and its
key ID, ``SHA-256(name || 0x0A || signature type || public key)[:4]``; verifier keys travel as
``<name>+<hex key ID>+base64(signature type || public key)``. Private keys use the
``PRIVATE+KEY+<name>+<hex key ID>+base64(type || seed)`` form of golang.org/x/mod/sumdb/note,
so keys move between Ceiba and the Go tooling.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

__all__ = [
    "DEFAULT_MAX_SIGNATURES",
    "SIGNATURE_TYPE_ED25519",
    "DuplicateSignatureError",
    "DuplicateSignerError",
    "DuplicateVerifierError",
    "Ed25519Signer",
    "Ed25519Verifier",
    "InvalidKeyError",
    "InvalidSignatureError",
    "KnownVerifiers",
    "MalformedNoteError",
    "NamedKey",
    "Note",
    "NoteError",
    "Signature",
    "Signer",
    "TooManySignaturesError",
    "UnverifiedNoteError",
    "Verifier",
    "check_key_name",
    "encode_vkey",
    "key_id",
    "open_note",
    "parse_note",
    "parse_vkey",
    "sign_note",
]

SIGNATURE_TYPE_ED25519 = 0x01
# The spec asks verifiers to accept at least 16; this bound keeps parsing cheap.
DEFAULT_MAX_SIGNATURES = 100
_SIG_PREFIX = "\u2014 "
_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f]")
_HEX_ID = re.compile(r"[0-9a-f]{8}")


class NoteError(ValueError):
    """Base of every error raised by this module."""


class MalformedNoteError(NoteError):
    """The bytes are not a signed note, or the text cannot be signed."""


class TooManySignaturesError(MalformedNoteError):
    """The note carries more signature lines than the verifier accepts."""


class DuplicateSignatureError(NoteError):
    """The same known key signed the note more than once."""


class InvalidSignatureError(NoteError):
    """A signature from a known key does not verify; the whole note is rejected."""

    def __init__(self, name: str, key_id: int) -> None:
        super().__init__(f"signature by known key {name} ({key_id:08x}) does not verify")
        self.name = name
        self.key_id = key_id


class UnverifiedNoteError(NoteError):
    """No signature on the note comes from a known key."""


class InvalidKeyError(NoteError):
    """A key name, verifier key or signer key is malformed or inconsistent."""


class DuplicateVerifierError(InvalidKeyError):
    """Two known verifiers share a key name and key ID, so signatures would be ambiguous."""


class DuplicateSignerError(InvalidKeyError):
    """Two signers given for one note share a key name and key ID."""


class Verifier(Protocol):
    """A key that checks note signatures: identified by ``name`` and ``key_id``."""

    @property
    def name(self) -> str: ...

    @property
    def key_id(self) -> int: ...

    def verify(self, message: bytes, signature: bytes) -> bool: ...


class Signer(Protocol):
    """A key that signs note text: ``sign`` returns the signature without the key ID."""

    @property
    def name(self) -> str: ...

    @property
    def key_id(self) -> int: ...

    def sign(self, message: bytes) -> bytes: ...


@dataclass(frozen=True)
class Signature:
    """One signature line: key name, key ID and the signature bytes after the key ID."""

    name: str
    key_id: int
    signature: bytes

    def line(self) -> str:
        raw = self.key_id.to_bytes(4, "big") + self.signature
        return f"{_SIG_PREFIX}{self.name} {base64.b64encode(raw).decode('ascii')}\n"


@dataclass(frozen=True)
class Note:
    """An opened note: its text, the verified signatures and those from unknown keys."""

    text: str
    signatures: tuple[Signature, ...]
    unverified: tuple[Signature, ...] = field(default=())


# --- keys ----------------------------------------------------------------------------------


def check_key_name(name: str) -> None:
    """Raise :class:`InvalidKeyError` unless ``name`` is non-empty, without spaces or ``+``."""
    if not isinstance(name, str) or not name:
        raise InvalidKeyError("key name must be a non-empty string")
    if any(ch.isspace() for ch in name) or "+" in name:
        raise InvalidKeyError(f"key name {name!r} must not contain spaces or '+'")
    if _CONTROL.search(name):
        raise InvalidKeyError(f"key name {name!r} must not contain control characters")


def key_id(name: str, signature_type: int, public_key: bytes) -> int:
    """``SHA-256(name || 0x0A || signature type || public key)[:4]`` as a big-endian uint32."""
    digest = hashlib.sha256(
        name.encode("utf-8") + b"\n" + bytes([signature_type]) + public_key
    ).digest()
    return int.from_bytes(digest[:4], "big")


def encode_vkey(name: str, signature_type: int, public_key: bytes) -> str:
    """The verifier key string ``<name>+<hex key ID>+base64(type || public key)``."""
    check_key_name(name)
    kid = key_id(name, signature_type, public_key)
    material = base64.b64encode(bytes([signature_type]) + public_key).decode("ascii")
    return f"{name}+{kid:08x}+{material}"


def _b64decode(text: str, what: str) -> bytes:
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        raise InvalidKeyError(f"{what} is not valid base64") from None


def _ed25519_public(raw: bytes, what: str) -> Ed25519PublicKey:
    if len(raw) != 32:
        raise InvalidKeyError(f"{what}: an Ed25519 public key is 32 bytes, got {len(raw)}")
    return Ed25519PublicKey.from_public_bytes(raw)


class NamedKey:
    """What every note key has: a checked name, its public key, key ID and vkey string."""

    signature_type: int
    public_key: bytes

    def _identify(self, name: str, public_key: bytes) -> None:
        check_key_name(name)
        self._name = name
        self.public_key = bytes(public_key)
        self._key_id = key_id(name, self.signature_type, self.public_key)

    @property
    def name(self) -> str:
        return self._name

    @property
    def key_id(self) -> int:
        return self._key_id

    @property
    def vkey(self) -> str:
        return encode_vkey(self._name, self.signature_type, self.public_key)


class Ed25519Verifier(NamedKey):
    """Verifies signature type 0x01: Ed25519 over the note text."""

    signature_type = SIGNATURE_TYPE_ED25519

    def __init__(self, name: str, public_key: bytes) -> None:
        check_key_name(name)
        self._public = _ed25519_public(public_key, f"key {name}")
        self._identify(name, public_key)

    def verify(self, message: bytes, signature: bytes) -> bool:
        if len(signature) != 64:
            return False
        try:
            self._public.verify(signature, message)
        except InvalidSignature:
            return False
        return True


class Ed25519Signer(NamedKey):
    """Signs notes with an Ed25519 private key under a key name (signature type 0x01)."""

    signature_type = SIGNATURE_TYPE_ED25519

    def __init__(self, name: str, private_key: Ed25519PrivateKey) -> None:
        self._private = private_key
        self._identify(name, private_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw))

    @classmethod
    def generate(cls, name: str) -> Ed25519Signer:
        return cls(name, Ed25519PrivateKey.generate())

    @classmethod
    def from_skey(cls, skey: str) -> Ed25519Signer:
        """Parse ``PRIVATE+KEY+<name>+<hex key ID>+base64(0x01 || 32-byte seed)``."""
        parts = skey.split("+", 4)
        if len(parts) != 5 or parts[0] != "PRIVATE" or parts[1] != "KEY":
            raise InvalidKeyError("signer key must have the form PRIVATE+KEY+name+id+key")
        _, _, name, hex_id, material = parts
        check_key_name(name)
        if not _HEX_ID.fullmatch(hex_id):
            raise InvalidKeyError("signer key ID must be 8 lowercase hexadecimal digits")
        raw = _b64decode(material, "signer key material")
        if len(raw) != 33 or raw[0] != SIGNATURE_TYPE_ED25519:
            raise InvalidKeyError("signer key material must be 0x01 followed by a 32-byte seed")
        signer = cls(name, Ed25519PrivateKey.from_private_bytes(raw[1:]))
        if signer.key_id != int(hex_id, 16):
            raise InvalidKeyError(
                f"signer key ID {hex_id} does not match the key (expected {signer.key_id:08x})"
            )
        return signer

    def to_skey(self) -> str:
        seed = self._private.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
        material = base64.b64encode(bytes([self.signature_type]) + seed).decode("ascii")
        return f"PRIVATE+KEY+{self._name}+{self._key_id:08x}+{material}"

    def verifier(self) -> Ed25519Verifier:
        return Ed25519Verifier(self._name, self.public_key)

    def sign(self, message: bytes) -> bytes:
        return self._private.sign(message)


VerifierFactory = Callable[[str, bytes], Verifier]
DEFAULT_VKEY_TYPES: Mapping[int, VerifierFactory] = {SIGNATURE_TYPE_ED25519: Ed25519Verifier}


def parse_vkey(vkey: str, types: Mapping[int, VerifierFactory] = DEFAULT_VKEY_TYPES) -> Verifier:
    """Parse a verifier key string; its key ID must match the one computed from the key."""
    if not isinstance(vkey, str):
        raise InvalidKeyError(f"verifier key must be a string, not {type(vkey).__name__}")
    parts = vkey.split("+", 2)
    if len(parts) != 3:
        raise InvalidKeyError("verifier key must have the form name+hexid+base64key")
    name, hex_id, material = parts
    check_key_name(name)
    if not _HEX_ID.fullmatch(hex_id):
        raise InvalidKeyError("verifier key ID must be 8 lowercase hexadecimal digits")
    raw = _b64decode(material, "verifier key material")
    if not raw:
        raise InvalidKeyError("verifier key material is empty")
    factory = types.get(raw[0])
    if factory is None:
        raise InvalidKeyError(f"verifier key signature type 0x{raw[0]:02x} is not supported")
    verifier = factory(name, raw[1:])
    if verifier.key_id != int(hex_id, 16):
        raise InvalidKeyError(
            f"verifier key ID {hex_id} does not match the key (expected {verifier.key_id:08x})"
        )
    return verifier


class KnownVerifiers:
    """The set of trusted verifiers, looked up by (key name, key ID)."""

    def __init__(self, verifiers: Iterable[Verifier]) -> None:
        self._by_id: dict[tuple[str, int], Verifier] = {}
        for v in verifiers:
            ident = (v.name, v.key_id)
            if ident in self._by_id:
                raise DuplicateVerifierError(
                    f"two known verifiers share key name {v.name} and key ID {v.key_id:08x}"
                )
            self._by_id[ident] = v

    def get(self, name: str, kid: int) -> Verifier | None:
        return self._by_id.get((name, kid))

    def __len__(self) -> int:
        return len(self._by_id)


# --- notes ---------------------------------------------------------------------------------


def _decode_message(msg: bytes | str) -> str:
    if isinstance(msg, str):
        try:
            msg.encode("utf-8")
        except UnicodeEncodeError:
            raise MalformedNoteError("note is not valid UTF-8") from None
        text = msg
    elif not isinstance(msg, bytes | bytearray | memoryview):
        raise MalformedNoteError(f"note must be bytes or text, not {type(msg).__name__}")
    else:
        try:
            text = bytes(msg).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise MalformedNoteError(f"note is not valid UTF-8 at byte {exc.start}") from None
    bad = _CONTROL.search(text)
    if bad:
        raise MalformedNoteError(
            f"note contains control character U+{ord(bad.group()):04X} at offset {bad.start()}"
        )
    return text


def check_note_text(text: str) -> None:
    """Raise :class:`MalformedNoteError` unless ``text`` can be the text of a signed note."""
    _decode_message(text)
    if not text.endswith("\n"):
        raise MalformedNoteError("note text must end with a newline")


def parse_note(
    msg: bytes | str, *, max_signatures: int = DEFAULT_MAX_SIGNATURES
) -> tuple[str, list[Signature]]:
    """Split a signed note into its text and signature lines, WITHOUT verifying anything.

    Use :func:`open_note` to trust a note; this is for inspecting or extending one.
    """
    full = _decode_message(msg)
    split = full.rfind("\n\n")
    if split < 0:
        raise MalformedNoteError("note has no blank line separating text and signatures")
    text, block = full[: split + 1], full[split + 2 :]
    if not block:
        raise MalformedNoteError("note has no signature lines")
    if not block.endswith("\n"):
        raise MalformedNoteError("note's last signature line does not end with a newline")
    lines = block[:-1].split("\n")
    if len(lines) > max_signatures:
        raise TooManySignaturesError(
            f"note has {len(lines)} signature lines, more than the {max_signatures} accepted"
        )
    signatures = []
    for number, line in enumerate(lines, start=1):
        if not line.startswith(_SIG_PREFIX):
            raise MalformedNoteError(f"signature line {number} does not start with '— '")
        name, sep, b64 = line[len(_SIG_PREFIX) :].partition(" ")
        try:
            check_key_name(name)
        except InvalidKeyError as exc:
            raise MalformedNoteError(f"signature line {number}: {exc}") from None
        if not sep or not b64:
            raise MalformedNoteError(f"signature line {number} has no signature")
        try:
            raw = base64.b64decode(b64.encode("ascii"), validate=True)
        except (binascii.Error, UnicodeEncodeError):
            raise MalformedNoteError(f"signature line {number} is not valid base64") from None
        if len(raw) < 5:
            raise MalformedNoteError(
                f"signature line {number} is {len(raw)} bytes, shorter than key ID + signature"
            )
        signatures.append(Signature(name, int.from_bytes(raw[:4], "big"), raw[4:]))
    return text, signatures


def open_note(
    msg: bytes | str,
    verifiers: KnownVerifiers | Iterable[Verifier],
    *,
    max_signatures: int = DEFAULT_MAX_SIGNATURES,
) -> Note:
    """Parse a signed note and verify it against the known verifiers.

    Signatures from unknown keys are ignored (returned in ``Note.unverified``). A signature
    from a known key that fails raises :class:`InvalidSignatureError`; a known key signing
    twice raises :class:`DuplicateSignatureError`; a note with no verified signature raises
    :class:`UnverifiedNoteError`.
    """
    known = verifiers if isinstance(verifiers, KnownVerifiers) else KnownVerifiers(verifiers)
    text, signatures = parse_note(msg, max_signatures=max_signatures)
    message = text.encode("utf-8")
    verified: list[Signature] = []
    unverified: list[Signature] = []
    seen: set[tuple[str, int]] = set()
    for sig in signatures:
        verifier = known.get(sig.name, sig.key_id)
        if verifier is None:
            if sig not in unverified:
                unverified.append(sig)
            continue
        if (sig.name, sig.key_id) in seen:
            raise DuplicateSignatureError(
                f"known key {sig.name} ({sig.key_id:08x}) signed the note more than once"
            )
        seen.add((sig.name, sig.key_id))
        if not verifier.verify(message, sig.signature):
            raise InvalidSignatureError(sig.name, sig.key_id)
        verified.append(sig)
    if not verified:
        names = ", ".join(f"{s.name} ({s.key_id:08x})" for s in signatures)
        raise UnverifiedNoteError(
            f"note has no signature from a known key; it is signed by {names}"
        )
    return Note(text=text, signatures=tuple(verified), unverified=tuple(unverified))


def sign_note(
    text: str, signers: Sequence[Signer], *, signatures: Sequence[Signature] = ()
) -> bytes:
    """Sign ``text`` with every signer; keep the given existing ``signatures`` lines first."""
    check_note_text(text)
    if not signers and not signatures:
        raise MalformedNoteError("a signed note needs at least one signature")
    have = {(s.name, s.key_id) for s in signatures}
    message = text.encode("utf-8")
    lines = [s.line() for s in signatures]
    for signer in signers:
        check_key_name(signer.name)
        ident = (signer.name, signer.key_id)
        if ident in have:
            raise DuplicateSignerError(
                f"key {signer.name} ({signer.key_id:08x}) already signs this note"
            )
        have.add(ident)
        lines.append(Signature(signer.name, signer.key_id, signer.sign(message)).line())
    return (text + "\n" + "".join(lines)).encode("utf-8")

"""C2SP checkpoints (c2sp.org/tlog-checkpoint) and Ed25519 cosignatures (c2sp.org/tlog-cosignature).

A checkpoint is the text of a signed note: the log's origin line, the tree size in decimal,
the base64 root hash, then optional extension lines. Witnesses add ``cosignature/v1`` lines:
signature type 0x04, whose signature is an 8-byte big-endian POSIX timestamp followed by an
Ed25519 signature over ``"cosignature/v1\\ntime <timestamp>\\n" || checkpoint text``.
"""

from __future__ import annotations

import base64
import binascii
import re
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from ceiba.ledger.note import (
    DEFAULT_MAX_SIGNATURES,
    InvalidKeyError,
    KnownVerifiers,
    NamedKey,
    Note,
    Signature,
    Signer,
    Verifier,
    check_key_name,
    open_note,
    parse_note,
    parse_vkey,
    sign_note,
)

__all__ = [
    "SIGNATURE_TYPE_COSIGNATURE_V1",
    "Checkpoint",
    "CheckpointError",
    "CosignatureV1Signer",
    "CosignatureV1Verifier",
    "cosign_checkpoint",
    "cosignature_message",
    "cosignature_timestamp",
    "open_checkpoint",
    "parse_checkpoint",
    "parse_cosigner_vkey",
    "sign_checkpoint",
]

SIGNATURE_TYPE_COSIGNATURE_V1 = 0x04
HASH_SIZE = 32
_MAX_SIZE = 2**64 - 1
_MAX_TIMESTAMP = 2**63 - 1
_DECIMAL = re.compile(r"0|[1-9][0-9]*")


class CheckpointError(ValueError):
    """A checkpoint is malformed, or is not the checkpoint that was expected."""


@dataclass(frozen=True)
class Checkpoint:
    """A tree head: the log's origin, the tree size and the RFC 9162 root hash."""

    origin: str
    size: int
    root_hash: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.origin, str) or not self.origin:
            raise CheckpointError("checkpoint origin must be a non-empty string")
        if "\n" in self.origin:
            raise CheckpointError("checkpoint origin must be a single line")
        if isinstance(self.size, bool) or not isinstance(self.size, int):
            raise CheckpointError(f"tree size must be an integer, not {type(self.size).__name__}")
        if not 0 <= self.size <= _MAX_SIZE:
            raise CheckpointError(f"tree size {self.size} is outside 0..2**64-1")
        if not isinstance(self.root_hash, bytes) or len(self.root_hash) != HASH_SIZE:
            length = len(self.root_hash) if isinstance(self.root_hash, bytes) else "not"
            raise CheckpointError(f"root hash must be {HASH_SIZE} bytes, got {length} bytes")
        for i, line in enumerate(self.extensions):
            if not isinstance(line, str) or not line or "\n" in line:
                raise CheckpointError(f"extension line {i + 1} must be a non-empty single line")

    def to_text(self) -> str:
        """The note text of this checkpoint, ending in a newline."""
        root = base64.b64encode(self.root_hash).decode("ascii")
        return "".join(
            f"{line}\n" for line in (self.origin, str(self.size), root, *self.extensions)
        )


def parse_checkpoint(text: str | bytes) -> Checkpoint:
    """Parse checkpoint note text (without signature lines); raise :class:`CheckpointError`."""
    if isinstance(text, bytes | bytearray):
        try:
            text = bytes(text).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise CheckpointError(f"checkpoint is not valid UTF-8 at byte {exc.start}") from None
    if not text.endswith("\n"):
        raise CheckpointError("checkpoint text must end with a newline")
    lines = text[:-1].split("\n")
    if len(lines) < 3:
        raise CheckpointError(
            f"checkpoint has {len(lines)} lines, needs origin, tree size and root hash"
        )
    for number, line in enumerate(lines, start=1):
        if not line:
            raise CheckpointError(f"checkpoint line {number} is empty")
    origin, size_line, root_line, *extensions = lines
    if not _DECIMAL.fullmatch(size_line):
        raise CheckpointError(
            f"tree size {size_line!r} is not a decimal number without leading zeroes"
        )
    size = int(size_line)
    if size > _MAX_SIZE:
        raise CheckpointError(f"tree size {size_line} does not fit in 64 bits")
    try:
        root = base64.b64decode(root_line.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        raise CheckpointError(f"root hash {root_line!r} is not valid base64") from None
    if len(root) != HASH_SIZE:
        raise CheckpointError(f"root hash is {len(root)} bytes, expected {HASH_SIZE}")
    if base64.b64encode(root).decode("ascii") != root_line:
        raise CheckpointError(f"root hash {root_line!r} is not in canonical base64")
    return Checkpoint(origin, size, root, tuple(extensions))


def sign_checkpoint(checkpoint: Checkpoint, signers: Sequence[Signer]) -> bytes:
    """The signed note of ``checkpoint``; the log's key name should equal its origin."""
    return sign_note(checkpoint.to_text(), signers)


def open_checkpoint(
    msg: bytes | str,
    verifiers: KnownVerifiers | Iterable[Verifier],
    *,
    origin: str | None = None,
    max_signatures: int = DEFAULT_MAX_SIGNATURES,
) -> tuple[Checkpoint, Note]:
    """Verify a signed checkpoint, then parse it; with ``origin``, require that origin."""
    note = open_note(msg, verifiers, max_signatures=max_signatures)
    checkpoint = parse_checkpoint(note.text)
    if origin is not None and checkpoint.origin != origin:
        raise CheckpointError(f"checkpoint origin {checkpoint.origin!r} is not {origin!r}")
    return checkpoint, note


# --- cosignatures --------------------------------------------------------------------------


def cosignature_message(text: str, timestamp: int) -> bytes:
    """The bytes a cosignature/v1 signs for checkpoint ``text`` at ``timestamp``."""
    if isinstance(timestamp, bool) or not isinstance(timestamp, int):
        raise CheckpointError("cosignature timestamp must be an integer")
    if not 0 <= timestamp <= _MAX_TIMESTAMP:
        raise CheckpointError(f"cosignature timestamp {timestamp} is outside 0..2**63-1")
    return f"cosignature/v1\ntime {timestamp}\n{text}".encode()


def cosignature_timestamp(signature: Signature) -> int:
    """The timestamp a cosignature/v1 signature line carries."""
    if len(signature.signature) != 8 + 64:
        raise CheckpointError(
            f"cosignature by {signature.name} is {len(signature.signature)} bytes, expected 72"
        )
    return int.from_bytes(signature.signature[:8], "big")


class CosignatureV1Verifier(NamedKey):
    """Verifies timestamped Ed25519 checkpoint cosignatures (signature type 0x04)."""

    signature_type = SIGNATURE_TYPE_COSIGNATURE_V1

    def __init__(self, name: str, public_key: bytes) -> None:
        check_key_name(name)
        if len(public_key) != 32:
            raise InvalidKeyError(
                f"key {name}: an Ed25519 public key is 32 bytes, got {len(public_key)}"
            )
        self._identify(name, public_key)
        self._public = Ed25519PublicKey.from_public_bytes(self.public_key)

    def verify(self, message: bytes, signature: bytes) -> bool:
        if len(signature) != 8 + 64:
            return False
        timestamp = int.from_bytes(signature[:8], "big")
        if timestamp > _MAX_TIMESTAMP:
            return False
        try:
            text = message.decode("utf-8")
            self._public.verify(signature[8:], cosignature_message(text, timestamp))
        except (InvalidSignature, UnicodeDecodeError):
            return False
        return True


class CosignatureV1Signer(NamedKey):
    """A witness key producing cosignature/v1 lines; ``clock`` returns the POSIX time."""

    signature_type = SIGNATURE_TYPE_COSIGNATURE_V1

    def __init__(
        self,
        name: str,
        private_key: Ed25519PrivateKey,
        clock: Callable[[], int] = lambda: int(time.time()),
    ) -> None:
        self._private = private_key
        self._clock = clock
        self._identify(name, private_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw))

    def verifier(self) -> CosignatureV1Verifier:
        return CosignatureV1Verifier(self._name, self.public_key)

    def sign(self, message: bytes) -> bytes:
        text = message.decode("utf-8")
        parse_checkpoint(text)  # a cosignature/v1 is a statement about a checkpoint only
        timestamp = self._clock()
        signed = self._private.sign(cosignature_message(text, timestamp))
        return timestamp.to_bytes(8, "big") + signed


def parse_cosigner_vkey(vkey: str) -> CosignatureV1Verifier:
    """Parse a witness verifier key of signature type 0x04."""
    verifier = parse_vkey(vkey, {SIGNATURE_TYPE_COSIGNATURE_V1: CosignatureV1Verifier})
    if not isinstance(verifier, CosignatureV1Verifier):  # pragma: no cover
        raise InvalidKeyError("verifier key is not a cosignature/v1 key")
    return verifier


def cosign_checkpoint(
    msg: bytes | str,
    log_verifiers: KnownVerifiers | Iterable[Verifier],
    cosigner: CosignatureV1Signer,
    *,
    origin: str | None = None,
) -> tuple[Checkpoint, bytes]:
    """Verify the log's signature on a checkpoint and return it with ``cosigner``'s line added.

    Every existing signature line is kept. Checking consistency with the last checkpoint the
    witness saw is the caller's duty, before calling this.
    """
    checkpoint, _ = open_checkpoint(msg, log_verifiers, origin=origin)
    text, signatures = parse_note(msg)
    return checkpoint, sign_note(text, [cosigner], signatures=signatures)

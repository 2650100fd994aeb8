"""Canonical JSON encoding of ledger entries, and redaction of secrets before encoding.

An entry's bytes are what the Merkle tree hashes, so one value has exactly one encoding:
object keys sorted by Unicode code point, no insignificant whitespace, strings as UTF-8 with
only the escapes JSON requires, integers in decimal. Floats are refused (their decimal form is
not unique across languages), and so are integers outside the range that every JSON reader
holds exactly (±(2**53 - 1)); write amounts as strings or integer minor units.
"""

from __future__ import annotations

import functools
import itertools
import json
import re
from collections.abc import Mapping
from typing import Any

__all__ = [
    "MAX_SAFE_INTEGER",
    "REDACTED",
    "CanonicalJSONError",
    "decode_canonical",
    "encode_canonical",
    "encode_entry",
    "is_secret_key",
    "redact_secrets",
]

MAX_SAFE_INTEGER = 2**53 - 1
REDACTED = "[redacted]"


class CanonicalJSONError(ValueError):
    """A value cannot be encoded canonically, or bytes are not a canonical encoding."""


JSONValue = None | bool | int | str | list["JSONValue"] | dict[str, "JSONValue"]


def _where(path: list[str | int]) -> str:
    out = "$"
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


def _check_string(value: str, path: list[str | int], what: str) -> None:
    if value.isascii():
        return
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise CanonicalJSONError(
            f"{_where(path)}: {what} is not valid Unicode (lone surrogate at position {exc.start})"
        ) from None


def _check(value: object, path: list[str | int]) -> None:
    """Walk ``value``; ``path`` is a stack of keys and indexes, formatted only for errors."""
    if value is None or value is True or value is False:
        return
    if isinstance(value, str):  # includes str enums such as TextChoices
        _check_string(value, path, "string")
        return
    if isinstance(value, int):
        if not -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER:
            raise CanonicalJSONError(
                f"{_where(path)}: integer {value} is outside ±(2**53 - 1); encode it as a string"
            )
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if type(key) is not str:
                raise CanonicalJSONError(
                    f"{_where(path)}: object key {key!r} is a {type(key).__name__}, "
                    "keys must be strings"
                )
            path.append(key)
            _check_string(key, path, "key")
            _check(item, path)
            path.pop()
        return
    if isinstance(value, list | tuple):
        for i, item in enumerate(value):
            path.append(i)
            _check(item, path)
            path.pop()
        return
    if isinstance(value, float):
        raise CanonicalJSONError(
            f"{_where(path)}: float {value!r} is not allowed in a ledger entry; "
            "use an integer (for example minor units) or a decimal string"
        )
    raise CanonicalJSONError(
        f"{_where(path)}: a {type(value).__name__} cannot be written to a ledger entry; "
        "convert it to a string, integer, boolean, null, list or object first"
    )


def encode_canonical(value: object) -> bytes:
    """Encode ``value`` as canonical JSON bytes; raise :class:`CanonicalJSONError` if impossible."""
    _check(value, [])
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def _reject_float(text: str) -> object:
    raise CanonicalJSONError(f"number {text} is not an integer; floats are not canonical")


def _reject_constant(text: str) -> object:
    raise CanonicalJSONError(f"{text} is not valid JSON")


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise CanonicalJSONError(f"object key {key!r} appears twice")
        out[key] = value
    return out


def decode_canonical(data: bytes) -> Any:
    """Parse bytes that must be the canonical encoding of their value, and return the value.

    Raise :class:`CanonicalJSONError` for invalid UTF-8, invalid JSON, floats, duplicate keys,
    or any byte that differs from the canonical re-encoding (key order, whitespace, escapes).
    """
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CanonicalJSONError(f"entry is not valid UTF-8 at byte {exc.start}") from None
    try:
        value = json.loads(
            text,
            parse_float=_reject_float,
            parse_constant=_reject_constant,
            object_pairs_hook=_pairs,
        )
    except json.JSONDecodeError as exc:
        raise CanonicalJSONError(f"entry is not valid JSON: {exc}") from None
    if encode_canonical(value) != data:
        raise CanonicalJSONError("entry is valid JSON but not in canonical form")
    return value


# --- secrets -------------------------------------------------------------------------------

_SECRET_WORDS = frozenset(
    {
        "password",
        "passwd",
        "pwd",
        "passphrase",
        "passcode",
        "secret",
        "secrets",
        "token",
        "tokens",
        "otp",
        "totp",
        "hotp",
        "pin",
        "cvv",
        "cvc",
        "credential",
        "credentials",
        "cookie",
        "authorization",
        "apikey",
        "privatekey",
        "seed",
        "mnemonic",
    }
)
_KEY_QUALIFIERS = frozenset(
    {"private", "secret", "signing", "api", "access", "encryption", "master", "hmac", "session"}
)
_COMPACT_MARKERS = (
    "password",
    "passwd",
    "passphrase",
    "secret",
    "token",
    "apikey",
    "privatekey",
    "signingkey",
    "accesskey",
    "credential",
    "keymaterial",
)
_WORD = re.compile(r"[A-Z]+(?=[A-Z][a-z]|[^A-Za-z]|$)|[A-Z]?[a-z]+|[0-9]+")
_SECRET_VALUE = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----")


@functools.lru_cache(maxsize=4096)
def is_secret_key(key: str) -> bool:
    """Whether an object key names a secret (password, token, one-time code, key material...)."""
    words = [w.lower() for w in _WORD.findall(key)]
    if any(w in _SECRET_WORDS for w in words):
        return True
    if any(a in _KEY_QUALIFIERS and b == "key" for a, b in itertools.pairwise(words)):
        return True
    compact = "".join(words)
    return any(marker in compact for marker in _COMPACT_MARKERS)


def redact_secrets(value: Any) -> Any:
    """Return a copy of ``value`` with the values of secret-looking keys replaced by ``REDACTED``.

    Strings holding a PEM private key are redacted wherever they appear. The key itself stays,
    so the entry still records that the field was present.
    """
    if isinstance(value, Mapping):
        return {
            k: REDACTED
            if isinstance(k, str) and is_secret_key(k) and v is not None
            else redact_secrets(v)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [redact_secrets(v) for v in value]
    if isinstance(value, str) and _SECRET_VALUE.search(value):
        return REDACTED
    return value


def encode_entry(entry: Mapping[str, Any]) -> bytes:
    """Redact secrets from a ledger entry object and encode it canonically."""
    if not isinstance(entry, Mapping):
        raise CanonicalJSONError(f"$: a ledger entry must be an object, not {type(entry).__name__}")
    return encode_canonical(redact_secrets(entry))

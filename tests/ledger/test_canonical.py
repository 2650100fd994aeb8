"""Canonical JSON encoding of ledger entries and redaction of secrets."""

from __future__ import annotations

import datetime as dt
import decimal
import enum
from typing import Any

import pytest

from ceiba.ledger.canonical import (
    MAX_SAFE_INTEGER,
    REDACTED,
    CanonicalJSONError,
    decode_canonical,
    encode_canonical,
    encode_entry,
    is_secret_key,
    redact_secrets,
)


def test_keys_are_sorted_and_whitespace_is_absent() -> None:
    value = {"b": [1, {"z": None, "a": True}], "a": "x", "é": "ü", "B": False}
    assert (
        encode_canonical(value)
        == '{"B":false,"a":"x","b":[1,{"a":true,"z":null}],"é":"ü"}'.encode()
    )


def test_strings_are_utf8_with_only_required_escapes() -> None:
    assert encode_canonical('Ñandú "q" \\ \n\x01 €𝄞') == (
        '"Ñandú \\"q\\" \\\\ \\n\\u0001 €𝄞"'.encode()
    )


def test_same_value_same_bytes_whatever_the_insertion_order() -> None:
    a = {"kind": "case.submitted", "details": {"x": 1, "y": [1, 2]}}
    b = {"details": {"y": [1, 2], "x": 1}, "kind": "case.submitted"}
    assert encode_canonical(a) == encode_canonical(b)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"amount": 1.5}, r"\$\.amount: float 1\.5 is not allowed"),
        ({"a": [0, {"b": 2.0}]}, r"\$\.a\[1\]\.b: float 2\.0"),
        ({"a": float("nan")}, r"\$\.a: float nan"),
        ({"n": 2**53}, r"\$\.n: integer 9007199254740992 is outside"),
        ({1: "x"}, r"\$: object key 1 is a int, keys must be strings"),
        ({"d": decimal.Decimal("1.10")}, r"\$\.d: a Decimal cannot be written"),
        ({"t": dt.date(2026, 1, 1)}, r"\$\.t: a date cannot be written"),
        ({"s": "\ud800"}, r"\$\.s: string is not valid Unicode"),
        ({"b": b"raw"}, r"\$\.b: a bytes cannot be written"),
    ],
)
def test_values_without_a_canonical_form_are_refused(value: Any, message: str) -> None:
    with pytest.raises(CanonicalJSONError, match=message):
        encode_canonical(value)


def test_enum_members_encode_as_their_values() -> None:
    class Kind(enum.StrEnum):
        VIEWED = "personal_data.viewed"

    class Level(enum.IntEnum):
        HIGH = 3

    assert encode_canonical({"k": Kind.VIEWED, "l": Level.HIGH}) == (
        b'{"k":"personal_data.viewed","l":3}'
    )


def test_largest_safe_integers_are_accepted() -> None:
    assert encode_canonical([MAX_SAFE_INTEGER, -MAX_SAFE_INTEGER]) == (
        b"[9007199254740991,-9007199254740991]"
    )


def test_decode_round_trips_canonical_bytes() -> None:
    data = encode_canonical({"a": [1, "two", None, {"c": False}], "b": "ñ"})
    assert encode_canonical(decode_canonical(data)) == data


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b'{"b":1,"a":2}', "not in canonical form"),
        (b'{"a": 1}', "not in canonical form"),
        (b'"\\u00e9"', "not in canonical form"),
        (b'{"a":1.0}', "floats are not canonical"),
        (b'{"a":1e3}', "floats are not canonical"),
        (b'{"a":NaN}', "NaN is not valid JSON"),
        (b'{"a":1,"a":1}', "key 'a' appears twice"),
        (b'{"a":', "not valid JSON"),
        (b'"\xff"', "not valid UTF-8 at byte 1"),
    ],
)
def test_decode_rejects_anything_but_canonical_bytes(data: bytes, message: str) -> None:
    with pytest.raises(CanonicalJSONError, match=message):
        decode_canonical(data)


@pytest.mark.parametrize(
    "key",
    [
        "password",
        "new_password",
        "passwordHash",
        "client_secret",
        "clientSecret",
        "api_key",
        "apiKey",
        "APIKey",
        "access_token",
        "refreshToken",
        "otp",
        "totp_code",
        "pin",
        "private_key",
        "signingKey",
        "key_material",
        "Authorization",
        "session_cookie",
        "passphrase",
    ],
)
def test_secret_looking_keys_are_recognised(key: str) -> None:
    assert is_secret_key(key)


@pytest.mark.parametrize(
    "key",
    [
        "kind",
        "actor",
        "purpose",
        "case_id",
        "description",
        "keyword",
        "passport_number",
        "shipping",
    ],
)
def test_ordinary_keys_are_kept(key: str) -> None:
    assert not is_secret_key(key)


def test_redaction_is_deep_keeps_keys_and_does_not_mutate() -> None:
    # given
    entry = {
        "kind": "account.changed",
        "details": {
            "password": "hunter2",
            "users": [{"name": "ana", "otp": "123456", "recovery_token": None}],
            "note": "-----BEGIN PRIVATE KEY-----\nMC4CAQAw\n-----END PRIVATE KEY-----\n",
        },
    }
    # when
    redacted = redact_secrets(entry)
    # then
    assert redacted == {
        "kind": "account.changed",
        "details": {
            "password": REDACTED,
            "users": [{"name": "ana", "otp": REDACTED, "recovery_token": None}],
            "note": REDACTED,
        },
    }
    assert entry["details"]["password"] == "hunter2"  # type: ignore[index]


def test_encode_entry_redacts_then_encodes() -> None:
    assert encode_entry({"user": "ana", "secret": 42}) == b'{"secret":"[redacted]","user":"ana"}'
    with pytest.raises(CanonicalJSONError, match="must be an object, not list"):
        encode_entry([1, 2])  # type: ignore[arg-type]

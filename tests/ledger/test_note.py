"""C2SP signed notes: the spec's own example, an independent verifier, and every failure case."""

from __future__ import annotations

import base64
import hashlib

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from ceiba.ledger.note import (
    DuplicateSignatureError,
    DuplicateSignerError,
    DuplicateVerifierError,
    Ed25519Signer,
    Ed25519Verifier,
    InvalidKeyError,
    InvalidSignatureError,
    KnownVerifiers,
    MalformedNoteError,
    Signature,
    TooManySignaturesError,
    UnverifiedNoteError,
    check_key_name,
    key_id,
    open_note,
    parse_note,
    parse_vkey,
    sign_note,
)

# From c2sp.org/signed-note, "Verifier keys / Example".
SPEC_VKEY = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
SPEC_NOTE = (
    "This is an example message.\n\n"
    "— example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXm"
    "RKuwHjG1Yu72IneyaQM=\n"
).encode()
# From golang.org/x/mod/sumdb/note's tests: a signer key and its verifier key.
GO_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"

TEXT = "Ognuno sta solo sul cuor della terra\ntrafitto da un raggio di sole:\n\ned è subito sera.\n"


def _seeded(name: str, seed: int) -> Ed25519Signer:
    return Ed25519Signer(name, Ed25519PrivateKey.from_private_bytes(bytes([seed]) * 32))


@pytest.fixture
def signer() -> Ed25519Signer:
    return _seeded("ceiba.example/log", 7)


@pytest.fixture
def other() -> Ed25519Signer:
    return _seeded("witness.example/w1", 9)


# --- the specification's example -----------------------------------------------------------


def test_spec_example_verifies() -> None:
    verifier = parse_vkey(SPEC_VKEY)
    note = open_note(SPEC_NOTE, [verifier])
    assert note.text == "This is an example message.\n"
    assert [(s.name, s.key_id) for s in note.signatures] == [("example.com/foo", 0x530D903A)]
    assert verifier.vkey == SPEC_VKEY  # type: ignore[attr-defined]


def test_go_signer_key_round_trips_and_matches_its_verifier_key() -> None:
    signer = Ed25519Signer.from_skey(GO_SKEY)
    assert signer.vkey == GO_VKEY
    assert signer.to_skey() == GO_SKEY
    assert signer.key_id == 0xC74F20A3


def test_key_id_follows_the_spec_formula() -> None:
    pub = b"\x11" * 32
    expected = hashlib.sha256(b"n.example/k\n\x01" + pub).digest()[:4]
    assert key_id("n.example/k", 0x01, pub) == int.from_bytes(expected, "big")


# --- Ceiba's notes under an independent reading of the spec --------------------------------


def _independent_verify(msg: bytes, vkey: str) -> str:
    """Verify a note without Ceiba's note module: split by hand, check ID and signature."""
    name, hex_id, material = vkey.split("+", 2)
    raw_key = base64.b64decode(material)
    assert raw_key[0] == 0x01
    public = raw_key[1:]
    assert hashlib.sha256(name.encode() + b"\n\x01" + public).digest()[:4] == bytes.fromhex(hex_id)
    decoded = msg.decode("utf-8")
    text, _, block = decoded.rpartition("\n\n")
    text += "\n"
    verified = False
    for line in block.splitlines():
        assert line.startswith("\u2014 ")
        sig_name, b64 = line[2:].split(" ")
        sig = base64.b64decode(b64)
        if sig_name == name and sig[:4] == bytes.fromhex(hex_id):
            Ed25519PublicKey.from_public_bytes(public).verify(sig[4:], text.encode())
            verified = True
    assert verified
    return text


def test_signed_note_verifies_independently(signer: Ed25519Signer, other: Ed25519Signer) -> None:
    # when
    msg = sign_note(TEXT, [signer, other])
    # then
    assert _independent_verify(msg, signer.vkey) == TEXT
    assert _independent_verify(msg, other.vkey) == TEXT
    assert msg.endswith(b"\n")
    assert msg.count("\n\u2014 ".encode()) == 2


def test_open_returns_verified_and_ignores_unknown(
    signer: Ed25519Signer, other: Ed25519Signer
) -> None:
    msg = sign_note(TEXT, [signer, other])
    note = open_note(msg, [parse_vkey(signer.vkey)])
    assert note.text == TEXT
    assert [s.name for s in note.signatures] == ["ceiba.example/log"]
    assert [s.name for s in note.unverified] == ["witness.example/w1"]


def test_existing_signatures_are_kept_when_adding_one(
    signer: Ed25519Signer, other: Ed25519Signer
) -> None:
    first = sign_note(TEXT, [signer])
    text, sigs = parse_note(first)
    both = sign_note(text, [other], signatures=sigs)
    assert both.startswith(first)
    note = open_note(both, [signer.verifier(), other.verifier()])
    assert len(note.signatures) == 2


# --- failure cases the specification lists -------------------------------------------------


def test_signature_from_unknown_key_only_is_rejected(
    signer: Ed25519Signer, other: Ed25519Signer
) -> None:
    msg = sign_note(TEXT, [signer])
    with pytest.raises(UnverifiedNoteError, match=r"no signature from a known key.*ceiba\.example"):
        open_note(msg, [other.verifier()])


def test_same_name_different_key_is_unknown_not_invalid(signer: Ed25519Signer) -> None:
    # given: a key that shares the name but not the ID
    impostor = _seeded("ceiba.example/log", 8)
    msg = sign_note(TEXT, [impostor])
    # then: the spec says to ignore it, so the note is merely unverified
    with pytest.raises(UnverifiedNoteError):
        open_note(msg, [signer.verifier()])


def test_bad_signature_from_known_key_rejects_the_note(
    signer: Ed25519Signer, other: Ed25519Signer
) -> None:
    # given: a valid note whose text is then altered
    msg = sign_note(TEXT, [other, signer]).replace(b"sera", b"Sera")
    # then
    with pytest.raises(InvalidSignatureError, match=rf"ceiba\.example/log \({signer.key_id:08x}\)"):
        open_note(msg, [signer.verifier()])


def test_flipped_signature_bit_is_rejected(signer: Ed25519Signer) -> None:
    text, sigs = parse_note(sign_note(TEXT, [signer]))
    raw = bytearray(sigs[0].signature)
    raw[10] ^= 0x40
    forged = sign_note(text, [], signatures=[Signature(sigs[0].name, sigs[0].key_id, bytes(raw))])
    with pytest.raises(InvalidSignatureError):
        open_note(forged, [signer.verifier()])


def test_duplicate_signature_from_known_key_is_rejected(signer: Ed25519Signer) -> None:
    msg = sign_note(TEXT, [signer])
    _, sigs = parse_note(msg)
    doubled = msg + sigs[0].line().encode()
    with pytest.raises(DuplicateSignatureError, match="more than once"):
        open_note(doubled, [signer.verifier()])


def test_repeated_unknown_signatures_are_listed_once(
    signer: Ed25519Signer, other: Ed25519Signer
) -> None:
    msg = sign_note(TEXT, [signer, other])
    _, sigs = parse_note(msg)
    note = open_note(msg + sigs[1].line().encode(), [signer.verifier()])
    assert len(note.unverified) == 1


def test_too_many_signatures(signer: Ed25519Signer) -> None:
    # given: 16 signatures must be accepted, 17 exceed a limit of 16
    signers = [_seeded(f"w{i}.example/w", i + 20) for i in range(16)]
    msg = sign_note(TEXT, [signer, *signers[:15]])
    assert len(open_note(msg, [signer.verifier()], max_signatures=16).unverified) == 15
    more = sign_note(TEXT, [signer, *signers])
    with pytest.raises(TooManySignaturesError, match="17 signature lines, more than the 16"):
        open_note(more, [signer.verifier()], max_signatures=16)


@pytest.mark.parametrize(
    ("msg", "message"),
    [
        (b"text\n\xff\n\n\xe2\x80\x94 a AAAAAAA=\n", "not valid UTF-8 at byte 5"),
        (b"text\r\n\n\xe2\x80\x94 a AAAAAAA=\n", "control character U\\+000D"),
        (b"text\t\n\n\xe2\x80\x94 a AAAAAAA=\n", "control character U\\+0009"),
        ("text\n— a AAAAAAA=\n".encode(), "no blank line"),
        (b"text\n\n", "no signature lines"),
        ("text\n\n— a AAAAAAA=".encode(), "does not end with a newline"),
        (b"text\n\n- a AAAAAAA=\n", "does not start with"),
        ("text\n\n—  AAAAAAA=\n".encode(), "key name must be a non-empty"),
        ("text\n\n— a+b AAAAAAA=\n".encode(), "must not contain spaces or '\\+'"),
        ("text\n\n— a\u00a0b AAAAAAA=\n".encode(), "must not contain spaces"),
        ("text\n\n— a\n".encode(), "has no signature"),
        ("text\n\n— a \n".encode(), "has no signature"),
        ("text\n\n— a AAAA AAA=\n".encode(), "not valid base64"),
        ("text\n\n— a !!!!\n".encode(), "not valid base64"),
        ("text\n\n— a AAAAAA==\n".encode(), "4 bytes, shorter than"),
        ("text\n\n— a AAAAAAA=\n\n".encode(), "no signature lines"),
    ],
)
def test_malformed_notes_are_rejected(msg: bytes, message: str, signer: Ed25519Signer) -> None:
    with pytest.raises(MalformedNoteError, match=message):
        open_note(msg, [signer.verifier()])


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("no newline", "must end with a newline"),
        ("tab\there\n", "control character"),
        ("bad \ud800\n", "not valid UTF-8"),
    ],
)
def test_unsignable_text_is_refused(text: str, message: str, signer: Ed25519Signer) -> None:
    with pytest.raises(MalformedNoteError, match=message):
        sign_note(text, [signer])


def test_non_text_input_is_malformed(signer: Ed25519Signer) -> None:
    with pytest.raises(MalformedNoteError, match="must be bytes or text, not int"):
        open_note(5, [signer.verifier()])  # type: ignore[arg-type]


def test_signing_twice_with_one_key_is_refused(signer: Ed25519Signer) -> None:
    with pytest.raises(DuplicateSignerError, match="already signs this note"):
        sign_note(TEXT, [signer, signer])
    with pytest.raises(MalformedNoteError, match="at least one signature"):
        sign_note(TEXT, [])


def test_ambiguous_known_verifiers_are_refused(signer: Ed25519Signer) -> None:
    with pytest.raises(DuplicateVerifierError, match="share key name"):
        KnownVerifiers([signer.verifier(), signer.verifier()])


# --- keys ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("vkey", "message"),
    [
        ("example.com/foo+530d903a", "form name\\+hexid\\+base64key"),
        ("example.com/foo+530d903b+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k", "does not match"),
        ("example.com/foo+530D903A+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k", "lowercase"),
        ("example.com/foo+530d90+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k", "8 lowercase"),
        ("example.com/bar+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k", "does not match"),
        ("example.com/foo+530d903a+BekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k", "type 0x05"),
        ("example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv", "32 bytes, got 29"),
        ("example.com/foo+530d903a+Aeky!", "not valid base64"),
        ("example.com/foo+530d903a+", "material is empty"),
        ("+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k", "non-empty"),
        ("exa mple+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k", "spaces"),
    ],
)
def test_malformed_verifier_keys_are_rejected(vkey: str, message: str) -> None:
    with pytest.raises(InvalidKeyError, match=message):
        parse_vkey(vkey)


@pytest.mark.parametrize(
    ("skey", "message"),
    [
        ("PRIVATE+KEY+PeterNeumann+c74f20a3", "form PRIVATE\\+KEY"),
        ("PUBLIC+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz", "form"),
        ("PRIVATE+KEY+PeterNeumann+c74f20a4+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz", "match"),
        ("PRIVATE+KEY+PeterNeumann+c74f20a3+AoEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz", "0x01"),
    ],
)
def test_malformed_signer_keys_are_rejected(skey: str, message: str) -> None:
    with pytest.raises(InvalidKeyError, match=message):
        Ed25519Signer.from_skey(skey)


def test_key_names_are_checked() -> None:
    check_key_name("sum.golang.org")
    for bad in ["", "a b", "a+b", "a\u2003b", "a\x01b"]:
        with pytest.raises(InvalidKeyError):
            check_key_name(bad)
    with pytest.raises(InvalidKeyError):
        Ed25519Verifier("ok", b"\x00" * 31)

"""C2SP checkpoints and cosignature/v1 lines: spec examples, round trips and rejections."""

from __future__ import annotations

import base64
import hashlib

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from ceiba.ledger.checkpoint import (
    Checkpoint,
    CheckpointError,
    CosignatureV1Signer,
    CosignatureV1Verifier,
    cosign_checkpoint,
    cosignature_message,
    cosignature_timestamp,
    open_checkpoint,
    parse_checkpoint,
    parse_cosigner_vkey,
    sign_checkpoint,
)
from ceiba.ledger.merkle import EMPTY_ROOT, InMemoryNodeStore, append_leaves, leaf_hash, root_hash
from ceiba.ledger.note import (
    Ed25519Signer,
    InvalidKeyError,
    InvalidSignatureError,
    UnverifiedNoteError,
    open_note,
    parse_note,
    parse_vkey,
)

# From c2sp.org/tlog-cosignature: a checkpoint with a log signature and a witness cosignature.
SPEC_COSIGNED = (
    "example.com/behind-the-sofa\n"
    "20852163\n"
    "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
    "\n"
    "— example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Z"
    "hcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n"
    "— witness.example.com/w1 jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZCB9dlrDJ"
    "sX3b2oyin1nPZqhf5nNo0xUe+mbIUBkBIfZ+qnA==\n"
)

ORIGIN = "ceiba.example/log"
ROOT = hashlib.sha256(b"root").digest()


def _seeded(seed: int) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(bytes([seed]) * 32)


@pytest.fixture
def log_signer() -> Ed25519Signer:
    return Ed25519Signer(ORIGIN, _seeded(1))


@pytest.fixture
def witness() -> CosignatureV1Signer:
    return CosignatureV1Signer("witness.example/w1", _seeded(2), clock=lambda: 1_700_000_000)


# --- format and parse ----------------------------------------------------------------------


def test_spec_example_parses() -> None:
    text, sigs = parse_note(SPEC_COSIGNED)
    checkpoint = parse_checkpoint(text)
    assert checkpoint.origin == "example.com/behind-the-sofa"
    assert checkpoint.size == 20852163
    assert base64.b64encode(checkpoint.root_hash) == b"CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I="
    assert checkpoint.to_text() == text
    # the witness line carries the timestamp the spec's signed-message example shows
    assert cosignature_timestamp(sigs[1]) == 1679315147


@pytest.mark.parametrize(
    "checkpoint",
    [
        Checkpoint(ORIGIN, 0, EMPTY_ROOT),
        Checkpoint(ORIGIN, 1, ROOT),
        Checkpoint(ORIGIN, 2**64 - 1, ROOT),
        Checkpoint("any origin, even with spaces", 12, ROOT, ("ext one", "ext+two")),
    ],
)
def test_format_and_parse_round_trip(checkpoint: Checkpoint) -> None:
    text = checkpoint.to_text()
    assert parse_checkpoint(text) == checkpoint
    assert parse_checkpoint(text.encode()) == checkpoint


def test_text_layout_is_exactly_three_lines() -> None:
    assert Checkpoint(ORIGIN, 10, b"\x00" * 32).to_text() == (
        "ceiba.example/log\n10\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"
    )


B64_ROOT = base64.b64encode(ROOT).decode()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (f"o\n1\n{B64_ROOT}", "must end with a newline"),
        ("o\n1\n", "has 2 lines"),
        (f"\n1\n{B64_ROOT}\n", "line 1 is empty"),
        (f"o\n1\n{B64_ROOT}\n\next\n", "line 4 is empty"),
        (f"o\n01\n{B64_ROOT}\n", "not a decimal number without leading zeroes"),
        (f"o\n-1\n{B64_ROOT}\n", "not a decimal number"),
        (f"o\n+1\n{B64_ROOT}\n", "not a decimal number"),
        (f"o\n1 \n{B64_ROOT}\n", "not a decimal number"),
        (f"o\n\u0661\n{B64_ROOT}\n", "not a decimal number"),  # Arabic-Indic one
        (f"o\n{2**64}\n{B64_ROOT}\n", "does not fit in 64 bits"),
        ("o\n1\nnot base64!\n", "not valid base64"),
        ("o\n1\nAAAA\n", "3 bytes, expected 32"),
        ("o\n1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB=\n", "not in canonical base64"),
        (b"o\n1\n\xff\n", "not valid UTF-8"),
    ],
)
def test_malformed_checkpoints_are_rejected(text: str | bytes, message: str) -> None:
    with pytest.raises(CheckpointError, match=message):
        parse_checkpoint(text)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"origin": ""}, "origin must be a non-empty"),
        ({"origin": "a\nb"}, "single line"),
        ({"size": -1}, r"outside 0\.\.2\*\*64-1"),
        ({"size": True}, "must be an integer"),
        ({"root_hash": b"x" * 31}, "32 bytes, got 31"),
        ({"extensions": ("",)}, "extension line 1"),
    ],
)
def test_invalid_checkpoint_values_are_refused(kwargs: dict[str, object], message: str) -> None:
    values: dict[str, object] = {"origin": ORIGIN, "size": 1, "root_hash": ROOT, **kwargs}
    with pytest.raises(CheckpointError, match=message):
        Checkpoint(**values)  # type: ignore[arg-type]


# --- signing -------------------------------------------------------------------------------


def test_checkpoint_of_a_real_tree_verifies_independently(log_signer: Ed25519Signer) -> None:
    # given: a tree of three entries
    store = InMemoryNodeStore()
    store.put_nodes(append_leaves(store, 0, [leaf_hash(e) for e in (b"a", b"b", b"c")]))
    checkpoint = Checkpoint(ORIGIN, 3, root_hash(store, 3))
    # when
    msg = sign_checkpoint(checkpoint, [log_signer])
    # then: verify by hand from the vkey, with no Ceiba parsing
    name, hex_id, material = log_signer.vkey.split("+", 2)
    public = base64.b64decode(material)[1:]
    text, _, line = msg.decode().rpartition("\n\n")
    sig_name, b64 = line.removeprefix("— ").removesuffix("\n").split(" ")
    raw = base64.b64decode(b64)
    assert sig_name == name == ORIGIN
    assert raw[:4] == hashlib.sha256(name.encode() + b"\n\x01" + public).digest()[:4]
    assert raw[:4].hex() == hex_id
    Ed25519PublicKey.from_public_bytes(public).verify(raw[4:], (text + "\n").encode())
    lines = text.split("\n")
    assert lines[0] == ORIGIN
    assert int(lines[1]) == 3
    node = lambda left, right: hashlib.sha256(b"\x01" + left + right).digest()  # noqa: E731
    leaf = lambda e: hashlib.sha256(b"\x00" + e).digest()  # noqa: E731
    expected_root = node(node(leaf(b"a"), leaf(b"b")), leaf(b"c"))
    assert base64.b64decode(lines[2]) == expected_root


def test_open_checkpoint_checks_signature_and_origin(log_signer: Ed25519Signer) -> None:
    msg = sign_checkpoint(Checkpoint(ORIGIN, 5, ROOT), [log_signer])
    checkpoint, note = open_checkpoint(msg, [parse_vkey(log_signer.vkey)], origin=ORIGIN)
    assert (checkpoint.size, checkpoint.root_hash) == (5, ROOT)
    assert note.signatures[0].name == ORIGIN
    with pytest.raises(CheckpointError, match=r"origin 'ceiba\.example/log' is not 'other/log'"):
        open_checkpoint(msg, [log_signer.verifier()], origin="other/log")
    with pytest.raises(InvalidSignatureError):
        open_checkpoint(msg.replace(b"\n5\n", b"\n6\n"), [log_signer.verifier()])


def test_signed_text_that_is_not_a_checkpoint_is_rejected(log_signer: Ed25519Signer) -> None:
    from ceiba.ledger.note import sign_note

    msg = sign_note("just a note\n", [log_signer])
    with pytest.raises(CheckpointError, match="has 1 lines"):
        open_checkpoint(msg, [log_signer.verifier()])


# --- cosignatures --------------------------------------------------------------------------


def test_witness_cosignature_verifies_independently(
    log_signer: Ed25519Signer, witness: CosignatureV1Signer
) -> None:
    # given
    msg = sign_checkpoint(Checkpoint(ORIGIN, 7, ROOT), [log_signer])
    # when
    checkpoint, cosigned = cosign_checkpoint(msg, [log_signer.verifier()], witness, origin=ORIGIN)
    # then: the log's line is kept and the witness line is a timestamped Ed25519 signature
    assert checkpoint.size == 7
    assert cosigned.startswith(msg)
    line = cosigned[len(msg) :].decode()
    name, b64 = line.removeprefix("— ").removesuffix("\n").split(" ")
    raw = base64.b64decode(b64)
    assert len(raw) == 4 + 8 + 64
    assert raw[:4] == hashlib.sha256(name.encode() + b"\n\x04" + witness.public_key).digest()[:4]
    assert int.from_bytes(raw[4:12], "big") == 1_700_000_000
    signed = b"cosignature/v1\ntime 1700000000\n" + Checkpoint(ORIGIN, 7, ROOT).to_text().encode()
    Ed25519PublicKey.from_public_bytes(witness.public_key).verify(raw[12:], signed)
    # and Ceiba's own verifiers accept both lines
    note = open_note(cosigned, [log_signer.verifier(), parse_cosigner_vkey(witness.vkey)])
    assert [s.name for s in note.signatures] == [ORIGIN, "witness.example/w1"]
    assert cosignature_timestamp(note.signatures[1]) == 1_700_000_000


def test_cosignature_with_altered_timestamp_fails(
    log_signer: Ed25519Signer, witness: CosignatureV1Signer
) -> None:
    msg = sign_checkpoint(Checkpoint(ORIGIN, 7, ROOT), [log_signer])
    _, cosigned = cosign_checkpoint(msg, [log_signer.verifier()], witness)
    text, sigs = parse_note(cosigned)
    sig = sigs[1]
    altered = (1_700_000_001).to_bytes(8, "big") + sig.signature[8:]
    assert not witness.verifier().verify(text.encode(), altered)
    assert witness.verifier().verify(text.encode(), sig.signature)
    assert not witness.verifier().verify(text.encode(), sig.signature[:-1])


def test_witness_refuses_a_forged_log_signature(
    log_signer: Ed25519Signer, witness: CosignatureV1Signer
) -> None:
    forger = Ed25519Signer("someone.else/log", _seeded(3))
    msg = sign_checkpoint(Checkpoint(ORIGIN, 7, ROOT), [forger])
    with pytest.raises(UnverifiedNoteError):
        cosign_checkpoint(msg, [log_signer.verifier()], witness)


def test_cosigner_signs_checkpoints_only(witness: CosignatureV1Signer) -> None:
    with pytest.raises(CheckpointError):
        witness.sign(b"not a checkpoint\n")


def test_cosigner_vkeys_use_type_4(witness: CosignatureV1Signer) -> None:
    verifier = parse_cosigner_vkey(witness.vkey)
    assert isinstance(verifier, CosignatureV1Verifier)
    assert verifier.key_id == witness.key_id
    with pytest.raises(InvalidKeyError, match="type 0x04 is not supported"):
        parse_vkey(witness.vkey)
    log_vkey = Ed25519Signer(ORIGIN, _seeded(1)).vkey
    with pytest.raises(InvalidKeyError, match="type 0x01 is not supported"):
        parse_cosigner_vkey(log_vkey)


def test_cosignature_message_layout_and_limits() -> None:
    assert cosignature_message("o\n1\nx\n", 5) == b"cosignature/v1\ntime 5\no\n1\nx\n"
    with pytest.raises(CheckpointError, match=r"outside 0\.\.2\*\*63-1"):
        cosignature_message("o\n", 2**63)


def test_malformed_cosignature_material_is_rejected() -> None:
    from ceiba.ledger.note import Signature

    with pytest.raises(CheckpointError, match="is 71 bytes, expected 72"):
        cosignature_timestamp(Signature("w.example/w", 1, b"\x00" * 71))
    with pytest.raises(InvalidKeyError, match="32 bytes, got 31"):
        CosignatureV1Verifier("w.example/w", b"\x00" * 31)
    verifier = CosignatureV1Verifier("w.example/w", _seeded(4).public_key().public_bytes_raw())
    assert not verifier.verify(b"o\n1\n", b"\xff" * 72)  # timestamp above 2**63 - 1
    assert not verifier.verify(b"\xff", b"\x00" * 72)  # not UTF-8

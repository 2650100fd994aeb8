"""The worked example in docs/ledger.md is what the code produces, byte for byte."""

from __future__ import annotations

import base64

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ceiba.ledger.canonical import encode_entry
from ceiba.ledger.checkpoint import (
    Checkpoint,
    CosignatureV1Signer,
    cosign_checkpoint,
    open_checkpoint,
    parse_cosigner_vkey,
    sign_checkpoint,
)
from ceiba.ledger.merkle import (
    InMemoryNodeStore,
    append_leaves,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    root_hash,
    verify_consistency,
    verify_inclusion,
)
from ceiba.ledger.note import Ed25519Signer, parse_vkey

from .shared_data import REPO_ROOT

ENTRIES = [
    {
        "kind": "case.submitted",
        "actor": "citizen:7f3a",
        "institution": "civil-registry",
        "subject": "person:7f3a",
        "purpose": "birth certificate application",
        "case": "C-2026-000001",
        "details": {"service": "birth-certificate", "version": 3},
    },
    {
        "kind": "personal_data.viewed",
        "actor": "officer:12",
        "institution": "civil-registry",
        "subject": "person:7f3a",
        "purpose": "application review",
        "case": "C-2026-000001",
        "details": {"fields": ["name", "birth_date"]},
    },
    {
        "kind": "account.password_changed",
        "actor": "officer:12",
        "institution": "civil-registry",
        "details": {"password": "hunter2"},
    },
]


def test_worked_example_matches_the_code() -> None:
    # given: the documented entries and demonstration keys
    doc = (REPO_ROOT / "docs" / "ledger.md").read_text()
    encoded = [encode_entry(e) for e in ENTRIES]
    store = InMemoryNodeStore()
    store.put_nodes(append_leaves(store, 0, [leaf_hash(e) for e in encoded]))
    log = Ed25519Signer(
        "ceiba.example/ledger", Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
    )
    witness = CosignatureV1Signer(
        "witness.example/w1",
        Ed25519PrivateKey.from_private_bytes(bytes(range(32, 64))),
        clock=lambda: 1795000000,
    )
    # when
    root2, root3 = root_hash(store, 2), root_hash(store, 3)
    signed = sign_checkpoint(Checkpoint("ceiba.example/ledger", 3, root3), [log])
    _, cosigned = cosign_checkpoint(signed, [log.verifier()], witness)
    # then: every documented value is present
    for entry in encoded:
        assert entry.decode() in doc
    for i, entry in enumerate(encoded):
        assert f"{i}  {leaf_hash(entry).hex()}" in doc
    assert root2.hex() in doc
    assert root3.hex() in doc
    assert log.vkey in doc
    assert witness.vkey in doc
    assert signed.decode() in doc
    assert cosigned.decode() in doc
    # and the proofs the page describes are the ones generated, and they verify
    leaves = [leaf_hash(e) for e in encoded]
    assert inclusion_proof(store, 1, 3) == [leaves[0], leaves[2]]
    assert consistency_proof(store, 2, 3) == [leaves[2]]
    verify_inclusion(leaves[1], 1, 3, [leaves[0], leaves[2]], root3)
    verify_consistency(2, 3, [leaves[2]], root2, root3)
    # and the decoded witness line is as described
    raw = base64.b64decode(cosigned.decode().rsplit(" ", 1)[1])
    assert raw[:12].hex() == "20324abe000000006afd86c0"
    assert len(raw) == 76
    verifiers = [parse_vkey(log.vkey), parse_cosigner_vkey(witness.vkey)]
    _, note = open_checkpoint(cosigned, verifiers, origin="ceiba.example/ledger")
    assert len(note.signatures) == 2

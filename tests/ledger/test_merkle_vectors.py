"""transparency-dev/merkle proof vectors: valid ones verify, every ``wantErr`` one is rejected."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from ceiba.ledger.merkle import (
    HashLengthError,
    MerkleError,
    verify_consistency,
    verify_inclusion,
)

from .shared_data import require, shared_path

VECTORS = "tlog/transparency-dev-merkle/testdata"

# Upstream accepts this one although its roots are the 12-byte string "don't care 2": its
# equal-size shortcut compares the roots without looking at them. Ceiba requires every hash
# to be a 32-byte SHA-256 digest, so it rejects the vector, and says precisely why.
STRICTER_THAN_UPSTREAM = {"consistency/additional/sizes-are-equal-one-and-proof-is-empty.json"}


def _vector_ids(kind: str) -> list[str]:
    folder = shared_path(VECTORS) / kind
    files = sorted(folder.rglob("*.json")) if folder.is_dir() else []
    if not files:
        return [f"{kind}/(absent)"]
    return [p.relative_to(folder.parent).as_posix() for p in files]


def _load(rel: str) -> dict[str, Any]:
    base = require(VECTORS)
    path = base / rel
    if not path.exists():
        pytest.skip(f"vector {path} is absent")
    data: dict[str, Any] = json.loads(Path(path).read_text())
    return data


def _b64(value: str) -> bytes:
    return base64.b64decode(value, validate=True)


def _proof(value: list[str] | None) -> list[bytes]:
    return [_b64(p) for p in value or []]


@pytest.mark.parametrize("rel", _vector_ids("inclusion"))
def test_inclusion_vector(rel: str) -> None:
    # given
    v = _load(rel)
    args = (_b64(v["leafHash"]), v["leafIdx"], v["treeSize"], _proof(v["proof"]), _b64(v["root"]))
    # when / then
    if v["wantErr"]:
        with pytest.raises(MerkleError):
            verify_inclusion(*args)
    else:
        verify_inclusion(*args)


@pytest.mark.parametrize("rel", _vector_ids("consistency"))
def test_consistency_vector(rel: str) -> None:
    # given
    v = _load(rel)
    args = (v["size1"], v["size2"], _proof(v["proof"]), _b64(v["root1"]), _b64(v["root2"]))
    # when / then
    if rel in STRICTER_THAN_UPSTREAM:
        assert not v["wantErr"]
        with pytest.raises(HashLengthError, match="12 bytes long, expected 32"):
            verify_consistency(*args)
    elif v["wantErr"]:
        with pytest.raises(MerkleError):
            verify_consistency(*args)
    else:
        verify_consistency(*args)


def test_vector_set_is_complete() -> None:
    # then: the counts of the pinned upstream commit, so a partial copy does not pass silently
    base = require(VECTORS)
    assert len(list((base / "inclusion").rglob("*.json"))) == 98
    assert len(list((base / "consistency").rglob("*.json"))) == 98

"""Tree building, roots and proofs from a node store, against a naive RFC 9162 reference."""

from __future__ import annotations

import hashlib
import random
from collections.abc import Sequence

import pytest

from ceiba.ledger.merkle import (
    EMPTY_ROOT,
    HashLengthError,
    IndexOutOfRangeError,
    InMemoryNodeStore,
    MerkleError,
    MissingNodeError,
    Node,
    NodeId,
    ProofVerificationError,
    TreeSizeError,
    append_leaves,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    root_hash,
    verify_consistency,
    verify_inclusion,
)

MAX = 64


# --- a naive reference, written straight from RFC 9162 §2.1 --------------------------------


def ref_mth(d: Sequence[bytes]) -> bytes:
    n = len(d)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return hashlib.sha256(b"\x00" + d[0]).digest()
    k = 1
    while k * 2 < n:
        k *= 2
    return hashlib.sha256(b"\x01" + ref_mth(d[:k]) + ref_mth(d[k:])).digest()


def ref_path(m: int, d: Sequence[bytes]) -> list[bytes]:
    n = len(d)
    if n == 1:
        return []
    k = 1
    while k * 2 < n:
        k *= 2
    if m < k:
        return [*ref_path(m, d[:k]), ref_mth(d[k:])]
    return [*ref_path(m - k, d[k:]), ref_mth(d[:k])]


def ref_subproof(m: int, d: Sequence[bytes], b: bool) -> list[bytes]:
    n = len(d)
    if m == n:
        return [] if b else [ref_mth(d)]
    k = 1
    while k * 2 < n:
        k *= 2
    if m <= k:
        return [*ref_subproof(m, d[:k], b), ref_mth(d[k:])]
    return [*ref_subproof(m - k, d[k:], False), ref_mth(d[:k])]


def ref_proof(m: int, d: Sequence[bytes]) -> list[bytes]:
    return ref_subproof(m, d, True)


# --- fixtures ------------------------------------------------------------------------------


ENTRIES = [f"entry {i}".encode() for i in range(MAX)]


class CountingStore(InMemoryNodeStore):
    def __init__(self) -> None:
        super().__init__()
        self.calls = 0
        self.reads = 0

    def get_nodes(self, ids: Sequence[NodeId]) -> list[bytes]:
        self.calls += 1
        self.reads += len(ids)
        return super().get_nodes(ids)


def build(entries: Sequence[bytes], batches: Sequence[int] | None = None) -> CountingStore:
    store = CountingStore()
    size = 0
    sizes = list(batches) if batches else [len(entries)]
    for batch in sizes:
        nodes = append_leaves(store, size, [leaf_hash(e) for e in entries[size : size + batch]])
        store.put_nodes(nodes)
        size += batch
    assert size == len(entries)
    return store


@pytest.fixture(scope="module")
def store() -> CountingStore:
    rng = random.Random(5)
    batches = []
    left = MAX
    while left:
        b = min(left, rng.randint(1, 9))
        batches.append(b)
        left -= b
    return build(ENTRIES, batches)


# --- hashing -------------------------------------------------------------------------------


def test_leaf_and_node_hashes_use_rfc_9162_domain_separation() -> None:
    assert leaf_hash(b"") == bytes.fromhex(
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
    )
    expected = hashlib.sha256(b"\x01" + b"a" * 32 + b"b" * 32).digest()
    assert node_hash(b"a" * 32, b"b" * 32) == expected
    assert (
        bytes.fromhex("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        == EMPTY_ROOT
    )


def test_known_root_of_rfc_6962_reference_tree() -> None:
    # given: the eight leaves of the Certificate Transparency reference tests
    leaves = [
        b"",
        b"\x00",
        b"\x10",
        b"\x20\x21",
        b"\x30\x31",
        b"\x40\x41\x42\x43",
        b"\x50\x51\x52\x53\x54\x55\x56\x57",
        b"\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f",
    ]
    # when
    store = build(leaves)
    # then
    assert root_hash(store, 8).hex() == (
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"
    )
    assert root_hash(store, 5).hex() == (
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4"
    )


# --- appending -----------------------------------------------------------------------------


@pytest.mark.parametrize("batches", [[MAX], [1] * MAX, [3, 5, 7, 1, 16, 32], [63, 1], [31, 33]])
def test_batching_does_not_change_the_stored_nodes(batches: list[int]) -> None:
    # given
    whole = build(ENTRIES)
    # when
    split = build(ENTRIES, batches)
    # then
    for level in range(7):
        width = MAX >> level
        assert split.level_width(level) == width
        ids = [NodeId(level, i) for i in range(width)]
        assert split.get_nodes(ids) == whole.get_nodes(ids)


def test_append_returns_exactly_the_new_perfect_subtrees() -> None:
    # given: a tree of 5 leaves
    store = build(ENTRIES[:5])
    # when: 3 leaves are appended
    nodes = append_leaves(store, 5, [leaf_hash(e) for e in ENTRIES[5:8]])
    # then: leaves 5..7, level 1 nodes 2 and 3, level 2 node 1, level 3 node 0
    assert [(n.level, n.index) for n in nodes] == [
        (0, 5), (0, 6), (0, 7), (1, 2), (1, 3), (2, 1), (3, 0)
    ]  # fmt: skip
    store.put_nodes(nodes)
    assert store.get_nodes([NodeId(3, 0)]) == [ref_mth(ENTRIES[:8])]
    for node in nodes:
        span = ENTRIES[node.index << node.level : (node.index + 1) << node.level]
        assert node.hash == ref_mth(span)


def test_append_reads_only_the_right_edge_once() -> None:
    # given
    store = build(ENTRIES[:45])
    store.calls = store.reads = 0
    # when
    append_leaves(store, 45, [leaf_hash(b"x")] * 10)
    # then: 45 = 32 + 8 + 4 + 1
    assert (store.calls, store.reads) == (1, 4)


def test_append_nothing_and_reject_bad_leaf_hashes() -> None:
    store = build(ENTRIES[:3])
    assert append_leaves(store, 3, []) == []
    with pytest.raises(HashLengthError, match="leaf hash 1 is 31 bytes long"):
        append_leaves(store, 3, [b"a" * 32, b"a" * 31])
    with pytest.raises(TreeSizeError, match="must not be negative"):
        append_leaves(store, -1, [b"a" * 32])
    with pytest.raises(MissingNodeError, match=r"node \(level 2, index 0\) is not stored"):
        append_leaves(store, 7, [b"a" * 32])


def test_in_memory_store_refuses_gaps_and_rewrites() -> None:
    store = build(ENTRIES[:3])
    with pytest.raises(MerkleError, match="leaves a gap"):
        store.put_nodes([Node(0, 5, b"a" * 32)])
    with pytest.raises(MerkleError, match="already stored with another hash"):
        store.put_nodes([Node(0, 1, b"a" * 32)])
    store.put_nodes([Node(0, 1, leaf_hash(ENTRIES[1]))])  # an identical repeat is harmless
    assert store.size == 3


# --- roots and proofs against the reference ------------------------------------------------


def test_root_at_every_size(store: CountingStore) -> None:
    assert root_hash(store, 0) == EMPTY_ROOT
    for size in range(1, MAX + 1):
        assert root_hash(store, size) == ref_mth(ENTRIES[:size]), size


def test_inclusion_proofs_for_every_index_and_size(store: CountingStore) -> None:
    for size in range(1, MAX + 1):
        root = ref_mth(ENTRIES[:size])
        for index in range(size):
            # when
            proof = inclusion_proof(store, index, size)
            # then
            assert proof == ref_path(index, ENTRIES[:size]), (index, size)
            verify_inclusion(leaf_hash(ENTRIES[index]), index, size, proof, root)


def test_consistency_proofs_for_every_pair_of_sizes(store: CountingStore) -> None:
    for size2 in range(1, MAX + 1):
        root2 = ref_mth(ENTRIES[:size2])
        for size1 in range(1, size2 + 1):
            # when
            proof = consistency_proof(store, size1, size2)
            # then
            assert proof == ref_proof(size1, ENTRIES[:size2]), (size1, size2)
            verify_consistency(size1, size2, proof, ref_mth(ENTRIES[:size1]), root2)


def test_every_proof_is_one_batch_of_logarithmically_many_reads() -> None:
    # given: a large tree, so a linear algorithm would show
    size = 3000
    entries = [i.to_bytes(4, "big") for i in range(size)]
    store = build(entries, [1000, 999, 1001])
    bound = 2 * size.bit_length() + 2
    for index, old_size in [(0, 1), (1234, 2999), (2998, 2999), (0, 3000), (2047, 2049)]:
        store.calls = store.reads = 0
        inclusion_proof(store, index, old_size)
        assert store.calls == 1
        assert store.reads <= bound
    for size1, size2 in [(1, 3000), (1000, 2999), (2047, 2049), (1536, 1537), (7, 8)]:
        store.calls = store.reads = 0
        consistency_proof(store, size1, size2)
        assert store.calls == 1
        assert store.reads <= bound


def test_every_altered_proof_element_is_detected(store: CountingStore) -> None:
    size, index = 45, 13
    root = ref_mth(ENTRIES[:size])
    proof = inclusion_proof(store, index, size)
    for i in range(len(proof)):
        bad = list(proof)
        bad[i] = bytes([bad[i][0] ^ 1]) + bad[i][1:]
        with pytest.raises(ProofVerificationError, match="does not lead to the given root"):
            verify_inclusion(leaf_hash(ENTRIES[index]), index, size, bad, root)
    cproof = consistency_proof(store, 13, size)
    root1 = ref_mth(ENTRIES[:13])
    for i in range(len(cproof)):
        bad = list(cproof)
        bad[i] = bytes([bad[i][0] ^ 1]) + bad[i][1:]
        with pytest.raises(ProofVerificationError, match="does not lead to the"):
            verify_consistency(13, size, bad, root1, root)


def test_wrong_leaf_index_or_size_is_detected(store: CountingStore) -> None:
    root = ref_mth(ENTRIES[:45])
    proof = inclusion_proof(store, 13, 45)
    with pytest.raises(ProofVerificationError):
        verify_inclusion(leaf_hash(ENTRIES[13]), 12, 45, proof, root)
    last = inclusion_proof(store, 44, 45)
    with pytest.raises(ProofVerificationError):
        verify_inclusion(leaf_hash(ENTRIES[44]), 44, 46, last, root)
    with pytest.raises(ProofVerificationError, match="too few"):
        verify_inclusion(leaf_hash(ENTRIES[13]), 13, 45, proof[:-1], root)
    with pytest.raises(ProofVerificationError, match="too many"):
        verify_inclusion(leaf_hash(ENTRIES[13]), 13, 45, [*proof, proof[0]], root)


# --- precise errors for malformed requests -------------------------------------------------


def test_malformed_proof_requests_raise_precise_errors(store: CountingStore) -> None:
    with pytest.raises(TreeSizeError, match="tree size of at least 1, got 0"):
        inclusion_proof(store, 0, 0)
    with pytest.raises(IndexOutOfRangeError, match="leaf index 10 is outside a tree of size 10"):
        inclusion_proof(store, 10, 10)
    with pytest.raises(IndexOutOfRangeError, match="leaf index -1 is outside"):
        inclusion_proof(store, -1, 10)
    with pytest.raises(TreeSizeError, match="second tree size 3 is smaller than first tree size 4"):
        consistency_proof(store, 4, 3)
    with pytest.raises(TreeSizeError, match="first tree size of at least 1, got 0"):
        consistency_proof(store, 0, 3)
    with pytest.raises(MissingNodeError, match="is not stored"):
        root_hash(store, MAX + 1)
    with pytest.raises(MissingNodeError):
        inclusion_proof(store, 0, MAX + 5)
    with pytest.raises(TreeSizeError, match="must be an integer"):
        root_hash(store, True)
    assert consistency_proof(store, 5, 5) == []


def test_verification_rejects_wrong_hash_lengths() -> None:
    good = b"\x00" * 32
    with pytest.raises(HashLengthError, match="leaf hash is 0 bytes long"):
        verify_inclusion(b"", 0, 1, [], good)
    with pytest.raises(HashLengthError, match="root hash is 33 bytes long"):
        verify_inclusion(good, 0, 1, [], good + b"\x00")
    with pytest.raises(HashLengthError, match="proof element 1 is 16 bytes long"):
        verify_inclusion(good, 0, 4, [good, good[:16]], good)
    with pytest.raises(HashLengthError, match="second root hash is 12 bytes long"):
        verify_consistency(1, 2, [good], good, b"don't care 2")


def test_consistency_verification_edge_cases() -> None:
    a, b = leaf_hash(b"a"), leaf_hash(b"b")
    verify_consistency(3, 3, [], a, a)
    with pytest.raises(ProofVerificationError, match="roots differ for the same tree size 3"):
        verify_consistency(3, 3, [], a, b)
    with pytest.raises(ProofVerificationError, match="must be empty"):
        verify_consistency(3, 3, [a], a, a)
    with pytest.raises(TreeSizeError, match="from the empty tree"):
        verify_consistency(0, 0, [], EMPTY_ROOT, EMPTY_ROOT)
    with pytest.raises(ProofVerificationError, match="is empty"):
        verify_consistency(1, 2, [], a, node_hash(a, b))
    verify_consistency(1, 2, [b], a, node_hash(a, b))

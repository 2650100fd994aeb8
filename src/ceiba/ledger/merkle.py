"""Merkle tree hashing, storage layout, proofs and proof verification (RFC 9162 §2.1).

The tree is stored as the hashes of its *perfect* subtrees only: node ``(level, index)`` is the
root of the complete subtree over leaves ``[index * 2**level, (index + 1) * 2**level)``; level 0
holds the leaf hashes. Such a node never changes once the tree has grown past its last leaf, so
appending only adds rows. The hash of any other subtree (the right edge of a tree whose size is
not a power of two) is recomputed on demand from at most ``log2(n)`` perfect nodes, which is what
lets a proof for any past tree size be built from O(log n) stored hashes, read in a single batch.

Nothing here imports Django; the ledger app persists :class:`Node` rows and implements
:class:`NodeStore` over its table.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "HashLengthError",
    "InMemoryNodeStore",
    "IndexOutOfRangeError",
    "MerkleError",
    "MissingNodeError",
    "Node",
    "NodeId",
    "NodeRun",
    "NodeStore",
    "ProofVerificationError",
    "TreeSizeError",
    "append_leaf_runs",
    "append_leaves",
    "consistency_proof",
    "inclusion_proof",
    "leaf_hash",
    "node_hash",
    "root_hash",
    "verify_consistency",
    "verify_inclusion",
]

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()
_LEAF_PREFIX = b"\x00"
_NODE_PREFIX = b"\x01"


class MerkleError(ValueError):
    """Base of every error raised by this module."""


class TreeSizeError(MerkleError):
    """A tree size is zero where a non-empty tree is needed, or sizes are in the wrong order."""


class IndexOutOfRangeError(MerkleError):
    """A leaf index is not inside the tree."""


class HashLengthError(MerkleError):
    """A hash given as input is not 32 bytes long."""


class ProofVerificationError(MerkleError):
    """A proof does not prove what it is claimed to prove."""


class MissingNodeError(MerkleError):
    """The node store lacks a node that the requested tree size needs."""


@dataclass(frozen=True, slots=True)
class NodeId:
    """Address of a perfect subtree: leaves ``[index * 2**level, (index + 1) * 2**level)``."""

    level: int
    index: int


@dataclass(frozen=True, slots=True)
class Node:
    """One stored perfect-subtree hash."""

    level: int
    index: int
    hash: bytes


class NodeStore(Protocol):
    """Read access to stored perfect-subtree hashes.

    ``get_nodes`` returns the hashes of ``ids`` in the same order and raises
    :class:`MissingNodeError` if any is absent. It is called once per root or proof
    computation with at most ``2 * log2(size) + 2`` ids, so a database implementation
    answers it with a single query.
    """

    def get_nodes(self, ids: Sequence[NodeId]) -> list[bytes]: ...


class InMemoryNodeStore:
    """A :class:`NodeStore` holding each level as one contiguous byte array."""

    def __init__(self) -> None:
        self._levels: list[bytearray] = []

    def get_nodes(self, ids: Sequence[NodeId]) -> list[bytes]:
        out = []
        for node_id in ids:
            level, index = node_id.level, node_id.index
            if level >= len(self._levels) or index < 0 or index >= self.level_width(level):
                raise MissingNodeError(f"node (level {level}, index {index}) is not stored")
            start = index * HASH_SIZE
            out.append(bytes(self._levels[level][start : start + HASH_SIZE]))
        return out

    def put_nodes(self, nodes: Iterable[Node]) -> None:
        """Store nodes; each must be the next one of its level, or repeat a stored one exactly."""
        for node in nodes:
            level, index, digest = node.level, node.index, node.hash
            _check_hash(digest, f"node (level {level}, index {index})")
            while len(self._levels) <= level:
                self._levels.append(bytearray())
            width = self.level_width(level)
            if index == width:
                self._levels[level] += digest
            elif 0 <= index < width:
                start = index * HASH_SIZE
                if self._levels[level][start : start + HASH_SIZE] != digest:
                    raise MerkleError(
                        f"node (level {level}, index {index}) is already stored with another hash"
                    )
            else:
                raise MerkleError(
                    f"node (level {level}, index {index}) leaves a gap: level has {width} nodes"
                )

    def level_width(self, level: int) -> int:
        if level >= len(self._levels):
            return 0
        return len(self._levels[level]) // HASH_SIZE

    @property
    def size(self) -> int:
        """Number of leaves stored."""
        return self.level_width(0)


def leaf_hash(entry: bytes) -> bytes:
    """SHA-256(0x00 || entry)."""
    return hashlib.sha256(_LEAF_PREFIX + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """SHA-256(0x01 || left || right)."""
    return hashlib.sha256(_NODE_PREFIX + left + right).digest()


def _check_hash(value: bytes, what: str) -> None:
    if not isinstance(value, bytes | bytearray):
        raise HashLengthError(f"{what} must be bytes, not {type(value).__name__}")
    if len(value) != HASH_SIZE:
        raise HashLengthError(f"{what} is {len(value)} bytes long, expected {HASH_SIZE}")


def _check_size(name: str, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TreeSizeError(f"{name} must be an integer, not {type(value).__name__}")
    if value < 0:
        raise TreeSizeError(f"{name} must not be negative, got {value}")


# --- appending ------------------------------------------------------------------------------


def append_leaves(store: NodeStore, size: int, leaf_hashes: Sequence[bytes]) -> list[Node]:
    """Return every node that appending ``leaf_hashes`` to a tree of ``size`` leaves creates.

    The result holds the new leaves (level 0) and every perfect subtree completed by them,
    ordered by level then index, ready for one bulk insert. ``store`` is read once, for the
    at most ``log2(size)`` perfect subtrees on the right edge of the current tree.
    """
    return [
        Node(run.level, run.first + i, digest)
        for run in append_leaf_runs(store, size, leaf_hashes)
        for i, digest in enumerate(run.hashes)
    ]


@dataclass(frozen=True, slots=True)
class NodeRun:
    """Consecutive new nodes of one level: node ``(level, first + i)`` has ``hashes[i]``."""

    level: int
    first: int
    hashes: list[bytes]


def append_leaf_runs(store: NodeStore, size: int, leaf_hashes: Sequence[bytes]) -> list[NodeRun]:
    """:func:`append_leaves` as one run per level, lowest level first, without a node object
    per hash: what a bulk writer needs, at a fraction of the allocations.
    """
    _check_size("tree size", size)
    if not all(type(h) is bytes and len(h) == HASH_SIZE for h in leaf_hashes):
        for i, digest in enumerate(leaf_hashes):
            _check_hash(digest, f"leaf hash {i}")
    if not leaf_hashes:
        return []
    frontier_ids = [NodeId(level, (size >> level) - 1) for level in _set_bits(size)]
    frontier = dict(zip(frontier_ids, store.get_nodes(frontier_ids), strict=True))

    total = size + len(leaf_hashes)
    out: list[NodeRun] = []
    level = 0
    first = size  # index of the first new node at this level
    current = [bytes(h) for h in leaf_hashes]
    while current:
        out.append(NodeRun(level, first, current))
        parent_first = size >> (level + 1)
        parent_end = total >> (level + 1)
        if parent_first >= parent_end:
            break
        row = current
        if first % 2 == 1:  # the left sibling of the first new node is an old frontier node
            row = [frontier[NodeId(level, first - 1)], *current]
        # row[0] is now node 2 * parent_first of this level
        current = [node_hash(row[2 * j], row[2 * j + 1]) for j in range(parent_end - parent_first)]
        first = parent_first
        level += 1
    return out


def _set_bits(n: int) -> list[int]:
    """Levels of the perfect subtrees that make up a tree of ``n`` leaves, largest first."""
    return [b for b in range(n.bit_length() - 1, -1, -1) if n >> b & 1]


# --- subtree arithmetic ---------------------------------------------------------------------


def _range_nodes(start: int, end: int) -> list[NodeId]:
    """Perfect nodes whose RFC 9162 fold gives MTH(D[start:end]), largest (leftmost) first.

    Every range that the RFC's recursion produces starts at a multiple of the smallest power
    of two not below its width, so its split points fall on the binary decomposition of the
    width.
    """
    ids = []
    pos = start
    for level in _set_bits(end - start):
        ids.append(NodeId(level, pos >> level))
        pos += 1 << level
    return ids


def _fold(hashes: Sequence[bytes]) -> bytes:
    acc = hashes[-1]
    for h in reversed(hashes[:-1]):
        acc = node_hash(h, acc)
    return acc


def _largest_power_of_two_below(n: int) -> int:
    return 1 << ((n - 1).bit_length() - 1)


def _inclusion_ranges(index: int, size: int) -> list[tuple[int, int]]:
    """The subtree ranges whose hashes form PATH(index, D[0:size]), leaf side first."""
    ranges: list[tuple[int, int]] = []
    lo, hi = 0, size
    while hi - lo > 1:
        k = _largest_power_of_two_below(hi - lo)
        if index - lo < k:
            ranges.append((lo + k, hi))
            hi = lo + k
        else:
            ranges.append((lo, lo + k))
            lo = lo + k
    ranges.reverse()
    return ranges


def _consistency_ranges(size1: int, size2: int) -> list[tuple[int, int]]:
    """The subtree ranges whose hashes form PROOF(size1, D[0:size2]) (RFC 9162 §2.1.4.1)."""
    ranges: list[tuple[int, int]] = []
    lo, hi = 0, size2
    m = size1
    complete = True
    while m != hi - lo:
        k = _largest_power_of_two_below(hi - lo)
        if m <= k:
            ranges.append((lo + k, hi))
            hi = lo + k
        else:
            ranges.append((lo, lo + k))
            lo = lo + k
            m -= k
            complete = False
    if not complete:
        ranges.append((lo, hi))
    ranges.reverse()
    return ranges


def _hash_ranges(store: NodeStore, ranges: Sequence[tuple[int, int]]) -> list[bytes]:
    per_range = [_range_nodes(a, b) for a, b in ranges]
    flat = [node_id for ids in per_range for node_id in ids]
    hashes = store.get_nodes(flat)
    out = []
    pos = 0
    for ids in per_range:
        out.append(_fold(hashes[pos : pos + len(ids)]))
        pos += len(ids)
    return out


# --- roots and proofs -----------------------------------------------------------------------


def root_hash(store: NodeStore, size: int) -> bytes:
    """MTH of the first ``size`` leaves; the hash of the empty string for an empty tree."""
    _check_size("tree size", size)
    if size == 0:
        return EMPTY_ROOT
    return _hash_ranges(store, [(0, size)])[0]


def inclusion_proof(store: NodeStore, index: int, size: int) -> list[bytes]:
    """PATH(index, D[0:size]) per RFC 9162 §2.1.3.1."""
    _check_size("tree size", size)
    if size == 0:
        raise TreeSizeError("an inclusion proof needs a tree size of at least 1, got 0")
    if isinstance(index, bool) or not isinstance(index, int):
        raise IndexOutOfRangeError(f"leaf index must be an integer, not {type(index).__name__}")
    if not 0 <= index < size:
        raise IndexOutOfRangeError(f"leaf index {index} is outside a tree of size {size}")
    return _hash_ranges(store, _inclusion_ranges(index, size))


def consistency_proof(store: NodeStore, size1: int, size2: int) -> list[bytes]:
    """PROOF(size1, D[0:size2]) per RFC 9162 §2.1.4.1; empty when the sizes are equal."""
    _check_size("first tree size", size1)
    _check_size("second tree size", size2)
    if size1 == 0:
        raise TreeSizeError("a consistency proof needs a first tree size of at least 1, got 0")
    if size2 < size1:
        raise TreeSizeError(f"second tree size {size2} is smaller than first tree size {size1}")
    if size1 == size2:
        return []
    return _hash_ranges(store, _consistency_ranges(size1, size2))


# --- verification ---------------------------------------------------------------------------


def verify_inclusion(
    leaf: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> None:
    """Verify an inclusion proof per RFC 9162 §2.1.3.2; raise :class:`MerkleError` if invalid.

    ``leaf`` is the leaf hash (SHA-256(0x00 || entry)), not the entry.
    """
    _check_hash(leaf, "leaf hash")
    _check_hash(root, "root hash")
    for i, p in enumerate(proof):
        _check_hash(p, f"proof element {i}")
    _check_size("tree size", size)
    if isinstance(index, bool) or not isinstance(index, int) or index < 0:
        raise IndexOutOfRangeError(f"leaf index must be a non-negative integer, got {index!r}")
    if index >= size:
        raise IndexOutOfRangeError(f"leaf index {index} is outside a tree of size {size}")
    fn, sn = index, size - 1
    r = bytes(leaf)
    for p in proof:
        if sn == 0:
            raise ProofVerificationError(
                f"inclusion proof has {len(proof)} elements, too many for index {index} "
                f"in a tree of size {size}"
            )
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofVerificationError(
            f"inclusion proof has {len(proof)} elements, too few for index {index} "
            f"in a tree of size {size}"
        )
    if r != root:
        raise ProofVerificationError(
            f"inclusion proof for index {index} in a tree of size {size} "
            "does not lead to the given root hash"
        )


def verify_consistency(
    size1: int, size2: int, proof: Sequence[bytes], root1: bytes, root2: bytes
) -> None:
    """Verify a consistency proof per RFC 9162 §2.1.4.2; raise :class:`MerkleError` if invalid.

    Beyond the RFC, which defines the check for ``0 < size1 < size2``: equal sizes are
    consistent exactly when the roots are equal and the proof is empty, and a proof from the
    empty tree is rejected as meaningless.
    """
    _check_hash(root1, "first root hash")
    _check_hash(root2, "second root hash")
    for i, p in enumerate(proof):
        _check_hash(p, f"proof element {i}")
    _check_size("first tree size", size1)
    _check_size("second tree size", size2)
    if size2 < size1:
        raise TreeSizeError(f"second tree size {size2} is smaller than first tree size {size1}")
    if size1 == 0:
        raise TreeSizeError("a consistency proof from the empty tree (size 0) is meaningless")
    if size1 == size2:
        if proof:
            raise ProofVerificationError(
                f"consistency proof between equal sizes {size1} must be empty, "
                f"got {len(proof)} elements"
            )
        if root1 != root2:
            raise ProofVerificationError(f"roots differ for the same tree size {size1}")
        return
    if not proof:
        raise ProofVerificationError(
            f"consistency proof from size {size1} to size {size2} is empty"
        )
    path = list(proof)
    if size1 & (size1 - 1) == 0:
        path.insert(0, bytes(root1))
    fn, sn = size1 - 1, size2 - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofVerificationError(
                f"consistency proof from size {size1} to size {size2} has too many elements "
                f"({len(proof)})"
            )
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofVerificationError(
            f"consistency proof from size {size1} to size {size2} has too few elements "
            f"({len(proof)})"
        )
    if fr != root1:
        raise ProofVerificationError(
            f"consistency proof does not lead to the first root hash (size {size1})"
        )
    if sr != root2:
        raise ProofVerificationError(
            f"consistency proof does not lead to the second root hash (size {size2})"
        )

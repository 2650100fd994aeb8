"""Benchmark the pure transparency-log core with the in-memory node store.

Measures leaves hashed and appended per second (canonical encoding + leaf hash + append, in
integrator-sized batches) and inclusion / consistency proof generation and verification at a
large tree size. Run: ``.venv/bin/python benches/ledger_core_bench.py [--leaves 1000000]``.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import subprocess
import time
from collections.abc import Callable

from ceiba.ledger.canonical import encode_entry
from ceiba.ledger.merkle import (
    InMemoryNodeStore,
    NodeId,
    append_leaves,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    root_hash,
    verify_consistency,
    verify_inclusion,
)


def _machine() -> str:
    model = "unknown CPU"
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
        for line in out.splitlines():
            if line.startswith("Model name:"):
                model = line.split(":", 1)[1].strip()
    except (OSError, subprocess.CalledProcessError):
        pass
    with open("/proc/meminfo") as f:
        mem_kb = int(f.readline().split()[1])
    return (
        f"{model}, {os.cpu_count()} cores, {mem_kb / 1024 / 1024:.0f} GiB RAM, "
        f"Python {platform.python_version()} ({platform.machine()})"
    )


def _entry(i: int) -> dict[str, object]:
    return {
        "kind": "personal_data.viewed",
        "actor": f"officer-{i % 977}",
        "institution": "civil-registry",
        "subject": f"person-{i % 100003}",
        "purpose": "application review",
        "case": f"C-2026-{i:08d}",
        "details": {"fields": ["name", "birth_date"], "index": i},
    }


def _timed(fn: Callable[[], object], repeat: int) -> list[float]:
    samples = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t0)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--leaves", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--proofs", type=int, default=2000)
    args = parser.parse_args()

    store = InMemoryNodeStore()
    size = 0
    encode_time = hash_append_time = 0.0
    while size < args.leaves:
        n = min(args.batch, args.leaves - size)
        t0 = time.perf_counter()
        entries = [encode_entry(_entry(i)) for i in range(size, size + n)]
        t1 = time.perf_counter()
        nodes = append_leaves(store, size, [leaf_hash(e) for e in entries])
        store.put_nodes(nodes)
        t2 = time.perf_counter()
        encode_time += t1 - t0
        hash_append_time += t2 - t1
        size += n

    rng = random.Random(1)
    root = root_hash(store, size)
    pairs = [(rng.randrange(size), rng.randrange(1, size + 1)) for _ in range(args.proofs)]
    pairs = [(i, max(s, i + 1)) for i, s in pairs]
    inc = []
    for index, at in pairs:
        t0 = time.perf_counter()
        inclusion_proof(store, index, at)
        inc.append(time.perf_counter() - t0)
    cons = []
    for _ in range(args.proofs):
        s1, s2 = sorted((rng.randrange(1, size + 1), rng.randrange(1, size + 1)))
        t0 = time.perf_counter()
        consistency_proof(store, s1, s2)
        cons.append(time.perf_counter() - t0)
    proof = inclusion_proof(store, 123_457 % size, size)
    leaf = store.get_nodes([NodeId(0, 123_457 % size)])[0]
    verify = _timed(lambda: verify_inclusion(leaf, 123_457 % size, size, proof, root), 2000)
    cproof = consistency_proof(store, size // 3, size)
    root1 = root_hash(store, size // 3)
    cverify = _timed(lambda: verify_consistency(size // 3, size, cproof, root1, root), 2000)

    def ms(xs: list[float]) -> str:
        q = statistics.quantiles(xs, n=100)
        return f"median {statistics.median(xs) * 1e3:.3f} ms, p99 {q[98] * 1e3:.3f} ms"

    print(f"machine: {_machine()}")
    print(f"leaves: {size:,} in batches of {args.batch:,}")
    print(f"hash + append: {size / hash_append_time:,.0f} leaves/s ({hash_append_time:.1f} s)")
    total = encode_time + hash_append_time
    print(f"encode + hash + append: {size / total:,.0f} entries/s ({total:.1f} s)")
    print(f"inclusion proof at {size:,} ({args.proofs} random index/size pairs): {ms(inc)}")
    print(f"consistency proof at {size:,} ({args.proofs} random size pairs): {ms(cons)}")
    print(f"verify inclusion: {ms(verify)}; verify consistency: {ms(cverify)}")


if __name__ == "__main__":
    main()

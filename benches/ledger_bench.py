"""Benchmark the transparency log on a real database: integration rate and proof time.

For one database (SQLite file or PostgreSQL), this:

1. bulk-loads ``--entries`` pending entries (realistic canonical payloads from the real
   encoder, with their leaf hash and queue row, written with COPY on PostgreSQL and
   executemany on SQLite, as ``record()`` would leave them), then times the integrator
   (``ceiba.ledger.integrator.integrate``: takes the queued leaf hashes, appends them to the
   tree, writes nodes and leaf indexes, signs a checkpoint);
2. times inclusion and consistency proofs through ``DatabaseNodeStore`` (one query each) at
   that size;
3. extends the tree to ``--extend-to`` leaves by writing nodes only (computed by the same
   ``append_leaves``; proofs read nodes, never entries), and times proofs again.

Run one database per process:
``.venv/bin/python benches/ledger_bench.py --database sqlite``
``.venv/bin/python benches/ledger_bench.py --database postgresql://postgres@127.0.0.1:5432/ceiba_bench``
"""

from __future__ import annotations

import argparse
import hashlib
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path


def _setup(database: str, var_dir: Path) -> None:
    if database == "sqlite":
        url = f"sqlite:///{var_dir / 'bench.sqlite3'}"
    else:
        url = database
        import psycopg

        name = url.rsplit("/", 1)[1]
        admin_url = url.rsplit("/", 1)[0] + "/postgres"
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            conn.execute(f'CREATE DATABASE "{name}"')
    os.environ["CEIBA_DATABASE_URL"] = url
    os.environ["CEIBA_VAR_DIR"] = str(var_dir)
    os.environ.setdefault("CEIBA_KEY_PASSPHRASE", "benchmark passphrase")
    os.environ["CEIBA_LOG_LEVEL"] = "WARNING"
    os.environ["DJANGO_SETTINGS_MODULE"] = "ceiba.settings"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def _machine() -> str:
    model = platform.processor() or platform.machine()
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
        model = next(
            line.split(":", 1)[1].strip() for line in out.splitlines() if "Model name" in line
        )
    except (OSError, subprocess.CalledProcessError, StopIteration):
        pass
    with open("/proc/meminfo") as f:
        mem_kb = int(f.readline().split()[1])
    return f"{model}, {os.cpu_count()} cores, {mem_kb / 1024 / 1024:.1f} GiB RAM"


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def _payloads(origin: str, count: int) -> list[bytes]:
    from ceiba.ledger.canonical import encode_entry

    out = []
    for i in range(count):
        out.append(
            encode_entry(
                {
                    "v": 1,
                    "id": str(uuid.UUID(int=random.getrandbits(128), version=4)),
                    "log": origin,
                    "kind": "personal_data_viewed",
                    "time": f"2026-11-23T10:{i // 60 % 60:02d}:{i % 60:02d}.000000Z",
                    "actor": {
                        "role": "officer",
                        "commitment": hashlib.sha256(b"a%d" % i).hexdigest(),
                    },
                    "institution": "GOV/70000001",
                    "subject": hashlib.sha256(b"s%d" % i).hexdigest(),
                    "purpose": "Birth certificate request, Civil Code art. 42",
                    "reference": f"case:{uuid.UUID(int=i)}",
                    "details": {"fields": ["name", "birth_date"]},
                }
            )
        )
    return out


def _load_pending(log_id: int, administration_id: uuid.UUID, payloads: list[bytes]) -> None:
    """Write entries and their queue rows as ``record()`` leaves them, in bulk (COPY on PG)."""
    from django.db import connection, transaction

    from ceiba.ledger.merkle import leaf_hash

    columns = (
        "administration_id, log_id, kind, recorded_at, actor_role, actor_name, "
        "subject_national_id, purpose, reference, salt, payload, leaf_hash"
    )
    admin = administration_id if connection.vendor == "postgresql" else administration_id.hex
    rows = [
        (
            admin,
            log_id,
            "personal_data_viewed",
            "2026-11-23T10:00:00+00:00",
            "officer",
            "",
            "",
            "Birth certificate request",
            "case:x",
            os.urandom(16),
            p,
            leaf_hash(p),
        )
        for p in payloads
    ]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT COALESCE(MAX(id), 0) FROM ledger_ledgerentry")
        (last,) = cursor.fetchone()
        ids = range(last + 1, last + 1 + len(rows))
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY ledger_ledgerentry (id, {columns}) FROM STDIN") as copy:
                for pk, row in zip(ids, rows, strict=True):
                    copy.write_row((pk, *row))
            with cursor.cursor.copy(
                "COPY ledger_pendingentry (entry_id, log_id, leaf_hash) FROM STDIN"
            ) as copy:
                for pk, row in zip(ids, rows, strict=True):
                    copy.write_row((pk, log_id, row[-1]))
            cursor.execute(
                "SELECT setval(pg_get_serial_sequence('ledger_ledgerentry', 'id'), %s)",
                [ids[-1]],
            )
        else:
            cursor.executemany(
                f"INSERT INTO ledger_ledgerentry (id, {columns}) "  # noqa: S608
                f"VALUES ({', '.join(['%s'] * 13)})",
                [(pk, *row) for pk, row in zip(ids, rows, strict=True)],
            )
            cursor.executemany(
                "INSERT INTO ledger_pendingentry (entry_id, log_id, leaf_hash) VALUES (%s, %s, %s)",
                [(pk, log_id, row[-1]) for pk, row in zip(ids, rows, strict=True)],
            )


def _time_proofs(log_id: int, size: int, samples: int) -> dict[str, float]:
    from ceiba.ledger import merkle
    from ceiba.ledger.integrator import DatabaseNodeStore

    store = DatabaseNodeStore(log_id)
    rng = random.Random(7)
    inclusion, consistency = [], []
    for _ in range(samples):
        index = rng.randrange(size)
        start = time.perf_counter()
        merkle.inclusion_proof(store, index, size)
        inclusion.append(time.perf_counter() - start)
        first = rng.randrange(1, size)
        start = time.perf_counter()
        merkle.consistency_proof(store, first, size)
        consistency.append(time.perf_counter() - start)

    def summary(values: list[float]) -> tuple[float, float]:
        values.sort()
        return statistics.median(values) * 1000, values[int(len(values) * 0.99)] * 1000

    inc, con = summary(inclusion), summary(consistency)
    return {
        "inclusion_median_ms": inc[0],
        "inclusion_p99_ms": inc[1],
        "consistency_median_ms": con[0],
        "consistency_p99_ms": con[1],
    }


def _extend(log_id: int, size: int, target: int, chunk: int = 1_000_000) -> float:
    """Append synthetic leaves up to ``target`` by writing nodes in bulk; return seconds."""
    from django.db import transaction

    from ceiba.ledger import merkle
    from ceiba.ledger.integrator import DatabaseNodeStore, OverlayNodeStore, insert_nodes
    from ceiba.ledger.models import Log

    store = DatabaseNodeStore(log_id)
    started = time.perf_counter()
    while size < target:
        count = min(chunk, target - size)
        leaves = [
            hashlib.sha256(b"\x00" + i.to_bytes(8, "big")).digest()
            for i in range(size, size + count)
        ]
        with transaction.atomic():
            runs = merkle.append_leaf_runs(store, size, leaves)
            insert_nodes(log_id, runs)
            root = merkle.root_hash(OverlayNodeStore(runs, store), size + count)
            Log.objects.filter(pk=log_id).update(size=size + count, root_hash=root)
        size += count
        print(f"  extended to {size:,} leaves ({time.perf_counter() - started:.0f} s)", flush=True)
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", default="sqlite", help="sqlite or a postgresql:// URL")
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--extend-to", type=int, default=10_000_000)
    parser.add_argument("--samples", type=int, default=2000)
    args = parser.parse_args()

    var_dir = Path(tempfile.mkdtemp(prefix="ceiba-ledger-bench-"))
    _setup(args.database, var_dir)
    from django.db import connection

    from ceiba.ledger.actions import do_init_log
    from ceiba.ledger.integrator import integrate
    from ceiba.ledger.models import Log
    from ceiba.tenancy.models import Administration

    administration = Administration.objects.create(slug="bench", names={"en": "Bench"})
    log = do_init_log(administration, actor=None)
    integrate(log.pk)
    print(
        f"{connection.vendor} {connection.settings_dict['NAME']}; {_machine()}; "
        f"Python {platform.python_version()}; load average {_load()}",
        flush=True,
    )

    started = time.perf_counter()
    payloads = _payloads(log.origin, args.entries)
    print(f"built {len(payloads):,} payloads in {time.perf_counter() - started:.1f} s", flush=True)
    started = time.perf_counter()
    for i in range(0, len(payloads), 100_000):
        _load_pending(log.pk, administration.pk, payloads[i : i + 100_000])
    print(f"loaded pending entries in {time.perf_counter() - started:.1f} s", flush=True)
    del payloads

    started = time.perf_counter()
    result = integrate(log.pk, batch_size=10_000)
    elapsed = time.perf_counter() - started
    print(
        f"integrated {result.appended:,} entries in {elapsed:.1f} s: "
        f"{result.appended / elapsed:,.0f} entries/s; checkpoint at {result.size:,}; "
        f"load average {_load()}",
        flush=True,
    )

    size = Log.objects.get(pk=log.pk).size
    proofs = _time_proofs(log.pk, size, args.samples)
    print(
        f"proofs at {size:,}: "
        + ", ".join(f"{k} {v:.3f}" for k, v in proofs.items())
        + f"; load average {_load()}",
        flush=True,
    )

    if args.extend_to > size:
        seconds = _extend(log.pk, size, args.extend_to)
        print(f"extended to {args.extend_to:,} in {seconds:.0f} s", flush=True)
        proofs = _time_proofs(log.pk, args.extend_to, args.samples)
        print(
            f"proofs at {args.extend_to:,}: "
            + ", ".join(f"{k} {v:.3f}" for k, v in proofs.items())
            + f"; load average {_load()}",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())

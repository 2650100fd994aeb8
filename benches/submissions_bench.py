"""Application submissions per second through the HTTP API, next to the framework floor.

Starts ``ceiba serve --prod`` (gunicorn) on a free loopback port with a temporary
CEIBA_VAR_DIR, on a fresh PostgreSQL database and on SQLite; 32 client threads (httpx) each
submit copies of a birth certificate (answers + one PDF, a new Idempotency-Key each) to
``POST /api/v1/applications/submit`` with their own API token, for a fixed time. Then the same
load hits ``benches/floor_app.py`` (a bare Django view doing one insert) under gunicorn with
the same workers and database. Prints a Markdown section for docs/benchmarks.md
("## Application submissions").

Run: .venv/bin/python benches/submissions_bench.py [--seconds 10] [--warmup 10] [--clients 32]
     [--postgres postgresql://postgres@127.0.0.1:5432/postgres] [--backends postgresql,sqlite]
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import json
import os
import platform
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse, urlunparse

import httpx

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
HOST = "bench.localhost"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
ANSWERS = {
    "requester_relationship": "self",
    "given_names": "Awa",
    "family_name": "Ndiaye",
    "date_of_birth": "1990-04-12",
    "place_of_birth": "Douala",
    "copy_type": "full_copy",
    "copies": 1,
    "delivery": "download",
}


def setup_tenant(clients: int) -> None:
    """Run inside a configured environment: one administration, accounts, tokens, the pack."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ceiba.settings")
    import django

    django.setup()
    from ceiba.accounts.actions import do_create_account, do_create_api_token
    from ceiba.accounts.roles import Role
    from ceiba.catalog.actions import do_load_service_definitions
    from ceiba.tenancy.models import Administration, AdministrationHostname, Institution

    administration = Administration.objects.create(
        slug="bench", names={"fr": "Banc d'essai", "en": "Bench"}, default_language="fr"
    )
    AdministrationHostname.objects.create(administration=administration, hostname=HOST)
    Institution.objects.create(
        administration=administration,
        member_class="GOV",
        member_code="70000001",
        names={"fr": "État civil", "en": "Civil registry"},
        sector="civil-registry",
    )
    do_load_service_definitions(
        [ROOT / "packs" / "civil-registry" / "birth-certificate-copy.yaml"],
        administration=administration,
        actor=None,
    )
    tokens = []
    for index in range(clients):
        user = do_create_account(
            administration=administration,
            email=f"citizen{index}@bench.example",
            password=None,
            role=Role.CITIZEN,
            full_name=f"Citizen {index}",
            national_id=f"NID-BENCH-{index}",
            actor=None,
        )
        tokens.append(do_create_api_token(user, "bench", actor=user)[1])
    print(json.dumps(tokens))


@dataclass
class Result:
    requests: int
    errors: int
    seconds: float
    latencies_ms: list[float]

    @property
    def rate(self) -> float:
        return (self.requests - self.errors) / self.seconds

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies_ms)
        if not ordered:
            return float("nan")
        return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_ready(
    port: int, path: str, process: subprocess.Popen[bytes], timeout: float = 400
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"server exited with {process.returncode}")
        try:
            httpx.get(f"http://127.0.0.1:{port}{path}", timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.2)
    raise SystemExit("server did not start in time")


def load(
    port: int, path: str, tokens: list[str], seconds: float, warmup: float, body: Any
) -> Result:
    """N threads, one token each, each sending requests back to back until time is up."""
    latencies: list[float] = []
    counts = {"requests": 0, "errors": 0}
    lock = threading.Lock()
    start_at = time.monotonic() + warmup
    stop_at = start_at + seconds
    first_error: list[str] = []

    def client(token: str) -> None:
        headers = {
            "Authorization": f"Bearer {token}",
            "Host": HOST,
            "X-Forwarded-Proto": "https",
            "Content-Type": "application/json",
        }
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as session:
            while (now := time.monotonic()) < stop_at:
                key = {"Idempotency-Key": uuid.uuid4().hex}
                began = time.perf_counter()
                response = session.post(path, content=body, headers={**headers, **key})
                elapsed = (time.perf_counter() - began) * 1000
                if now < start_at:
                    continue
                with lock:
                    counts["requests"] += 1
                    latencies.append(elapsed)
                    if response.status_code != 201:
                        counts["errors"] += 1
                        if not first_error:
                            first_error.append(f"{response.status_code} {response.text[:300]}")

    threads = [threading.Thread(target=client, args=(token,)) for token in tokens]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=seconds + warmup + 60)
    if first_error:
        print(f"  first error: {first_error[0]}", file=sys.stderr)
    return Result(counts["requests"], counts["errors"], seconds, latencies)


def run_backend(
    backend: str, postgres_url: str, clients: int, seconds: float, workers: int, warmup: float
) -> tuple[Result, Result]:
    var_dir = Path(tempfile.mkdtemp(prefix=f"ceiba-bench-{backend}-"))
    database_name = f"ceiba_bench_{secrets.token_hex(4)}"
    admin_url = postgres_url
    if backend == "postgresql":
        import psycopg

        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{database_name}"')
        parts = urlparse(admin_url)
        database_url = urlunparse(parts._replace(path=f"/{database_name}"))
    else:
        database_url = f"sqlite:///{var_dir / 'ceiba.sqlite3'}"
    env = {
        **os.environ,
        "CEIBA_MODE": "production",
        "CEIBA_SECRET_KEY": secrets.token_urlsafe(50),
        "CEIBA_KEY_PASSPHRASE": secrets.token_urlsafe(24),
        "CEIBA_ALLOWED_HOSTS": f"{HOST},127.0.0.1",
        "CEIBA_SECURE_COOKIES": "false",
        "CEIBA_VAR_DIR": str(var_dir),
        "CEIBA_DATABASE_URL": database_url,
        "CEIBA_LOG_LEVEL": "WARNING",
    }
    processes: list[subprocess.Popen[bytes]] = []
    try:
        subprocess.run([BIN / "ceiba", "migrate", "-v", "0"], env=env, check=True)
        tokens = json.loads(
            subprocess.run(
                [sys.executable, __file__, "--setup", "--clients", str(clients)],
                env=env,
                check=True,
                capture_output=True,
                text=True,
            )
            .stdout.strip()
            .splitlines()[-1]
        )
        body = json.dumps(
            {
                "service": "civil-registry.birth-certificate-copy",
                "answers": ANSWERS,
                "documents": [
                    {
                        "requirement": "requester_identity",
                        "name": "id.pdf",
                        "content": base64.b64encode(PDF).decode(),
                    }
                ],
            }
        ).encode()
        port = free_port()
        ceiba = subprocess.Popen(
            [BIN / "ceiba", "serve", "--prod", "--port", str(port), "--workers", str(workers)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        processes.append(ceiba)
        wait_ready(port, "/healthz", ceiba)
        submissions = load(port, "/api/v1/applications/submit", tokens, seconds, warmup, body)
        ceiba.terminate()
        ceiba.wait(timeout=30)

        _create_floor_table(backend, database_url, var_dir)
        port = free_port()
        floor = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "floor_app:application",
                "--chdir",
                str(ROOT / "benches"),
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                str(workers),
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        processes.append(floor)
        wait_ready(port, "/none", floor)
        baseline = load(port, "/floor", tokens, seconds, warmup, body)
        return submissions, baseline
    finally:
        for process in processes:
            if process.poll() is None:
                process.terminate()
                process.wait(timeout=30)
        if backend == "postgresql":
            import psycopg

            with psycopg.connect(admin_url, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{database_name}" WITH (FORCE)')
        shutil.rmtree(var_dir, ignore_errors=True)


def _create_floor_table(backend: str, database_url: str, var_dir: Path) -> None:
    if backend == "postgresql":
        import psycopg

        with psycopg.connect(database_url, autocommit=True) as conn:
            conn.execute("CREATE TABLE bench_floor (id SERIAL PRIMARY KEY, body TEXT NOT NULL)")
    else:
        import sqlite3

        with sqlite3.connect(var_dir / "ceiba.sqlite3") as conn:
            conn.execute("CREATE TABLE bench_floor (id INTEGER PRIMARY KEY, body TEXT NOT NULL)")


def machine() -> str:
    model = "unknown CPU"
    try:
        for line in subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines():
            if line.startswith("Model name:"):
                model = line.split(":", 1)[1].strip()
    except OSError:
        pass
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1024**3
    return (
        f"{model}, {os.cpu_count()} cores, {memory:.0f} GB RAM, Python "
        f"{platform.python_version()}, {platform.system()} {platform.release()}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=32)
    # Each gunicorn worker builds the URLconf and the API schemas on its first request
    # (about 2 s of CPU): the warm-up lets every worker pass it before timing starts.
    parser.add_argument("--warmup", type=float, default=10.0)
    parser.add_argument("--workers", type=int, default=(os.cpu_count() or 1) * 2 + 1)
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--backends", default="postgresql,sqlite")
    parser.add_argument("--setup", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.setup:
        setup_tenant(args.clients)
        return 0
    rows = []
    for backend in args.backends.split(","):
        print(f"== {backend}", file=sys.stderr)
        ceiba, floor = run_backend(
            backend, args.postgres, args.clients, args.seconds, args.workers, args.warmup
        )
        rows.append((backend, ceiba, floor))
    print("## Application submissions\n")
    print(
        f"`benches/submissions_bench.py` ({dt.date.today().isoformat()}): {args.clients} "
        f"concurrent clients (threads, httpx, loopback) for {args.seconds:g} s after a "
        f"{args.warmup:g} s warm-up, against `ceiba serve --prod` (gunicorn, {args.workers} "
        "workers) submitting a copy of a birth certificate (answers + one PDF, new "
        "Idempotency-Key each) with `POST /api/v1/applications/submit`. The floor is "
        "`benches/floor_app.py`: a bare Django view doing one insert, under gunicorn with the "
        "same workers and database. The load generator runs on the same machine and takes "
        "part of the CPU.\n"
    )
    print(f"Machine: {machine()}.\n")
    print(
        "| database | submissions/s | p50 ms | p99 ms | errors | floor inserts/s | "
        "floor p50 ms | floor p99 ms | floor / Ceiba |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for backend, ceiba, floor in rows:
        ratio = floor.rate / ceiba.rate if ceiba.rate else float("inf")
        print(
            f"| {backend} | {ceiba.rate:.0f} | {ceiba.percentile(50):.1f} | "
            f"{ceiba.percentile(99):.1f} | {ceiba.errors} | {floor.rate:.0f} | "
            f"{floor.percentile(50):.1f} | {floor.percentile(99):.1f} | {ratio:.1f}x |"
        )
    print(
        "\nTargets: at least 300 submissions/s on PostgreSQL with p99 under 150 ms, within 3x "
        "of the floor."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

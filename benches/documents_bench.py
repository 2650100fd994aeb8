"""Verifiable documents: certificates rendered + signed per second, verifications per second.

Run: .venv/bin/python benches/documents_bench.py [--seconds 10]
Prints a Markdown section for docs/benchmarks.md ("## Verifiable documents").
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import subprocess
import tempfile
import time
from collections.abc import Callable

from ceiba.documents.offline import VerificationStatus, verify_pdf
from ceiba.documents.pdfsign import AdministrationTimeStamper, render_pdf, sign_pdf
from ceiba.documents.pki import init_pki
from ceiba.documents.qrpayload import build_qr_payload, qr_svg, verify_qr_payload

FACTS = {"holder": "Ana Mbeki", "birth_date": "1990-04-12", "place": "Libreville"}


def _rate(seconds: float, action: Callable[[int], object]) -> tuple[float, int]:
    action(-1)  # warm up (font loading, imports)
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        action(count)
        count += 1
    return count / (time.perf_counter() - start), count


def _machine() -> str:
    model = "unknown CPU"
    try:
        for line in subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines():
            if line.startswith("Model name:"):
                model = line.split(":", 1)[1].strip()
    except OSError:
        pass
    with open("/proc/meminfo") as handle:
        mem_kib = int(handle.readline().split()[1])
    return (
        f"{model}, {os.cpu_count()} cores visible, {mem_kib / 1024 / 1024:.1f} GiB RAM, "
        f"Python {platform.python_version()}"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        pki = init_pki(directory, "Republic of Example", {"civil-registry": "Civil Registry"}, "p")
        identity = pki.signing_identity("civil-registry")
        tsa = pki.tsa_identity()
        stamper = AdministrationTimeStamper(tsa.key, tsa.certificate, tsa.chain)
        root = pki.root_pem()
        bundle = pki.certificate_bundle_pem()
        signed: list[bytes] = []

        def issue(n: int) -> None:
            number = f"CR-2026-{n + 1:06d}"
            now = dt.datetime.now(dt.UTC)
            payload = build_qr_payload(number, FACTS, now, identity.key, identity.certificate)
            rows = "".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in FACTS.items())
            html = f"<h1>Birth certificate</h1><p>No. {number}</p><table>{rows}</table>"
            pdf = render_pdf(html + qr_svg(payload))
            signed.append(
                sign_pdf(pdf, identity.key, identity.chain, stamper, document_number=number)
            )

        issue_rate, issued = _rate(args.seconds, issue)
        pdf = signed[-1]

        def verify(_: int) -> None:
            assert verify_pdf(pdf, root).status is VerificationStatus.VALID

        verify_rate, verified = _rate(args.seconds, verify)
        payload = build_qr_payload(
            "CR-1", FACTS, dt.datetime.now(dt.UTC), identity.key, identity.certificate
        )
        qr_rate, qr_count = _rate(
            args.seconds / 2, lambda _: verify_qr_payload(payload, root, bundle)
        )

    print("## Verifiable documents\n")
    print(
        f"Machine: {_machine()}. One process, one thread; `benches/documents_bench.py "
        f"--seconds {args.seconds:g}`.\n"
    )
    print("| operation | per second | runs |")
    print("|---|---:|---:|")
    print(
        f"| certificate issued (QR signed + HTML rendered by WeasyPrint + PAdES B-T signed, "
        f"{len(pdf) // 1024} KiB PDF) | {issue_rate:.1f} | {issued} |"
    )
    print(
        f"| PDF verified offline (`verify_pdf`: integrity, chain, timestamp) | "
        f"{verify_rate:.1f} | {verified} |"
    )
    print(
        f"| QR payload verified offline (`verify_qr_payload`, {len(payload)} chars) | "
        f"{qr_rate:.0f} | {qr_count} |"
    )


if __name__ == "__main__":
    main()

"""``ceiba ledger``: keys, integration, verification and witnessing of the transparency log."""

from __future__ import annotations

import os
import re
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from ceiba.ledger import actions, keys, remote
from ceiba.ledger.checkpoint import CosignatureV1Signer
from ceiba.ledger.errors import LedgerError
from ceiba.ledger.integrator import integrate, integrate_all
from ceiba.ledger.models import Log
from ceiba.ledger.verification import audit_log
from ceiba.tenancy.models import Administration


class Command(BaseCommand):
    help = "Transparency log: init, integrate, verify, verify-remote, witness, add-witness."

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        init = sub.add_parser("init", help="create each administration's log and signing key")
        init.add_argument("--administration", help="only this administration (slug)")

        run = sub.add_parser("integrate", help="append pending entries and sign checkpoints")
        run.add_argument("--administration", help="only this administration (slug)")
        run.add_argument("--batch-size", type=int, default=10_000)

        verify = sub.add_parser("verify", help="recompute and check the stored logs")
        verify.add_argument("--administration", help="only this administration (slug)")
        verify.add_argument(
            "--checkpoint",
            action="append",
            default=[],
            type=Path,
            help="a signed checkpoint kept outside the database (repeatable)",
        )

        rverify = sub.add_parser("verify-remote", help="check a log through its public API")
        rverify.add_argument("url", help="base URL of the platform, e.g. https://gov.example")
        rverify.add_argument("--vkey", help="the log's verifier key (default: the served one)")
        rverify.add_argument("--host", help="Host header to send (for a tenant's hostname)")
        rverify.add_argument("--checkpoint", action="append", default=[], type=Path)
        rverify.add_argument("--sample", type=int, default=remote.SAMPLE)

        wit = sub.add_parser("witness", help="check and cosign a log's latest checkpoint")
        wit.add_argument("url")
        wit.add_argument("--name", required=True, help="witness key name, e.g. audit.example/w1")
        wit.add_argument("--vkey", help="the log's verifier key (default: the served one)")
        wit.add_argument("--host", help="Host header to send")
        wit.add_argument("--state-dir", type=Path, help="default: <var>/witness")
        wit.add_argument("--submit", action="store_true", help="post the cosignature to the log")

        add = sub.add_parser("add-witness", help="accept a witness's cosignatures")
        add.add_argument("--administration", required=True)
        add.add_argument("--name", required=True)
        add.add_argument("vkey")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        try:
            if action == "init":
                self._init(options)
            elif action == "integrate":
                self._integrate(options)
            elif action == "verify":
                self._verify(options)
            elif action == "verify-remote":
                self._verify_remote(options)
            elif action == "witness":
                self._witness(options)
            elif action == "add-witness":
                self._add_witness(options)
        except LedgerError as exc:
            raise CommandError(exc.message, returncode=2) from None
        except remote.RemoteError as exc:
            raise CommandError(str(exc), returncode=3) from None

    def _administrations(self, slug: str | None) -> list[Administration]:
        if slug is None:
            return list(Administration.objects.order_by("slug"))
        found = Administration.objects.filter(slug=slug).first()
        if found is None:
            raise CommandError(f"no administration {slug!r}")
        return [found]

    def _init(self, options: dict[str, Any]) -> None:
        for administration in self._administrations(options["administration"]):
            log = actions.do_init_log(administration, actor=None)
            self.stdout.write(f"{log.origin}: {log.vkey}")
        if not os.environ.get(keys.PASSPHRASE_ENV):
            self.stdout.write(
                f"Keys are encrypted with the development passphrase in "
                f"{keys.key_directory() / 'passphrase'}; set {keys.PASSPHRASE_ENV} in production."
            )

    def _integrate(self, options: dict[str, Any]) -> None:
        batch = options["batch_size"]
        if options["administration"]:
            [administration] = self._administrations(options["administration"])
            log = Log.objects.filter(administration=administration).first()
            results = [integrate(log.pk, batch_size=batch)] if log else []
        else:
            results = integrate_all(batch_size=batch)
        for result in results:
            signed = f"checkpoint {result.checkpoint.size}" if result.checkpoint else "no key"
            self.stdout.write(
                f"log {result.log_id}: +{result.appended} entries, size {result.size}, {signed}"
            )

    def _verify(self, options: dict[str, Any]) -> None:
        seen = [path.read_text() for path in options["checkpoint"]]
        logs = Log.objects.select_related("administration").order_by("origin")
        if options["administration"]:
            logs = logs.filter(administration__slug=options["administration"])
        failed = []
        for log in logs:
            report = audit_log(log, seen=[n for n in seen if n.startswith(log.origin + "\n")])
            self.stdout.write(report.summary())
            if not report.ok:
                failed.append(report)
        if failed:
            first = failed[0].first_bad_index
            where = f" (first bad index {first})" if first is not None else ""
            raise CommandError(f"{len(failed)} log(s) failed verification{where}", returncode=1)

    def _verify_remote(self, options: dict[str, Any]) -> None:
        client = remote.Client(options["url"], host=options["host"])
        if not options["vkey"]:
            self.stderr.write("warning: trusting the verifier key served by the log; pin --vkey")
        report = remote.verify_remote(
            client,
            vkey=options["vkey"],
            seen=[path.read_text() for path in options["checkpoint"]],
            sample=options["sample"],
        )
        if report.withheld:
            self.stderr.write(
                f"note: {report.withheld} entries are published by leaf hash only (version 1 "
                "entries with identifiers in clear); their bytes were not re-hashed"
            )
        self.stdout.write(report.summary())
        if not report.ok:
            first = report.first_bad_index
            where = f" (first bad index {first})" if first is not None else ""
            raise CommandError(f"remote log failed verification{where}", returncode=1)

    def _witness(self, options: dict[str, Any]) -> None:
        name = options["name"]
        label = "witness-" + re.sub(r"[^a-z0-9._-]", "-", name.lower())[:100]
        private = keys.load_key(label) if keys.has_key(label) else keys.create_key(label)
        signer = CosignatureV1Signer(name, private)
        state_dir = options["state_dir"] or Path(settings.VAR_DIR) / "witness"
        client = remote.Client(options["url"], host=options["host"])
        try:
            cosigned = remote.witness(
                client, signer, state_dir, vkey=options["vkey"], submit=options["submit"]
            )
        except remote.WitnessError as exc:
            where = f" (index {exc.index})" if exc.index is not None else ""
            raise CommandError(f"{exc}{where}", returncode=1) from None
        self.stdout.write(cosigned.decode("utf-8"), ending="")
        self.stderr.write(f"witness key: {signer.vkey}")

    def _add_witness(self, options: dict[str, Any]) -> None:
        [administration] = self._administrations(options["administration"])
        witness = actions.do_add_witness(
            administration, options["name"], options["vkey"], actor=None
        )
        self.stdout.write(f"witness {witness.name} accepted")

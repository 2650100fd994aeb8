from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand

from ceiba.web.demo import load_demo


class Command(BaseCommand):
    help = (
        "Load the demo administration 'République de Démo' with its institutions and one "
        "account per role. Safe to run again: existing data is kept. Passwords and two-factor "
        "secrets are printed once, when accounts are created."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--reset-passwords",
            action="store_true",
            help="issue new passwords and two-factor secrets for the demo accounts",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        result = load_demo(reset_passwords=options["reset_passwords"])
        name = result.administration.names.get("fr", result.administration.slug)
        state = "created" if result.created else "already present"
        self.stdout.write(f"Demo administration '{name}': {state}.")
        if result.certificate_path:
            self.stdout.write(
                f"A demo application was approved and its signed certificate issued: "
                f"{result.certificate_path} (check it at /verify, or with `ceiba verify`)."
            )
        if not result.credentials:
            self.stdout.write(
                "Demo accounts exist already; their passwords were printed when they were "
                "created. Run `ceiba demo --reset-passwords` for new ones."
            )
            return
        self.stdout.write("")
        self.stdout.write("Demo accounts (shown once, keep them):")
        for cred in result.credentials:
            self.stdout.write(f"  {cred.role:<15} {cred.email:<28} password: {cred.password}")
            if cred.totp_secret:
                self.stdout.write(f"  {'':<15} two-factor secret (TOTP): {cred.totp_secret}")
        self.stdout.write("")
        self.stdout.write(
            "Staff accounts need a code from an authenticator app: add the secret above to one "
            "(or, on Linux: oathtool --totp -b SECRET)."
        )

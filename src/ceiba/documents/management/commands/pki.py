from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from ceiba.documents.administration_pki import (
    ensure_pki,
    institution_code,
    key_passphrase,
    pki_directory,
)
from ceiba.documents.pki import PkiError, rotate_signing_certificate
from ceiba.tenancy.models import Administration, Institution


class Command(BaseCommand):
    help = (
        "Manage the administrations' document-signing PKI. `pki init` creates whatever is "
        "missing (root CA, timestamping authority, revocation-list signer, one signing key "
        "per institution); `pki rotate INSTITUTION` gives an institution a new signing key."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        init = sub.add_parser("init", help="create the PKI (idempotent)")
        init.add_argument("--administration", help="slug; default: every administration")
        rotate = sub.add_parser("rotate", help="new signing certificate for an institution")
        rotate.add_argument("institution", help="member code (70000001) or GOV/70000001")
        rotate.add_argument("--administration", help="slug; needed with several administrations")

    def _administrations(self, slug: str | None) -> list[Administration]:
        administrations = Administration.objects.filter(is_active=True)
        if slug:
            administrations = administrations.filter(slug=slug)
        found = list(administrations)
        if not found:
            raise CommandError(f"No administration {slug!r}." if slug else "No administration.")
        return found

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            if options["action"] == "init":
                self._init(options["administration"])
            else:
                self._rotate(options["institution"], options["administration"])
        except PkiError as exc:
            raise CommandError(str(exc)) from exc

    def _init(self, slug: str | None) -> None:
        for administration in self._administrations(slug):
            pki = ensure_pki(administration)
            directory = pki_directory(administration)
            self.stdout.write(
                f"{administration.slug}: root CA in {directory / 'certs' / 'root.pem'}; "
                f"signing keys for {len(pki.institution_codes)} institution(s)."
            )

    def _rotate(self, reference: str, slug: str | None) -> None:
        administrations = self._administrations(slug)
        if len(administrations) > 1:
            raise CommandError("Several administrations: name one with --administration SLUG.")
        administration = administrations[0]
        member_class, _, member_code = reference.rpartition("/")
        institutions = Institution.objects.filter(
            administration=administration, member_code=member_code
        )
        if member_class:
            institutions = institutions.filter(member_class=member_class.upper())
        institution = institutions.first()
        if institution is None:
            raise CommandError(f"No institution {reference!r} in {administration.slug}.")
        ensure_pki(administration, [institution])
        certificate = rotate_signing_certificate(
            pki_directory(administration), institution_code(institution), key_passphrase()
        )
        self.stdout.write(
            f"{institution.member_id}: new signing certificate "
            f"{certificate.subject.rfc4514_string()} (serial {certificate.serial_number:x}); "
            "documents signed with earlier certificates stay valid."
        )

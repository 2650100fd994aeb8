"""``ceiba catalog load PATH...``: validate service definitions and load them into the catalog.

``ceiba catalog check`` needs no database and is routed by ``ceiba.cli`` to
``ceiba.catalog.cli`` before Django starts; it is accepted here too for ``manage.py`` users.
"""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any, TextIO, cast

from django.core.management.base import BaseCommand, CommandError

from ceiba.catalog.actions import do_load_service_definitions
from ceiba.catalog.definition import DefinitionInvalid
from ceiba.tenancy.models import Administration


class Command(BaseCommand):
    help = "Work with service definitions: load (into the database) or check (validate only)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
        load = commands.add_parser(
            "load",
            help="validate and load definitions; nothing is loaded if any file is invalid",
        )
        load.add_argument("paths", nargs="+", metavar="PATH", help="a YAML file or a folder")
        load.add_argument(
            "--administration",
            metavar="SLUG",
            default="",
            help="the administration to load into (default: the only one)",
        )
        check = commands.add_parser("check", help="validate definitions without loading them")
        check.add_argument("paths", nargs="+", metavar="PATH")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["command"] == "check":
            from ceiba.catalog.cli import main

            status = main(
                ["check", *options["paths"]],
                out=cast(TextIO, self.stdout),
                err=cast(TextIO, self.stderr),
            )
            if status:
                raise CommandError("invalid service definitions", returncode=status)
            return
        administration = self._administration(options["administration"])
        try:
            result = do_load_service_definitions(
                options["paths"], administration=administration, actor=None
            )
        except DefinitionInvalid as invalid:
            for error in invalid.errors:
                self.stderr.write(str(error))
            files = {error.file for error in invalid.errors}
            raise CommandError(
                f"{len(invalid.errors)} error(s) in {len(files)} file(s); nothing was loaded"
            ) from None
        for entry in result.services:
            self.stdout.write(f"{entry.status:<12} {entry.code} v{entry.version}  {entry.source}")
        self.stdout.write(
            f"{len(result.services)} service definition(s) loaded into "
            f"{administration.slug!r}, {result.changed} changed"
        )

    def _administration(self, slug: str) -> Administration:
        if slug:
            found = Administration.objects.filter(slug=slug).first()
            if found is None:
                raise CommandError(f"no administration {slug!r}")
            return found
        active = list(Administration.objects.filter(is_active=True)[:2])
        if len(active) != 1:
            raise CommandError(
                "several administrations (or none): choose one with --administration SLUG"
            )
        return active[0]

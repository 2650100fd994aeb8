"""The `ceiba` command.

Operations commands are Django management commands (`ceiba serve`, `ceiba demo`, ...); tools that
need no database (`ceiba soc scan`, `ceiba catalog check`, `ceiba verify`) run without Django.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from importlib import import_module

HELP = """\
usage: ceiba COMMAND [OPTIONS]

Set up and run:
  serve [--prod] [--workers N]   serve the platform (development server, or gunicorn with --prod)
  worker [--workers N]           run background jobs
  migrate                        create or upgrade the database tables
  demo [--reset-passwords]       load the demo administration, institutions and one user per role
  createadmin --email EMAIL      create a platform administrator (or an administration's, with
                                 --administration SLUG)
  createuser --role ROLE ...     create an officer, supervisor, SOC analyst... account
  apitoken create|list|revoke    manage API tokens of institutions' client systems
  check [--deploy]               check the configuration (with --deploy: for production)
  compiletranslations            compile the translation catalogs
  ledger init|integrate|verify   create log keys, append pending entries, audit the logs
  ledger verify-remote URL       audit another log through its public API
  ledger witness URL --name N    check and cosign another log's checkpoint

Tools (no database needed):
  soc scan PATH... --rules DIR   hunt over event files with Sigma rules
  catalog check PATH...          validate service definitions
  verify FILE.pdf --root PEM     verify a certificate offline

Run `ceiba COMMAND --help` for a command's options, `ceiba help --all` for every command.
Configuration comes from CEIBA_* environment variables: see docs/configuration.md.
"""

# Commands that must not load Django settings: (first words, module with a main(argv)).
STANDALONE: list[tuple[tuple[str, ...], str]] = [
    (("soc",), "ceiba.soc.sigma.cli"),
    (("catalog", "check"), "ceiba.catalog.cli"),
    (("verify",), "ceiba.documents.offline"),
]


def _standalone(argv: list[str]) -> Callable[[list[str]], int] | None:
    for words, module in STANDALONE:
        if tuple(argv[: len(words)]) == words:
            main: Callable[[list[str]], int] = import_module(module).main
            return main
    return None


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args in (["-h"], ["--help"], ["help"]):
        print(HELP, end="")
        return 0
    if args == ["--version"]:
        from ceiba import __version__

        print(f"ceiba {__version__}")
        return 0
    standalone = _standalone(args)
    if standalone is not None:
        # `ceiba soc scan ...` -> main(["scan", ...]); `ceiba catalog check` -> main(["check"]).
        return standalone(args[1:])
    if args[:2] == ["help", "--all"]:
        args = ["help"]

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ceiba.settings")
    from ceiba.config import ConfigError

    try:
        import django

        django.setup()
    except ConfigError as exc:
        print(f"ceiba: configuration error: {exc}", file=sys.stderr)
        return 2

    from django.core.management import execute_from_command_line
    from django.db import OperationalError

    try:
        execute_from_command_line(["ceiba", *args])
    except OperationalError as exc:
        first_line = (
            str(exc).strip().splitlines()[0] if str(exc).strip() else exc.__class__.__name__
        )
        print(f"ceiba: cannot use the database (CEIBA_DATABASE_URL): {first_line}", file=sys.stderr)
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main())

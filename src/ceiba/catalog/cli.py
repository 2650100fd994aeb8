"""``ceiba catalog ...``: commands on service definition files that need no database."""

from __future__ import annotations

import argparse
import sys
from typing import TextIO

from ceiba.catalog.definition import DefinitionInvalid, load_paths


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ceiba catalog", description="Work with service definition files."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    check = commands.add_parser(
        "check",
        help="validate service definitions without loading them",
        description="Validate service definition files (or folders of them) and print every "
        "error as file:line: path: message. Exit status 1 when any file is invalid.",
    )
    check.add_argument("paths", nargs="+", metavar="PATH", help="a YAML file or a folder")
    return parser


def main(argv: list[str], *, out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Run ``ceiba catalog`` with ``argv`` (without the program name); return the exit status."""
    out = out or sys.stdout
    err = err or sys.stderr
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits on --help and on usage errors
        return exc.code if isinstance(exc.code, int) else 2
    if args.command == "check":
        return _check(args.paths, out, err)
    parser.error(f"unknown command {args.command!r}")  # pragma: no cover - argparse rejects it
    return 2  # pragma: no cover


def _check(paths: list[str], out: TextIO, err: TextIO) -> int:
    try:
        definitions = load_paths(paths)
    except DefinitionInvalid as invalid:
        for error in invalid.errors:
            err.write(f"{error}\n")
        files = {error.file for error in invalid.errors}
        err.write(f"{len(invalid.errors)} error(s) in {len(files)} file(s)\n")
        return 1
    for definition in definitions:
        out.write(
            f"ok  {definition.id} {definition.version}  {definition.content_hash[:12]}  "
            f"{definition.source}\n"
        )
    out.write(f"{len(definitions)} service definition(s) valid\n")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main(sys.argv[1:]))

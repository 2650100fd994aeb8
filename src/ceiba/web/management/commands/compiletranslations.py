from __future__ import annotations

from pathlib import Path
from typing import Any

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from django.core.management.base import BaseCommand

import ceiba


def compile_catalogs(root: Path) -> list[Path]:
    """Compile every .po under `root` into its .mo (pure Python, no system gettext)."""
    written = []
    for po_path in sorted(root.rglob("locale/*/LC_MESSAGES/*.po")):
        mo_path = po_path.with_suffix(".mo")
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        with po_path.open("rb") as po_file:
            catalog = read_po(po_file)
        with mo_path.open("wb") as mo_file:
            write_mo(mo_file, catalog)
        written.append(mo_path)
    return written


class Command(BaseCommand):
    help = "Compile the translation catalogs (.po) into the binary form Django reads (.mo)."

    def handle(self, *args: Any, **options: Any) -> None:
        written = compile_catalogs(Path(ceiba.__file__).parent)
        self.stdout.write(f"{len(written)} catalog(s) compiled")

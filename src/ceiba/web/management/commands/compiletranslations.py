from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand

import ceiba
from ceiba.i18n import compile_catalogs


class Command(BaseCommand):
    help = "Compile the translation catalogs (.po) into the binary form Django reads (.mo)."

    def handle(self, *args: Any, **options: Any) -> None:
        written = compile_catalogs(Path(ceiba.__file__).parent)
        self.stdout.write(f"{len(written)} catalog(s) compiled")

"""Hatch build hook: compile gettext catalogs (.po -> .mo) into the wheel.

Compiled catalogs are build output, so they are not committed; Babel compiles them in
pure Python, so no system gettext is needed to build or install Ceiba.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface


class CustomBuildHook(BuildHookInterface):
    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        from babel.messages.mofile import write_mo
        from babel.messages.pofile import read_po

        root = Path(self.root) / "src" / "ceiba"
        for po_path in root.rglob("locale/*/LC_MESSAGES/*.po"):
            mo_path = po_path.with_suffix(".mo")
            with po_path.open("rb") as po_file:
                catalog = read_po(po_file)
            with mo_path.open("wb") as mo_file:
                write_mo(mo_file, catalog)
            if version != "editable":
                target = str(mo_path.relative_to(Path(self.root) / "src"))
                build_data["force_include"][str(mo_path)] = target

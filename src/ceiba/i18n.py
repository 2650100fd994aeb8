"""Languages the platform ships; the order is the order of the language switcher."""

from pathlib import Path

from django.utils.translation import gettext_lazy as _

LANGUAGES = [
    ("fr", _("French")),
    ("es", _("Spanish")),
    ("en", _("English")),
    ("ar", _("Arabic")),
    ("pt", _("Portuguese")),
]
LANGUAGE_CODES = [code for code, _name in LANGUAGES]


def compile_catalogs(root: Path | None = None) -> list[Path]:
    """Compile every .po under `root` (default: the ceiba package) into its .mo.

    Pure Python (Babel), so no system gettext is needed; a catalog whose .mo is newer than its
    .po is skipped.
    """
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    root = root or Path(__file__).resolve().parent
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

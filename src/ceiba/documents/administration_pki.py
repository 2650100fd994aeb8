"""Where each administration's PKI lives and how it is opened (the Django side of ``pki.py``).

Keys are under ``$CEIBA_KEYS_DIR/<administration slug>/`` (default ``var/keys``), encrypted
with ``CEIBA_KEY_PASSPHRASE``. In development, when the variable is unset, a passphrase is
generated once into ``var/keys/passphrase`` (mode 0600); in production it is required.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from django.conf import settings
from django.utils.translation import override

from ceiba.documents.pki import Pki, PkiError, init_pki, load_pki
from ceiba.tenancy.models import Administration, Institution

PASSPHRASE_VARIABLE = "CEIBA_KEY_PASSPHRASE"  # noqa: S105 (a variable name)
KEYS_DIR_VARIABLE = "CEIBA_KEYS_DIR"


class KeyConfigurationError(PkiError):
    """The key store cannot be opened as configured."""


def keys_root() -> Path:
    configured = os.environ.get(KEYS_DIR_VARIABLE, "").strip()
    return Path(configured) if configured else Path(settings.VAR_DIR) / "keys"


def key_passphrase() -> str:
    value = os.environ.get(PASSPHRASE_VARIABLE, "")
    if value:
        return value
    if settings.CEIBA_MODE == "production":
        raise KeyConfigurationError(
            f"{PASSPHRASE_VARIABLE} is required in production mode: it encrypts the signing keys."
        )
    root = keys_root()
    path = root / "passphrase"
    if path.exists():
        return path.read_text("utf-8").strip()
    root.mkdir(parents=True, exist_ok=True, mode=0o700)
    passphrase = secrets.token_urlsafe(32)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        # Another process generated it first; use theirs.
        return path.read_text("utf-8").strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(passphrase + "\n")
    return passphrase


def pki_directory(administration: Administration) -> Path:
    return keys_root() / administration.slug


def institution_code(institution: Institution) -> str:
    """The institution's name in the PKI: its X-Road member id, lowercased (``gov-70000001``)."""
    return f"{institution.member_class}-{institution.member_code}".lower()[:63]


def _display_name(names: dict[str, str], administration: Administration) -> str:
    with override(administration.default_language):
        return (
            names.get(administration.default_language) or next(iter(names.values()), "")
        ).strip()


def ensure_pki(
    administration: Administration, institutions: list[Institution] | None = None
) -> Pki:
    """Create what is missing of the administration's PKI (idempotent) and open it."""
    if institutions is None:
        institutions = list(Institution.objects.filter(administration=administration))
    return init_pki(
        pki_directory(administration),
        _display_name(administration.names, administration) or administration.slug,
        {
            institution_code(i): _display_name(i.names, administration) or i.member_id
            for i in institutions
        },
        key_passphrase(),
    )


def open_pki(administration: Administration) -> Pki:
    """Open the PKI for reading (verification); raises PkiError when it does not exist."""
    return load_pki(pki_directory(administration), key_passphrase())


def signing_pki(administration: Administration, institution: Institution) -> Pki:
    """The PKI, with a signing key for ``institution`` (created on first use)."""
    directory = pki_directory(administration)
    if (directory / "pki.json").exists():
        pki = open_pki(administration)
        if institution_code(institution) in pki.institution_codes:
            return pki
    return ensure_pki(administration, [institution])

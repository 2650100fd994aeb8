from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ceiba.documents.pdfsign import AdministrationTimeStamper, render_pdf, sign_pdf
from ceiba.documents.pki import Pki, SigningIdentity, init_pki
from ceiba.documents.qrpayload import build_qr_payload, qr_svg

PASSPHRASE = "test passphrase, not for production"
INSTITUTIONS = {"civil-registry": "Civil Registry", "land-office": "Land Office"}
FACTS = {"holder": "Ana Mbeki", "birth_date": "1990-04-12", "place": "Libreville"}

SignFn = Callable[..., bytes]


def certificate_html(number: str, facts: dict[str, str], qr: str = "") -> str:
    rows = "".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in facts.items())
    return (
        "<html lang='en'><head><meta charset='utf-8'><title>Birth certificate</title></head>"
        f"<body><h1>Birth certificate</h1><p>No. {number}</p><table>{rows}</table>{qr}"
        "</body></html>"
    )


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return init_pki(
        tmp_path_factory.mktemp("keys"), "Republic of Example", INSTITUTIONS, PASSPHRASE
    )


@pytest.fixture(scope="session")
def root_pem(pki: Pki) -> bytes:
    return pki.root_pem()


@pytest.fixture(scope="session")
def sign(pki: Pki) -> SignFn:
    def _sign(
        identity: SigningIdentity | None = None,
        *,
        number: str = "CR-2026-000001",
        at: dt.datetime | None = None,
        tsa: SigningIdentity | None = None,
    ) -> bytes:
        identity = identity or pki.signing_identity("civil-registry")
        tsa = tsa or pki.tsa_identity()
        issued_at = at or dt.datetime.now(dt.UTC)
        payload = build_qr_payload(number, FACTS, issued_at, identity.key, identity.certificate)
        html = certificate_html(number, FACTS, qr_svg(payload))
        return sign_pdf(
            render_pdf(html),
            identity.key,
            identity.chain,
            AdministrationTimeStamper(tsa.key, tsa.certificate, tsa.chain, at=at),
            document_number=number,
        )

    return _sign


@pytest.fixture(scope="session")
def signed_pdf(sign: SignFn) -> bytes:
    return sign()


@pytest.fixture
def files(tmp_path: Path, signed_pdf: bytes, root_pem: bytes) -> dict[str, Path]:
    signed = tmp_path / "signed.pdf"
    signed.write_bytes(signed_pdf)
    root = tmp_path / "root.pem"
    root.write_bytes(root_pem)
    return {"signed": signed, "root": root}


def modify_one_byte(pdf: bytes) -> bytes:
    """Change one byte inside the signed range, keeping the file a parseable PDF."""
    data = bytearray(pdf)
    at = data.index(b"/Producer (") + len(b"/Producer (")
    data[at] ^= 0x01
    return bytes(data)


# --- The Django side: issuing through the real action, keys and files under tmp_path. ---

BIRTH_ANSWERS = {
    "requester_relationship": "self",
    "given_names": "Awa",
    "family_name": "Ndiaye",
    "date_of_birth": "1991-03-14",
    "place_of_birth": "Thiès",
    "mother_name": "Fatou Sarr",
    "copy_type": "full_copy",
    "delivery": "download",
    # Answered in the form but not printed: must never reach the certified facts.
    "court_order_reference": "SECRET-COURT-REF-77",
}
BIRTH_TEMPLATE = "civil-registry/birth-certificate-copy"


@pytest.fixture
def document_storage(
    settings: Any, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """Keys and media under a fresh directory, so tests never touch var/."""
    base = tmp_path_factory.mktemp("documents")
    monkeypatch.setenv("CEIBA_KEYS_DIR", str(base / "keys"))
    monkeypatch.setenv("CEIBA_KEY_PASSPHRASE", PASSPHRASE)
    settings.MEDIA_ROOT = str(base / "media")
    return base


def issue_birth_certificate(tenant: Any, **overrides: Any) -> Any:
    from ceiba.accounts.roles import Role
    from ceiba.documents.actions import do_issue_document

    arguments: dict[str, Any] = {
        "administration": tenant.administration,
        "institution": tenant.institution,
        "applicant": tenant.users[Role.CITIZEN],
        "template": BIRTH_TEMPLATE,
        "answers": BIRTH_ANSWERS,
        "language": "fr",
        "actor": tenant.users[Role.OFFICER],
    }
    arguments.update(overrides)
    return do_issue_document(**arguments)

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import pytest
from django.test import Client

from ceiba.accounts.roles import Role
from ceiba.documents.administration_pki import open_pki
from ceiba.documents.models import IssuedDocument
from ceiba.documents.offline import main as verify_main
from ceiba.documents.revocation import parse_revocation_list
from ceiba.ledger.models import EntryKind, LedgerEntry
from tests.conftest import Tenant
from tests.documents.conftest import issue_birth_certificate

pytestmark = pytest.mark.django_db
SignIn = Callable[..., Client]


def _status(host: str, number: str) -> dict[str, object]:
    response = Client(HTTP_HOST=host).post("/api/v1/documents/verify", {"number": number})
    body: dict[str, object] = response.json()
    return body


def test_a_supervisor_revokes_and_verification_and_the_published_list_say_so(
    tenant_a: Tenant, document_storage: Path, sign_in: SignIn, tmp_path: Path
) -> None:
    document = issue_birth_certificate(tenant_a)
    supervisor = sign_in(tenant_a.users[Role.SUPERVISOR], tenant_a.host)
    # given the back-office page offers the revocation
    assert f"/documents/{document.number}/revoke" in supervisor.get("/documents/").content.decode()
    # when the supervisor gives no reason, nothing happens
    response = supervisor.post(f"/documents/{document.number}/revoke", {"reason": "  "})
    assert response.status_code == 200
    assert "error-summary" in response.content.decode()
    # when a reason is given
    response = supervisor.post(
        f"/documents/{document.number}/revoke", {"reason": "Issued with a wrong birth date"}
    )
    assert response.status_code == 302
    # then verification says revoked, with the date
    body = _status(tenant_a.host, document.number)
    assert body["status"] == "revoked"
    document.refresh_from_db()
    assert body["revoked_at"] == document.revoked_at.isoformat()
    assert body["revocation_reason"] == "Issued with a wrong birth date"
    page = Client(HTTP_HOST=tenant_a.host).post("/verify", {"number": document.number})
    assert "verdict-revoked" in page.content.decode()
    # and the ledger and the signed list name it
    assert LedgerEntry.objects.filter(
        kind=EntryKind.DOCUMENT_REVOKED, reference=f"document:{document.number}"
    ).exists()
    published = Client(HTTP_HOST=tenant_a.host).get("/verify/revocations.json").content
    pki = open_pki(tenant_a.administration)
    revocations = parse_revocation_list(published, pki.root_certificate)
    entry = revocations.lookup(document.number)
    assert entry is not None
    assert entry.reason == "Issued with a wrong birth date"
    # and `ceiba verify` with the downloaded list says revoked offline
    (tmp_path / "doc.pdf").write_bytes(Path(document.pdf.path).read_bytes())
    (tmp_path / "root.pem").write_bytes(
        Client(HTTP_HOST=tenant_a.host).get("/verify/root.pem").content
    )
    (tmp_path / "revocations.json").write_bytes(published)
    arguments = [str(tmp_path / "doc.pdf"), "--root", str(tmp_path / "root.pem")]
    assert verify_main(arguments) == 0
    assert verify_main([*arguments, "--revocations", str(tmp_path / "revocations.json")]) == 1
    # and revoking twice is refused politely
    response = supervisor.post(f"/documents/{document.number}/revoke", {"reason": "again"})
    assert response.status_code == 200


@pytest.mark.parametrize("role", [Role.OFFICER, Role.CITIZEN, Role.SOC_ANALYST, Role.ADMIN])
def test_only_a_supervisor_of_the_institution_revokes(
    tenant_a: Tenant, document_storage: Path, sign_in: SignIn, role: Role
) -> None:
    document = issue_birth_certificate(tenant_a)
    client = sign_in(tenant_a.users[role], tenant_a.host)
    response = client.post(f"/documents/{document.number}/revoke", {"reason": "no"})
    assert response.status_code in (403, 404)
    document.refresh_from_db()
    assert document.revoked_at is None


def test_a_supervisor_cannot_revoke_or_download_another_administrations_document(
    tenant_a: Tenant, tenant_b: Tenant, document_storage: Path, sign_in: SignIn
) -> None:
    theirs = issue_birth_certificate(tenant_b)
    supervisor = sign_in(tenant_a.users[Role.SUPERVISOR], tenant_a.host)
    assert supervisor.post(f"/documents/{theirs.number}/revoke", {"reason": "x"}).status_code == 404
    assert supervisor.get(f"/documents/{theirs.number}/download").status_code == 404
    # not even by sending A's session to B's host
    response = supervisor.post(
        f"/documents/{theirs.number}/revoke", {"reason": "x"}, HTTP_HOST=tenant_b.host
    )
    assert response.status_code in (302, 403, 404)
    theirs.refresh_from_db()
    assert theirs.revoked_at is None


def test_the_applicant_their_business_and_the_institution_download(
    tenant_a: Tenant, document_storage: Path, sign_in: SignIn
) -> None:
    own = issue_birth_certificate(tenant_a)
    business = issue_birth_certificate(
        tenant_a, applicant=tenant_a.users[Role.CITIZEN], legal_entity=tenant_a.legal_entity
    )
    expected = hashlib.sha256(Path(own.pdf.path).read_bytes()).hexdigest()

    citizen = sign_in(tenant_a.users[Role.CITIZEN], tenant_a.host)
    response = citizen.get(f"/documents/{own.number}/download")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert "attachment" in response["Content-Disposition"]
    assert hashlib.sha256(b"".join(response.streaming_content)).hexdigest() == expected

    rep = sign_in(tenant_a.users[Role.BUSINESS_REP], tenant_a.host)
    response = rep.get(f"/documents/{business.number}/download")
    assert response.status_code == 200
    assert b"".join(response.streaming_content).startswith(b"%PDF-")
    assert rep.get(f"/documents/{own.number}/download").status_code == 404

    officer = sign_in(tenant_a.users[Role.OFFICER], tenant_a.host)
    response = officer.get(f"/documents/{own.number}/download")
    assert response.status_code == 200
    assert b"".join(response.streaming_content).startswith(b"%PDF-")

    analyst = sign_in(tenant_a.users[Role.SOC_ANALYST], tenant_a.host)
    assert analyst.get(f"/documents/{own.number}/download").status_code == 404
    anonymous = Client(HTTP_HOST=tenant_a.host).get(f"/documents/{own.number}/download")
    assert anonymous.status_code == 302
    assert "/accounts/login/" in anonymous["Location"]


def test_each_check_is_counted_without_recording_who_checked(
    tenant_a: Tenant, document_storage: Path, sign_in: SignIn
) -> None:
    document = issue_birth_certificate(tenant_a)
    # when a bank checks the number twice and a police officer scans the QR once
    _status(tenant_a.host, document.number)
    _status(tenant_a.host, document.number)
    Client(HTTP_HOST=tenant_a.host).post("/verify", {"qr": document.qr_payload})
    # and a bad number is typed (not counted against anyone)
    _status(tenant_a.host, "BC-2026-ZZZZ-ZZZZ-ZZZZ")
    # then the holder sees three checks and when
    document.refresh_from_db()
    assert document.verification_count == 3
    assert document.last_verified_at is not None
    page = sign_in(tenant_a.users[Role.CITIZEN], tenant_a.host).get("/documents/").content
    assert "3 times" in page.decode() or "3 fois" in page.decode()
    # and the ledger entries of the checks name no actor
    checks = LedgerEntry.objects.filter(
        kind=EntryKind.DOCUMENT_VERIFIED, reference=f"document:{document.number}"
    )
    assert checks.count() == 3
    assert all(entry.actor_id is None for entry in checks)


def test_a_superseded_document_is_reported_as_replaced(
    tenant_a: Tenant, document_storage: Path
) -> None:
    original = issue_birth_certificate(tenant_a)
    issue_birth_certificate(tenant_a, supersedes=original)
    assert _status(tenant_a.host, original.number)["status"] == "superseded"
    assert IssuedDocument.objects.count() == 2

"""What anyone may read without signing in carries no identifier that unlocks personal data.

A case, its applicant and a certificate are made through the real actions (submission, an
officer's views, assignment, decision, issuance, a verification, a revocation); then every
public endpoint is read anonymously and its whole body is searched for every identifier of
that data: document numbers (what /verify accepts), case references and ids, account ids,
names, national ids, e-mail addresses and the certified facts.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.db import transaction
from django.test import Client

from ceiba.accounts.models import User
from ceiba.accounts.roles import Role
from ceiba.cases import actions as case_actions
from ceiba.cases.models import Case
from ceiba.documents import actions as document_actions
from ceiba.documents.models import IssuedDocument
from ceiba.ledger import actions, merkle
from ceiba.ledger.canonical import decode_canonical, encode_canonical
from ceiba.ledger.errors import LedgerError
from ceiba.ledger.integrator import integrate
from ceiba.ledger.models import EntryKind, LedgerEntry, Log, PendingEntry
from tests.cases.conftest import BIRTH_VALID, load_birth, submit_birth
from tests.conftest import Tenant
from tests.ledger.conftest import record_accesses

pytestmark = pytest.mark.django_db


@dataclass
class World:
    tenant: Tenant
    case: Case
    document: IssuedDocument
    log: Log
    secrets: list[str]


def _identifiers(user: User) -> list[str]:
    return [str(user.pk), user.pk.hex, user.national_id, user.full_name, user.email]


@pytest.fixture
def world(tenant_a: Tenant, ledger_var: Path, settings: Any) -> World:
    settings.MEDIA_ROOT = str(ledger_var / "media")
    citizen = tenant_a.users[Role.CITIZEN]
    officer = tenant_a.users[Role.OFFICER]
    supervisor = tenant_a.users[Role.SUPERVISOR]
    actions.do_init_log(tenant_a.administration, actor=None)
    case = submit_birth(tenant_a, load_birth(tenant_a))
    case = case_actions.do_claim_case(case, actor=officer, expected_version=case.version)
    case = case_actions.do_assign_case(
        case, actor=supervisor, assignee=officer, expected_version=case.version
    )
    supporting = case.documents.get()
    case_actions.record_case_access(case, actor=officer)
    case_actions.record_case_access(case, actor=officer, document=supporting)
    case = case_actions.do_transition_case(
        case, "start_review", actor=officer, expected_version=case.version
    )
    case = case_actions.do_transition_case(
        case, "approve", actor=officer, expected_version=case.version
    )
    (document,) = document_actions.do_issue_case_outputs(case)
    document_actions.do_record_verification(document, method="number")
    # a second certificate that supersedes the first, then the first is withdrawn
    (replacement,) = _reissue(case, document)
    document_actions.do_revoke_document(
        document, reason=f"Issued with a typo for {citizen.full_name}", actor=supervisor
    )
    log = Log.objects.get(administration=tenant_a.administration)
    integrate(log.pk)
    log.refresh_from_db()
    assert log.size == LedgerEntry.objects.filter(log=log).count()
    secrets = [
        document.number,
        replacement.number,
        case.reference,
        str(case.pk),
        case.pk.hex,
        str(supporting.pk),
        supporting.pk.hex,
        BIRTH_VALID["family_name"],
        BIRTH_VALID["date_of_birth"],
        *_identifiers(citizen),
        *_identifiers(officer),
        *_identifiers(supervisor),
    ]
    return World(tenant_a, case, document, log, secrets)


def _reissue(case: Case, document: IssuedDocument) -> list[IssuedDocument]:
    return [
        document_actions.do_issue_document(
            administration=case.administration,
            institution=document.institution,
            applicant=document.applicant,
            template=document.template,
            answers=case.answers,
            language=document.language,
            actor=case.assignee,
            case_reference=case.reference,
            supersedes=document,
        )
    ]


def _public_paths(log: Log) -> list[str]:
    paths = [
        "/ledger/checkpoint",
        "/ledger/vkey",
        "/api/v1/ledger/checkpoint",
        "/api/v1/ledger/vkey",
        "/api/v1/ledger/checkpoints?limit=1000",
        f"/api/v1/ledger/entries?start=0&limit={log.size}",
        f"/api/v1/ledger/proofs/consistency?first=1&second={log.size}",
        "/api/v1/tenancy/administration",
        "/api/v1/tenancy/institutions",
        "/api/v1/catalog/services",
        "/api/v1/catalog/services/civil-registry.birth-certificate-copy",
        "/govstack/registration/services",
        "/govstack/registration/data/statistics?timeframe=day",
        "/verify/root.pem",
        "/verify/certificates.pem",
        "/healthz",
        "/readyz",
        "/",
        "/services/",
        "/services/civil-registry.birth-certificate-copy/",
        "/verify",
        "/accounts/login/",
        "/accounts/register/",
        "/accounts/password-reset/",
        "/api/v1/docs",
        "/api/v1/openapi.json",
        "/govstack/registration/openapi.json",
    ]
    for index in range(log.size):
        paths.append(f"/api/v1/ledger/entries/{index}")
        paths.append(f"/api/v1/ledger/proofs/inclusion?index={index}&size={log.size}")
    return paths


def test_no_public_answer_carries_an_identifier_of_the_data(world: World) -> None:
    # Any caller may name itself in this header (the statistics ask for it); no login.
    client = Client(HTTP_HOST=world.tenant.host, HTTP_INFORMATION_MEDIATOR_CLIENT="CM/GOV/1/x")
    leaks = []
    for path in _public_paths(world.log):
        response = client.get(path)
        assert response.status_code == 200, (path, response.content[:300])
        body = response.content.decode("utf-8")
        # the entry bytes are JSON inside JSON: search the unescaped text too
        texts = [body, body.replace('\\"', '"')]
        for secret in world.secrets:
            if any(secret in text for text in texts):
                leaks.append(f"{path}: {secret}")
    assert not leaks


def test_entries_commit_to_their_reference(world: World) -> None:
    for entry in LedgerEntry.objects.filter(log=world.log).exclude(reference=""):
        payload = json.loads(bytes(entry.payload))
        assert payload["v"] == 2
        assert payload["reference"] == actions.commitment(
            bytes(entry.salt), "reference", entry.reference
        )
    references = set(LedgerEntry.objects.values_list("reference", flat=True))
    assert f"document:{world.document.number}" in references
    assert f"case:{world.case.reference}" in references


def test_the_log_still_verifies_from_the_database(world: World) -> None:
    from ceiba.ledger.verification import audit_log

    report = audit_log(world.log)
    assert report.ok, report.summary()


def test_the_citizen_still_reads_their_own_references(
    world: World, sign_in: Callable[..., Client]
) -> None:
    client = sign_in(world.tenant.users[Role.CITIZEN], world.tenant.host)

    page = client.get("/my-data/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    usage = client.get(
        "/api/v1/ledger/data/myPersonalDataUsage",
        {"userId": world.tenant.users[Role.CITIZEN].national_id, "databaseId": "x"},
    ).json()

    assert f"case:{world.case.reference}" in page
    assert f"document:{world.document.number}" in page
    assert "Case review" in page
    references = {ref["ReferenceID"] for item in usage for ref in item["refrences"]}
    assert f"case:{world.case.reference}" in references
    assert f"document:{world.document.number}" in references


def _fill(value: Any, values: dict[str, str]) -> Any:
    if isinstance(value, str):
        return value.format(**values)
    return {key: _fill(item, values) for key, item in value.items()}


@pytest.mark.parametrize(
    "public",
    [
        {"purpose": "case {reference}"},
        {"details": {"case": "{reference}"}},
        {"details": {"who": "{national_id}"}},
        {"details": {"who": "{subject_id}"}},
        {"purpose": "asked by {email}"},
        {"purpose": "for {full_name}"},
    ],
)
def test_public_fields_may_not_repeat_what_is_committed(
    tenant_a: Tenant, public: dict[str, Any]
) -> None:
    citizen = tenant_a.users[Role.CITIZEN]
    values = {
        "reference": "C-2026-000042",
        "national_id": citizen.national_id,
        "subject_id": str(citizen.pk),
        "email": citizen.email,
        "full_name": citizen.full_name,
    }
    arguments = _fill(public, values)
    with pytest.raises(LedgerError, match="must not repeat the reference"), transaction.atomic():
        actions.record(
            kind=EntryKind.PERSONAL_DATA_VIEWED,
            actor=tenant_a.users[Role.OFFICER],
            administration=tenant_a.administration,
            subject=citizen,
            reference="case:C-2026-000042",
            **arguments,
        )


# --- entries written before references were committed (version 1) -------------------------


def _as_version_1(entry: LedgerEntry) -> LedgerEntry:
    """Rewrite a pending entry into the version 1 form, which carried its reference in clear.

    Only possible while it waits for the integrator; stands for the entries that older
    releases wrote and integrated.
    """
    value = decode_canonical(bytes(entry.payload))
    value.update(v=1, reference=entry.reference)
    payload = encode_canonical(value)
    digest = merkle.leaf_hash(payload)
    LedgerEntry.objects.filter(pk=entry.pk).update(payload=payload, leaf_hash=digest)
    PendingEntry.objects.filter(entry=entry).update(leaf_hash=digest)
    entry.refresh_from_db()
    return entry


@pytest.fixture
def legacy_log(tenant_a: Tenant, ledger_var: Path) -> tuple[Log, LedgerEntry, LedgerEntry]:
    """A log holding a version 1 access entry (identifiers in clear) and a version 1
    administrative entry, between current entries."""
    actions.do_init_log(tenant_a.administration, actor=None)
    with transaction.atomic():
        access = _as_version_1(
            actions.record(
                kind=EntryKind.PERSONAL_DATA_VIEWED,
                actor=tenant_a.users[Role.OFFICER],
                administration=tenant_a.administration,
                subject=tenant_a.users[Role.CITIZEN],
                purpose="Case review",
                reference="case:LEGACY-2025-000777",
            )
        )
        admin = _as_version_1(
            actions.record(
                kind=EntryKind.ADMIN_CHANGE,
                actor=None,
                administration=tenant_a.administration,
                purpose="catalog.load",
                reference="service:civil-registry.birth-certificate-copy",
            )
        )
    record_accesses(tenant_a, 2)
    log = Log.objects.get(administration=tenant_a.administration)
    integrate(log.pk)
    log.refresh_from_db()
    return log, access, admin


def test_version_1_entries_with_identifiers_are_served_by_leaf_hash_only(
    legacy_log: tuple[Log, LedgerEntry, LedgerEntry], tenant_a: Tenant
) -> None:
    log, access, admin = legacy_log
    client = Client(HTTP_HOST=tenant_a.host)

    listed = client.get("/api/v1/ledger/entries", {"limit": log.size}).json()
    one = client.get(f"/api/v1/ledger/entries/{access.index}").json()

    assert "LEGACY-2025-000777" not in json.dumps(listed)
    assert one == {
        "index": access.index,
        "leaf_hash": base64.b64encode(bytes(access.leaf_hash)).decode(),
        "entry": None,
    }
    by_index = {item["index"]: item for item in listed}
    assert by_index[access.index]["entry"] is None
    assert by_index[admin.index]["entry"] == bytes(admin.payload).decode()  # nothing to hide
    assert all(item["entry"] is not None for i, item in by_index.items() if i != access.index)
    # the proof of the withheld entry still verifies against the served leaf hash
    proof = client.get(
        "/api/v1/ledger/proofs/inclusion", {"index": access.index, "size": log.size}
    ).json()
    merkle.verify_inclusion(
        bytes(access.leaf_hash),
        access.index,
        log.size,
        [base64.b64decode(h) for h in proof["hashes"]],
        bytes(log.root_hash),
    )


def test_withholding_follows_the_entry_bytes_not_the_row(
    legacy_log: tuple[Log, LedgerEntry, LedgerEntry], tenant_a: Tenant
) -> None:
    _log, access, _admin = legacy_log
    LedgerEntry.objects.filter(pk=access.pk).update(kind=EntryKind.ADMIN_CHANGE)

    served = Client(HTTP_HOST=tenant_a.host).get(f"/api/v1/ledger/entries/{access.index}")

    assert served.json()["entry"] is None


def test_version_1_entries_still_verify_from_the_database(
    legacy_log: tuple[Log, LedgerEntry, LedgerEntry],
) -> None:
    from ceiba.ledger.verification import audit_log

    report = audit_log(legacy_log[0])
    assert report.ok, report.summary()


@pytest.mark.parametrize("version", [1, 2])
def test_verify_catches_a_changed_reference_column(
    legacy_log: tuple[Log, LedgerEntry, LedgerEntry], version: int
) -> None:
    from ceiba.ledger.verification import audit_log

    log, access, _admin = legacy_log
    entry = access if version == 1 else LedgerEntry.objects.filter(log=log).latest("pk")
    LedgerEntry.objects.filter(pk=entry.pk).update(reference="case:SOMEONE-ELSE")

    report = audit_log(log)

    assert (
        f"index {entry.index}: the reference stored with the entry is not the one it commits to"
        in (str(problem) for problem in report.problems)
    )


@pytest.mark.django_db(transaction=True)
def test_verify_remote_accepts_withheld_entries_by_their_leaf_hash(
    legacy_log: tuple[Log, LedgerEntry, LedgerEntry], live_server: Any
) -> None:
    log = legacy_log[0]
    out, err = StringIO(), StringIO()

    call_command(
        "ledger", "verify-remote", live_server.url, "--vkey", log.vkey, stdout=out, stderr=err
    )

    assert f"OK alpha.example/ceiba-log: {log.size} entries" in out.getvalue()
    assert "note: 1 entries are published by leaf hash only" in err.getvalue()

"""The public log API: checkpoints, entries, proofs, and precise 400s for bad requests."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable

import pytest
from django.test import Client

from ceiba.accounts.roles import Role
from ceiba.ledger import merkle
from ceiba.ledger.checkpoint import open_checkpoint
from ceiba.ledger.models import Log
from ceiba.ledger.note import parse_vkey
from tests.conftest import Tenant

pytestmark = pytest.mark.django_db
API = "/api/v1/ledger"


def _b64(values: list[str]) -> list[bytes]:
    return [base64.b64decode(v) for v in values]


@pytest.fixture
def client(tenant_a: Tenant) -> Client:
    return Client(HTTP_HOST=tenant_a.host)


def test_checkpoint_and_key_are_public_plain_text(
    grown_log: Callable[[int], Log], client: Client
) -> None:
    log = grown_log(10)

    for path in ("/ledger/checkpoint", f"{API}/checkpoint"):
        response = client.get(path)
        assert response.status_code == 200
        assert response["Content-Type"] == "text/plain; charset=utf-8"
        head, _note = open_checkpoint(response.content, [parse_vkey(log.vkey)])
        assert head.size == 11
    assert client.get("/ledger/vkey").content.decode() == log.vkey + "\n"
    history = client.get(f"{API}/checkpoints").json()
    assert [c["size"] for c in history] == [11]


def test_entries_and_proofs_verify_against_the_checkpoint(
    grown_log: Callable[[int], Log], client: Client
) -> None:
    grown_log(4)
    log = grown_log(8)  # sizes 5 then 13
    root = bytes(log.root_hash)

    entry = client.get(f"{API}/entries/6").json()
    leaf = merkle.leaf_hash(entry["entry"].encode())
    assert base64.b64decode(entry["leaf_hash"]) == leaf
    assert json.loads(entry["entry"])["subject"]  # a commitment, not the person
    by_index = client.get(f"{API}/proofs/inclusion", {"index": 6, "size": 13}).json()
    merkle.verify_inclusion(leaf, 6, 13, _b64(by_index["hashes"]), root)
    by_hash = client.get(f"{API}/proofs/inclusion", {"hash": entry["leaf_hash"]}).json()
    assert by_hash == by_index
    older = client.get(f"{API}/checkpoints").json()[0]
    proof = client.get(f"{API}/proofs/consistency", {"first": 5, "second": 13}).json()
    merkle.verify_consistency(
        5, 13, _b64(proof["hashes"]), base64.b64decode(older["root_hash"]), root
    )
    page = client.get(f"{API}/entries", {"start": 10, "limit": 100}).json()
    assert [e["index"] for e in page] == [10, 11, 12]


@pytest.mark.parametrize(
    ("path", "params", "code", "reason"),
    [
        ("proofs/inclusion", {"index": 0, "size": 0}, "ledger.tree_size_invalid", "at least 1"),
        ("proofs/inclusion", {"index": 5, "size": 5}, "ledger.index_out_of_range", "outside"),
        ("proofs/inclusion", {"index": 1, "size": 99}, "ledger.size_beyond_tree", "beyond"),
        ("proofs/inclusion", {"index": "-1"}, "ledger.index_out_of_range", "non-negative"),
        ("proofs/inclusion", {}, "ledger.index_out_of_range", "exactly one"),
        ("proofs/inclusion", {"hash": "zz"}, "ledger.hash_invalid", "base64"),
        ("proofs/inclusion", {"hash": "AAAA"}, "ledger.hash_invalid", "3 bytes"),
        ("proofs/consistency", {"first": 0, "second": 3}, "ledger.tree_size_invalid", "at least"),
        ("proofs/consistency", {"first": 4, "second": 3}, "ledger.sizes_out_of_order", "smaller"),
        ("proofs/consistency", {"first": 2, "second": 50}, "ledger.size_beyond_tree", "beyond"),
        ("proofs/consistency", {"first": "x", "second": 3}, "ledger.tree_size_invalid", "'x'"),
        ("entries/99", {}, "ledger.index_out_of_range", "outside the tree of size 6"),
        ("entries", {"start": 0, "limit": 5000}, "ledger.index_out_of_range", "limit"),
        ("checkpoints", {"start": "9" * 30}, "ledger.tree_size_invalid", "decimal"),
    ],
)
def test_malformed_requests_get_400_with_a_reason(
    grown_log: Callable[[int], Log],
    client: Client,
    path: str,
    params: dict[str, object],
    code: str,
    reason: str,
) -> None:
    grown_log(5)
    response = client.get(f"{API}/{path}", params)
    assert response.status_code == 400, response.content
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == code
    assert reason in body["title"]


def test_unknown_hash_and_empty_log_are_404(tenant_a: Tenant, client: Client) -> None:
    assert client.get("/ledger/checkpoint").json()["code"] == "ledger.no_checkpoint"
    assert client.get(f"{API}/checkpoint").status_code == 404
    assert client.get(f"{API}/proofs/inclusion", {"index": 0}).status_code == 404


def test_each_administration_sees_only_its_own_log(
    grown_log: Callable[[int], Log], tenant_b: Tenant
) -> None:
    grown_log(3)
    on_b = Client(HTTP_HOST=tenant_b.host)
    assert on_b.get("/ledger/checkpoint").status_code == 404
    assert on_b.get(f"{API}/entries/0").status_code == 404


def test_personal_data_usage_in_the_govstack_shape(
    grown_log: Callable[[int], Log], tenant_a: Tenant, sign_in: Callable[..., Client]
) -> None:
    grown_log(2)
    citizen = tenant_a.users[Role.CITIZEN]
    client = sign_in(citizen, tenant_a.host)

    response = client.get(
        f"{API}/data/myPersonalDataUsage",
        {"userId": citizen.national_id, "databaseId": "CEIBA"},
    )

    assert response.status_code == 200
    rows = response.json()
    assert len(rows) == 2
    assert set(rows[0]) == {
        "id",
        "readerId",
        "readerInitials",
        "readerInstitutionId",
        "readerInstitutionName",
        "readerApplicationName",
        "searchDateTime",
        "refrences",
    }
    assert rows[0]["readerInstitutionId"] == "GOV/70000001"
    assert rows[0]["readerId"] == "officer"
    assert rows[0]["readerInitials"] == ""  # names are not shown unless the law allows
    assert rows[0]["refrences"] == [{"ReferenceID": "case:00000001"}]
    other = client.get(
        f"{API}/data/myPersonalDataUsage", {"userId": "NID-someone-else", "databaseId": "CEIBA"}
    )
    assert other.status_code == 400
    anonymous = Client(HTTP_HOST=tenant_a.host).get(
        f"{API}/data/myPersonalDataUsage", {"userId": citizen.national_id, "databaseId": "C"}
    )
    assert anonymous.status_code == 401

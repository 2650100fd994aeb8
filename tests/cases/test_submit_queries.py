"""The number of database queries of one submission through the API is pinned (a hot path)."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from ceiba.accounts.roles import Role
from ceiba.cases.models import Case, CaseDocument, ReferenceCounter
from ceiba.catalog.actions import do_load_service_definitions
from tests.cases.test_api_applications import (
    ANSWERS,
    BIRTH,
    IDENTITY,
    SERVICE,
    post_json,
    submit,
    token_client,
)
from tests.conftest import Tenant

# Host -> administration, token, security event, service, public holidays, reference number,
# then in one transaction (a savepoint and its release inside the test's): case, document,
# history event, notification. The ledger entry's queries belong to ceiba.ledger.
SUBMIT_QUERIES = 12


@pytest.fixture
def birth_a(tenant_a: Tenant) -> Tenant:
    do_load_service_definitions([BIRTH], administration=tenant_a.administration, actor=None)
    return tenant_a


def _sql(context: CaptureQueriesContext) -> str:
    return "\n".join(query["sql"][:120] for query in context.captured_queries)


def test_one_submission_makes_a_fixed_number_of_queries(birth_a: Tenant) -> None:
    # given a client system that already submitted once (the year's counter exists, the
    # token's last use is recent)
    citizen = token_client(birth_a, Role.CITIZEN)
    assert submit(citizen, "first").status_code == 201
    # when it submits another application
    with CaptureQueriesContext(connection) as context:
        response = submit(citizen, "second")
    # then
    assert response.status_code == 201, response.content
    ours = [q for q in context.captured_queries if '"ledger_' not in q["sql"]]
    assert len(ours) == SUBMIT_QUERIES, _sql(context)
    body = response.json()
    assert [event["kind"] for event in body["history"]] == ["submitted"]
    assert [document["requirement"] for document in body["documents"]] == ["requester_identity"]
    assert body["messages"] == []
    assert body["version"] == 2


def test_the_answer_of_a_new_submission_matches_a_later_read(birth_a: Tenant) -> None:
    citizen = token_client(birth_a, Role.CITIZEN)
    created = submit(citizen, "k").json()
    read = citizen.get(f"/api/v1/applications/{created['id']}").json()
    assert created == read


def test_a_replay_reads_the_first_answer_back(birth_a: Tenant) -> None:
    citizen = token_client(birth_a, Role.CITIZEN)
    first = submit(citizen, "same")
    again = submit(citizen, "same")
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    assert Case.objects.filter(idempotency_key="same").count() == 1


def test_the_last_of_two_files_for_one_requirement_is_current(birth_a: Tenant) -> None:
    citizen = token_client(birth_a, Role.CITIZEN)
    second = {**IDENTITY, "name": "id-2.pdf"}
    body: dict[str, Any] = {
        "service": SERVICE,
        "answers": ANSWERS,
        "documents": [IDENTITY, second],
    }
    response = post_json(citizen, "/api/v1/applications/submit", body)
    assert response.status_code == 201, response.content
    assert [d["original_name"] for d in response.json()["documents"]] == ["id-2.pdf"]
    stored = CaseDocument.objects.filter(case_id=response.json()["id"])
    assert sorted((d.original_name, d.is_current) for d in stored) == [
        ("id-2.pdf", True),
        ("id.pdf", False),
    ]


def test_references_continue_the_yearly_counter(birth_a: Tenant) -> None:
    citizen = token_client(birth_a, Role.CITIZEN)
    first = submit(citizen, "a").json()["reference"]
    counter = ReferenceCounter.objects.get(administration=birth_a.administration)
    counter.last = 41
    counter.save()
    second = submit(citizen, "b").json()["reference"]
    assert first.split("-")[2] == "000001"
    assert second.split("-")[2] == "000042"

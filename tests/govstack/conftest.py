"""The GovStack Registration building block's scenarios, run against Ceiba's facade.

The feature files are read from the shared GovStack checkout (``../shared/data/...``), never
copied here. Their identifiers name objects of the reference system's test data
(``test-data.json``): the ``world`` fixture creates a matching Ceiba service, applicant,
application or task for each through real actions, and the steps send the Ceiba id in place
of the scenario's. Unknown identifiers (the negative scenarios') are sent as written.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from ceiba.accounts.actions import do_create_account, do_create_api_token
from ceiba.accounts.models import User
from ceiba.accounts.roles import Role
from ceiba.cases import actions as case_actions
from ceiba.catalog.actions import do_load_definitions
from ceiba.catalog.definition import load_text
from ceiba.catalog.models import Service
from tests.conftest import Tenant

GOVSTACK = Path(__file__).resolve().parents[3] / "shared" / "data" / "govstack" / "registration"
FEATURES = GOVSTACK / "test" / "openAPI" / "features"
TEST_DATA = GOVSTACK / "test" / "openAPI" / "test-data.json"
API = GOVSTACK / "api" / "GovStack_Registration_BB_API.json"
STATISTICS_API = GOVSTACK / "api" / "GovStack_Registration_BB_API_statistics.json"


def pytest_bdd_apply_tag(tag: str, function: Any) -> bool:
    """Feature tags (@smoke, @method=GET, ...) are documentation here, not pytest markers."""
    return True


def definition_yaml(code: str, name: str) -> str:
    """A small but complete service: an optional note, a review, a request for information."""
    text = json.dumps({"fr": name, "es": name, "en": name})
    state = lambda label: json.dumps({"fr": label, "es": label, "en": label})  # noqa: E731
    return f"""
id: {code}
version: "1.0.0"
languages: [fr, es, en]
name: {text}
description: {text}
institution: GOV/70000001
sector: health
life_events: [birth]
applicants: [citizen]
form:
  schema:
    type: object
    additionalProperties: false
    properties:
      note: {{type: string, maxLength: 200}}
  sections:
    - id: main
      title: {text}
      fields: [note]
  fields:
    note:
      label: {text}
workflow:
  initial: submitted
  final: [approved, rejected]
  states:
    - {{id: submitted, label: {state("Submitted")}, sla_working_days: 2}}
    - {{id: under_review, label: {state("Under review")}, sla_working_days: 3}}
    - {{id: awaiting_information, label: {state("Information requested")}}}
    - {{id: approved, label: {state("Approved")}}}
    - {{id: rejected, label: {state("Rejected")}}}
  transitions:
    - {{name: start_review, label: {state("Start")}, from: [submitted], to: under_review,
        roles: [officer, supervisor]}}
    - {{name: request_information, label: {state("Ask")}, from: [under_review],
        to: awaiting_information, roles: [officer, supervisor], inputs: [message]}}
    - {{name: provide_information, label: {state("Answer")}, from: [awaiting_information],
        to: under_review, roles: [citizen], inputs: [message]}}
    - {{name: approve, label: {state("Approve")}, from: [under_review], to: approved,
        roles: [officer, supervisor]}}
    - {{name: reject, label: {state("Reject")}, from: [under_review], to: rejected,
        roles: [officer, supervisor], inputs: [reason]}}
outputs:
  - state: approved
    template: govstack/registration
    title: {text}
"""


@dataclass
class World:
    tenant: Tenant
    data: dict[str, Any]
    ids: dict[str, str] = field(default_factory=dict)
    applicants: dict[str, User] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)

    def ceiba_id(self, value: str) -> str:
        return self.ids.get(value, value)

    def applicant(self, applicant_id: str) -> User:
        if applicant_id not in self.applicants:
            slug = re.sub(r"[^a-z0-9]", "", applicant_id.lower())[:40] or "x"
            user = do_create_account(
                administration=self.tenant.administration,
                email=f"applicant-{slug}@alpha.example",
                password=None,
                role=Role.CITIZEN,
                full_name=f"Applicant {applicant_id}",
                actor=None,
            )
            self.applicants[applicant_id] = user
            self.ids[applicant_id] = str(user.pk)
        return self.applicants[applicant_id]

    def client_for(self, user: User) -> Client:
        if str(user.pk) not in self.tokens:
            _token, clear = do_create_api_token(user, "govstack client system", actor=user)
            self.tokens[str(user.pk)] = clear
        return Client(
            HTTP_HOST=self.tenant.host, HTTP_AUTHORIZATION=f"Bearer {self.tokens[str(user.pk)]}"
        )


def build_world(tenant: Tenant) -> World:
    data = json.loads(TEST_DATA.read_text())
    world = World(tenant, data)
    names = {item["name"]: item for item in data["services"]}
    definitions = []
    codes: dict[str, str] = {}
    extra = {"MCTS": "MCTS"}
    for index, name in enumerate([*names, *extra]):
        code = f"govstack.service-{index}"
        codes[name] = code
        definitions.append(load_text(definition_yaml(code, name), file=f"{code}.yaml"))
    do_load_definitions(definitions, administration=tenant.administration, actor=None)
    by_code = {s.code: s for s in Service.objects.filter(administration=tenant.administration)}
    services: dict[str, Service] = {}
    for item in data["services"]:
        service = by_code[codes[item["name"]]]
        services[item["id"]] = service
        world.ids[item["id"]] = str(service.pk)
        for eform in item["eForms"]:
            world.ids.setdefault(eform["eFormId"], str(service.current_version_id))
    default_service = services[data["services"][0]["id"]]
    supervisor = tenant.users[Role.SUPERVISOR]
    for item in data["applications"]:
        service = services.get(item["serviceId"], default_service)
        world.ids.setdefault(item["serviceId"], str(service.pk))
        result = case_actions.do_submit_application(
            service,
            actor=world.applicant(item["applicantId"]),
            answers={"note": item["description"]},
        )
        world.ids[item["fileId"]] = str(result.case.pk)
        world.ids[item["mainTaskId"]] = str(result.case.pk)
    for item in data["tasks"]:
        case_id = world.ids.get(item["taskId"]) or world.ids.get(item["fileId"])
        if case_id is None:
            service = services.get(item["serviceId"], default_service)
            result = case_actions.do_submit_application(
                service, actor=world.applicant(f"task-{item['taskId']}"), answers={}
            )
            case_id = str(result.case.pk)
        for key in ("taskId", "fileId", "mainTaskId"):
            if item.get(key):
                world.ids.setdefault(item[key], case_id)
        world.ids.setdefault(item["assigneeId"], str(supervisor.pk))
    return world


@pytest.fixture
def world(tenant_a: Tenant) -> World:
    if not TEST_DATA.exists():
        pytest.skip(f"GovStack test data not found at {TEST_DATA}")
    return build_world(tenant_a)

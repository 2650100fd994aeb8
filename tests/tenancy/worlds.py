"""Realistic data for the isolation walk: each administration gets applications, messages, notes,
an issued certificate, ledger entries, a security event and an API token, all made through the
real actions; ``markers`` are the strings that give those rows away in a response, and
``snapshot`` is every row reachable from the administration, to prove nothing of it changed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.contrib.sessions.models import Session
from django.db import models
from django.test import Client
from django.utils import timezone

from ceiba.accounts.actions import do_create_api_token
from ceiba.accounts.models import ApiToken, User
from ceiba.accounts.roles import Role
from ceiba.cases import actions as case_actions
from ceiba.cases.models import Case, CaseDocument, ReferenceCounter
from ceiba.catalog.models import Service
from ceiba.documents.actions import do_issue_case_outputs
from ceiba.documents.models import IssuedDocument
from ceiba.ledger.actions import do_init_log
from ceiba.ledger.integrator import integrate
from ceiba.ledger.models import Log
from ceiba.soc.models import SecurityEvent
from tests.cases.conftest import load_birth, pdf, submit_birth
from tests.conftest import PASSWORD, Tenant

OnCommit = Callable[..., AbstractContextManager[Any]]


@dataclass
class World:
    """One administration and what its people did, with the strings that name it."""

    tenant: Tenant
    service: Service
    open_case: Case  # under review, then sent back to the applicant: a message and a note
    issued_case: Case  # approved: the certificate was issued by the job queue
    draft: Case  # a draft with an uploaded document
    case_document: CaseDocument
    draft_document: CaseDocument
    document: IssuedDocument
    token: ApiToken
    token_clear: str
    idempotency_key: str
    upload_url: str
    message: str
    note: str
    answers: dict[str, str]
    public: list[str] = field(default_factory=list)  # shown to anyone on its own host
    private: list[str] = field(default_factory=list)  # shown only to its signed-in people

    @property
    def administration(self) -> Any:
        return self.tenant.administration

    @property
    def markers(self) -> list[str]:
        return [*self.public, *self.private]

    @property
    def log(self) -> Log:
        return Log.objects.get(administration=self.administration)


def populate(
    tenant: Tenant, tag: str, answers: dict[str, str], on_commit: OnCommit, *, first_reference: int
) -> World:
    """Give ``tenant`` applications, a certificate, ledger entries, a security event and a token.

    ``first_reference`` seeds the reference counter so two administrations never share a case
    reference (they are numbered per administration) and a marker cannot match the other's.
    """
    citizen = tenant.users[Role.CITIZEN]
    officer = tenant.users[Role.OFFICER]
    supervisor = tenant.users[Role.SUPERVISOR]
    analyst = tenant.users[Role.SOC_ANALYST]
    ReferenceCounter.objects.create(
        administration=tenant.administration, year=timezone.now().year, last=first_reference
    )
    message = f"{tag} officer asks for page seven of the family book"
    note = f"{tag} internal note the applicant called twice about {answers['family_name']}"
    key = f"{tag.lower()}-idempotency-key-1"
    with on_commit(execute=True):
        do_init_log(tenant.administration, actor=None)
        service = load_birth(tenant)
        # An application under review, sent back to the applicant with a message, with a note.
        open_case = submit_birth(tenant, service, **answers)
        open_case = case_actions.do_transition_case(
            open_case, "start_review", actor=officer, expected_version=open_case.version
        )
        case_actions.do_claim_case(open_case, actor=officer)
        case_actions.do_add_note(open_case, actor=supervisor, body=note)
        open_case = case_actions.do_request_information(
            Case.objects.get(pk=open_case.pk),
            actor=officer,
            message=message,
            expected_version=Case.objects.get(pk=open_case.pk).version,
        )
        # An approved application: the job queue issues its certificate after commit.
        issued_case = submit_birth(tenant, service, key=key, **answers)
        issued_case = case_actions.do_transition_case(
            issued_case, "start_review", actor=officer, expected_version=issued_case.version
        )
        issued_case = case_actions.do_transition_case(
            issued_case, "approve", actor=officer, expected_version=issued_case.version, note="ok"
        )
        # A draft with one uploaded document.
        draft = case_actions.do_start_draft(service, actor=citizen, answers=answers)
        draft_document = case_actions.do_upload_document(
            draft, actor=citizen, requirement="requester_identity", file=pdf()
        )
        token, clear = do_create_api_token(analyst, f"{tag.lower()}-siem-connector", actor=analyst)
    if not IssuedDocument.objects.filter(case_reference=issued_case.reference).exists():
        do_issue_case_outputs(issued_case, actor=officer)  # the queue did not run it: do it now
    document = IssuedDocument.objects.get(case_reference=issued_case.reference)
    # A failed sign-in (a security event) and a staged GovStack upload, through the real pages.
    visitor = Client(HTTP_HOST=tenant.host)
    visitor.post("/accounts/login/", {"username": citizen.email, "password": "wrong password"})
    with on_commit(execute=True):
        visitor.post("/accounts/login/", {"username": citizen.email, "password": PASSWORD})
        upload = visitor.post(
            "/govstack/registration/documents?additionalMetadata=requester_identity",
            {"file": pdf()},
            HTTP_INFORMATION_MEDIATOR_CLIENT="CEIBA/GOV/70000001/portal",
        )
    assert upload.status_code == 200, upload.content[:300]
    with on_commit(execute=True):
        integrate(Log.objects.get(administration=tenant.administration).pk)
    world = World(
        tenant=tenant,
        service=service,
        open_case=Case.objects.get(pk=open_case.pk),
        issued_case=Case.objects.get(pk=issued_case.pk),
        draft=Case.objects.get(pk=draft.pk),
        case_document=open_case.documents.get(),
        draft_document=draft_document,
        document=document,
        token=token,
        token_clear=clear,
        idempotency_key=key,
        upload_url=upload.json()["url"],
        message=message,
        note=note,
        answers=answers,
    )
    world.public, world.private = _markers(world)
    return world


def _markers(world: World) -> tuple[list[str], list[str]]:
    tenant = world.tenant
    administration = tenant.administration
    public = [
        administration.slug.upper(),
        tenant.host,
        str(administration.pk),
        str(tenant.institution.pk),
        *administration.names.values(),
        *tenant.institution.names.values(),
        str(world.service.pk),
        str(world.service.current_version_id),
        world.log.origin,
        world.log.vkey,
    ]
    private = [
        tenant.legal_entity.name,
        tenant.legal_entity.registration_number,
        str(tenant.legal_entity.pk),
        world.message,
        world.note,
        *world.answers.values(),
        world.document.number,
        str(world.document.pk),
        world.document.sha256,
        world.token.token_prefix,
        world.token.name,
        world.token_clear,
        world.idempotency_key,
        world.upload_url.rsplit(":", 1)[-1],
    ]
    for case in (world.open_case, world.issued_case, world.draft):
        private += [str(case.pk), case.reference or ""]
    for document in CaseDocument.objects.filter(administration=administration):
        private += [str(document.pk)]
    for user in tenant.users.values():
        private += [user.email, str(user.pk), user.national_id, user.full_name]
    private += [
        str(pk)
        for pk in SecurityEvent.objects.filter(administration=administration).values_list(
            "pk", flat=True
        )
    ]
    return [m for m in public if m], [m for m in private if m]


# ---------------------------------------------------------------------------------------------
# Snapshot: every row reachable from the administration


def _state(row: models.Model) -> dict[str, Any]:
    state: dict[str, Any] = {}
    for model_field in row._meta.concrete_fields:
        value = model_field.value_from_object(row)
        if isinstance(value, bytes | memoryview):
            value = bytes(value).hex()
        elif isinstance(model_field, models.FileField):
            state[f"{model_field.name}#sha256"] = _file_digest(value)
            value = value.name
        state[model_field.name] = repr(value)
    for m2m in row._meta.many_to_many:
        state[m2m.name] = sorted(
            str(pk) for pk in getattr(row, m2m.name).values_list("pk", flat=True)
        )
    return state


def _file_digest(value: Any) -> str:
    if not value:
        return ""
    try:
        with value.storage.open(value.name, "rb") as handle:
            return hashlib.sha256(handle.read()).hexdigest()
    except FileNotFoundError:
        return "missing"


def _tenant_rows(administration: Any) -> Iterator[models.Model]:
    """The administration, its rows, and rows of other tables reachable from them (two levels:
    authenticator devices of its accounts and their tokens, nodes of its log...), its people's
    sessions and their sign-in lockout records."""
    found: dict[type[models.Model], set[Any]] = {type(administration): {administration.pk}}
    yield administration
    for model in apps.get_models():
        if any(f.name == "administration" for f in model._meta.concrete_fields):
            rows = list(model._default_manager.filter(administration=administration))
            found.setdefault(model, set()).update(row.pk for row in rows)
            yield from rows
    reached: set[tuple[str, Any]] = set()
    for _level in range(2):
        new: dict[type[models.Model], set[Any]] = {}
        for model in apps.get_models():
            if (
                model in found
                and model is not type(administration)
                and any(f.name == "administration" for f in model._meta.concrete_fields)
            ):
                continue
            for model_field in model._meta.concrete_fields:
                target = model_field.related_model if model_field.is_relation else None
                if target is None or target not in found or model_field.name == "administration":
                    continue
                for row in model._default_manager.filter(
                    **{f"{model_field.name}__in": found[target]}
                ):
                    key = (model._meta.label, str(row.pk))
                    if key in reached:
                        continue
                    reached.add(key)
                    new.setdefault(model, set()).add(row.pk)
                    yield row
        for model, pks in new.items():
            found.setdefault(model, set()).update(pks)
    user_ids = {str(pk) for pk in found.get(User, set())}
    for session in Session.objects.all():
        if session.get_decoded().get("_auth_user_id") in user_ids:
            yield session
    from axes.models import AccessAttempt, AccessFailureLog, AccessLog

    for model in (AccessAttempt, AccessFailureLog, AccessLog):
        yield from model.objects.filter(username__startswith=f"{administration.slug}:")


def snapshot(administration: Any) -> dict[tuple[str, str], dict[str, Any]]:
    """(model, pk) -> field values (files by content digest) of every row of the administration."""
    return {(row._meta.label, str(row.pk)): _state(row) for row in _tenant_rows(administration)}


def differences(
    before: dict[tuple[str, str], dict[str, Any]],
    after: dict[tuple[str, str], dict[str, Any]],
    *,
    may_add: frozenset[str] = frozenset(),
) -> list[str]:
    """What changed, one line per row: changed fields, deleted rows, rows added (unless their
    model is in ``may_add``)."""
    lines = []
    for key, state in before.items():
        if key not in after:
            lines.append(f"deleted {key[0]} {key[1]}")
        elif after[key] != state:
            changed = {
                name: (state.get(name), after[key].get(name))
                for name in set(state) | set(after[key])
                if state.get(name) != after[key].get(name)
            }
            lines.append(f"changed {key[0]} {key[1]}: {changed}")
    for key in after.keys() - before.keys():
        if key[0] not in may_add:
            lines.append(f"added {key[0]} {key[1]}: {after[key]}")
    return lines

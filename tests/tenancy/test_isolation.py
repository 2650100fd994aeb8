"""Tenant isolation over every route: a user of administration A never reads or changes B's rows.

The walk is generated from the URL resolver (both NinjaAPIs are mounted there), so a new page
or API route is covered the day it is added; a route with a path parameter this test cannot
fill fails the test on purpose. Every route gets GET, POST, PUT, PATCH and DELETE, filled with
B's identifiers: API operations get a JSON (or multipart) body built from their OpenAPI
request schema with B's ids in every id/code/number/reference field, pages get a form naming
B's objects. Both administrations hold realistic data made through the real actions
(``tests/tenancy/worlds.py``).

Walkers: every role of A and an anonymous visitor on A's host (/admin/, which admits platform
admins only, is walked by the anonymous visitor and A's administrator); a platform admin on
A's host (who may read other administrations in /admin/ only, so it GETs /admin/); a staff
session opened on A's host and replayed on B's host (anonymous there). Each call runs what it
schedules after commit (jobs, notifications). After each walk: no 5xx, no string of B (nor,
on B's host, of A's account) in any answer unless the request itself carried it, B's rows and
every row reachable from them unchanged, no mail to B's people. Leaks found and not fixed yet
are listed in ``KNOWN_LEAKS`` and reproduced by strict xfail tests.
"""

from __future__ import annotations

import base64
import json
import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote_plus, urlencode

import pytest
from django.apps import apps
from django.contrib.auth.tokens import default_token_generator
from django.contrib.contenttypes.models import ContentType
from django.core import mail
from django.test import Client
from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from ceiba.accounts import actions as account_actions
from ceiba.accounts.models import User
from ceiba.accounts.roles import Role
from ceiba.ledger import queries as ledger_queries
from ceiba.ledger.models import Checkpoint
from tests.cases.conftest import PDF
from tests.conftest import PASSWORD, Tenant
from tests.tenancy.worlds import World, differences, populate, snapshot

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
NINJA_PREFIXES = ("api/v1/", "govstack/registration/")
MEDIATOR = "CEIBA/GOV/70000001/walk"
FORM_CONTENT = "application/x-www-form-urlencoded"
ANSWERS_A = {"family_name": "Aardvarkson", "given_names": "Alphonse", "place_of_birth": "Arlit"}
ANSWERS_B = {
    "family_name": "Zyzzyvanova",
    "given_names": "Bertholde",
    "place_of_birth": "Bobo-Dioulasso",
}
_PARAM = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>[^>]+)>")
_APP_LIST = re.compile(r"^admin/\^?\(\?P<app_label>(?P<labels>[^)]*)\)/\$$")


# ---------------------------------------------------------------------------------------------
# The routes, filled with B's objects


def iter_routes(patterns: list[Any], prefix: str = "") -> Iterator[str]:
    for entry in patterns:
        route = str(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from iter_routes(entry.url_patterns, prefix + route)
        elif isinstance(entry, URLPattern):
            yield prefix + route


def all_routes() -> list[str]:
    return sorted(set(iter_routes(get_resolver().url_patterns)))


def parameter_values(b: World) -> dict[str, str]:
    """Values naming B's objects, each of the kind its route expects."""
    tenant = b.tenant
    citizen = tenant.users[Role.CITIZEN]
    return {
        # accounts: a password reset link of B's citizen
        "uidb64": urlsafe_base64_encode(force_bytes(citizen.pk)),
        "token": default_token_generator.make_token(citizen),
        # tenancy API: B's institution (its member id)
        "member_class": tenant.institution.member_class,
        "member_code": tenant.institution.member_code,
        # ledger API: B's last integrated entry
        "index": str(b.log.size - 1),
        # documents pages: B's issued certificate
        "number": b.document.number,
        # catalog pages, REST catalog: the service B offers (same code as A's: a pack)
        "code": b.service.code,
        "service_code": b.service.code,
        # portal pages and REST applications: B's application under review (not a draft)
        "case_id": str(b.open_case.pk),
        "step_number": "1",
        "application_id": str(b.open_case.pk),
        "document_id": str(b.case_document.pk),
        # REST tasks: the same case, as an officer's task
        "task_id": str(b.open_case.pk),
        # GovStack facade: application file, task, service, e-form of B
        "fileId": str(b.open_case.pk),
        "taskId": str(b.open_case.pk),
        "serviceId": str(b.service.pk),
        "eFormId": str(b.service.current_version_id),
        # admin OTP device pages (<int:pk>): the authenticator of B's officer
        "pk": str(TOTPDevice.objects.get(user=tenant.users[Role.OFFICER]).pk),
    }


def admin_object(b: World, app_label: str, model_name: str) -> str:
    """The pk of one of B's rows of that model (admin change pages)."""
    model = apps.get_model(app_label, model_name)
    tenant = b.tenant
    officer = tenant.users[Role.OFFICER]
    chosen: dict[type, Any] = {
        User: tenant.users[Role.CITIZEN].pk,
        TOTPDevice: TOTPDevice.objects.get(user=officer).pk,
        StaticDevice: StaticDevice.objects.filter(user=officer).values_list("pk", flat=True)[0],
    }
    if model in chosen:
        return str(chosen[model])
    if model._meta.label == "tenancy.Administration":
        return str(b.administration.pk)
    if model._meta.label == "cases.Case":
        return str(b.open_case.pk)
    if model._meta.app_label == "axes":
        row = model._default_manager.filter(username__startswith=f"{b.administration.slug}:")
        if row.exists():
            return str(row.first().pk)
    if any(f.name == "administration" for f in model._meta.concrete_fields):
        row = model._default_manager.filter(administration=b.administration).first()
        if row is not None:
            return str(row.pk)
    return str(b.administration.pk)  # no row of B: an id of B that is no row of this model


def fill(route: str, values: dict[str, str], b: World) -> list[str]:
    """The URLs of a route filled with B's objects (one per admin app for the app index)."""
    app_list = _APP_LIST.match(route)
    if app_list:
        return [f"/admin/{label}/" for label in app_list.group("labels").split("|")]
    if route == "admin/(?P<url>.*)$":
        return [f"/admin/cases/case/{b.open_case.pk}"]  # the catch-all: B's case, no slash
    admin_model = re.match(r"admin/(\w+)/(\w+)/<", route)
    if admin_model:
        values = {**values, "object_id": admin_object(b, *admin_model.groups())}
    if route.startswith("admin/r/"):
        values = {
            **values,
            "content_type_id": str(ContentType.objects.get_for_model(User).pk),
            "object_id": str(b.tenant.users[Role.CITIZEN].pk),
        }

    def replace(match: re.Match[str]) -> str:
        name = match.group("name")
        if name not in values:
            pytest.fail(
                f"route {route!r} takes a parameter {name!r} that the isolation test cannot fill: "
                "add a value naming another administration's object to parameter_values()"
            )
        return values[name]

    url = "/" + _PARAM.sub(replace, route)
    matched = resolve(url.split("?")[0]).route
    assert matched.replace("^", "") == route.replace("^", ""), (
        f"{url} (for {route}) resolves to {matched}: a parameter has the wrong kind"
    )
    return [url]


# ---------------------------------------------------------------------------------------------
# Request bodies: API operations from their OpenAPI schema, pages from one form naming B


def api_operations() -> dict[tuple[str, str], tuple[dict[str, Any], dict[str, Any]]]:
    """(OpenAPI path, METHOD) -> (operation, component schemas), for both NinjaAPIs."""
    from ceiba.api import api
    from ceiba.cases.govstack import govstack_api

    found = {}
    for ninja in (api, govstack_api):
        schema = ninja.get_openapi_schema()
        components = schema.get("components", {}).get("schemas", {})
        for path, operations in schema["paths"].items():
            for method, operation in operations.items():
                found[(path, method.upper())] = (operation, components)
    return found


def b_ids(b: World) -> dict[str, Any]:
    """B's objects by the field names API bodies and queries use for them."""
    tenant = b.tenant
    checkpoint = Checkpoint.objects.filter(administration=b.administration).order_by("-size")
    leaf = ledger_queries.entry_at(b.administration, b.log.size - 1)

    return {
        "service": b.service.code,
        "registrationName": b.service.code,
        "serviceId": str(b.service.pk),
        "eFormId": str(b.service.current_version_id),
        "applicantId": str(tenant.users[Role.CITIZEN].pk),
        "fileId": str(b.open_case.pk),
        "taskId": str(b.open_case.pk),
        "mainTaskId": str(b.open_case.pk),
        "assignee": str(tenant.users[Role.OFFICER].pk),
        "assigneeId": str(tenant.users[Role.OFFICER].pk),
        "operator": tenant.users[Role.OFFICER].full_name,
        "version": b.open_case.version,
        "transition": "withdraw",
        "requirement": "requester_identity",
        "additionalMetadata": "requester_identity",
        "name": "proof.pdf",
        "content": base64.b64encode(PDF).decode(),
        "message": "walk message",
        "note": "walk note",
        "reason": "walk reason",
        "body": "walk note",
        "documentUrls": [b.upload_url],
        "number": b.document.number,
        "qr": b.document.qr_payload,
        "reference": b.open_case.reference,
        "q": b.open_case.reference,
        "userId": tenant.users[Role.CITIZEN].national_id,
        "databaseId": "ceiba",
        "index": str(leaf.index),
        "hash": ledger_queries.b64(leaf.leaf_hash),
        "size": str(checkpoint.values_list("size", flat=True).first() or 1),
        "first": "1",
        "second": str(checkpoint.values_list("size", flat=True).first() or 1),
        "institution": tenant.institution.member_id,
        "data": {"transition": "withdraw", "note": "walk note"},
        "answers": {},
    }


def example(schema: dict[str, Any], components: dict[str, Any], ids: dict[str, Any]) -> Any:
    """A minimal valid value of ``schema``, with B's objects in the fields that name one."""
    if "$ref" in schema:
        return example(components[schema["$ref"].rsplit("/", 1)[-1]], components, ids)
    for combinator in ("anyOf", "oneOf", "allOf"):
        if combinator in schema:
            options = [s for s in schema[combinator] if s.get("type") != "null"]
            return example(options[0], components, ids) if options else None
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    if kind == "object":
        properties = schema.get("properties", {})
        required = set(schema.get("required", []))
        return {
            name: ids[name] if name in ids else example(sub, components, ids)
            for name, sub in properties.items()
            if (name in required or name in ids) and sub.get("format") != "binary"
        }
    if kind == "array":
        item = example(schema.get("items", {}), components, ids)
        return [item] * max(schema.get("minItems", 0), 0)
    if kind == "string":
        formats = {"uuid": str(uuid.uuid4()), "date": "2026-01-01", "date-time": "2026-01-01T00Z"}
        text = "walk".ljust(schema.get("minLength", 0), "x")
        return formats.get(schema.get("format", ""), text)
    if kind in ("integer", "number"):
        return schema.get("minimum", 1)
    if kind == "boolean":
        return False
    return {}


@dataclass
class Call:
    method: str
    url: str
    route: str
    query: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    content_type: str = ""

    @property
    def path(self) -> str:
        return self.url + ("?" + urlencode(self.query) if self.query else "")

    @property
    def sent(self) -> str:
        """Everything the request carried, as text, to tell an echo from a leak."""
        body = self.body.decode("utf-8", errors="replace")
        return "\n".join([unquote_plus(self.url), *self.query.values(), body, unquote_plus(body)])


def html_form(b: World, typed: str) -> dict[str, Any]:
    """One form for every page, naming B's objects in the fields pages read."""
    return {
        "username": typed,
        "email": typed,
        "password": "x",
        "new_password1": "walk Password 42 of A",  # a reset link of B's citizen (uidb64/token)
        "new_password2": "walk Password 42 of A",
        "code": "000000",
        "language": "en",
        "case_id": str(b.open_case.pk),
        "application": str(b.open_case.pk),
        "reference": b.open_case.reference,
        "q": b.open_case.reference,
        "number": b.document.number,
        "qr": b.document.qr_payload,
        "document": str(b.case_document.pk),
        "assignee": str(b.tenant.users[Role.OFFICER].pk),
        "on_behalf_of": str(b.tenant.legal_entity.pk),
        "version": str(b.open_case.version),
        "transition": "withdraw",
        "reason": "walk reason",
        "message": "walk message",
        "note": "walk note",
        "body": "walk note",
        "requirement": "requester_identity",
        "idempotency_key": b.idempotency_key,
        "service": b.service.code,
        "institution": b.tenant.institution.member_id,
        "action": "draft",
    }


def calls_for(
    url: str, route: str, b: World, form: dict[str, Any], operations: Any, ids: dict[str, Any]
) -> list[Call]:
    calls = []
    openapi_path = "/" + _PARAM.sub(lambda m: "{" + m.group("name") + "}", route)
    for method in METHODS:
        if route.startswith(NINJA_PREFIXES):
            found = operations.get((openapi_path, method))
            calls.append(_api_call(method, url, route, found, ids, b))
        elif method == "GET":
            query = {"q": b.open_case.reference, "service": b.service.code, "state": "submitted"}
            calls.append(Call(method, url, route, query=query))
        elif method == "POST":
            files = {"file": _pdf("proof.pdf"), "requester_identity": _pdf("proof.pdf")}
            if "certificate" in ids and "verify" in route:
                files["document"] = _pdf(f"{b.document.number}.pdf", ids["certificate"])
            body = encode_multipart(BOUNDARY, {**form, **files})
            calls.append(Call(method, url, route, body=body, content_type=MULTIPART_CONTENT))
        else:
            body = urlencode(form).encode()
            calls.append(Call(method, url, route, body=body, content_type=FORM_CONTENT))
    return calls


def _pdf(name: str, content: bytes = PDF) -> Any:
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, content, content_type="application/pdf")


def _api_call(method: str, url: str, route: str, found: Any, ids: dict[str, Any], b: World) -> Call:
    if found is None:  # no such operation: 405 expected, sent with a JSON body all the same
        body = b"" if method == "GET" else b"{}"
        return Call(method, url, route, body=body, content_type="application/json")
    operation, components = found
    query = {
        p["name"]: str(ids[p["name"]])
        for p in operation.get("parameters", [])
        if p["in"] == "query" and p["name"] in ids
    }
    content = operation.get("requestBody", {}).get("content", {})
    takes_file = any(p["name"] == "file" for p in operation.get("parameters", []))
    if "application/json" in content:
        body = example(content["application/json"]["schema"], components, ids)
        return Call(method, url, route, query, json.dumps(body).encode(), "application/json")
    if "multipart/form-data" in content or takes_file:
        schema = content.get("multipart/form-data", {}).get("schema", {"type": "object"})
        fields = {k: v for k, v in example(schema, components, ids).items() if v is not None}
        fields["file"] = _pdf("proof.pdf")
        if "certificate" in ids and "verify" in route:
            fields["file"] = _pdf(f"{b.document.number}.pdf", ids["certificate"])
        body = encode_multipart(BOUNDARY, fields)
        return Call(method, url, route, query, body, MULTIPART_CONTENT)
    if method != "GET":  # a raw body (the witness cosignature endpoint): B's signed checkpoint
        note = Checkpoint.objects.filter(administration=b.administration).order_by("-size")
        text = (note.values_list("note", flat=True).first() or "") if note.exists() else ""
        return Call(method, url, route, query, str(text).encode(), "text/plain")
    return Call(method, url, route, query)


def build_calls(b: World, typed: str, *, certificate: bool = True) -> list[Call]:
    """Every route and method, filled with B's objects. ``certificate``: verification calls
    carry B's certificate (its PDF, QR text and number); without it they name none."""
    values = parameter_values(b)
    operations = api_operations()
    ids = b_ids(b)
    form = html_form(b, typed)
    if certificate:
        with b.document.pdf.open("rb") as handle:
            ids["certificate"] = handle.read()
    else:
        for fields in (ids, form):
            fields.pop("qr")
            fields["number"] = "BC-2026-0000-0000-0000"
    calls = []
    for route in all_routes():
        for url in fill(route, values, b):
            calls.extend(calls_for(url, route, b, form, operations, ids))
    return calls


# ---------------------------------------------------------------------------------------------
# Walkers


@dataclass
class Walker:
    """A client that walks: who it is, where its requests go, what it must never be shown."""

    label: str
    host: str  # the HTTP_HOST its requests carry
    markers: list[str]
    sign_in: Callable[[], Client] | None = None  # None: anonymous
    user: User | None = None
    admin_reads: bool = False  # a platform admin: /admin/ is read (GET) and may show B
    admin_methods: tuple[str, ...] = ("GET",)  # what it sends to /admin/ (see ADMIN_WALKERS)
    as_anonymous: bool = False  # must see no more than an anonymous visitor of its host
    client: Client = field(default_factory=lambda: Client(raise_request_exception=False))

    def ready(self) -> Client:
        """The client, signed in again if a route signed it out (logout, MFA pages...); an
        exception in a view comes back as the 500 page, so the walk reports every one."""
        if self.sign_in is None or self.user is None:
            return self.client
        session = self.client.session
        signed = session.get("_auth_user_id") == str(self.user.pk)
        verified = not self.user.is_staff_role or DEVICE_ID_SESSION_KEY in session
        if not (signed and verified):
            self.client = self.sign_in()
            self.client.raise_request_exception = False
        return self.client


def fresh_sign_in(sign_in: Callable[..., Client], user: User, host: str) -> Callable[[], Client]:
    def again() -> Client:
        # The walk posts wrong codes and uses this step's code: start from a clean device.
        TOTPDevice.objects.filter(user=user).update(
            last_t=-1, throttling_failure_count=0, throttling_failure_timestamp=None
        )
        return sign_in(user, host)

    return again


# /admin/ lets in platform admins only (``User.is_staff``), with one check before any view, the
# same for every tenant role: the anonymous visitor and A's administration administrator (the
# most privileged tenant role) send it every method, the other roles skip it (time: the admin
# has ~200 URLs, four fifths of the walk).
ADMIN_WALKERS = frozenset({Role.ADMIN})

# A leak the walk found and that is not fixed yet: (walker label, METHOD, route) -> the bug.
# The walk skips exactly these checks; a strict xfail test below reproduces each one.
KNOWN_LEAKS: dict[tuple[str, str, str], str] = {}


def recorded_requests(host: str) -> str:
    """The security events of the administration serving ``host``, as text."""
    from ceiba.soc.models import SecurityEvent
    from ceiba.tenancy.queries import administration_for_host

    events = SecurityEvent.objects.filter(administration=administration_for_host(host))
    return "\n".join(
        f"{e.actor_name} {e.url_path} {e.target} {e.reason} {json.dumps(e.details)}" for e in events
    )


def send(client: Client, call: Call, host: str, on_commit: Any) -> tuple[int, str]:
    """Send the call (running what it schedules after commit, as the job queue would); the
    status and the answer as text (body, Location and Content-Disposition headers)."""
    with on_commit(execute=True):
        response = client.generic(
            call.method,
            call.path,
            call.body,
            content_type=call.content_type or "application/octet-stream",
            HTTP_HOST=host,
            HTTP_INFORMATION_MEDIATOR_CLIENT=MEDIATOR,
        )
    body = b"".join(response.streaming_content) if response.streaming else response.content
    headers = "\n".join(response.get(h, "") for h in ("Location", "Content-Disposition"))
    return response.status_code, body.decode("utf-8", errors="replace") + "\n" + headers


def walk(walker: Walker, calls: list[Call], on_commit: Any) -> list[str]:
    """Send every call as the walker; the problems seen (5xx, markers shown)."""
    problems: list[str] = []
    for call in calls:
        on_admin = call.route.startswith("admin/")
        if on_admin and call.method not in walker.admin_methods:
            continue
        status, text = send(walker.ready(), call, walker.host, on_commit)
        where = f"{walker.label} {call.method} {call.path[:160]}"
        if status >= 500:
            problems.append(f"{where}: {status}")
        if (walker.admin_reads and on_admin) or (walker.label, call.method, call.route) in (
            KNOWN_LEAKS
        ):
            continue
        sent = call.sent
        shown = [m for m in walker.markers if m in text and m not in sent]
        if shown and call.route == "api/v1/soc/security-events":
            # A's own security events record what the walk sent A earlier (a typed e-mail, a
            # path naming B's case): that is A's record of the request, not B's row.
            recorded = recorded_requests(walker.host)
            shown = [m for m in shown if m not in recorded]
        if shown and walker.as_anonymous:
            # What the host shows any visitor (its public ledger...) is not the session's doing.
            visitor = Client(raise_request_exception=False)
            _status, public = send(visitor, call, walker.host, on_commit)
            shown = [m for m in shown if m not in public]
        if shown:
            problems.append(f"{where} ({status}) shows {shown[:5]}")
    return problems


# ---------------------------------------------------------------------------------------------
# Fixtures


@pytest.fixture(autouse=True)
def _media_root(settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture
def world_a(tenant_a: Tenant, django_capture_on_commit_callbacks: Any) -> World:
    return populate(
        tenant_a, "Alpha", ANSWERS_A, django_capture_on_commit_callbacks, first_reference=0
    )


@pytest.fixture
def world_b(tenant_b: Tenant, world_a: World, django_capture_on_commit_callbacks: Any) -> World:
    world = populate(
        tenant_b, "Beta", ANSWERS_B, django_capture_on_commit_callbacks, first_reference=700
    )
    # A lockout record of B: failed sign-ins of B's administrator on B's host.
    Client(HTTP_HOST=tenant_b.host).post(
        "/accounts/login/", {"username": tenant_b.users[Role.ADMIN].email, "password": "nope"}
    )
    mail.outbox.clear()  # B's people were notified of their own applications; start counting
    return world


@pytest.fixture
def platform_admin(db: Any) -> User:
    user = account_actions.do_create_account(
        administration=None,
        email="root@platform.example",
        password=PASSWORD,
        role=Role.PLATFORM_ADMIN,
        full_name="Platform operator",
        actor=None,
    )
    TOTPDevice.objects.create(user=user, name="authenticator", confirmed=True)
    return user


def assert_isolated(
    problems: list[str], before: Any, world_b: World, *, may_add: frozenset[str] = frozenset()
) -> None:
    changes = differences(before, snapshot(world_b.administration), may_add=may_add)
    b_emails = {user.email for user in world_b.tenant.users.values()}
    mails = [f"{m.to} {m.subject}" for m in mail.outbox if set(m.to) & b_emails]
    report = [*problems, *(f"B's rows: {c}" for c in changes), *(f"mail to B: {m}" for m in mails)]
    assert not report, f"{len(report)} isolation problems:\n" + "\n".join(report[:60])


# ---------------------------------------------------------------------------------------------
# The walks


@pytest.mark.django_db
def test_no_route_reads_or_changes_another_administration(
    world_a: World,
    world_b: World,
    sign_in: Callable[..., Client],
    django_capture_on_commit_callbacks: Any,
) -> None:
    """Every role of A, and an anonymous visitor, on A's host, with B's objects everywhere."""
    # given: every route and method, filled with B's objects; B's rows as they are
    typed = world_b.tenant.users[Role.ADMIN].email  # typed into forms: echoed, not leaked
    calls = build_calls(world_b, typed)
    assert any(c.url == "/api/v1/tenancy/institutions" for c in calls)  # the REST API
    assert any(c.url.startswith("/govstack/registration/tasks/") for c in calls)  # GovStack
    before = snapshot(world_b.administration)
    tenant_a = world_a.tenant
    walkers = [
        Walker(
            str(role),
            tenant_a.host,
            world_b.markers,
            fresh_sign_in(sign_in, user, tenant_a.host),
            user,
            admin_methods=METHODS if role in ADMIN_WALKERS else (),
        )
        for role, user in tenant_a.users.items()
    ]
    walkers.append(Walker("anonymous", tenant_a.host, world_b.markers, admin_methods=METHODS))

    # when: each walks every call
    problems = [p for w in walkers for p in walk(w, calls, django_capture_on_commit_callbacks)]

    # then: no error, nothing of B shown, B's rows unchanged, no mail to B's people
    assert_isolated(problems, before, world_b)


@pytest.mark.django_db
def test_platform_admin_on_a_host_changes_nothing_of_b(
    world_a: World,
    world_b: World,
    platform_admin: User,
    sign_in: Callable[..., Client],
    django_capture_on_commit_callbacks: Any,
) -> None:
    """A platform admin reads every administration in /admin/ (GET only, may show B); on A's
    tenant routes, with B's objects in every call, it shows nothing of B and changes nothing."""
    calls = build_calls(world_b, world_b.tenant.users[Role.ADMIN].email)
    before = snapshot(world_b.administration)
    host = world_a.tenant.host
    walker = Walker(
        "platform_admin",
        host,
        world_b.markers,
        fresh_sign_in(sign_in, platform_admin, host),
        platform_admin,
        admin_reads=True,
    )
    problems = walk(walker, calls, django_capture_on_commit_callbacks)
    assert_isolated(problems, before, world_b)


@pytest.mark.django_db
def test_platform_admin_reads_no_security_event_of_b_on_a_host(
    world_a: World,
    world_b: World,
    platform_admin: User,
    sign_in: Callable[..., Client],
) -> None:
    client = fresh_sign_in(sign_in, platform_admin, world_a.tenant.host)()
    response = client.get("/api/v1/soc/security-events?limit=1000")
    assert response.status_code == 200
    shown = [m for m in world_b.markers if m in response.content.decode()]
    assert not shown, f"B's security events on A's host: {shown[:5]}"


@pytest.mark.django_db
def test_session_of_a_replayed_on_b_host_is_anonymous(
    world_a: World,
    world_b: World,
    sign_in: Callable[..., Client],
    django_capture_on_commit_callbacks: Any,
) -> None:
    """A session opened on A's host, sent to B's host, is anonymous there: B's pages show it
    nothing of B that an anonymous visitor would not see, and nothing of the account (its
    e-mail, its name, A's data) as if it were signed in on B; only security events (the refused
    session, failed sign-ins) are added to B's rows. The calls carry no certificate of B: on
    B's host, anyone may verify one (and that is recorded), which is no session's doing."""
    role = Role.SUPERVISOR  # staff: a session past the second factor, with the most case rights
    user = world_a.tenant.users[role]
    calls = build_calls(world_b, "nobody@example.org", certificate=False)
    before = snapshot(world_b.administration)
    markers = [*world_b.private, *world_a.private, *world_a.public]
    walker = Walker(
        f"{role} of A on B's host",
        world_b.tenant.host,
        markers,
        fresh_sign_in(sign_in, user, world_a.tenant.host),
        user,
        as_anonymous=True,
    )
    problems = walk(walker, calls, django_capture_on_commit_callbacks)
    assert_isolated(
        problems,
        before,
        world_b,
        may_add=frozenset({"soc.SecurityEvent", "axes.AccessAttempt", "axes.AccessFailureLog"}),
    )


# ---------------------------------------------------------------------------------------------
# The walk's own checks


@pytest.mark.django_db
def test_snapshot_reaches_every_row_of_b(world_a: World, world_b: World) -> None:
    """The snapshot holds B's rows and the rows reachable from them only through B's rows."""
    taken = {model for model, _pk in snapshot(world_b.administration)}
    assert {
        "cases.Case",
        "cases.CaseMessage",
        "cases.CaseNote",
        "cases.CaseDocument",
        "documents.IssuedDocument",
        "ledger.LedgerEntry",
        "ledger.Node",
        "ledger.Checkpoint",
        "soc.SecurityEvent",
        "accounts.ApiToken",
        "notify.Notification",
        "otp_totp.TOTPDevice",
        "otp_static.StaticDevice",
        "otp_static.StaticToken",
        "sessions.Session",
        "axes.AccessAttempt",
    } <= taken
    a_keys = set(snapshot(world_a.administration))
    assert not a_keys & set(snapshot(world_b.administration))


@pytest.mark.django_db
def test_every_parameter_names_an_object_of_b(world_a: World, world_b: World) -> None:
    values = parameter_values(world_b)
    b = world_b
    assert b.open_case.administration_id == b.administration.pk
    assert b.case_document.case_id == b.open_case.pk
    assert TOTPDevice.objects.get(pk=values["pk"]).user.administration_id == b.administration.pk
    assert values["eFormId"] == str(b.service.current_version_id)
    # every route fills, and each filled URL resolves to its own route (right kind of value)
    urls = [url for route in all_routes() for url in fill(route, values, b)]
    assert "/admin/cases/" in urls


# ---------------------------------------------------------------------------------------------
# Single checks kept from before


@pytest.mark.django_db
def test_b_token_is_refused_on_a_host(tenant_a: Tenant, tenant_b: Tenant) -> None:
    analyst = tenant_b.users[Role.SOC_ANALYST]
    _token, clear = account_actions.do_create_api_token(analyst, "siem", actor=analyst)
    on_a = Client(HTTP_HOST=tenant_a.host).get(
        "/api/v1/soc/security-events", HTTP_AUTHORIZATION=f"Bearer {clear}"
    )
    on_b = Client(HTTP_HOST=tenant_b.host).get(
        "/api/v1/soc/security-events", HTTP_AUTHORIZATION=f"Bearer {clear}"
    )
    assert on_a.status_code == 401
    assert on_b.status_code == 200


@pytest.mark.django_db
def test_session_of_a_is_not_valid_on_b_host(
    tenant_a: Tenant, tenant_b: Tenant, sign_in: Callable[..., Client]
) -> None:
    client = sign_in(tenant_a.users[Role.SOC_ANALYST], tenant_a.host)
    response = client.get("/api/v1/soc/security-events", HTTP_HOST=tenant_b.host)
    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"


@pytest.mark.django_db
def test_unknown_host_with_several_administrations_gets_404(
    tenant_a: Tenant, tenant_b: Tenant
) -> None:
    response = Client(HTTP_HOST="localhost").get("/")
    assert response.status_code == 404
    assert b"localhost" in response.content
    assert b"Administration ALPHA" not in response.content


@pytest.mark.django_db
def test_single_administration_serves_every_host(tenant_a: Tenant) -> None:
    response = Client(HTTP_HOST="localhost").get("/")
    assert response.status_code == 200
    assert b"Administration ALPHA" in response.content


def test_users_cannot_exist_without_administration_unless_platform_admin(db: Any) -> None:
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create(email="x@example.org", role=Role.CITIZEN, administration=None)

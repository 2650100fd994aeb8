"""Tenant isolation over every route: a user of administration A never reads or changes B's rows.

The walk is generated from the URL resolver, so a new page or API route is covered the day it
is added; a route with a path parameter this test cannot fill fails the test on purpose.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.apps import apps
from django.contrib.auth.tokens import default_token_generator
from django.core import mail, serializers
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from ceiba.accounts.models import User
from ceiba.accounts.roles import Role
from tests.conftest import Tenant
from tests.documents.conftest import issue_birth_certificate

_PARAM = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>[^>]+)>")


def iter_routes(patterns: list[Any], prefix: str = "") -> Iterator[str]:
    for entry in patterns:
        route = str(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from iter_routes(entry.url_patterns, prefix + route)
        elif isinstance(entry, URLPattern):
            yield prefix + route


def _is_regex(route: str) -> bool:
    return route.startswith("^") or route.endswith("$")


def parameter_values(tenant: Tenant) -> dict[str, str]:
    """Values naming tenant B's objects, for every path parameter a route may take."""
    victim = tenant.users[Role.CITIZEN]
    return {
        "uidb64": urlsafe_base64_encode(force_bytes(victim.pk)),
        "token": default_token_generator.make_token(victim),
        "member_class": tenant.institution.member_class,
        "member_code": tenant.institution.member_code,
        "id": str(tenant.institution.pk),
        "pk": str(tenant.institution.pk),
        "index": "0",
        "number": issue_birth_certificate(tenant).number,
        "code": "civil-registry.birth-certificate-copy",
        "service_code": "civil-registry.birth-certificate-copy",
        "case_id": str((case := portal_case(tenant)).pk),
        "application_id": str(case.pk),
        "document_id": str(case.documents.get().pk),
        "task_id": str(case.pk),
        "fileId": str(case.pk),
        "taskId": str(case.pk),
        "serviceId": str(case.service_id),
        "eFormId": str(case.service_version_id),
        "step_number": "1",
    }


def portal_case(tenant: Tenant) -> Any:
    """A submitted application of B's citizen, made through the real actions."""
    from tests.cases.conftest import load_birth, submit_birth

    return submit_birth(tenant, load_birth(tenant))


def object_of(tenant: Tenant, app_label: str, model_name: str) -> str:
    """The pk of one of the tenant's rows of that model (for admin change pages)."""
    model = apps.get_model(app_label, model_name)
    if model is User:
        return str(tenant.users[Role.CITIZEN].pk)
    if model._meta.label == "tenancy.Administration":
        return str(tenant.administration.pk)
    field_names = {f.name for f in model._meta.get_fields()}
    if "administration" in field_names:
        row = model._default_manager.filter(administration=tenant.administration).first()
        if row is not None:
            return str(row.pk)
    return str(tenant.administration.pk)


def fill(route: str, values: dict[str, str], tenant: Tenant) -> str:
    admin_model = re.match(r"admin/(\w+)/(\w+)/<", route)
    if admin_model:
        values = {**values, "object_id": object_of(tenant, *admin_model.groups())}
    if route.startswith("admin/r/"):
        from django.contrib.contenttypes.models import ContentType

        values = {
            **values,
            "content_type_id": str(ContentType.objects.get_for_model(User).pk),
            "object_id": str(tenant.users[Role.CITIZEN].pk),
        }

    def replace(match: re.Match[str]) -> str:
        name = match.group("name")
        if name not in values:
            pytest.fail(
                f"route {route!r} takes a parameter {name!r} that the isolation test cannot fill: "
                "add a value naming another administration's object to parameter_values()"
            )
        return values[name]

    return "/" + _PARAM.sub(replace, route)


def snapshot_of(tenant: Tenant) -> str:
    """Every row that belongs to the tenant, serialized, to prove nothing of it changed."""
    rows: list[Any] = []
    for model in apps.get_models():
        field_names = {f.name for f in model._meta.get_fields()}
        if "administration" in field_names:
            rows.extend(model._default_manager.filter(administration=tenant.administration))
    rows.append(tenant.administration)
    rows.sort(key=lambda row: (row._meta.label, str(row.pk)))
    data = json.loads(serializers.serialize("json", rows))
    for item in data:
        # Last sign-in time is expected to move only for B's own users, who never sign in here.
        item["fields"].pop("updated_at", None)
    return json.dumps(data, sort_keys=True)


def markers_of(tenant: Tenant) -> list[str]:
    markers = [tenant.administration.slug.upper(), tenant.host, str(tenant.administration.pk)]
    markers += [str(tenant.institution.pk), *tenant.institution.names.values()]
    markers += [tenant.legal_entity.name, tenant.legal_entity.registration_number]
    for user in tenant.users.values():
        markers += [user.email, str(user.pk), user.national_id, user.full_name]
    return markers


@pytest.mark.django_db
def test_no_route_reads_or_changes_another_administration(
    tenant_a: Tenant, tenant_b: Tenant, sign_in: Callable[..., Client]
) -> None:
    # given: every route, filled with identifiers of B's objects
    routes = sorted({r for r in iter_routes(get_resolver().url_patterns) if not _is_regex(r)})
    values = parameter_values(tenant_b)
    urls = [fill(route, values, tenant_b) for route in routes]
    assert "/api/v1/tenancy/institutions" in urls  # the walk reaches the API too
    before = snapshot_of(tenant_b)
    # Forms echo what was typed: B's admin e-mail is typed, so it is no marker of a leak.
    typed = tenant_b.users[Role.ADMIN].email
    payload = {
        "username": typed,
        "email": typed,
        "password": "x",
        "code": "000000",
        "language": "en",
    }
    markers = [m for m in markers_of(tenant_b) if m and m != typed and m not in typed]
    b_emails = {user.email for user in tenant_b.users.values()}
    anonymous = Client(HTTP_HOST=tenant_a.host)

    # when: each role of A, and an anonymous visitor on A's host, GETs and POSTs every route
    for role, user in [*tenant_a.users.items(), ("anonymous", None)]:
        client = sign_in(user, tenant_a.host) if user is not None else anonymous
        for url in urls:
            for method in ("get", "post"):
                response = client.get(url) if method == "get" else client.post(url, payload)
                # then: no error, and nothing of B in the answer
                assert response.status_code < 500, (
                    f"{role} {method.upper()} {url}: {response.status_code}"
                )
                body = (
                    b"".join(response.streaming_content) if response.streaming else response.content
                )
                text = body.decode("utf-8", errors="replace")
                for marker in markers:
                    assert marker not in text, (
                        f"{role} {method.upper()} {url} shows {marker!r} of B"
                    )
                if user is not None and "_auth_user_id" not in client.session:
                    client = sign_in(user, tenant_a.host)

    # then: B's rows are exactly as before, and no mail went to B's people
    assert snapshot_of(tenant_b) == before
    assert not [m for m in mail.outbox if set(m.to) & b_emails]


@pytest.mark.django_db
def test_b_token_is_refused_on_a_host(tenant_a: Tenant, tenant_b: Tenant) -> None:
    from ceiba.accounts.actions import do_create_api_token

    analyst = tenant_b.users[Role.SOC_ANALYST]
    _token, clear = do_create_api_token(analyst, "siem", actor=analyst)
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

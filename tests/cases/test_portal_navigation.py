"""The header's main menu: the sections each role uses, every link working for that role,
``aria-current`` on the section the page belongs to, and no script needed."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from django.test import Client

from ceiba.accounts.roles import Role
from tests.cases.portal_fixtures import BIRTH_CODE, english, load_pack, signed_in
from tests.conftest import Tenant

pytestmark = pytest.mark.django_db

MENUS = {
    None: ["Services"],
    Role.CITIZEN: ["Services", "My applications", "My documents", "Who used my data"],
    Role.BUSINESS_REP: ["Services", "My applications", "My documents", "Who used my data"],
    Role.OFFICER: ["Work queue", "Documents"],
    Role.SUPERVISOR: ["Work queue", "Documents"],
    Role.SOC_ANALYST: ["Security events (JSON)", "API"],
    Role.ADMIN: ["Security events (JSON)", "API"],
}


def _menu(page: str) -> list[tuple[str, str, str | None]]:
    """(label, href, aria-current) of each link in the main menu."""
    match = re.search(r'<nav aria-label="Main menu"[^>]*>(.*?)</nav>', page, re.S)
    assert match, "the page has a main menu"
    links = []
    for tag, href, label in re.findall(r'(<a href="([^"]+)"[^>]*>)([^<]+)</a>', match.group(1)):
        current = re.search(r'aria-current="(\w+)"', tag)
        links.append((label, href, current.group(1) if current else None))
    return links


def _client(tenant: Tenant, role: str | None, sign_in: Callable[..., Client]) -> Client:
    if role is None:
        return english(Client(HTTP_HOST=tenant.host))
    return signed_in(sign_in, tenant.users[role], tenant.host)


@pytest.mark.parametrize("role", list(MENUS), ids=lambda role: str(role or "anonymous"))
def test_each_role_sees_its_sections_and_every_link_works(
    tenant_a: Tenant, sign_in: Callable[..., Client], role: str | None
) -> None:
    client = _client(tenant_a, role, sign_in)

    home = client.get("/")
    menu = _menu(home.content.decode())

    assert [label for label, _href, _current in menu] == MENUS[role]
    assert b"<script" not in home.content
    for label, href, _current in menu:
        assert client.get(href, follow=True).status_code == 200, (role, label, href)


@pytest.mark.parametrize(
    ("role", "path", "current"),
    [
        (Role.CITIZEN, "/services/", ("Services", "page")),
        (Role.CITIZEN, f"/services/{BIRTH_CODE}/", ("Services", "true")),
        (Role.CITIZEN, f"/services/{BIRTH_CODE}/apply/", ("Services", "true")),
        (Role.CITIZEN, "/applications/", ("My applications", "page")),
        (Role.CITIZEN, "/documents/", ("My documents", "page")),
        (Role.CITIZEN, "/my-data/", ("Who used my data", "page")),
        (Role.CITIZEN, "/verify", None),
        (Role.CITIZEN, "/", None),
        (Role.OFFICER, "/backoffice/", ("Work queue", "page")),
        (Role.OFFICER, "/documents/", ("Documents", "page")),
    ],
)
def test_the_current_section_is_marked(
    tenant_a: Tenant,
    sign_in: Callable[..., Client],
    role: str,
    path: str,
    current: tuple[str, str] | None,
) -> None:
    load_pack(tenant_a, "civil-registry/birth-certificate-copy.yaml")
    client = _client(tenant_a, role, sign_in)

    response = client.get(path)

    assert response.status_code == 200
    marked = [(label, value) for label, _href, value in _menu(response.content.decode()) if value]
    assert marked == ([current] if current else [])


def test_an_application_page_belongs_to_my_applications(
    tenant_a: Tenant, sign_in: Callable[..., Client]
) -> None:
    from tests.cases.conftest import load_birth, submit_birth

    case = submit_birth(tenant_a, load_birth(tenant_a))
    client = _client(tenant_a, Role.CITIZEN, sign_in)

    page = client.get(f"/applications/{case.pk}/").content.decode()

    marked = [(label, value) for label, _href, value in _menu(page) if value]
    assert marked == [("My applications", "true")]

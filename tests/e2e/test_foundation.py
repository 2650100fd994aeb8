"""A visitor in a real browser: French by default, English after switching, register, sign in."""

from __future__ import annotations

from typing import Any

import pytest

from ceiba.accounts.models import User
from tests.conftest import Tenant


@pytest.mark.django_db(transaction=True)
def test_visitor_switches_language_registers_and_signs_out(
    live_server: Any, page: Any, tenant_a: Tenant
) -> None:
    # given: the home page in the administration's language, whatever the browser prefers
    page.goto(live_server.url + "/")
    assert page.locator("html").get_attribute("lang") == "fr"
    assert page.get_by_text("État civil alpha").is_visible()
    # when: the visitor switches to English with the footer form (a plain POST)
    page.select_option("#language-select", "en")
    page.get_by_role("button", name="Changer de langue").click()
    page.wait_for_load_state()
    # then
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.get_by_text("Civil registry alpha").is_visible()

    # when: they create an account
    page.get_by_role("link", name="Sign in").click()
    page.get_by_role("link", name="Create an account").click()
    page.fill("#id_full_name", "Awa Diallo")
    page.fill("#id_email", "awa@example.org")
    page.fill("#id_password1", "mangoes under the ceiba tree")
    page.fill("#id_password2", "mangoes under the ceiba tree")
    page.get_by_role("button", name="Create my account").click()
    page.wait_for_load_state()
    # then: signed in, on the home page
    assert page.get_by_text("Your account is ready").is_visible()
    assert User.objects.filter(
        email="awa@example.org", administration=tenant_a.administration
    ).exists()
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_load_state()
    assert page.get_by_role("link", name="Sign in").is_visible()


@pytest.mark.django_db(transaction=True)
def test_error_summary_links_to_the_field(live_server: Any, page: Any, tenant_a: Tenant) -> None:
    page.goto(live_server.url + "/accounts/register/")
    page.locator("main form button[type=submit]").click()
    page.wait_for_load_state()
    summary = page.locator(".error-summary")
    assert summary.is_visible()
    summary.locator("a[href='#id_email']").click()
    assert page.url.endswith("#id_email")

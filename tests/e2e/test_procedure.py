"""A whole procedure in a real browser: apply, process, answer, approve, download, verify, revoke.

Four people, each in their own browser context, all with JavaScript on or all with it off (the
``page`` fixture's parameter): a citizen who registers and applies for a copy of a birth
certificate, the civil registry's officer (password + TOTP), an anonymous visitor checking the
certificate at ``/verify``, and the institution's supervisor who revokes it. Every context
switches the page to English with the footer form first, so the assertions read the texts a
person sees; inputs are found by id or name. After the first page, everyone moves by following
links, as a person does.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from ceiba.accounts.models import User
from ceiba.accounts.roles import Role
from ceiba.documents.pdfsign import render_pdf
from tests.cases.conftest import load_birth
from tests.conftest import PASSWORD, Tenant, current_code

CITIZEN_EMAIL = "awa.diallo@example.org"
CITIZEN_PASSWORD = "mangoes under the ceiba tree"
REFERENCE = re.compile(r"^[A-Z]+-\d{4}-\d+-[0-9A-Z]$")
STEP_TIMEOUT = 15_000  # ms: one page, or one job that renders and signs a PDF


@contextmanager
def _person(browser: Any, javascript: bool) -> Iterator[Any]:
    """Another person: a fresh context with the same JavaScript setting as the test's page."""
    context = browser.new_context(java_script_enabled=javascript, locale="en-US")
    context.set_default_timeout(STEP_TIMEOUT)
    try:
        yield context.new_page()
    finally:
        context.close()


def _in_english(page: Any, url: str) -> None:
    page.goto(url)
    page.select_option("#language-select", "en")
    page.locator("form.language-form button[type=submit]").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")


def _submit_main_form(page: Any) -> None:
    page.locator("main form button[type=submit]").click()


def _menu(page: Any, name: str) -> None:
    """Follow a link of the header's main menu."""
    page.get_by_role("navigation", name="Main menu").get_by_role("link", name=name).click()


def _sign_in_staff(page: Any, base: str, user: User) -> None:
    """Sign in with password and TOTP, then open the back office from the menu."""
    _in_english(page, base + "/")
    page.locator("header").get_by_role("link", name="Sign in").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.fill("#id_username", user.email)
    page.fill("#id_password", PASSWORD)
    _submit_main_form(page)
    expect(page.get_by_role("heading", name="Two-factor verification")).to_be_visible()
    page.fill("#id_code", current_code(user))
    page.get_by_role("button", name="Verify").click()
    expect(page.locator("header").get_by_role("link", name=user.full_name)).to_be_visible()
    _menu(page, "Work queue")
    expect(page.get_by_role("heading", name="Work queue")).to_be_visible()


def _status(page: Any) -> Any:
    """The value shown next to "Status" on an application or case page."""
    return page.locator("dl.summary dt", has_text=re.compile(r"^Status$")).locator(
        "xpath=following-sibling::dd[1]"
    )


def _transition(page: Any, name: str) -> Any:
    return page.locator("form", has=page.locator(f"input[name=transition][value={name}]"))


def _verify(page: Any, pdf: Path) -> Any:
    """From any page: home, then "Check a document", then upload the PDF."""
    page.locator("header .brand").click()
    page.get_by_role("link", name="Check a document").click()
    expect(page.get_by_role("heading", name="Check a document")).to_be_visible()
    page.set_input_files("#id_document", str(pdf))
    page.get_by_role("button", name="Check", exact=True).click()
    verdict = page.locator("#verdict")
    expect(verdict).to_be_visible()
    return verdict


@pytest.mark.django_db(transaction=True)
def test_citizen_applies_officer_decides_certificate_is_verified_then_revoked(
    live_server: Any,
    page: Any,
    browser: Any,
    tenant_a: Tenant,
    request: pytest.FixtureRequest,
    tmp_path: Path,
) -> None:
    javascript: bool = request.node.callspec.params["page"]
    base = live_server.url
    load_birth(tenant_a)
    officer = tenant_a.users[Role.OFFICER]
    supervisor = tenant_a.users[Role.SUPERVISOR]
    identity = tmp_path / "identity-card.pdf"
    identity.write_bytes(render_pdf("<p>ID</p>"))
    passport = tmp_path / "passport.pdf"
    passport.write_bytes(render_pdf("<p>Passport</p>"))
    citizen = page

    # --- 1. The citizen registers, finds the service, applies -------------------------------
    _in_english(citizen, base + "/")
    citizen.get_by_role("link", name="Sign in").click()
    citizen.get_by_role("link", name="Create an account").click()
    citizen.fill("#id_full_name", "Awa Diallo")
    citizen.fill("#id_email", CITIZEN_EMAIL)
    citizen.fill("#id_password1", CITIZEN_PASSWORD)
    citizen.fill("#id_password2", CITIZEN_PASSWORD)
    citizen.get_by_role("button", name="Create my account").click()
    expect(citizen.get_by_text("Your account is ready")).to_be_visible()

    _menu(citizen, "Services")
    expect(citizen.get_by_role("heading", name="Services", exact=True)).to_be_visible()
    citizen.fill("#id_q", "birth")
    citizen.get_by_role("button", name="Search", exact=True).click()
    expect(citizen.get_by_text("1 service", exact=True)).to_be_visible()
    citizen.get_by_role("link", name="Copy of a birth certificate").click()
    expect(citizen.get_by_role("heading", name="Copy of a birth certificate")).to_be_visible()
    expect(citizen.get_by_text("Applicant's identity document")).to_be_visible()
    expect(citizen.get_by_text("Civil registry alpha")).to_be_visible()
    citizen.get_by_role("link", name="Start now").click()
    citizen.get_by_role("button", name="Start your application").click()

    expect(citizen.get_by_role("heading", name="Who is applying")).to_be_visible()
    expect(citizen.get_by_text("Step 1 of 4")).to_be_visible()
    citizen.check("input[name=requester_relationship][value=self]")
    citizen.get_by_role("button", name="Continue").click()

    expect(citizen.get_by_role("heading", name="The person named in the record")).to_be_visible()
    citizen.fill("#id_given_names", "Amina")
    citizen.fill("#id_family_name", "Diallo")
    citizen.fill("#id_date_of_birth", "1990-04-12")
    citizen.fill("#id_place_of_birth", "Douala")
    citizen.fill("#id_mother_name", "Awa Diallo")
    citizen.get_by_role("button", name="Continue").click()

    # The legal-representation step stays hidden: "my own record" was chosen.
    expect(citizen.get_by_role("heading", name="Your request")).to_be_visible()
    citizen.check("input[name=copy_type][value=full_copy]")
    citizen.fill("#id_copies", "1")
    citizen.check("input[name=delivery][value=download]")
    citizen.get_by_role("button", name="Continue").click()

    expect(citizen.get_by_role("heading", name="Upload your documents")).to_be_visible()
    expect(citizen.get_by_text("Step 4 of 4")).to_be_visible()
    citizen.set_input_files("#id_doc_requester_identity", str(identity))
    citizen.get_by_role("button", name="Upload and continue").click()

    expect(
        citizen.get_by_role("heading", name="Check your answers before you submit")
    ).to_be_visible()
    review = citizen.locator("main")
    for shown in ("My own record", "Amina", "Diallo", "Douala", "Full copy", "identity-card.pdf"):
        expect(review.get_by_text(shown, exact=True)).to_be_visible()
    expect(review.locator(".error-summary")).to_have_count(0)
    citizen.get_by_role("button", name="Submit application").click()

    expect(citizen.get_by_role("heading", name="Application submitted")).to_be_visible()
    reference = citizen.locator(".reference").inner_text().strip()
    assert REFERENCE.match(reference), reference

    with _person(browser, javascript) as officer_page:
        # --- 2. The officer signs in with TOTP and asks for more information ----------------
        _sign_in_staff(officer_page, base, officer)
        row = officer_page.locator("tbody tr", has_text=reference)
        expect(row).to_contain_text("Copy of a birth certificate")
        expect(row).to_contain_text("Submitted")
        row.get_by_role("link", name=reference).click()
        expect(officer_page.get_by_role("heading", name=reference)).to_be_visible()
        expect(_status(officer_page)).to_have_text("Submitted")
        expect(officer_page.locator("main").get_by_text("Amina", exact=True)).to_be_visible()
        expect(
            officer_page.get_by_role("link", name=re.compile(re.escape("identity-card.pdf")))
        ).to_be_visible()
        officer_page.get_by_role("button", name="Take this case").click()
        expect(officer_page.get_by_text("You took this case.")).to_be_visible()
        _transition(officer_page, "start_review").get_by_role("button").click()
        expect(_status(officer_page)).to_have_text("Under review")
        ask = _transition(officer_page, "request_information")
        ask.locator("textarea[name=message]").fill(
            "The scan of your identity card is unreadable. Please send a clearer copy."
        )
        ask.get_by_role("button", name="Request more information").click()
        expect(officer_page.get_by_text("Done: the applicant has been notified.")).to_be_visible()
        expect(_status(officer_page)).to_have_text("More information requested")

        # --- 3. The citizen sees the request in "My applications" and answers it ------------
        _menu(citizen, "My applications")
        mine = citizen.locator("tbody tr", has_text=reference)
        expect(mine.locator(".tag-attention")).to_have_text("More information requested")
        mine.get_by_role("link", name="Copy of a birth certificate").click()
        expect(citizen.get_by_role("heading", name=f"Application {reference}")).to_be_visible()
        expect(_status(citizen)).to_have_text("More information requested")
        expect(citizen.get_by_text("The scan of your identity card is unreadable.")).to_be_visible()
        expect(
            citizen.get_by_role("heading", name="Answer the request for information")
        ).to_be_visible()
        citizen.fill("#id_message", "Here is a clearer copy: my passport.")
        citizen.set_input_files("#id_doc_requester_identity", str(passport))
        citizen.get_by_role("button", name="Send your answer").click()
        expect(citizen.get_by_text("Your answer was sent to the institution.")).to_be_visible()
        expect(_status(citizen)).to_have_text("Under review")
        expect(citizen.get_by_text("Here is a clearer copy: my passport.")).to_be_visible()

        # --- 4. The officer sees the answer and approves --------------------------------------
        _menu(officer_page, "Work queue")
        officer_page.locator("tbody tr", has_text=reference).get_by_role(
            "link", name=reference
        ).click()
        expect(_status(officer_page)).to_have_text("Under review")
        expect(officer_page.get_by_text("Here is a clearer copy: my passport.")).to_be_visible()
        expect(
            officer_page.get_by_role("link", name=re.compile(re.escape("passport.pdf")))
        ).to_be_visible()
        approve = _transition(officer_page, "approve")
        approve.locator("textarea[name=note]").fill("Record found in the 1990 register.")
        approve.get_by_role("button", name="Issue the certificate").click()
        expect(officer_page.get_by_text("Done: the applicant has been notified.")).to_be_visible()
        expect(_status(officer_page)).to_have_text("Issued")

    # --- 5. The citizen sees the certificate issued and downloads it -------------------------
    _menu(citizen, "My applications")
    expect(citizen.locator("tbody tr", has_text=reference).locator(".tag")).to_have_text("Issued")
    citizen.locator("tbody tr", has_text=reference).get_by_role("link").click()
    expect(_status(citizen)).to_have_text("Issued")
    # The job queue runs in-process here, so the certificate is ready by now.
    expect(citizen.get_by_text("Your document is being prepared")).to_have_count(0)
    card = citizen.locator(".card", has_text="Copy of a birth certificate")
    expect(card).to_have_count(1)
    expect(card).to_contain_text("Valid")
    number = card.locator("dt", has_text="Number").locator("xpath=following-sibling::dd[1]")
    document_number = number.inner_text().strip()
    with citizen.expect_download() as download_info:
        card.get_by_role("link", name="Download (PDF)").click()
    download = download_info.value
    assert download.suggested_filename == f"{document_number}.pdf"
    certificate = tmp_path / "certificate.pdf"
    download.save_as(certificate)
    assert certificate.read_bytes().startswith(b"%PDF")
    # The same document is among the holder's documents.
    _menu(citizen, "My documents")
    expect(citizen.locator(".card", has_text=document_number)).to_have_count(1)
    _menu(citizen, "Who used my data")
    expect(citizen.get_by_role("heading", name="Who used my data")).to_be_visible()

    with _person(browser, javascript) as visitor:
        # --- 6. An anonymous visitor checks it: valid ---------------------------------------
        _in_english(visitor, base + "/")
        expect(visitor.get_by_role("link", name="Sign in")).to_be_visible()
        verdict = _verify(visitor, certificate)
        expect(verdict.get_by_role("heading", level=2)).to_have_text("Valid")
        expect(verdict).to_contain_text(document_number)
        # The issuing institution and the facts, as the English PDF prints them.
        issued_by = verdict.locator("dt", has_text="Issued by").locator(
            "xpath=following-sibling::dd[1]"
        )
        expect(issued_by).to_have_text(tenant_a.institution.names["en"])
        expect(verdict).to_contain_text("Amina")
        expect(verdict).to_contain_text("Full copy")
        expect(verdict).to_contain_text("April 12, 1990")
        expect(verdict).not_to_contain_text("full_copy")

        # --- the supervisor revokes it with a reason ----------------------------------------
        with _person(browser, javascript) as supervisor_page:
            _sign_in_staff(supervisor_page, base, supervisor)
            _menu(supervisor_page, "Documents")
            held = supervisor_page.locator(".card", has_text=document_number)
            held.get_by_role("link", name="Revoke").click()
            expect(supervisor_page.get_by_role("heading", name="Revoke a document")).to_be_visible()
            supervisor_page.fill("#id_reason", "Issued from the wrong register entry")
            supervisor_page.get_by_role("button", name="Revoke the document").click()
            held = supervisor_page.locator(".card", has_text=document_number)
            expect(held).to_contain_text("Revoked on")
            expect(held).to_contain_text("Issued from the wrong register entry")
            expect(held.get_by_role("link", name="Revoke")).to_have_count(0)

        # --- the visitor checks again: revoked ----------------------------------------------
        verdict = _verify(visitor, certificate)
        expect(verdict.get_by_role("heading", level=2)).to_have_text("Revoked")
        expect(verdict).to_contain_text("Issued from the wrong register entry")

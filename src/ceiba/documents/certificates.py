"""The certificates Ceiba can issue: one entry per output template named by service definitions.

A template lists the facts it prints, in order, with their labels. Only those facts are
certified: they are printed on the PDF, signed into the QR code and shown by ``/verify``;
any other answer of the application stays out of the document.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.utils import translation
from django.utils.formats import date_format
from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from ceiba.catalog.definition import Form


@dataclass(frozen=True)
class CertificateTemplate:
    name: str  # "<sector>/<name>", as in a service definition's outputs
    title: Promise
    prefix: str  # first part of the document number, e.g. "BC"
    facts: tuple[tuple[str, Promise], ...]  # (key, label) in printing order

    @property
    def html_template(self) -> str:
        return f"documents/certificates/{self.name}.html"

    def certified_facts(
        self, answers: Mapping[str, Any], *, form: Form | None = None, language: str = "en"
    ) -> dict[str, str]:
        """The printed facts from an application's answers, as text in ``language``; empty ones
        left out.

        With the service definition's ``form``, a choice is written as its label and a date as
        the language writes dates (``12 avril 1990``). The result is stored, printed and signed
        into the QR code as it is, so what a verifier sees is what the paper says.
        """
        facts: dict[str, str] = {}
        with translation.override(language):
            for key, _label in self.facts:
                value = answers.get(key)
                if value is None or value == "" or value == []:
                    continue
                facts[key] = _fact_text(key, value, form, language)[:500]
        return facts

    def labelled(self, facts: Mapping[str, Any]) -> list[tuple[str, str]]:
        """(label, value) rows for the facts present, in printing order."""
        return [(str(label), str(facts[key])) for key, label in self.facts if key in facts]


def _fact_text(key: str, value: Any, form: Form | None, language: str) -> str:
    """One answer as the document prints it (call with ``language`` active)."""
    hints = form.fields.get(key) if form is not None else None
    options = hints.options if hints is not None else {}

    def one(item: Any) -> str:
        text = options.get(str(item))
        if text:
            return text.get(language) or next(iter(text.values()))
        return str(item)

    if isinstance(value, bool):
        return gettext("Yes") if value else gettext("No")
    if isinstance(value, list | tuple):
        return ", ".join(one(item) for item in value)
    prop = form.schema.get("properties", {}).get(key, {}) if form is not None else {}
    if prop.get("format") == "date" and isinstance(value, str):
        try:
            return date_format(dt.date.fromisoformat(value), "DATE_FORMAT")
        except ValueError:
            return value
    return one(value)


# The offer letter and the enrollment certificate certify the same facts about the place.
SCHOOL_PLACE_FACTS = (
    ("child_family_name", _("Family name")),
    ("child_given_names", _("Given names")),
    ("child_date_of_birth", _("Date of birth")),
    ("level", _("Level")),
    ("grade", _("Year group")),
    ("preferred_school", _("School")),
)

TEMPLATES: dict[str, CertificateTemplate] = {
    t.name: t
    for t in (
        CertificateTemplate(
            "civil-registry/birth-certificate-copy",
            _("Copy of a birth certificate"),
            "BC",
            (
                ("family_name", _("Family name")),
                ("given_names", _("Given names")),
                ("date_of_birth", _("Date of birth")),
                ("place_of_birth", _("Place of birth")),
                ("father_name", _("Father")),
                ("mother_name", _("Mother")),
                ("copy_type", _("Type of copy")),
            ),
        ),
        CertificateTemplate(
            "commerce-registry/certificate-of-registration",
            _("Certificate of registration in the commerce registry"),
            "RC",
            (
                ("business_name", _("Registered business name")),
                ("trade_name", _("Trading name")),
                ("legal_form", _("Legal form")),
                ("activity_code", _("Activity code")),
                ("activity_description", _("Main activity")),
                ("registered_address", _("Registered office")),
                ("share_capital", _("Share capital")),
                ("start_date", _("Start of trading")),
            ),
        ),
        CertificateTemplate(
            "education/place-offer-letter",
            _("School place offer letter"),
            "PO",
            SCHOOL_PLACE_FACTS,
        ),
        CertificateTemplate(
            "education/certificate-of-enrollment",
            _("Certificate of school enrollment"),
            "SE",
            SCHOOL_PLACE_FACTS,
        ),
        CertificateTemplate(
            "agriculture/input-voucher",
            _("Subsidised farm input voucher"),
            "IV",
            (
                ("farmer_id", _("Farmer registry number")),
                ("region", _("Region")),
                ("hectares", _("Area farmed (hectares)")),
                ("crops", _("Crops")),
                ("fertiliser_bags", _("Fertiliser (50 kg bags)")),
                ("seed_kg", _("Certified seed (kg)")),
            ),
        ),
        CertificateTemplate(
            "tax/assessment-notice",
            _("Profit tax assessment notice"),
            "TA",
            (
                ("tax_id", _("Tax identification number")),
                ("declarant_name", _("Declared by")),
                ("fiscal_year", _("Financial year")),
                ("regime", _("Tax regime")),
                ("turnover", _("Turnover")),
                ("taxable_profit", _("Taxable profit")),
                ("tax_due", _("Tax due")),
            ),
        ),
    )
}

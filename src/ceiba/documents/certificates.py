"""The certificates Ceiba can issue: one entry per output template named by service definitions.

A template lists the facts it prints, in order, with their labels. Only those facts are
certified: they are printed on the PDF, signed into the QR code and shown by ``/verify``;
any other answer of the application stays out of the document.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class CertificateTemplate:
    name: str  # "<sector>/<name>", as in a service definition's outputs
    title: Promise
    prefix: str  # first part of the document number, e.g. "BC"
    facts: tuple[tuple[str, Promise], ...]  # (key, label) in printing order

    @property
    def html_template(self) -> str:
        return f"documents/certificates/{self.name}.html"

    def certified_facts(self, answers: Mapping[str, Any]) -> dict[str, str]:
        """The printed facts from an application's answers, as text; empty ones left out."""
        facts: dict[str, str] = {}
        for key, _label in self.facts:
            value = answers.get(key)
            if value is None or value == "" or value == []:
                continue
            if isinstance(value, bool):
                text = "yes" if value else "no"
            elif isinstance(value, list | tuple):
                text = ", ".join(str(item) for item in value)
            else:
                text = str(value)
            facts[key] = text[:500]
        return facts

    def labelled(self, facts: Mapping[str, Any]) -> list[tuple[str, str]]:
        """(label, value) rows for the facts present, in printing order."""
        return [(str(label), str(facts[key])) for key, label in self.facts if key in facts]


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
            (
                ("child_family_name", _("Family name")),
                ("child_given_names", _("Given names")),
                ("child_date_of_birth", _("Date of birth")),
                ("level", _("Level")),
                ("grade", _("Year group")),
                ("preferred_school", _("School")),
            ),
        ),
        CertificateTemplate(
            "education/certificate-of-enrollment",
            _("Certificate of school enrollment"),
            "SE",
            (
                ("child_family_name", _("Family name")),
                ("child_given_names", _("Given names")),
                ("child_date_of_birth", _("Date of birth")),
                ("level", _("Level")),
                ("grade", _("Year group")),
                ("preferred_school", _("School")),
            ),
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

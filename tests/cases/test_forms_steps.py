"""Steps rendered from service definitions: widgets, messages, the error summary, drafts."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from django.utils import translation

from ceiba.cases.forms import SectionForm, answer_errors, visible_answers, widget_for
from ceiba.catalog.definition import FieldHints, Form, Section, ServiceDefinition, load_paths

PACKS = Path(__file__).resolve().parents[2] / "packs"


@pytest.fixture(scope="module")
def packs() -> dict[str, ServiceDefinition]:
    return {definition.id: definition for definition in load_paths([PACKS])}


@pytest.fixture(autouse=True)
def english() -> object:
    with translation.override("en"):
        yield


def section(definition: ServiceDefinition, section_id: str):  # type: ignore[no-untyped-def]
    return next(s for s in definition.form.sections if s.id == section_id)


def test_fields_follow_the_section_order_with_labels_help_and_widgets(
    packs: dict[str, ServiceDefinition],
) -> None:
    birth = packs["civil-registry.birth-certificate-copy"]
    form = SectionForm(birth.form, section(birth, "person"))
    rendered = form.rendered_fields()
    assert [f.name for f in rendered] == [
        "given_names",
        "family_name",
        "date_of_birth",
        "place_of_birth",
        "father_name",
        "mother_name",
    ]
    assert rendered[0].label == "Given names"
    assert rendered[0].help == "All given names, in the order shown on the record."
    html = str(rendered[2].bound)
    assert 'type="date"' in html
    assert 'id="id_date_of_birth"' in html
    assert 'maxlength="120"' in str(rendered[0].bound)
    assert 'aria-describedby="id_given_names-hint"' in str(rendered[0].bound)


def test_labels_and_choices_follow_the_language(packs: dict[str, ServiceDefinition]) -> None:
    birth = packs["civil-registry.birth-certificate-copy"]
    with translation.override("es"):
        form = SectionForm(birth.form, section(birth, "requester"))
        field = form.rendered_fields()[0]
        assert field.label == "¿Para quién solicita el acta?"
        assert field.widget == "radio"
        html = str(field.bound)
        assert 'type="radio"' in html
        assert "Mi propia acta" in html
        assert field.anchor == "id_requester_relationship_0"
        assert 'id="id_requester_relationship_0"' in html


def test_empty_required_answers_give_a_summary_linking_to_each_field(
    packs: dict[str, ServiceDefinition],
) -> None:
    birth = packs["civil-registry.birth-certificate-copy"]
    form = SectionForm(birth.form, section(birth, "person"), data={"father_name": "Jean"})
    assert not form.is_valid()
    assert form.summary() == [
        ("id_given_names", "Enter “Given names”"),
        ("id_family_name", "Enter “Family name”"),
        ("id_date_of_birth", "Enter “Date of birth”"),
        ("id_place_of_birth", "Enter “Town or city of birth”"),
    ]
    # the inline messages are the summary's, and the inputs say they are invalid
    rendered = {f.name: f for f in form.rendered_fields()}
    assert rendered["given_names"].errors == ["Enter “Given names”"]
    assert 'aria-invalid="true"' in str(rendered["given_names"].bound)
    assert rendered["father_name"].errors == []


def test_invalid_values_are_named_in_the_message(packs: dict[str, ServiceDefinition]) -> None:
    birth = packs["civil-registry.birth-certificate-copy"]
    form = SectionForm(
        birth.form,
        section(birth, "request"),
        data={"copy_type": "poster", "copies": "11", "delivery": "pickup"},
    )
    assert not form.is_valid()
    assert dict(form.summary()) == {
        "id_copy_type_0": "Select one of the options for “Type of document”",
        "id_copies": "“Number of copies” must be 10 or less",
    }
    bad_date = SectionForm(
        birth.form,
        section(birth, "person"),
        data={
            "given_names": "Ana",
            "family_name": "Diop",
            "date_of_birth": "2015-02-30",
            "place_of_birth": "Dakar",
        },
    )
    assert not bad_date.is_valid()
    assert bad_date.summary() == [
        ("id_date_of_birth", "“Date of birth” must be a real date, for example 2015-03-27")
    ]


def test_valid_step_gives_json_answers_merged_with_the_saved_ones(
    packs: dict[str, ServiceDefinition],
) -> None:
    birth = packs["civil-registry.birth-certificate-copy"]
    saved = {"requester_relationship": "self", "copies": 3}
    form = SectionForm(
        birth.form,
        section(birth, "request"),
        answers=saved,
        data={"copy_type": "full_copy", "copies": "2", "delivery": "download"},
    )
    assert form.is_valid(), form.errors
    assert form.answers() == {
        "requester_relationship": "self",
        "copy_type": "full_copy",
        "copies": 2,
        "delivery": "download",
    }
    # initial values come from the saved answers
    assert 'value="3"' in str(
        SectionForm(birth.form, section(birth, "request"), answers=saved)["copies"]
    )


def test_conditional_section_requires_its_fields_only_when_shown(
    packs: dict[str, ServiceDefinition],
) -> None:
    birth = packs["civil-registry.birth-certificate-copy"]
    representative = section(birth, "representative")
    answers = {"requester_relationship": "legal_representative"}
    assert representative in birth.form.visible_sections(answers)
    form = SectionForm(birth.form, representative, answers=answers, data={})
    assert not form.is_valid()
    assert [anchor for anchor, _m in form.summary()] == [
        "id_representative_name",
        "id_court_order_reference",
    ]
    # changing the first answer hides the step and drops its answers
    answered = {**answers, "representative_name": "Awa Ndiaye", "court_order_reference": "TGI-1"}
    changed = SectionForm(
        birth.form,
        section(birth, "requester"),
        answers=answered,
        data={"requester_relationship": "self"},
    )
    assert changed.is_valid()
    assert changed.answers() == {"requester_relationship": "self"}
    assert visible_answers(birth.form, answered) == answered


def test_draft_accepts_missing_answers_but_not_wrong_ones(
    packs: dict[str, ServiceDefinition],
) -> None:
    birth = packs["civil-registry.birth-certificate-copy"]
    person = section(birth, "person")
    assert SectionForm(birth.form, person, data={"given_names": "Ana"}, draft=True).is_valid()
    wrong = SectionForm(birth.form, person, data={"date_of_birth": "yesterday"}, draft=True)
    assert not wrong.is_valid()
    assert [anchor for anchor, _m in wrong.summary()] == ["id_date_of_birth"]


def test_schema_rules_django_fields_cannot_express(packs: dict[str, ServiceDefinition]) -> None:
    business = packs["commerce-registry.business-registration"]
    activity = SectionForm(
        business.form,
        section(business, "activity"),
        data={
            "activity_code": "4711",
            "activity_description": "short",
            "employees_expected": "2",
        },
    )
    assert not activity.is_valid()
    assert dict(activity.summary()) == {
        "id_activity_code": "Enter “Activity code” in the expected format",
        "id_activity_description": (
            "“Description of the main activity” must be at least 10 characters long"
        ),
    }
    tax = packs["tax.annual-business-tax-declaration"]
    last = tax.form.sections[-1]
    declaration = SectionForm(tax.form, last, data={"declarant_name": "Moussa Traoré"})
    assert not declaration.is_valid()
    assert [message for _a, message in declaration.summary()] == [
        f"Tick the box to confirm “{declaration.fields['declaration_certified'].label}”"
    ]
    farmer = packs["agriculture.farmer-input-subsidy"]
    farm = section(farmer, "farm")
    crops = SectionForm(farmer.form, farm, data={"hectares": "2.5", "crops": ["maize", "rice"]})
    crops.is_valid()
    assert "crops" not in crops.errors
    assert crops.cleaned_data["crops"] == ["maize", "rice"]
    assert crops.widgets["crops"] == "checkboxes"
    assert 'type="checkbox"' in str(crops["crops"])


def test_money_field_keeps_decimals_and_rejects_text(packs: dict[str, ServiceDefinition]) -> None:
    business = packs["commerce-registry.business-registration"]
    capital = section(business, "capital")
    answers = {"legal_form": "limited_company"}
    ok = SectionForm(
        business.form,
        capital,
        answers=answers,
        data={"share_capital": "1000000.50", "partners_count": "2"},
    )
    assert ok.is_valid(), ok.errors
    assert ok.answers()["share_capital"] == 1000000.5
    typed = SectionForm(
        business.form,
        capital,
        answers=answers,
        data={"share_capital": "1 000 000,50", "partners_count": " 2 "},
    )
    assert typed.is_valid(), typed.errors
    assert typed.answers()["share_capital"] == 1000000.5
    assert typed.answers()["partners_count"] == 2
    bad = SectionForm(
        business.form,
        capital,
        answers=answers,
        data={"share_capital": "a lot", "partners_count": "0"},
    )
    assert not bad.is_valid()
    assert dict(bad.summary()) == {
        "id_share_capital": "“Share capital” must be a number",
        "id_partners_count": "“Number of partners” must be 1 or more",
    }


def test_unknown_or_unsuitable_widget_hints_degrade_to_the_type_default(
    packs: dict[str, ServiceDefinition],
) -> None:
    assert widget_for({"type": "string"}, _hints("slider")) == "text"
    assert widget_for({"type": "integer"}, _hints("checkbox")) == "number"
    assert widget_for({"type": "string", "enum": ["a", "b"]}, _hints("textarea")) == "select"
    assert widget_for({"type": "string", "format": "date"}, _hints("colour")) == "date"
    assert widget_for({"type": "boolean"}, _hints("radio")) == "checkbox"
    # a whole form with a hint nobody knows still renders and validates
    birth = packs["civil-registry.birth-certificate-copy"]
    hints = dict(birth.form.fields)
    hints["given_names"] = replace(hints["given_names"], widget="signature-pad")
    form = Form(schema=birth.form.schema, sections=birth.form.sections, fields=hints)
    step = SectionForm(form, section(birth, "person"), data={"given_names": "x" * 121})
    assert not step.is_valid()
    assert 'type="text"' in str(step["given_names"])
    assert ("id_given_names", "“Given names” must be 120 characters or fewer") in step.summary()


def test_answer_errors_name_the_step_of_each_problem(packs: dict[str, ServiceDefinition]) -> None:
    birth = packs["civil-registry.birth-certificate-copy"]
    answers = {
        "requester_relationship": "legal_representative",
        "given_names": "Ana",
        "family_name": "Diop",
        "date_of_birth": "2015-03-27",
        "place_of_birth": "Dakar",
        "copy_type": "full_copy",
        "copies": 1,
    }
    errors = answer_errors(birth.form, answers)
    assert [(e.field, e.step, e.anchor) for e in errors] == [
        ("representative_name", 3, "id_representative_name"),
        ("court_order_reference", 3, "id_court_order_reference"),
        ("delivery", 4, "id_delivery_0"),
    ]
    complete = {**answers, "requester_relationship": "self", "delivery": "pickup"}
    assert answer_errors(birth.form, complete) == []


def _hints(widget: str) -> FieldHints:
    return FieldHints(
        name="x", label={"en": "X"}, help=None, placeholder=None, widget=widget, options={}
    )


def test_email_and_phone_widgets(packs: dict[str, ServiceDefinition]) -> None:
    farmer = packs["agriculture.farmer-input-subsidy"]
    step = SectionForm(farmer.form, section(farmer, "farmer"))
    assert step.widgets["mobile_money_number"] == "tel"
    assert 'type="tel"' in str(step["mobile_money_number"])
    assert 'autocomplete="tel"' in str(step["mobile_money_number"])
    schema = {
        "type": "object",
        "properties": {"email": {"type": "string", "format": "email"}},
        "required": ["email"],
    }
    contact = Section("contact", {"en": "Contact"}, None, ("email",), None, None)
    hints = {"email": replace(_hints("email"), name="email", label={"en": "Email"})}
    form = Form(schema=schema, sections=(contact,), fields=hints)
    bad = SectionForm(form, contact, data={"email": "not-an-address"})
    assert not bad.is_valid()
    assert 'type="email"' in str(bad["email"])
    assert bad.summary() == [
        ("id_email", "Enter “Email” as an email address, like name@example.com")
    ]
    good = SectionForm(form, contact, data={"email": "awa@example.org"})
    assert good.is_valid()
    assert good.answers() == {"email": "awa@example.org"}

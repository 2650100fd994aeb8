from decimal import Decimal
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from ceiba.catalog.definition import (
    DefinitionError,
    DefinitionInvalid,
    check_paths,
    format_path,
    load_paths,
    load_text,
)

PACKS = Path(__file__).resolve().parents[2] / "packs"
BASE = PACKS / "civil-registry" / "birth-certificate-copy.yaml"


def variant(tmp_path: Path, old: str, new: str, name: str = "service.yaml") -> tuple[Path, int]:
    """Write the birth certificate pack with ``old`` replaced; return the file and old's line."""
    text = BASE.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} must occur once in the base pack"
    line = text[: text.index(old)].count("\n") + 1
    path = tmp_path / name
    path.write_text(text.replace(old, new), encoding="utf-8")
    return path, line


def only_error(path: Path) -> DefinitionError:
    errors = check_paths([path])
    assert len(errors) == 1, errors
    return errors[0]


def test_the_base_pack_is_valid() -> None:
    assert check_paths([BASE]) == []


def test_format_path() -> None:
    assert format_path(("workflow", "transitions", 2, "to")) == "workflow.transitions[2].to"
    assert format_path(("form", "fields", "a b")) == 'form.fields["a b"]'
    assert format_path(()) == ""


def test_bad_yaml_names_file_and_line(tmp_path: Path) -> None:
    # given
    path = tmp_path / "broken.yaml"
    path.write_text("id: x\nname:\n  fr: [unclosed\n  es: y\n", encoding="utf-8")
    # when
    error = only_error(path)
    # then
    assert error.file == str(path)
    assert error.line == 4
    assert error.message.startswith("invalid YAML")


def test_duplicate_keys_are_reported(tmp_path: Path) -> None:
    path, line = variant(tmp_path, "sector: civil-registry\n", "sector: a\nsector: b\n")
    error = only_error(path)
    assert (error.line, error.path, error.message) == (line + 1, "sector", "duplicate key")


@pytest.mark.parametrize(
    "content", ["", "# only a comment\n", "- a list\n", "a: 1\n---\nb: 2\n", b"\xff\xfe"]
)
def test_unusable_files_get_one_clear_error(tmp_path: Path, content: str | bytes) -> None:
    path = tmp_path / "odd.yaml"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    errors = check_paths([path])
    assert errors
    assert all(error.file == str(path) for error in errors)


def test_schema_violation_names_the_path(tmp_path: Path) -> None:
    path, line = variant(tmp_path, "institution: GOV/70000001", "institution: ministry-1")
    error = only_error(path)
    assert (error.line, error.path) == (line, "institution")
    assert "X-Road style member id" in error.message


def test_unknown_property_suggests_the_right_one(tmp_path: Path) -> None:
    path, line = variant(tmp_path, "sla_working_days: 3", "sla_days: 3")
    error = only_error(path)
    assert (error.line, error.path) == (line, "workflow.states[1].sla_days")
    assert error.message == "unknown property 'sla_days'; did you mean 'sla_working_days'?"


def test_missing_required_property(tmp_path: Path) -> None:
    path, _ = variant(tmp_path, "      to: issued\n", "")
    error = only_error(path)
    assert error.path == "workflow.transitions[3]"
    assert error.message == "missing required property 'to'"


def test_amount_and_formula_together_are_rejected(tmp_path: Path) -> None:
    path, line = variant(
        tmp_path, "      formula: (copies - 1) * 500\n", "      formula: copies\n      amount: 5\n"
    )
    error = only_error(path)
    assert (error.line, error.path) == (line + 1, "fees.items[0].amount")
    assert "either an amount or a formula" in error.message


def test_unknown_state_in_a_transition(tmp_path: Path) -> None:
    path, line = variant(tmp_path, "      to: rejected\n", "      to: refused\n")
    errors = check_paths([path])
    first = errors[0]
    assert (first.file, first.line, first.path) == (str(path), line, "workflow.transitions[4].to")
    assert first.message == "unknown state 'refused'"
    # the rejected state is now unreachable too
    assert [e.message for e in errors[1:]] == [
        "state 'rejected' cannot be reached from 'submitted'"
    ]


def test_unreachable_state(tmp_path: Path) -> None:
    extra = (
        "    - id: archived\n"
        "      label: {fr: Archivée, es: Archivada, en: Archived}\n"
        "  transitions:\n"
    )
    path, line = variant(tmp_path, "  transitions:\n", extra)
    error = only_error(path)
    assert (error.line, error.path) == (line, "workflow.states[6].id")
    assert error.message == "state 'archived' cannot be reached from 'submitted'"


def test_state_without_a_way_out(tmp_path: Path) -> None:
    # given information requests that can only loop back on themselves
    path, _ = variant(
        tmp_path,
        "      from: [awaiting_information]\n      to: under_review\n",
        "      from: [awaiting_information]\n      to: awaiting_information\n",
    )
    text = path.read_text(encoding="utf-8")
    path.write_text(
        text.replace(
            "[submitted, under_review, awaiting_information]", "[submitted, under_review]"
        ),
        encoding="utf-8",
    )
    # then
    error = only_error(path)
    assert error.path == "workflow.states[2].id"
    assert error.message == "no final state can be reached from 'awaiting_information'"


def test_transition_out_of_a_final_state(tmp_path: Path) -> None:
    path, line = variant(
        tmp_path,
        "      from: [submitted, under_review, awaiting_information]\n",
        "      from: [submitted, under_review, awaiting_information, issued]\n",
    )
    error = only_error(path)
    assert (error.line, error.path) == (line, "workflow.transitions[5].from[3]")
    assert "final state" in error.message


def test_formula_naming_an_unknown_field(tmp_path: Path) -> None:
    path, line = variant(tmp_path, "formula: (copies - 1) * 500", "formula: (copie - 1) * 500")
    error = only_error(path)
    assert (error.line, error.path) == (line, "fees.items[0].formula")
    assert error.message == "unknown field 'copie' (column 2) in '(copie - 1) * 500'"


@pytest.mark.parametrize(
    ("expression", "fragment"),
    [
        ("__import__('os').system('id')", "calling __import__('os').system is not allowed"),
        ("copies.real > 1", "attribute access is not allowed"),
        ("copies > 1 and (lambda: True)", "lambda is not allowed"),
        ("copies[0] > 1", "subscript is not allowed"),
        ("copies * 2", "gives a number, expected a boolean"),
        ("delivery > 1", "cannot compare a string with a number"),
    ],
)
def test_disallowed_formula_is_reported_at_load_time(
    tmp_path: Path, expression: str, fragment: str
) -> None:
    path, line = variant(tmp_path, "when: copies > 1", f'when: "{expression}"')
    error = only_error(path)
    assert (error.line, error.path) == (line, "fees.items[0].when")
    assert fragment in error.message


def test_guard_and_document_condition_are_checked(tmp_path: Path) -> None:
    path, line = variant(
        tmp_path,
        "    when: requester_relationship == 'legal_representative'",
        "    when: relationship == 'legal_representative'",
    )
    error = only_error(path)
    assert (error.line, error.path) == (line, "documents[1].when")
    assert "unknown field 'relationship'; " not in error.message
    assert "unknown field 'relationship'" in error.message


def test_missing_language_in_a_text(tmp_path: Path) -> None:
    path, line = variant(tmp_path, "  en: Copy of a birth certificate\ndescription", "description")
    error = only_error(path)
    assert (error.path, error.message) == ("name", "missing the 'en' text")
    assert error.line == line - 3


def test_required_language_missing_from_the_list(tmp_path: Path) -> None:
    path, line = variant(tmp_path, "languages: [fr, es, en]", "languages: [es, en]")
    errors = check_paths([path])
    assert errors[0] == DefinitionError(
        str(path), line, "languages", "the required language 'fr' is missing"
    )
    assert any(e.message == "language 'fr' is not in 'languages'" for e in errors)


def test_invalid_embedded_form_schema(tmp_path: Path) -> None:
    path, line = variant(tmp_path, "        type: integer\n", "        type: entier\n")
    errors = check_paths([path])
    assert errors[0].path == "form.schema.properties.copies.type"
    assert errors[0].line == line
    assert errors[0].message.startswith("invalid JSON Schema")


def test_section_condition_must_use_an_earlier_field(tmp_path: Path) -> None:
    path, line = variant(
        tmp_path,
        "          requester_relationship:\n            const",
        "          copies:\n            const",
    )
    errors = check_paths([path])
    assert errors[0].path == "form.sections[2].if.properties.copies"
    assert errors[0].line == line
    assert "no earlier section asks for" in errors[0].message


def test_conditional_field_required_everywhere_is_an_error(tmp_path: Path) -> None:
    path, _ = variant(
        tmp_path, "      - copy_type\n", "      - copy_type\n      - representative_name\n"
    )
    error = only_error(path)
    assert error.path == "form.sections[2].fields[0]"
    assert "required in every case" in error.message


def test_field_without_section_or_label(tmp_path: Path) -> None:
    path, _ = variant(
        tmp_path,
        "      delivery:\n        type: string\n",
        "      notes:\n        type: string\n      delivery:\n        type: string\n",
    )
    messages = {(e.path, e.message) for e in check_paths([path])}
    assert messages == {
        ("form.schema.properties.notes", "field is in no section"),
        ("form.fields", "field 'notes' has no label"),
    }


def test_role_the_applicants_cannot_hold(tmp_path: Path) -> None:
    path, line = variant(
        tmp_path,
        "      roles: [citizen]\n      inputs:",
        "      roles: [business_rep]\n      inputs:",
    )
    error = only_error(path)
    assert (error.line, error.path) == (line, "workflow.transitions[2].roles[0]")


def test_hooks_are_checked_against_the_registry(tmp_path: Path) -> None:
    path, _ = variant(
        tmp_path,
        "      to: under_review\n      roles: [officer, supervisor]\n",
        "      to: under_review\n      hook: payments.fee_paid\n",
    )
    assert check_paths([path]) == []
    assert check_paths([path], hooks={"payments.fee_paid"}) == []
    errors = check_paths([path], hooks={"payments.fees_paid"})
    assert [(e.path, e.message) for e in errors] == [
        (
            "workflow.transitions[0].hook",
            "no hook named 'payments.fee_paid' is registered; did you mean 'payments.fees_paid'?",
        )
    ]
    definition = load_paths([path])[0]
    assert definition.workflow.transition("start_review").automatic


def test_loading_is_all_or_nothing(tmp_path: Path) -> None:
    # given one valid and one invalid file
    (tmp_path / "a").mkdir()
    good = tmp_path / "a" / "good.yaml"
    good.write_text(BASE.read_text(encoding="utf-8"), encoding="utf-8")
    bad, _ = variant(tmp_path, "version: 1.0.0", "version: one")
    # when / then
    with pytest.raises(DefinitionInvalid) as caught:
        load_paths([tmp_path])
    assert [error.file for error in caught.value.errors] == [str(bad)]


def test_the_same_service_twice_in_one_batch(tmp_path: Path) -> None:
    first, _ = variant(tmp_path, "version: 1.0.0", "version: 1.0.0", name="a.yaml")
    second, _ = variant(tmp_path, "version: 1.0.0", "version: 1.1.0", name="b.yaml")
    errors = check_paths([first, second])
    assert [(e.file, e.path) for e in errors] == [(str(second), "id")]
    assert errors[0].line == 2


def test_missing_path_and_empty_folder(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    errors = check_paths([tmp_path / "nope.yaml", tmp_path / "empty"])
    assert [e.message for e in errors] == ["no such file or directory", "no .yaml files found"]


def test_content_hash_changes_iff_the_content_changes(tmp_path: Path) -> None:
    text = BASE.read_text(encoding="utf-8")
    original = load_text(text)
    # formatting, comments and key order do not change the content
    reformatted = load_text(
        "# another comment\n"
        + text.replace("languages: [fr, es, en]", "languages:\n- fr\n- es\n- en")
    )
    reordered = load_text(
        text.replace("sector: civil-registry\n", "").replace(
            "id: civil", "sector: civil-registry\nid: civil"
        )
    )
    assert original.content_hash == reformatted.content_hash == reordered.content_hash
    # any change of content does
    relabelled = load_text(text.replace("en: Under review", "en: Being reviewed"))
    repriced = load_text(text.replace("* 500", "* 600"))
    hashes = {original.content_hash, relabelled.content_hash, repriced.content_hash}
    assert len(hashes) == 3


def test_parsed_representation(tmp_path: Path) -> None:
    definition = load_paths([BASE])[0]
    assert definition.id == "civil-registry.birth-certificate-copy"
    assert definition.institution == "GOV/70000001"
    assert definition.raw["workflow"]["initial"] == "submitted"
    # form
    assert definition.form.field_names[0] == "requester_relationship"
    shown = definition.form.visible_sections({"requester_relationship": "legal_representative"})
    assert [s.id for s in shown] == ["requester", "person", "representative", "request"]
    validator = Draft202012Validator(definition.form.validation_schema())
    answers = {
        "requester_relationship": "legal_representative",
        "given_names": "Awa",
        "family_name": "Diallo",
        "date_of_birth": "2011-04-02",
        "place_of_birth": "Thiès",
        "copy_type": "full_copy",
        "copies": 3,
        "delivery": "download",
    }
    assert {e.message for e in validator.iter_errors(answers)} == {
        "'representative_name' is a required property",
        "'court_order_reference' is a required property",
    }
    assert validator.is_valid({**answers, "requester_relationship": "self"})
    # documents and fees
    documents = {d.id: d for d in definition.documents}
    assert documents["court_order"].is_required(answers)
    assert not documents["court_order"].is_required({"requester_relationship": "self"})
    assert documents["requester_identity"].max_bytes == 5 * 1024 * 1024
    assert definition.fees is not None
    assert definition.fees.total(answers) == Decimal(1000)
    assert definition.fees.total({**answers, "copies": 1}) == Decimal(0)
    # workflow
    workflow = definition.workflow
    assert workflow.states["issued"].final
    assert workflow.states["under_review"].sla_working_days == 3
    assert {t.name for t in workflow.transitions_from("under_review")} == {
        "request_information",
        "approve",
        "reject",
        "withdraw",
    }
    assert workflow.transition("reject").inputs == ("reason",)
    assert [o.state for o in definition.outputs] == ["issued"]

"""Portal forms rendered from a service definition: one Django form per section (step).

A step is validated twice: per field by Django (types, lengths, ranges, choices, with messages
that name the question) and then, for the whole set of answers, with the definition's JSON Schema
(``Form.validation_schema()``: the form schema plus the ``if``/``then`` of conditional sections).
Schema errors on this step's fields become field errors; the template shows them in a GOV.UK
error summary whose links point at each field's id.

Uploads are checked here before any action sees them: the content is sniffed from its first bytes
(a renamed ``.exe`` is not a PDF whatever its name says), the type must be one the requirement
accepts, the name's extension must not contradict the content, and the size is capped.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django import forms
from django.core.files.uploadedfile import UploadedFile
from django.utils.datastructures import MultiValueDict
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError as SchemaError

from ceiba.cases import filetypes
from ceiba.catalog.definition import (
    DocumentRequirement,
    FieldHints,
    Form,
    Section,
    default_widget,
)
from ceiba.catalog.formula import FormulaError

Text = Mapping[str, str]

KNOWN_WIDGETS = frozenset(
    {
        "text",
        "textarea",
        "number",
        "money",
        "date",
        "email",
        "tel",
        "select",
        "radio",
        "checkbox",
        "checkboxes",
    }
)
GROUP_WIDGETS = frozenset({"radio", "checkboxes"})
CHOICE_WIDGETS = frozenset({"select", "radio", "checkboxes"})


def localize(text: Text | None, language: str | None = None, fallback: str = "en") -> str:
    """The text in the active language, else the fallback language, else any; "" for None."""
    if not text:
        return ""
    lang = (language or get_language() or fallback).split("-")[0]
    return text.get(lang) or text.get(fallback) or next(iter(text.values()), "")


def field_anchor(name: str, widget: str) -> str:
    """The id the error summary links to: the input itself, or the first option of a group."""
    return f"id_{name}_0" if widget in GROUP_WIDGETS else f"id_{name}"


def widget_for(prop: Mapping[str, Any], hints: FieldHints | None) -> str:
    """The widget to render: the hint when it fits the field, else the type's default, so an
    unknown or unsuitable hint degrades to a plain, working input."""
    kind = prop.get("type")
    items = prop.get("items")
    multiple = kind == "array" and isinstance(items, dict) and "enum" in items
    single = "enum" in prop and kind != "array"
    text = kind == "string" and not single
    fits = {
        "text": text,
        "textarea": text,
        "email": text,
        "tel": text,
        "date": text,
        "number": kind in ("number", "integer") and not single,
        "money": kind in ("number", "integer") and not single,
        "select": single,
        "radio": single,
        "checkbox": kind == "boolean",
        "checkboxes": multiple,
    }
    wanted = hints.widget if hints is not None else ""
    if fits.get(wanted, False):
        return wanted
    if kind == "array" and not multiple:
        return "text"  # a list without choices: not loadable, but never render empty boxes
    return default_widget(prop)


@functools.lru_cache(maxsize=64)
def _validator(schema_json: str) -> Draft202012Validator:
    return Draft202012Validator(
        json.loads(schema_json), format_checker=Draft202012Validator.FORMAT_CHECKER
    )


def schema_validator(form: Form) -> Draft202012Validator:
    return _validator(json.dumps(form.validation_schema(), sort_keys=True))


# ---------------------------------------------------------------------------------------------
# Answers


def visible_answers(form: Form, answers: Mapping[str, Any]) -> dict[str, Any]:
    """The answers of the sections shown for these answers; a hidden step's answers are dropped.

    Hiding a step can hide another (a condition on a field of a now hidden step), so this
    repeats until nothing changes.
    """
    current = dict(answers)
    while True:
        shown = {name for section in form.visible_sections(current) for name in section.fields}
        kept = {name: value for name, value in current.items() if name in shown}
        if kept == current:
            return kept
        current = kept


@dataclass(frozen=True)
class AnswerError:
    """One problem with the answers: the field, the step (1-based) it is on, and a message."""

    field: str
    step: int
    message: str
    anchor: str


def answer_errors(form: Form, answers: Mapping[str, Any]) -> list[AnswerError]:
    """Every problem with a complete set of answers, in the order of the form's questions."""
    answers = visible_answers(form, answers)
    sections = form.visible_sections(answers)
    step_of = {name: index for index, s in enumerate(sections, 1) for name in s.fields}
    order = {name: position for position, name in enumerate(form.field_names)}
    found: dict[str, AnswerError] = {}
    for name, message in _schema_messages(form, answers, set(step_of)):
        if name in found:
            continue
        hints = form.fields.get(name)
        widget = widget_for(form.schema["properties"].get(name, {}), hints)
        found[name] = AnswerError(name, step_of[name], message, field_anchor(name, widget))
    return sorted(found.values(), key=lambda error: order.get(error.field, len(order)))


def _schema_messages(
    form: Form, answers: Mapping[str, Any], names: set[str]
) -> Iterable[tuple[str, str]]:
    """(field, translated message) for each schema error about one of ``names``."""
    errors = sorted(
        schema_validator(form).iter_errors(dict(answers)), key=lambda e: list(e.absolute_path)
    )
    for error in _leaf_errors(errors):
        for name, message in _describe(form, error):
            if name in names:
                yield name, message


def _leaf_errors(errors: Sequence[SchemaError]) -> Iterable[SchemaError]:
    for error in errors:
        # if/then failures wrap the useful error (a missing field) in their context.
        if error.validator in ("allOf", "anyOf", "oneOf", "then") and error.context:
            yield from _leaf_errors(error.context)
        else:
            yield error


def _label(form: Form, name: str) -> str:
    hints = form.fields.get(name)
    return localize(hints.label) if hints is not None else name


def _describe(form: Form, error: SchemaError) -> list[tuple[str, str]]:
    path = list(error.absolute_path)
    if error.validator == "required" and isinstance(error.instance, dict):
        return [
            (name, required_message(form, name))
            for name in error.validator_value
            if name not in error.instance
        ]
    if error.validator == "additionalProperties":
        return []
    if not path or not isinstance(path[0], str):
        return []
    name = path[0]
    label = _label(form, name)
    value = error.validator_value
    messages: dict[str, str] = {
        "minLength": ngettext(
            "“%(label)s” must be at least %(limit)s character long",
            "“%(label)s” must be at least %(limit)s characters long",
            value if isinstance(value, int) else 2,
        )
        % {"label": label, "limit": value},
        "maxLength": ngettext(
            "“%(label)s” must be %(limit)s character or fewer",
            "“%(label)s” must be %(limit)s characters or fewer",
            value if isinstance(value, int) else 2,
        )
        % {"label": label, "limit": value},
        "minimum": _("“%(label)s” must be %(limit)s or more") % {"label": label, "limit": value},
        "maximum": _("“%(label)s” must be %(limit)s or less") % {"label": label, "limit": value},
        "exclusiveMinimum": _("“%(label)s” must be more than %(limit)s")
        % {"label": label, "limit": value},
        "exclusiveMaximum": _("“%(label)s” must be less than %(limit)s")
        % {"label": label, "limit": value},
        "pattern": _("Enter “%(label)s” in the expected format") % {"label": label},
        "format": _("Enter a valid value for “%(label)s”") % {"label": label},
        "minItems": _("Select at least %(limit)s options for “%(label)s”")
        % {"label": label, "limit": value},
        "maxItems": _("Select at most %(limit)s options for “%(label)s”")
        % {"label": label, "limit": value},
        "enum": _("Select one of the options for “%(label)s”") % {"label": label},
        "const": (
            _("Tick the box to confirm “%(label)s”") % {"label": label}
            if value is True
            else _("“%(label)s” cannot have this value") % {"label": label}
        ),
    }
    return [(name, messages.get(str(error.validator), invalid_message(form, name)))]


def required_message(form: Form, name: str) -> str:
    label = _label(form, name)
    widget = widget_for(form.schema["properties"].get(name, {}), form.fields.get(name))
    if widget in CHOICE_WIDGETS:
        return _("Select an answer for “%(label)s”") % {"label": label}
    if widget == "checkbox":
        return _("Tick the box to confirm “%(label)s”") % {"label": label}
    return _("Enter “%(label)s”") % {"label": label}


def invalid_message(form: Form, name: str) -> str:
    return _("Enter a valid value for “%(label)s”") % {"label": _label(form, name)}


# ---------------------------------------------------------------------------------------------
# A step of the form


@dataclass
class RenderedField:
    """What the template needs to draw one question."""

    name: str
    widget: str
    bound: forms.BoundField
    label: str
    help: str
    anchor: str

    @property
    def is_group(self) -> bool:
        return self.widget in GROUP_WIDGETS

    @property
    def is_checkbox(self) -> bool:
        return self.widget == "checkbox"

    @property
    def errors(self) -> list[str]:
        return [str(error) for error in self.bound.errors]


def _typed_number(value: Any) -> Any:
    """Accept what people type on phones: spaces as thousands separators, a decimal comma."""
    if isinstance(value, str):
        value = "".join(value.split()).replace("\u202f", "").replace("\u00a0", "")
        if value.count(",") == 1 and "." not in value:
            value = value.replace(",", ".")
    return value


class AmountField(forms.DecimalField):
    def to_python(self, value: Any) -> Any:
        return super().to_python(_typed_number(value))


class WholeNumberField(forms.IntegerField):
    def to_python(self, value: Any) -> int | None:
        return super().to_python(_typed_number(value))


class SectionForm(forms.Form):
    """The questions of one section, bound to the saved answers as initial values.

    ``draft=True`` is for "Save as draft": nothing is required, but what is typed must still be
    of the right kind (a date is a date) so a draft never holds an answer the form cannot show.
    """

    def __init__(
        self,
        form: Form,
        section: Section,
        *,
        answers: Mapping[str, Any] | None = None,
        data: Mapping[str, Any] | None = None,
        draft: bool = False,
    ) -> None:
        self.definition_form = form
        self.section = section
        self.saved = dict(answers or {})
        self.draft = draft
        super().__init__(data=data, initial=self._initial())
        self.widgets: dict[str, str] = {}
        required = set(form.schema.get("required", []))
        if section.consequence:
            required |= set(section.consequence.get("required", []))
        for name in section.fields:
            prop = form.schema["properties"].get(name, {})
            hints = form.fields.get(name)
            widget = widget_for(prop, hints)
            self.widgets[name] = widget
            self.fields[name] = self._field(name, prop, hints, widget, name in required)

    # -- building fields ----------------------------------------------------------------------

    def _initial(self) -> dict[str, Any]:
        return {name: value for name, value in self.saved.items() if name in self.section.fields}

    def _field(
        self, name: str, prop: Mapping[str, Any], hints: FieldHints | None, widget: str, req: bool
    ) -> forms.Field:
        form = self.definition_form
        label = localize(hints.label) if hints else name
        help_text = localize(hints.help) if hints and hints.help else ""
        placeholder = localize(hints.placeholder) if hints and hints.placeholder else ""
        required = req and not self.draft and widget != "checkbox"
        messages = {
            "required": required_message(form, name),
            "invalid": invalid_message(form, name),
            "invalid_choice": _("Select one of the options for “%(label)s”") % {"label": label},
            "invalid_list": _("Select one of the options for “%(label)s”") % {"label": label},
        }
        attrs: dict[str, Any] = {}
        if help_text:
            attrs["aria-describedby"] = f"id_{name}-hint"
        if placeholder and widget not in GROUP_WIDGETS | {"select", "checkbox"}:
            attrs["placeholder"] = placeholder
        field: forms.Field
        if widget in CHOICE_WIDGETS:
            values = prop["items"]["enum"] if prop.get("type") == "array" else prop.get("enum", [])
            options = hints.options if hints else {}
            choices = [(str(v), localize(options.get(str(v))) or str(v)) for v in values]
            if widget == "checkboxes":
                field = forms.MultipleChoiceField(
                    choices=choices,
                    required=required,
                    widget=forms.CheckboxSelectMultiple(attrs=attrs),
                )
            elif widget == "radio":
                field = forms.ChoiceField(
                    choices=choices, required=required, widget=forms.RadioSelect(attrs=attrs)
                )
            else:
                field = forms.ChoiceField(
                    choices=[("", _("Choose an option")), *choices],
                    required=required,
                    widget=forms.Select(attrs=attrs),
                )
        elif widget == "checkbox":
            field = forms.BooleanField(required=False, widget=forms.CheckboxInput(attrs=attrs))
        elif widget in ("number", "money") or prop.get("type") in ("number", "integer"):
            field = self._number_field(prop, widget, required, attrs, messages, label)
        elif widget == "date" or prop.get("format") == "date":
            attrs.setdefault("placeholder", "YYYY-MM-DD")
            field = forms.DateField(
                required=required,
                input_formats=["%Y-%m-%d", "%d/%m/%Y"],
                widget=forms.DateInput(attrs={**attrs, "type": "date"}, format="%Y-%m-%d"),
            )
            messages["invalid"] = _("“%(label)s” must be a real date, for example 2015-03-27") % {
                "label": label
            }
        elif widget == "email" or prop.get("format") == "email":
            field = forms.EmailField(
                required=required,
                max_length=prop.get("maxLength"),
                widget=forms.EmailInput(attrs={**attrs, "autocomplete": "email"}),
            )
            messages["invalid"] = _(
                "Enter “%(label)s” as an email address, like name@example.com"
            ) % {"label": label}
        else:
            text_attrs = {**attrs}
            if widget == "tel":
                text_attrs.update({"type": "tel", "autocomplete": "tel", "inputmode": "tel"})
            field = forms.CharField(
                required=required,
                min_length=None,
                max_length=prop.get("maxLength"),
                widget=(
                    forms.Textarea(attrs={**text_attrs, "rows": 5})
                    if widget == "textarea"
                    else forms.TextInput(attrs=text_attrs)
                ),
            )
        field.label = label
        field.help_text = help_text
        for key, message in messages.items():
            field.error_messages[key] = message
        limit = prop.get("maxLength")
        if limit is not None:
            field.error_messages["max_length"] = ngettext(
                "“%(label)s” must be %(limit)s character or fewer",
                "“%(label)s” must be %(limit)s characters or fewer",
                limit,
            ) % {"label": label, "limit": limit}
        return field

    @staticmethod
    def _number_field(
        prop: Mapping[str, Any],
        widget: str,
        required: bool,
        attrs: dict[str, Any],
        messages: dict[str, str],
        label: str,
    ) -> forms.Field:
        minimum, maximum = prop.get("minimum"), prop.get("maximum")
        field: forms.Field
        if prop.get("type") == "integer":
            field = WholeNumberField(
                required=required,
                min_value=minimum,
                max_value=maximum,
                widget=forms.NumberInput(attrs={**attrs, "inputmode": "numeric"}),
            )
            messages["invalid"] = _("“%(label)s” must be a whole number") % {"label": label}
        else:
            field = AmountField(
                required=required,
                min_value=Decimal(str(minimum)) if minimum is not None else None,
                max_value=Decimal(str(maximum)) if maximum is not None else None,
                max_digits=20,
                decimal_places=None if widget != "money" else 2,
                widget=forms.TextInput(attrs={**attrs, "inputmode": "decimal"}),
            )
            field.localize = False
            messages["invalid"] = _("“%(label)s” must be a number") % {"label": label}
            messages["max_digits"] = messages["invalid"]
            messages["max_decimal_places"] = _("“%(label)s” can have at most 2 decimal places") % {
                "label": label
            }
            messages["max_whole_digits"] = messages["invalid"]
        if minimum is not None:
            messages["min_value"] = _("“%(label)s” must be %(limit)s or more") % {
                "label": label,
                "limit": minimum,
            }
        if maximum is not None:
            messages["max_value"] = _("“%(label)s” must be %(limit)s or less") % {
                "label": label,
                "limit": maximum,
            }
        return field

    # -- validation ---------------------------------------------------------------------------

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        answers = self._merged(self.section_answers_from(cleaned))
        names = {name for name in self.section.fields if name not in self.errors}
        for name, message in _schema_messages(self.definition_form, answers, names):
            if self.draft and message == required_message(self.definition_form, name):
                continue
            if name not in self.errors:
                self.add_error(name, message)
        return cleaned

    def section_answers_from(self, cleaned: Mapping[str, Any]) -> dict[str, Any]:
        answers: dict[str, Any] = {}
        for name in self.section.fields:
            if name not in cleaned:
                continue
            value = _to_json(cleaned[name], self.definition_form.schema["properties"].get(name))
            if value is None or value == "" or value == []:
                continue
            answers[name] = value
        return answers

    def _merged(self, section_answers: Mapping[str, Any]) -> dict[str, Any]:
        kept = {k: v for k, v in self.saved.items() if k not in self.section.fields}
        return {**kept, **section_answers}

    def answers(self) -> dict[str, Any]:
        """All answers after this step: the saved ones with this step's replaced, hidden steps'
        dropped. Call after ``is_valid()``."""
        return visible_answers(
            self.definition_form, self._merged(self.section_answers_from(self.cleaned_data))
        )

    # -- rendering ----------------------------------------------------------------------------

    def rendered_fields(self) -> list[RenderedField]:
        rendered = []
        for name in self.section.fields:
            bound = self[name]
            widget = self.widgets[name]
            if bound.errors:
                described = " ".join(
                    part
                    for part in (f"id_{name}-hint" if bound.help_text else "", f"id_{name}-error")
                    if part
                )
                bound.field.widget.attrs.update(
                    {"aria-invalid": "true", "aria-describedby": described}
                )
            rendered.append(
                RenderedField(
                    name=name,
                    widget=widget,
                    bound=bound,
                    label=str(bound.label),
                    help=str(bound.help_text),
                    anchor=field_anchor(name, widget),
                )
            )
        return rendered

    def summary(self) -> list[tuple[str, str]]:
        """(anchor, message) for the error summary, in the order of the questions."""
        items = [("", str(error)) for error in self.non_field_errors()]
        for name in self.section.fields:
            for error in self.errors.get(name, []):
                items.append((field_anchor(name, self.widgets[name]), str(error)))
        return items


def _to_json(value: Any, prop: Mapping[str, Any] | None) -> Any:
    """A cleaned Django value as the JSON value the schema expects."""
    prop = prop or {}
    if value is None:
        return None
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, list):
        values = prop.get("items", {}).get("enum", [])
        return [_from_choice(item, values) for item in value]
    if isinstance(value, str) and "enum" in prop:
        return _from_choice(value, prop["enum"])
    return value


def _from_choice(text: str, values: Sequence[Any]) -> Any:
    """The enum value whose text form was posted (enums may hold numbers)."""
    for value in values:
        if str(value) == text:
            return value
    return text


# ---------------------------------------------------------------------------------------------
# Documents

MEDIA_NAMES = {
    "application/pdf": "PDF",
    "image/jpeg": "JPEG",
    "image/png": "PNG",
    "image/gif": "GIF",
    "image/tiff": "TIFF",
    "image/webp": "WebP",
}


def sniff_media_type(head: bytes) -> str | None:
    """The media type the content shows, from its first bytes (the same recognizer as
    ``cases.actions``, so the form and the action never disagree); None when unknown."""
    return filetypes.sniff(head)


def media_names(media_types: Iterable[str]) -> str:
    """``PDF, JPEG or PNG``."""
    names = [MEDIA_NAMES.get(media_type, media_type) for media_type in media_types]
    if len(names) < 2:
        return "".join(names)
    return _("%(first)s or %(last)s") % {"first": ", ".join(names[:-1]), "last": names[-1]}


def size_text(size: int) -> str:
    """A size for people: "5 MB", "1.5 MB", "300 KB"."""
    if size >= 1024 * 1024:
        megabytes = f"{size / (1024 * 1024):.1f}".removesuffix(".0")
        return _("%(size)s MB") % {"size": megabytes}
    return _("%(size)s KB") % {"size": max(1, size // 1024)}


def document_required(requirement: DocumentRequirement, answers: Mapping[str, Any]) -> bool:
    """Whether the document is needed; a condition on a question not answered yet counts as
    needed, so the applicant is never told too late."""
    try:
        return requirement.is_required(answers)
    except FormulaError:
        return True


@dataclass(frozen=True)
class CheckedUpload:
    """A file that passed the checks: the media type is the sniffed one, not the browser's."""

    file: UploadedFile
    media_type: str
    size: int
    name: str


def check_upload(file: UploadedFile, requirement: DocumentRequirement) -> CheckedUpload:
    """Raise ``forms.ValidationError`` with a message for the applicant, or return the file."""
    label = localize(requirement.label)
    accepted = media_names(requirement.mime_types)
    size = file.size or 0
    if size == 0:
        raise forms.ValidationError(
            _("The file for “%(label)s” is empty; choose another file") % {"label": label},
            code="empty",
        )
    if size > requirement.max_bytes:
        raise forms.ValidationError(
            _("The file for “%(label)s” must be smaller than %(limit)s (it is %(size)s)")
            % {
                "label": label,
                "limit": size_text(requirement.max_bytes),
                "size": size_text(size),
            },
            code="too_large",
        )
    file.seek(0)
    head = file.read(filetypes.HEAD_BYTES)
    file.seek(0)
    found = sniff_media_type(head)
    if found is None or found not in requirement.mime_types:
        raise forms.ValidationError(
            _("The file for “%(label)s” must be a %(types)s file; this file is not one")
            % {"label": label, "types": accepted},
            code="wrong_type",
        )
    name = (file.name or "document").rsplit("/", 1)[-1].rsplit("\\", 1)[-1]
    extension = "." + name.rsplit(".", 1)[-1].lower() if "." in name else ""
    claimed = filetypes.extension_type(name)
    if claimed is not None and claimed != found:
        raise forms.ValidationError(
            _(
                "The file for “%(label)s” is named %(extension)s but holds a %(found)s file; "
                "rename it or choose the right file"
            )
            % {"label": label, "extension": extension, "found": MEDIA_NAMES.get(found, found)},
            code="mislabelled",
        )
    return CheckedUpload(file=file, media_type=found, size=size, name=name[:200])


class DocumentsForm(forms.Form):
    """One optional file input per document requirement shown for these answers.

    Every input is optional on this page: documents can be uploaded one at a time and the
    review page reports the missing required ones.
    """

    def __init__(
        self,
        requirements: Sequence[DocumentRequirement],
        *,
        answers: Mapping[str, Any],
        data: Mapping[str, Any] | None = None,
        files: MultiValueDict[str, UploadedFile] | None = None,
    ) -> None:
        super().__init__(data=data, files=files)
        self.requirements = list(requirements)
        self.checked: dict[str, CheckedUpload] = {}
        for requirement in self.requirements:
            attrs = {
                "accept": ",".join(requirement.mime_types),
                "aria-describedby": f"id_doc_{requirement.id}-hint",
            }
            field = forms.FileField(
                required=False,
                label=localize(requirement.label),
                widget=forms.FileInput(attrs=attrs),
            )
            field.error_messages["invalid"] = _("The selected file could not be read")
            field.error_messages["missing"] = _("The selected file could not be read")
            field.error_messages["empty"] = _(
                "The file for “%(label)s” is empty; choose another file"
            ) % {"label": localize(requirement.label)}
            self.fields[f"doc_{requirement.id}"] = field
        self.answers = answers

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        for requirement in self.requirements:
            key = f"doc_{requirement.id}"
            upload = cleaned.get(key)
            if not upload:
                continue
            try:
                self.checked[requirement.id] = check_upload(upload, requirement)
            except forms.ValidationError as error:
                self.add_error(key, error)
        return cleaned

    def rows(self) -> list[dict[str, Any]]:
        rows = []
        for requirement in self.requirements:
            key = f"doc_{requirement.id}"
            rows.append(
                {
                    "requirement": requirement,
                    "bound": self[key],
                    "anchor": f"id_{key}",
                    "label": localize(requirement.label),
                    "help": localize(requirement.help),
                    "types": media_names(requirement.mime_types),
                    "max_size": size_text(requirement.max_bytes),
                    "required": document_required(requirement, self.answers),
                    "errors": list(self[key].errors),
                }
            )
        return rows

    def summary(self) -> list[tuple[str, str]]:
        items = [("", str(error)) for error in self.non_field_errors()]
        for requirement in self.requirements:
            key = f"doc_{requirement.id}"
            items.extend((f"id_{key}", str(error)) for error in self.errors.get(key, []))
        return items

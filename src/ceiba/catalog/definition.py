"""Service definitions as data: read YAML, validate, and parse into typed, immutable objects.

Validation runs in two stages. The JSON Schema (``schema/service-definition.schema.json``)
checks the shape; when the shape is right, the semantic rules the schema cannot express are
checked: languages, field names used by the form's sections and by formulas, the embedded form
schema itself, and the workflow graph (known states, reachable states, a way to finish).

Every problem is a :class:`DefinitionError` naming the file, the line in the YAML and the path
inside the document, such as ``workflow.transitions[2].to``. Loading is all-or-nothing:
:func:`load_paths` raises :class:`DefinitionInvalid` with every error when any file is invalid.

Nothing here imports Django; the catalog models store :attr:`ServiceDefinition.raw` and
:attr:`ServiceDefinition.content_hash`.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import math
import os
import re
from collections import deque
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any, Literal, cast

import yaml
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from ceiba.catalog.formula import Formula, FormulaError, TypeName, parse

SCHEMA_PATH = Path(__file__).parent / "schema" / "service-definition.schema.json"
REQUIRED_LANGUAGES = ("fr", "es", "en")
YAML_SUFFIXES = (".yaml", ".yml")
MAX_FILE_BYTES = 1_000_000
MAX_YAML_NODES = 100_000
APPLICANT_ROLES = {"citizen": "citizen", "business": "business_rep"}
FIELD_TYPES: dict[str, TypeName] = {
    "string": "string",
    "number": "number",
    "integer": "number",
    "boolean": "boolean",
}
CHOICE_WIDGETS = frozenset({"select", "radio", "checkboxes"})

JsonPath = tuple[str | int, ...]
Text = dict[str, str]


# ---------------------------------------------------------------------------------------------
# Errors


@dataclass(frozen=True)
class DefinitionError:
    """One problem in one file: ``line`` is 1-based (None when unknown), ``path`` a JSON path."""

    file: str
    line: int | None
    path: str
    message: str

    def __str__(self) -> str:
        location = f"{self.file}:{self.line}" if self.line is not None else self.file
        return (
            f"{location}: {self.path}: {self.message}"
            if self.path
            else (f"{location}: {self.message}")
        )


class DefinitionInvalid(Exception):
    """Raised by the load functions; ``errors`` lists every problem found."""

    def __init__(self, errors: Sequence[DefinitionError]) -> None:
        self.errors = list(errors)
        count = len(self.errors)
        summary = "; ".join(str(error) for error in self.errors[:3])
        more = f" (and {count - 3} more)" if count > 3 else ""
        super().__init__(f"{count} error(s) in service definitions: {summary}{more}")


def format_path(path: JsonPath) -> str:
    """``("workflow", "transitions", 2, "to")`` -> ``workflow.transitions[2].to``."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        elif re.fullmatch(r"[A-Za-z_$][A-Za-z0-9_-]*", part):
            text += f".{part}" if text else part
        else:
            text += f"[{json.dumps(part, ensure_ascii=False)}]"
    return text


# ---------------------------------------------------------------------------------------------
# Parsed representation


@dataclass(frozen=True)
class FieldHints:
    name: str
    label: Text
    help: Text | None
    placeholder: Text | None
    widget: str
    options: dict[str, Text]


@dataclass(frozen=True)
class Section:
    """A form step; when ``condition`` is set the step is shown only if the answers match it."""

    id: str
    title: Text
    description: Text | None
    fields: tuple[str, ...]
    condition: dict[str, Any] | None
    consequence: dict[str, Any] | None

    def is_shown(self, answers: Mapping[str, Any]) -> bool:
        if self.condition is None:
            return True
        return bool(_validator(json.dumps(self.condition, sort_keys=True)).is_valid(answers))


@dataclass(frozen=True)
class Form:
    schema: dict[str, Any]
    sections: tuple[Section, ...]
    fields: dict[str, FieldHints]

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(name for section in self.sections for name in section.fields)

    def validation_schema(self) -> dict[str, Any]:
        """The form schema plus one ``if``/``then`` per conditional section: validate answers
        against this."""
        schema = dict(self.schema)
        conditions = [
            {"if": section.condition, "then": section.consequence}
            for section in self.sections
            if section.condition is not None and section.consequence is not None
        ]
        if conditions:
            schema["allOf"] = [*schema.get("allOf", []), *conditions]
        return schema

    def visible_sections(self, answers: Mapping[str, Any]) -> tuple[Section, ...]:
        return tuple(section for section in self.sections if section.is_shown(answers))


@dataclass(frozen=True)
class DocumentRequirement:
    id: str
    type: str
    label: Text
    help: Text | None
    mime_types: tuple[str, ...]
    max_bytes: int
    requirement: Literal["required", "optional", "required_when"]
    when: Formula | None

    def is_required(self, answers: Mapping[str, Any]) -> bool:
        if self.requirement == "required_when":
            assert self.when is not None
            return self.when.evaluate_condition(answers)
        return self.requirement == "required"


@dataclass(frozen=True)
class FeeItem:
    id: str
    label: Text
    kind: Literal["fee", "tax", "penalty"]
    amount: Decimal | None
    formula: Formula | None
    when: Formula | None

    def amount_for(self, answers: Mapping[str, Any]) -> Decimal | None:
        """The amount due for these answers, or None when the item does not apply."""
        if self.when is not None and not self.when.evaluate_condition(answers):
            return None
        if self.formula is None:
            assert self.amount is not None
            return self.amount
        return self.formula.evaluate_number(answers)


@dataclass(frozen=True)
class Fees:
    currency: str
    items: tuple[FeeItem, ...]

    def breakdown(self, answers: Mapping[str, Any]) -> list[tuple[FeeItem, Decimal]]:
        due = ((item, item.amount_for(answers)) for item in self.items)
        return [(item, amount) for item, amount in due if amount is not None]

    def total(self, answers: Mapping[str, Any]) -> Decimal:
        return sum((amount for _, amount in self.breakdown(answers)), Decimal(0))


@dataclass(frozen=True)
class State:
    id: str
    label: Text
    sla_working_days: int | None
    final: bool


@dataclass(frozen=True)
class Transition:
    """A move between states; ``hook`` set means an automatic step with no roles."""

    name: str
    label: Text
    sources: tuple[str, ...]
    target: str
    roles: frozenset[str]
    guard: Formula | None
    inputs: tuple[str, ...]
    hook: str | None

    @property
    def automatic(self) -> bool:
        return self.hook is not None


@dataclass(frozen=True)
class Workflow:
    initial: str
    states: dict[str, State]
    transitions: tuple[Transition, ...]

    def transitions_from(self, state: str) -> tuple[Transition, ...]:
        return tuple(t for t in self.transitions if state in t.sources)

    def transition(self, name: str) -> Transition:
        for candidate in self.transitions:
            if candidate.name == name:
                return candidate
        raise KeyError(name)


@dataclass(frozen=True)
class Output:
    state: str
    template: str
    title: Text
    validity_days: int | None


@dataclass(frozen=True)
class ServiceDefinition:
    """A valid definition. ``raw`` is the document as read; ``content_hash`` changes iff the
    content does (formatting and comments do not count)."""

    id: str
    version: str
    languages: tuple[str, ...]
    name: Text
    description: Text
    institution: str
    sector: str
    life_events: tuple[str, ...]
    applicants: tuple[str, ...]
    form: Form
    documents: tuple[DocumentRequirement, ...]
    fees: Fees | None
    workflow: Workflow
    outputs: tuple[Output, ...]
    raw: dict[str, Any] = field(repr=False, compare=False)
    content_hash: str
    source: str


def content_hash(raw: Mapping[str, Any]) -> str:
    """SHA-256 of the canonical JSON form of a definition (sorted keys, no whitespace)."""
    canonical = json.dumps(
        raw, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


# ---------------------------------------------------------------------------------------------
# Public entry points


def collect_files(
    paths: Iterable[str | os.PathLike[str]],
) -> tuple[list[Path], list[DefinitionError]]:
    """Expand directories into their YAML files (recursively, sorted); report missing paths."""
    files: list[Path] = []
    errors: list[DefinitionError] = []
    for entry in paths:
        path = Path(entry)
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.suffix in YAML_SUFFIXES and p.is_file())
            if not found:
                errors.append(DefinitionError(str(path), None, "", "no .yaml files found"))
            files.extend(found)
        elif path.is_file():
            files.append(path)
        else:
            errors.append(DefinitionError(str(path), None, "", "no such file or directory"))
    return files, errors


def check_paths(
    paths: Iterable[str | os.PathLike[str]], *, hooks: Collection[str] | None = None
) -> list[DefinitionError]:
    """Every error in the given files and directories; an empty list means all are valid.

    ``hooks``, when given, is the set of registered hook names automatic steps may use.
    """
    return _check(paths, hooks)[1]


def load_paths(
    paths: Iterable[str | os.PathLike[str]], *, hooks: Collection[str] | None = None
) -> list[ServiceDefinition]:
    """All definitions in the given files and directories, or DefinitionInvalid if any error."""
    definitions, errors = _check(paths, hooks)
    if errors:
        raise DefinitionInvalid(errors)
    return definitions


def load_text(
    text: str | bytes, *, file: str = "<string>", hooks: Collection[str] | None = None
) -> ServiceDefinition:
    """Parse one definition from YAML text; raise DefinitionInvalid on any error."""
    definition, errors = _load_one(text, file, hooks)
    if errors or definition is None:
        raise DefinitionInvalid(errors)
    return definition


def _check(
    paths: Iterable[str | os.PathLike[str]], hooks: Collection[str] | None
) -> tuple[list[ServiceDefinition], list[DefinitionError]]:
    files, errors = collect_files(paths)
    definitions: list[ServiceDefinition] = []
    seen: dict[str, str] = {}
    for path in files:
        try:
            size = path.stat().st_size
            if size > MAX_FILE_BYTES:
                errors.append(
                    DefinitionError(str(path), None, "", f"file larger than {MAX_FILE_BYTES} bytes")
                )
                continue
            data = path.read_bytes()
        except OSError as exc:
            errors.append(DefinitionError(str(path), None, "", f"cannot read: {exc.strerror}"))
            continue
        definition, file_errors = _load_one(data, str(path), hooks)
        errors.extend(file_errors)
        if definition is None:
            continue
        if definition.id in seen:
            line = _Builder.line_of_key(data, "id")
            errors.append(
                DefinitionError(
                    str(path),
                    line,
                    "id",
                    f"service {definition.id!r} is also defined in {seen[definition.id]}",
                )
            )
            continue
        seen[definition.id] = str(path)
        definitions.append(definition)
    return definitions, errors


def _load_one(
    text: str | bytes, file: str, hooks: Collection[str] | None
) -> tuple[ServiceDefinition | None, list[DefinitionError]]:
    read = _read_yaml(text, file)
    if isinstance(read, list):
        return None, read
    data, lines = read
    builder = _Builder(file, lines, hooks)
    if not isinstance(data, dict):
        builder.error((), "a service definition must be a mapping of keys to values")
        return None, builder.errors
    for error in sorted(_schema_validator().iter_errors(data), key=_error_sort_key):
        for path, message in _describe_schema_error(error):
            builder.error(path, message)
    if builder.errors:
        return None, builder.errors
    definition = builder.build(data)
    if builder.errors:
        return None, builder.errors
    return definition, []


# ---------------------------------------------------------------------------------------------
# YAML with line numbers


class _Loader(yaml.SafeLoader):
    """SafeLoader reading dates as text and only true/false as booleans (no "Norway problem")."""


_Loader.yaml_implicit_resolvers = {
    first: [
        (tag, regexp)
        for tag, regexp in resolvers
        if tag not in ("tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:bool")
    ]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def _read_yaml(
    text: str | bytes, file: str
) -> tuple[Any, dict[JsonPath, int]] | list[DefinitionError]:
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            return [DefinitionError(file, None, "", f"not UTF-8 text (byte {exc.start})")]
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return [DefinitionError(file, 1, "", "the file is empty")]
        lines: dict[JsonPath, int] = {}
        problems: list[DefinitionError] = []
        _map_lines(node, (), lines, problems, file, [0])
        if problems:
            return problems
        data = loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        parts = [part for part in (exc.context, exc.problem) if part]
        message = "invalid YAML: " + ", ".join(parts)
        return [DefinitionError(file, mark.line + 1 if mark else None, "", message)]
    except yaml.YAMLError as exc:
        return [DefinitionError(file, None, "", f"invalid YAML: {exc}")]
    except RecursionError:
        return [DefinitionError(file, None, "", "invalid YAML: nested too deeply")]
    finally:
        loader.dispose()
    problems = []
    _check_json_values(data, (), lines, problems, file)
    if problems:
        return problems
    return data, lines


def _map_lines(
    node: yaml.Node,
    path: JsonPath,
    lines: dict[JsonPath, int],
    problems: list[DefinitionError],
    file: str,
    count: list[int],
) -> None:
    count[0] += 1
    if count[0] > MAX_YAML_NODES:
        if count[0] == MAX_YAML_NODES + 1:
            problems.append(
                DefinitionError(file, None, "", f"more than {MAX_YAML_NODES} YAML nodes")
            )
        return
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            line = key_node.start_mark.line + 1
            if key_node.tag == "tag:yaml.org,2002:merge":
                problems.append(
                    DefinitionError(
                        file,
                        line,
                        format_path(path),
                        "merge keys (<<) are not supported; write the keys out",
                    )
                )
                continue
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag != "tag:yaml.org,2002:str":
                problems.append(
                    DefinitionError(file, line, format_path(path), "keys must be plain text")
                )
                continue
            key = str(key_node.value)
            if key in seen:
                problems.append(
                    DefinitionError(file, line, format_path((*path, key)), "duplicate key")
                )
            seen.add(key)
            lines[(*path, key)] = line
            _map_lines(value_node, (*path, key), lines, problems, file, count)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _map_lines(item, (*path, index), lines, problems, file, count)


def _check_json_values(
    value: Any,
    path: JsonPath,
    lines: dict[JsonPath, int],
    problems: list[DefinitionError],
    file: str,
) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            _check_json_values(item, (*path, key), lines, problems, file)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check_json_values(item, (*path, index), lines, problems, file)
    elif isinstance(value, float) and not math.isfinite(value):
        problems.append(DefinitionError(file, lines.get(path), format_path(path), "not a number"))
    elif not isinstance(value, str | int | float | bool | None):
        problems.append(
            DefinitionError(
                file, lines.get(path), format_path(path), f"unsupported YAML value {value!r}"
            )
        )


# ---------------------------------------------------------------------------------------------
# JSON Schema stage


@cache
def _schema() -> dict[str, Any]:
    return cast(dict[str, Any], json.loads(SCHEMA_PATH.read_text(encoding="utf-8")))


@cache
def _schema_validator() -> Draft202012Validator:
    return Draft202012Validator(_schema())


@cache
def _validator(schema_json: str) -> Draft202012Validator:
    return Draft202012Validator(json.loads(schema_json))


_META_VALIDATOR = Draft202012Validator(Draft202012Validator.META_SCHEMA)

_NOT_ALLOWED_HINTS = {
    "amount": "a fee has either an amount or a formula, not both",
    "when": "'when' goes with requirement: required_when",
    "roles": "an automatic transition (with a hook) is taken by the platform, not by a role",
    "inputs": "an automatic transition (with a hook) takes no inputs",
}


def _error_sort_key(error: ValidationError) -> tuple[str, str]:
    return (json.dumps(list(error.absolute_path)), error.message)


def _describe_schema_error(error: ValidationError) -> list[tuple[JsonPath, str]]:
    path: JsonPath = tuple(error.absolute_path)
    instance = error.instance
    if error.validator == "additionalProperties" and isinstance(instance, dict):
        known = list(error.schema.get("properties", {}))
        extras = [key for key in instance if key not in known]
        if known and extras:
            described = []
            for key in extras:
                close = difflib.get_close_matches(key, known, n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                described.append(((*path, key), f"unknown property {key!r}{hint}"))
            return described
    if error.validator == "required":
        missing = [
            name
            for name in cast(list[str], error.validator_value)
            if isinstance(instance, dict) and name not in instance
        ]
        if missing:
            return [(path, f"missing required property {missing[0]!r}")]
    if error.validator == "not":
        banned = (
            error.validator_value.get("required")
            if isinstance(error.validator_value, dict)
            else None
        )
        if banned:
            key = banned[0]
            return [
                (
                    (*path, key),
                    f"{key!r} is not allowed here: {_NOT_ALLOWED_HINTS.get(key, 'remove it')}",
                )
            ]
    if error.validator == "pattern" and error.schema.get("description"):
        return [(path, f"{error.instance!r} is not valid: {error.schema['description']}")]
    return [(path, error.message)]


# ---------------------------------------------------------------------------------------------
# Semantic stage


class _Builder:
    """Check the rules beyond the schema while building the parsed representation."""

    def __init__(
        self, file: str, lines: dict[JsonPath, int], hooks: Collection[str] | None
    ) -> None:
        self.file = file
        self.lines = lines
        self.hooks = hooks
        self.errors: list[DefinitionError] = []
        self.languages: tuple[str, ...] = ()
        self.field_types: dict[str, TypeName] = {}
        self.list_fields: set[str] = set()

    @staticmethod
    def line_of_key(data: str | bytes, key: str) -> int | None:
        read = _read_yaml(data, "")
        return None if isinstance(read, list) else read[1].get((key,))

    def line(self, path: JsonPath) -> int | None:
        for end in range(len(path), -1, -1):
            if path[:end] in self.lines:
                return self.lines[path[:end]]
        return None

    def error(self, path: JsonPath, message: str) -> None:
        self.errors.append(DefinitionError(self.file, self.line(path), format_path(path), message))

    # -- document ----------------------------------------------------------------------------

    def build(self, data: dict[str, Any]) -> ServiceDefinition:
        self.languages = tuple(data["languages"])
        for language in REQUIRED_LANGUAGES:
            if language not in self.languages:
                self.error(("languages",), f"the required language {language!r} is missing")
        applicants = tuple(data["applicants"])
        form = self.form(data["form"], ("form",))
        documents = self.documents(data.get("documents", []))
        fees = self.fees(data["fees"]) if "fees" in data else None
        workflow = self.workflow(data["workflow"], applicants)
        outputs = self.outputs(data.get("outputs", []), workflow)
        return ServiceDefinition(
            id=data["id"],
            version=data["version"],
            languages=self.languages,
            name=self.text(data["name"], ("name",)),
            description=self.text(data["description"], ("description",)),
            institution=data["institution"],
            sector=data["sector"],
            life_events=tuple(data.get("life_events", [])),
            applicants=applicants,
            form=form,
            documents=documents,
            fees=fees,
            workflow=workflow,
            outputs=outputs,
            raw=data,
            content_hash=content_hash(data),
            source=self.file,
        )

    def text(self, value: dict[str, str], path: JsonPath) -> Text:
        for language in self.languages:
            if language not in value:
                self.error(path, f"missing the {language!r} text")
        for language in value:
            if language not in self.languages:
                self.error((*path, language), f"language {language!r} is not in 'languages'")
        return dict(value)

    def optional_text(self, owner: Mapping[str, Any], key: str, path: JsonPath) -> Text | None:
        return self.text(owner[key], (*path, key)) if key in owner else None

    def unique(self, items: Sequence[Mapping[str, Any]], key: str, path: JsonPath) -> None:
        seen: set[str] = set()
        for index, item in enumerate(items):
            if item[key] in seen:
                self.error((*path, index, key), f"duplicate {key} {item[key]!r}")
            seen.add(item[key])

    def formula(self, source: str, path: JsonPath, wanted: TypeName) -> Formula | None:
        try:
            formula = parse(source)
            for name in sorted(formula.names & self.list_fields):
                raise FormulaError(f"field {name!r} holds several values and cannot be used here")
            found = formula.infer_type(self.field_types)
        except FormulaError as exc:
            where = f" (column {exc.offset + 1})" if exc.offset is not None else ""
            self.error(path, f"{exc.message}{where} in {source!r}")
            return None
        if found not in (wanted, "any"):
            self.error(path, f"{source!r} gives a {found}, expected a {wanted}")
            return None
        return formula

    # -- form ----------------------------------------------------------------------------------

    def form(self, data: dict[str, Any], path: JsonPath) -> Form:
        schema = data["schema"]
        self.check_embedded_schema(schema, (*path, "schema"))
        properties: dict[str, Any] = schema["properties"]
        for name, prop in properties.items():
            prop_path = (*path, "schema", "properties", name)
            kind = prop.get("type") if isinstance(prop, dict) else None
            if kind in FIELD_TYPES:
                self.field_types[name] = FIELD_TYPES[kind]
            elif (
                kind == "array"
                and isinstance(prop.get("items"), dict)
                and ("enum" in prop["items"])
            ):
                self.list_fields.add(name)
            else:
                self.error(
                    prop_path,
                    "a field needs a 'type' among string, number, integer, boolean, or array "
                    "with 'items' listing an 'enum'",
                )
        required = set(schema.get("required", []))

        placed: dict[str, str] = {}
        sections: list[Section] = []
        for index, section in enumerate(data["sections"]):
            section_path = (*path, "sections", index)
            for position, name in enumerate(section["fields"]):
                if name not in properties:
                    self.error(
                        (*section_path, "fields", position),
                        f"unknown field {name!r}{_close(name, properties)}",
                    )
                elif name in placed:
                    self.error(
                        (*section_path, "fields", position),
                        f"field {name!r} is already in section {placed[name]!r}",
                    )
                else:
                    placed[name] = section["id"]
            condition = section.get("if")
            consequence = section.get("then")
            if condition is not None:
                self.check_condition(section, section_path, placed, properties, required)
            sections.append(
                Section(
                    id=section["id"],
                    title=self.text(section["title"], (*section_path, "title")),
                    description=self.optional_text(section, "description", section_path),
                    fields=tuple(section["fields"]),
                    condition=condition,
                    consequence=consequence,
                )
            )
        self.unique(data["sections"], "id", (*path, "sections"))
        for name in properties:
            if name not in placed:
                self.error((*path, "schema", "properties", name), "field is in no section")

        hints: dict[str, FieldHints] = {}
        for name, hint in data["fields"].items():
            hint_path = (*path, "fields", name)
            if name not in properties:
                self.error(hint_path, f"unknown field {name!r}{_close(name, properties)}")
                continue
            hints[name] = self.field_hints(name, hint, properties[name], hint_path)
        for name in properties:
            if name not in data["fields"]:
                self.error((*path, "fields"), f"field {name!r} has no label")
        return Form(schema=schema, sections=tuple(sections), fields=hints)

    def check_embedded_schema(self, schema: Any, path: JsonPath) -> None:
        for error in sorted(_META_VALIDATOR.iter_errors(schema), key=_error_sort_key):
            self.error((*path, *error.absolute_path), f"invalid JSON Schema: {error.message}")
        for ref_path, ref in _refs(schema, path):
            if not ref.startswith("#"):
                self.error(
                    ref_path, f"only local references (#/$defs/...) are allowed, not {ref!r}"
                )

    def check_condition(
        self,
        section: dict[str, Any],
        path: JsonPath,
        placed: Mapping[str, str],
        properties: Mapping[str, Any],
        required: set[str],
    ) -> None:
        for key in ("if", "then"):
            if key in section:
                self.check_embedded_schema(section[key], (*path, key))
                for name_path, name in _named_fields(section[key], (*path, key)):
                    if name not in properties:
                        self.error(name_path, f"unknown field {name!r}{_close(name, properties)}")
                    elif key == "if" and placed.get(name) in (None, section["id"]):
                        self.error(
                            name_path,
                            f"the condition uses {name!r}, which no earlier section asks for",
                        )
        for position, name in enumerate(section["fields"]):
            if name in required:
                self.error(
                    (*path, "fields", position),
                    f"field {name!r} is in a conditional section but required in every case; "
                    "list it in the section's 'then: {required: [...]}' instead",
                )

    def field_hints(self, name: str, hint: dict[str, Any], prop: Any, path: JsonPath) -> FieldHints:
        prop = prop if isinstance(prop, dict) else {}
        choices = prop.get("enum")
        if prop.get("type") == "array" and isinstance(prop.get("items"), dict):
            choices = prop["items"].get("enum")
        widget = hint.get("widget") or default_widget(prop)
        if widget in CHOICE_WIDGETS and not choices:
            self.error((*path, "widget"), f"widget {widget!r} needs an 'enum' in the field schema")
        options: dict[str, Text] = {}
        if choices:
            given = hint.get("options", {})
            for choice in choices:
                if str(choice) not in given:
                    self.error(path, f"no label in 'options' for the value {choice!r}")
            for value, text in given.items():
                if value not in {str(choice) for choice in choices}:
                    self.error((*path, "options", value), f"{value!r} is not a value of the field")
                options[value] = self.text(text, (*path, "options", value))
        elif "options" in hint:
            self.error((*path, "options"), "options need an 'enum' in the field schema")
        return FieldHints(
            name=name,
            label=self.text(hint["label"], (*path, "label")),
            help=self.optional_text(hint, "help", path),
            placeholder=self.optional_text(hint, "placeholder", path),
            widget=widget,
            options=options,
        )

    # -- documents and fees ------------------------------------------------------------------

    def documents(self, items: list[dict[str, Any]]) -> tuple[DocumentRequirement, ...]:
        self.unique(items, "id", ("documents",))
        documents = []
        for index, item in enumerate(items):
            path: JsonPath = ("documents", index)
            when = (
                self.formula(item["when"], (*path, "when"), "boolean") if "when" in item else None
            )
            documents.append(
                DocumentRequirement(
                    id=item["id"],
                    type=item["type"],
                    label=self.text(item["label"], (*path, "label")),
                    help=self.optional_text(item, "help", path),
                    mime_types=tuple(item["mime_types"]),
                    max_bytes=int(Decimal(str(item["max_size_mb"])) * 1024 * 1024),
                    requirement=item["requirement"],
                    when=when,
                )
            )
        return tuple(documents)

    def fees(self, data: dict[str, Any]) -> Fees:
        self.unique(data["items"], "id", ("fees", "items"))
        items = []
        for index, item in enumerate(data["items"]):
            path: JsonPath = ("fees", "items", index)
            formula = (
                self.formula(item["formula"], (*path, "formula"), "number")
                if "formula" in item
                else None
            )
            when = (
                self.formula(item["when"], (*path, "when"), "boolean") if "when" in item else None
            )
            items.append(
                FeeItem(
                    id=item["id"],
                    label=self.text(item["label"], (*path, "label")),
                    kind=item.get("kind", "fee"),
                    amount=Decimal(str(item["amount"])) if "amount" in item else None,
                    formula=formula,
                    when=when,
                )
            )
        return Fees(currency=data["currency"], items=tuple(items))

    # -- workflow ----------------------------------------------------------------------------

    def workflow(self, data: dict[str, Any], applicants: tuple[str, ...]) -> Workflow:
        path: JsonPath = ("workflow",)
        self.unique(data["states"], "id", (*path, "states"))
        self.unique(data["transitions"], "name", (*path, "transitions"))
        known = [state["id"] for state in data["states"]]
        finals = set(data["final"])

        def exists(name: str, where: JsonPath) -> bool:
            if name in known:
                return True
            self.error(where, f"unknown state {name!r}{_close(name, known)}")
            return False

        exists(data["initial"], (*path, "initial"))
        for index, name in enumerate(data["final"]):
            exists(name, (*path, "final", index))
        if data["initial"] in finals:
            self.error((*path, "initial"), "the initial state cannot be final")

        states: dict[str, State] = {}
        for index, item in enumerate(data["states"]):
            state_path = (*path, "states", index)
            if item["id"] in finals and "sla_working_days" in item:
                self.error((*state_path, "sla_working_days"), "a final state has no time limit")
            states.setdefault(
                item["id"],
                State(
                    id=item["id"],
                    label=self.text(item["label"], (*state_path, "label")),
                    sla_working_days=item.get("sla_working_days"),
                    final=item["id"] in finals,
                ),
            )

        allowed_roles = {"officer", "supervisor"} | {APPLICANT_ROLES[a] for a in applicants}
        transitions: list[Transition] = []
        edges: dict[str, set[str]] = {name: set() for name in known}
        for index, item in enumerate(data["transitions"]):
            item_path = (*path, "transitions", index)
            target_ok = exists(item["to"], (*item_path, "to"))
            for position, source in enumerate(item["from"]):
                if not exists(source, (*item_path, "from", position)):
                    continue
                if source in finals:
                    self.error(
                        (*item_path, "from", position),
                        f"{source!r} is a final state; no transition may leave it",
                    )
                if target_ok:
                    edges[source].add(item["to"])
            for position, role in enumerate(item.get("roles", [])):
                if role not in allowed_roles:
                    self.error(
                        (*item_path, "roles", position),
                        f"role {role!r} cannot act on a service for applicants "
                        f"{', '.join(applicants)}",
                    )
            hook = item.get("hook")
            if hook is not None and self.hooks is not None and hook not in self.hooks:
                self.error(
                    (*item_path, "hook"),
                    f"no hook named {hook!r} is registered{_close(hook, self.hooks)}",
                )
            guard = (
                self.formula(item["guard"], (*item_path, "guard"), "boolean")
                if "guard" in item
                else None
            )
            transitions.append(
                Transition(
                    name=item["name"],
                    label=self.text(item["label"], (*item_path, "label")),
                    sources=tuple(item["from"]),
                    target=item["to"],
                    roles=frozenset(item.get("roles", [])),
                    guard=guard,
                    inputs=tuple(item.get("inputs", [])),
                    hook=hook,
                )
            )

        if data["initial"] in edges:
            reachable = _reach(data["initial"], lambda s: edges[s])
            reverse: dict[str, set[str]] = {name: set() for name in known}
            for source, targets in edges.items():
                for target in targets:
                    reverse[target].add(source)
            finishing = _reach_all(finals & set(known), lambda s: reverse[s])
            for index, item in enumerate(data["states"]):
                state_path = (*path, "states", index, "id")
                if item["id"] not in reachable:
                    self.error(
                        state_path,
                        f"state {item['id']!r} cannot be reached from {data['initial']!r}",
                    )
                elif item["id"] not in finals and not edges[item["id"]]:
                    self.error(
                        state_path,
                        f"state {item['id']!r} is not final but has no transition out of it",
                    )
                elif item["id"] not in finishing:
                    self.error(state_path, f"no final state can be reached from {item['id']!r}")
        return Workflow(initial=data["initial"], states=states, transitions=tuple(transitions))

    def outputs(self, items: list[dict[str, Any]], workflow: Workflow) -> tuple[Output, ...]:
        outputs = []
        seen: set[tuple[str, str]] = set()
        for index, item in enumerate(items):
            path: JsonPath = ("outputs", index)
            if item["state"] not in workflow.states:
                self.error(
                    (*path, "state"),
                    f"unknown state {item['state']!r}{_close(item['state'], workflow.states)}",
                )
            if (item["state"], item["template"]) in seen:
                self.error((*path, "template"), "this template is already issued on this state")
            seen.add((item["state"], item["template"]))
            outputs.append(
                Output(
                    state=item["state"],
                    template=item["template"],
                    title=self.text(item["title"], (*path, "title")),
                    validity_days=item.get("validity_days"),
                )
            )
        return tuple(outputs)


def _close(name: str, candidates: Iterable[str]) -> str:
    match = difflib.get_close_matches(name, list(candidates), n=1)
    return f"; did you mean {match[0]!r}?" if match else ""


def default_widget(prop: Mapping[str, Any]) -> str:
    """The widget a field gets without a hint; the portal falls back to it too."""
    kind = prop.get("type")
    if kind == "array":
        return "checkboxes"
    if "enum" in prop:
        return "select"
    if kind == "boolean":
        return "checkbox"
    if kind in ("number", "integer"):
        return "number"
    if prop.get("format") == "date":
        return "date"
    if prop.get("format") == "email":
        return "email"
    return "text"


def _reach(start: str, successors: Callable[[str], Iterable[str]]) -> set[str]:
    return _reach_all({start}, successors)


def _reach_all(starts: Iterable[str], successors: Callable[[str], Iterable[str]]) -> set[str]:
    seen = set(starts)
    queue = deque(seen)
    while queue:
        for following in successors(queue.popleft()):
            if following not in seen:
                seen.add(following)
                queue.append(following)
    return seen


def _refs(schema: Any, path: JsonPath) -> Iterable[tuple[JsonPath, str]]:
    if isinstance(schema, dict):
        for key, value in schema.items():
            if key in ("$ref", "$dynamicRef") and isinstance(value, str):
                yield (*path, key), value
            else:
                yield from _refs(value, (*path, key))
    elif isinstance(schema, list):
        for index, value in enumerate(schema):
            yield from _refs(value, (*path, index))


def _named_fields(schema: Any, path: JsonPath) -> Iterable[tuple[JsonPath, str]]:
    """Field names a condition schema mentions: keys of 'properties', entries of 'required'."""
    if isinstance(schema, dict):
        for key, value in schema.items():
            if key == "properties" and isinstance(value, dict):
                for name in value:
                    yield (*path, key, name), name
            elif key == "required" and isinstance(value, list):
                for index, name in enumerate(value):
                    if isinstance(name, str):
                        yield (*path, key, index), name
            elif key in ("allOf", "anyOf", "oneOf", "not", "if", "then", "else"):
                yield from _named_fields(value, (*path, key))
    elif isinstance(schema, list):
        for index, value in enumerate(schema):
            yield from _named_fields(value, (*path, index))

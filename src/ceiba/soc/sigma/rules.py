"""Load Sigma rules from files and folders with pySigma and compile them.

YAML is read with libyaml (``CSafeLoader``) and the documents are handed to pySigma's
``SigmaCollection.from_dicts``: pySigma remains the only Sigma parser, while the C YAML reader
keeps loading the whole SigmaHQ set fast. Every rule that cannot be used becomes a
:class:`~ceiba.soc.sigma.errors.Problem` with file and line; loading never aborts.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from sigma.collection import SigmaCollection
from sigma.correlations import SigmaCorrelationRule
from sigma.exceptions import SigmaError
from sigma.filters import SigmaFilter
from sigma.modifiers import SigmaWideModifier, modifier_mapping
from sigma.rule import SigmaLogSource, SigmaRule

from ceiba.soc.sigma.compiler import CompileError, Matcher, Need, compile_condition
from ceiba.soc.sigma.errors import Problem, ProblemCode

# Specification v2.1 lists ``utf16le`` (``wide`` is its alias); pySigma 2.0.1 only knows ``wide``.
modifier_mapping.setdefault("utf16le", SigmaWideModifier)

LEVELS = ("informational", "low", "medium", "high", "critical")
LEVEL_RANK = {name: i for i, name in enumerate(LEVELS)}

_RULE_SUFFIXES = (".yml", ".yaml")


@dataclass(frozen=True, eq=False)
class CompiledRule:
    """A Sigma detection rule ready to evaluate; ``author`` must be shown with every match."""

    id: str
    title: str
    level: str | None
    author: str | None
    tags: tuple[str, ...]
    logsource: SigmaLogSource
    path: str
    match: Matcher
    need: Need
    fields: frozenset[str]
    keywords: bool

    @property
    def attack_tags(self) -> tuple[str, ...]:
        return tuple(t for t in self.tags if t.startswith("attack."))


@dataclass
class RuleSet:
    rules: list[CompiledRule] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    files: int = 0
    seconds: float = 0.0

    @property
    def skipped(self) -> int:
        return len(self.problems)

    def skipped_by_code(self) -> Counter[str]:
        return Counter(p.code.value for p in self.problems)


def rule_files(paths: Iterable[str | Path]) -> Iterator[Path]:
    """Every ``.yml``/``.yaml`` file under the given files and folders, in a stable order."""
    for p in paths:
        path = Path(p)
        if path.is_dir():
            yield from sorted(
                f for f in path.rglob("*") if f.suffix in _RULE_SUFFIXES and f.is_file()
            )
        else:
            yield path


def load_rules(
    paths: Iterable[str | Path], placeholders: Mapping[str, list[str]] | None = None
) -> RuleSet:
    """Load and compile all rules under ``paths``; unusable rules are counted in ``problems``."""
    import time

    started = time.perf_counter()
    out = RuleSet()
    seen: set[str] = set()
    for path in rule_files(paths):
        out.files += 1
        for item in load_rule_file(path, placeholders):
            if isinstance(item, Problem):
                out.problems.append(item)
            elif item.id in seen:
                out.problems.append(
                    Problem(ProblemCode.RULE_INVALID, str(path), 1, f"duplicate rule id {item.id}")
                )
            else:
                seen.add(item.id)
                out.rules.append(item)
    out.seconds = time.perf_counter() - started
    return out


def load_rule_file(
    path: Path, placeholders: Mapping[str, list[str]] | None = None
) -> list[CompiledRule | Problem]:
    spath = str(path)
    try:
        text = path.read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError) as e:
        return [Problem(ProblemCode.FILE_UNREADABLE, spath, 0, str(e))]
    return load_rule_text(text, spath, placeholders)


def load_rule_text(
    text: str, spath: str = "<string>", placeholders: Mapping[str, list[str]] | None = None
) -> list[CompiledRule | Problem]:
    """Parse one YAML file's text (one or more documents) into compiled rules and problems."""
    if not text.strip():
        return [Problem(ProblemCode.FILE_EMPTY, spath, 0, "empty rule file")]
    try:
        docs: list[Any] = list(yaml.load_all(text, Loader=yaml.CSafeLoader))
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 0
        return [Problem(ProblemCode.RULE_YAML, spath, line, f"invalid YAML: {e}")]
    if not any(isinstance(d, dict) for d in docs):
        return [Problem(ProblemCode.RULE_INVALID, spath, 1, "no YAML mapping in rule file")]
    try:
        collection = SigmaCollection.from_dicts(docs, collect_errors=True)
    except (SigmaError, ValueError, TypeError, AttributeError, KeyError) as e:
        return [Problem(ProblemCode.RULE_INVALID, spath, _locate(text, e), str(e))]
    out: list[CompiledRule | Problem] = [
        Problem(ProblemCode.RULE_INVALID, spath, _locate(text, e), str(e))
        for e in collection.errors
        if not _belongs_to_rule(e, collection)
    ]
    for rule in collection.rules:
        if isinstance(rule, SigmaCorrelationRule):
            out.append(Problem(ProblemCode.RULE_NOT_DETECTION, spath, 1, _correlation_reason(rule)))
            continue
        if isinstance(rule, SigmaFilter):
            out.append(
                Problem(
                    ProblemCode.RULE_NOT_DETECTION,
                    spath,
                    1,
                    f"filter rule {rule.title!r} is not a detection rule (not evaluated here)",
                )
            )
            continue
        out.append(_compile_rule(rule, text, spath, placeholders))
    return out


def _correlation_reason(rule: SigmaCorrelationRule) -> str:
    kind = rule.type.name.lower() if rule.type is not None else "unknown"
    refs = ", ".join(str(r.reference) for r in rule.rules or ()) or "none"
    window = f" within {rule.timespan.spec}" if rule.timespan is not None else ""
    return (
        f"correlation rule {rule.title!r} ({kind} over rules {refs}{window}) is not supported: "
        "it needs state across events and time windows, and the engine evaluates each event on "
        "its own; its referenced detection rules are still evaluated"
    )


def _belongs_to_rule(error: SigmaError, collection: SigmaCollection) -> bool:
    return any(error in getattr(r, "errors", ()) for r in collection.rules)


def _compile_rule(
    rule: SigmaRule, text: str, spath: str, placeholders: Mapping[str, list[str]] | None
) -> CompiledRule | Problem:
    if rule.errors:
        e = rule.errors[0]
        more = f" (and {len(rule.errors) - 1} more)" if len(rule.errors) > 1 else ""
        return Problem(ProblemCode.RULE_INVALID, spath, _locate(text, e), f"{e}{more}")
    try:
        conditions = [c.parsed for c in rule.detection.parsed_condition]
        compiled = [compile_condition(c, placeholders) for c in conditions]
    except SigmaError as e:
        return Problem(ProblemCode.RULE_INVALID, spath, _locate(text, e), str(e))
    except CompileError as e:
        return Problem(ProblemCode.RULE_UNSUPPORTED, spath, _locate(text, e), str(e))
    if not compiled:
        return Problem(ProblemCode.RULE_INVALID, spath, 1, "rule has no condition")
    # Several conditions in one rule are alternatives.
    first = compiled[0]
    match = first.match
    need = first.need
    fields = set(first.fields)
    keywords = first.keywords
    for c in compiled[1:]:
        prev, cur = match, c.match
        match = _either(prev, cur)
        need = None if need is None or c.need is None else need | c.need
        fields |= c.fields
        keywords = keywords or c.keywords
    return CompiledRule(
        id=str(rule.id) if rule.id is not None else f"{spath}:{rule.title}",
        title=rule.title,
        level=rule.level.name.lower() if rule.level is not None else None,
        author=rule.author,
        tags=tuple(f"{t.namespace}.{t.name}" for t in rule.tags),
        logsource=rule.logsource,
        path=spath,
        match=match,
        need=need,
        fields=frozenset(fields),
        keywords=keywords,
    )


def _either(a: Matcher, b: Matcher) -> Matcher:
    return lambda raw, low: a(raw, low) or b(raw, low)


_QUOTED = re.compile(r"'([^']+)'")
_PLACEHOLDER = re.compile(r"%[^%\s]+%")


def _locate(text: str, error: Exception) -> int:
    """Best line for an error: pySigma's own location, else the line naming the culprit."""
    source = getattr(error, "source", None)
    if source is not None and getattr(source, "line", None):
        return int(source.line)
    message = str(error)
    lines = text.splitlines()
    candidates: list[str] = []
    if "modifier" in message.lower():
        candidates += ["|" + m for m in _QUOTED.findall(message)]
    if "condition" in message.lower() or "not defined in detections" in message:
        candidates.append("condition:")
    candidates += _PLACEHOLDER.findall(message)
    candidates += _QUOTED.findall(message)
    for needle in candidates:
        for i, line in enumerate(lines, 1):
            if needle and needle in line:
                return i
    for i, line in enumerate(lines, 1):
        if line.startswith("detection:"):
            return i
    return 1

"""Compile a pySigma condition tree into Python closures and the literals a match requires.

A compiled matcher takes two views of one event: ``raw`` (field -> value as normalized) and
``low`` (field -> lowercased string, or a tuple of them for list values; ``low[f]`` is ``None``
for absent, null or object values: see :class:`LowView`).
Case-insensitive string tests, the default in Sigma, read ``low``; everything else reads ``raw``.

Besides the matcher, compilation yields the *need*: a set of lowercased literals of which at
least one occurs in some ``low`` value whenever the rule matches, or ``None`` when no such set is
known (negations, regular expressions, numeric comparisons...). The engine uses it only to skip
rules that cannot match; a rule whose need is ``None`` is always evaluated.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import re
import re._parser as _sre  # the parser behind re.compile (``sre_parse`` is deprecated)
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sigma.conditions import (
    ConditionAND,
    ConditionFieldEqualsValueExpression,
    ConditionItem,
    ConditionNOT,
    ConditionOR,
    ConditionValueExpression,
)
from sigma.types import (
    CompareOperators,
    Placeholder,
    SigmaBool,
    SigmaCasedString,
    SigmaCIDRExpression,
    SigmaCompareExpression,
    SigmaExists,
    SigmaExpansion,
    SigmaFieldReference,
    SigmaNull,
    SigmaNumber,
    SigmaRegularExpression,
    SigmaRegularExpressionFlag,
    SigmaString,
    SigmaTimestampPart,
    SpecialChars,
    TimestampPart,
)

Raw = Mapping[str, Any]
Low = Mapping[str, Any]
Matcher = Callable[[Raw, Low], bool]
Need = frozenset[str] | None
StrPred = Callable[[str], bool]

_RE_FLAGS = {
    SigmaRegularExpressionFlag.IGNORECASE: re.IGNORECASE,
    SigmaRegularExpressionFlag.MULTILINE: re.MULTILINE,
    SigmaRegularExpressionFlag.DOTALL: re.DOTALL,
}


class LowView(dict[str, Any]):
    """Lowercased string view of an event, filled lazily: only the fields a rule reads."""

    __slots__ = ("raw",)

    def __init__(self, raw: Raw) -> None:
        super().__init__()
        self.raw = raw

    def __missing__(self, key: str) -> Any:
        x = lowered(self.raw.get(key))
        self[key] = x
        return x


def lowered(v: Any) -> str | tuple[str, ...] | None:
    t = v.__class__
    if t is str:
        return v.lower()  # type: ignore[no-any-return,unused-ignore]
    if v is None or t is dict:
        return None
    if t is list:
        return tuple(str(x).lower() for x in v if x is not None and not isinstance(x, dict | list))
    return str(v).lower()


class CompileError(Exception):
    """The rule uses something this engine cannot evaluate faithfully."""


@dataclass
class CompiledCondition:
    match: Matcher
    need: Need
    fields: set[str] = field(default_factory=set)
    keywords: bool = False


@dataclass
class _Context:
    placeholders: Mapping[str, list[str]]
    fields: set[str] = field(default_factory=set)
    keywords: bool = False


def compile_condition(
    tree: Any, placeholders: Mapping[str, list[str]] | None = None
) -> CompiledCondition:
    """Compile a postprocessed pySigma condition tree (``SigmaCondition.parsed``)."""
    ctx = _Context(placeholders=placeholders or {})
    match, need = _node(tree, ctx)
    return CompiledCondition(match=match, need=need, fields=ctx.fields, keywords=ctx.keywords)


# --- boolean structure -------------------------------------------------------------------------


def _and(ms: list[Matcher]) -> Matcher:
    if len(ms) == 1:
        return ms[0]
    if len(ms) == 2:
        a, b = ms
        return lambda r, lo: a(r, lo) and b(r, lo)
    first, rest = ms[0], _and(ms[1:])
    return lambda r, lo: first(r, lo) and rest(r, lo)


def _or(ms: list[Matcher]) -> Matcher:
    if len(ms) == 1:
        return ms[0]
    if len(ms) == 2:
        a, b = ms
        return lambda r, lo: a(r, lo) or b(r, lo)
    first, rest = ms[0], _or(ms[1:])
    return lambda r, lo: first(r, lo) or rest(r, lo)


def _need_and(needs: list[Need]) -> Need:
    known = [n for n in needs if n is not None]
    if not known:
        return None
    # The longest shortest literal fires least often in the prefilter.
    return max(known, key=lambda n: (min(map(len, n)) if n else 0, -len(n)))


def _need_or(needs: list[Need]) -> Need:
    if any(n is None for n in needs):
        return None
    out: set[str] = set()
    for n in needs:
        assert n is not None
        out |= n
    return frozenset(out)


def _node(node: Any, ctx: _Context) -> tuple[Matcher, Need]:
    if isinstance(node, ConditionAND):
        parts = [_node(a, ctx) for a in node.args]
        return _and([m for m, _ in parts]), _need_and([n for _, n in parts])
    if isinstance(node, ConditionOR):
        return _compile_or(node.args, ctx)
    if isinstance(node, ConditionNOT):
        inner, _ = _node(node.args[0], ctx)
        return (lambda r, lo: not inner(r, lo)), None
    if isinstance(node, ConditionFieldEqualsValueExpression):
        return _leaf(node.field, node.value, ctx)
    if isinstance(node, ConditionValueExpression):
        ctx.keywords = True
        return _keyword(node.value, ctx)
    if isinstance(node, ConditionItem):
        raise CompileError(f"unsupported condition element {type(node).__name__}")
    raise CompileError(f"unsupported condition element {node!r}")


def _compile_or(args: Iterable[Any], ctx: _Context) -> tuple[Matcher, Need]:
    """OR, with plain case-insensitive string tests on one field merged into one test."""
    by_field: dict[str, list[SigmaString]] = {}
    others: list[Any] = []
    for a in args:
        if (
            isinstance(a, ConditionFieldEqualsValueExpression)
            and type(a.value) is SigmaString
            and not a.value.contains_placeholder()
        ):
            by_field.setdefault(a.field, []).append(a.value)
        else:
            others.append(a)
    matchers: list[Matcher] = []
    needs: list[Need] = []
    for fname, values in by_field.items():
        ctx.fields.add(fname)
        matchers.append(_field_str_matcher(fname, _string_pred(values)))
        needs.append(_need_or([_string_need(v) for v in values]))
    for a in others:
        m, n = _node(a, ctx)
        matchers.append(m)
        needs.append(n)
    return _or(matchers), _need_or(needs)


# --- strings -----------------------------------------------------------------------------------


def _pattern_parts(s: SigmaString) -> list[str | SpecialChars]:
    out: list[str | SpecialChars] = []
    for p in s.s:
        if isinstance(p, Placeholder):
            raise CompileError(f"unresolved placeholder %{p.name}%")
        out.append(p)
    return out


def _string_need(s: SigmaString) -> Need:
    plain = [p for p in _pattern_parts(s) if isinstance(p, str)]
    if not plain:
        return None
    return frozenset({max(plain, key=len).lower()})


def _wildcard_regex(
    parts: list[str | SpecialChars], lower: bool, flags: int = 0
) -> re.Pattern[str]:
    rx = []
    for p in parts:
        if p is SpecialChars.WILDCARD_MULTI:
            rx.append(".*")
        elif p is SpecialChars.WILDCARD_SINGLE:
            rx.append(".")
        else:
            assert isinstance(p, str)
            rx.append(re.escape(p.lower() if lower else p))
    return re.compile("".join(rx), re.DOTALL | flags)


def _string_pred(values: list[SigmaString], lower: bool = True) -> StrPred:
    """One predicate for ``any(value matches)``, specialised by wildcard shape."""
    eqs: set[str] = set()
    sws: list[str] = []
    ews: list[str] = []
    ins: list[str] = []
    regs: list[re.Pattern[str]] = []
    star = SpecialChars.WILDCARD_MULTI
    for v in values:
        parts = _pattern_parts(v)
        lit = [p for p in parts if isinstance(p, str)]
        inner = parts
        lead = bool(parts) and parts[0] is star
        trail = len(parts) > (1 if lead else 0) and parts[-1] is star
        if lead:
            inner = inner[1:]
        if trail:
            inner = inner[:-1]
        if not inner and (lead or trail):
            return lambda x: True  # '*' matches any value of an existing field
        if len(inner) == 1 and len(lit) == 1 and isinstance(inner[0], str):
            text = inner[0].lower() if lower else inner[0]
            if lead and trail:
                ins.append(text)
            elif lead:
                ews.append(text)
            elif trail:
                sws.append(text)
            else:
                eqs.add(text)
        elif not parts:
            eqs.add("")
        else:
            regs.append(_wildcard_regex(parts, lower))
    preds: list[StrPred] = []
    if eqs:
        eqset = frozenset(eqs)
        preds.append(eqset.__contains__)
    if sws:
        swt = tuple(sws)
        preds.append(lambda x: x.startswith(swt))
    if ews:
        ewt = tuple(ews)
        preds.append(lambda x: x.endswith(ewt))
    if ins:
        if len(ins) == 1:
            needle = ins[0]
            preds.append(lambda x: needle in x)
        else:
            needles = tuple(ins)
            preds.append(lambda x: any(n in x for n in needles))
    for rx in regs:
        preds.append(lambda x, rx=rx: rx.fullmatch(x) is not None)  # type: ignore[misc]
    if len(preds) == 1:
        return preds[0]
    tpreds = tuple(preds)
    return lambda x: any(p(x) for p in tpreds)


def _field_str_matcher(fname: str, pred: StrPred) -> Matcher:
    def match(raw: Raw, low: Low) -> bool:
        x = low[fname]
        if x is None:
            return False
        if x.__class__ is str:
            return pred(x)
        return any(pred(y) for y in x)

    return match


def _raw_strings(v: Any) -> list[str]:
    if v is None or isinstance(v, dict):
        return []
    if isinstance(v, list | tuple):
        return [str(x) for x in v if x is not None and not isinstance(x, dict | list)]
    return [str(v)]


def _raw_matcher(fname: str, pred: Callable[[Any], bool]) -> Matcher:
    """Test a predicate on the raw value (or any element of a list value)."""

    def match(raw: Raw, low: Low) -> bool:
        v = raw.get(fname)
        if v is None:
            return False
        if isinstance(v, list):
            return any(pred(x) for x in v if x is not None)
        return pred(v)

    return match


# --- leaves ------------------------------------------------------------------------------------


def _expand_placeholders(value: SigmaString, ctx: _Context) -> list[SigmaString]:
    missing = [
        p.name for p in value.s if isinstance(p, Placeholder) and p.name not in ctx.placeholders
    ]
    if missing:
        raise CompileError(
            f"unresolved placeholder %{missing[0]}% (the expand modifier needs a value list)"
        )
    return value.replace_placeholders(lambda p: iter(ctx.placeholders[p.name]))


def _leaf(fname: str, value: Any, ctx: _Context) -> tuple[Matcher, Need]:
    ctx.fields.add(fname)
    if isinstance(value, SigmaExpansion):
        parts = [_leaf(fname, v, ctx) for v in value.values]
        return _or([m for m, _ in parts]), _need_or([n for _, n in parts])
    if isinstance(value, SigmaCasedString):
        pred = _string_pred([value], lower=False)
        need = _string_need(value)
        return _raw_matcher(
            fname, lambda v: isinstance(v, str | int | float) and pred(str(v))
        ), need
    if isinstance(value, SigmaString):
        if value.contains_placeholder():
            expanded = _expand_placeholders(value, ctx)
            return _field_str_matcher(fname, _string_pred(expanded)), _need_or(
                [_string_need(v) for v in expanded]
            )
        return _field_str_matcher(fname, _string_pred([value])), _string_need(value)
    if isinstance(value, SigmaTimestampPart):
        return _timestamp_matcher(fname, value), None
    if isinstance(value, SigmaNumber):
        text = str(value.number).lower()
        return _field_str_matcher(fname, text.__eq__), frozenset({text})
    if isinstance(value, SigmaBool):
        text = "true" if value.boolean else "false"
        return _field_str_matcher(fname, text.__eq__), frozenset({text})
    if isinstance(value, SigmaNull):
        return (lambda raw, low: raw.get(fname) is None), None
    if isinstance(value, SigmaExists):
        wanted = value.exists
        return (lambda raw, low: (fname in raw) is wanted), None
    if isinstance(value, SigmaRegularExpression):
        return _regex_matcher(fname, value, ctx), regex_need(
            value.regexp.to_plain(), _regex_flags(value)
        )
    if isinstance(value, SigmaCIDRExpression):
        return _cidr_matcher(fname, value), None
    if isinstance(value, SigmaCompareExpression):
        return _compare_matcher(fname, value), None
    if isinstance(value, SigmaFieldReference):
        return _fieldref_matcher(fname, value, ctx), None
    raise CompileError(f"unsupported value type {type(value).__name__} for field {fname}")


def _regex_flags(value: SigmaRegularExpression) -> int:
    flags = 0
    for f in value.flags:
        flags |= _RE_FLAGS[f]
    return flags


def _regex_matcher(fname: str, value: SigmaRegularExpression, ctx: _Context) -> Matcher:
    if value.regexp.contains_placeholder():
        raise CompileError("placeholders inside regular expressions are not supported")
    try:
        rx = re.compile(value.regexp.to_plain(), _regex_flags(value))
    except re.error as e:
        raise CompileError(f"invalid regular expression {value.regexp.to_plain()!r}: {e}") from e
    return _raw_matcher(
        fname,
        lambda v: isinstance(v, str | int | float) and rx.search(str(v)) is not None,
    )


# Under re.IGNORECASE these ASCII letters also match non-ASCII characters whose str.lower() is
# not the ASCII letter (U+0131 dotless i, U+212A Kelvin sign, U+017F long s).
_CASELESS_UNSAFE = frozenset("iks")
_MIN_REGEX_LITERAL = 3
_REPEATS = (_sre.MAX_REPEAT, _sre.MIN_REPEAT, _sre.POSSESSIVE_REPEAT)


def regex_need(pattern: str, flags: int = 0) -> Need:
    """Lowercased literals of which one occurs in every string the regex finds a match in.

    From the parsed pattern: runs of ASCII literal characters in sequence (groups and ``+``
    repetitions are entered, alternations give the union of their branches). ``None`` when no
    run of at least three characters is required; the rule is then always evaluated.
    """
    try:
        parsed = _sre.parse(pattern, flags)
    except (re.error, RecursionError, OverflowError):
        return None
    need = _sequence_need(list(parsed), bool(parsed.state.flags & re.IGNORECASE))
    if need is None or min(map(len, need)) < _MIN_REGEX_LITERAL:
        return None
    return need


def _sequence_need(items: list[Any], caseless: bool) -> Need:
    needs: list[Need] = []
    run: list[str] = []

    def flush() -> None:
        if len(run) >= _MIN_REGEX_LITERAL:
            needs.append(frozenset({"".join(run)}))
        run.clear()

    for op, arg in items:
        if op is _sre.LITERAL:
            ch = chr(arg)
            if ch.isascii() and not (caseless and ch.lower() in _CASELESS_UNSAFE):
                run.append(ch.lower())
                continue
            flush()
        elif op is _sre.SUBPATTERN:
            flush()
            _group, add_flags, del_flags, inner = arg
            inner_caseless = (caseless or bool(add_flags & re.IGNORECASE)) and not (
                del_flags & re.IGNORECASE
            )
            needs.append(_sequence_need(list(inner), inner_caseless))
        elif op in _REPEATS:
            flush()
            low, _high, inner = arg
            if low >= 1:
                needs.append(_sequence_need(list(inner), caseless))
        elif op is _sre.BRANCH:
            flush()
            needs.append(_need_or([_sequence_need(list(b), caseless) for b in arg[1]]))
        else:
            flush()
    flush()
    return _need_and(needs)


def _cidr_matcher(fname: str, value: SigmaCIDRExpression) -> Matcher:
    network = value.network

    def pred(v: Any) -> bool:
        if not isinstance(v, str):
            return False
        try:
            return ipaddress.ip_address(v.strip()) in network
        except ValueError:
            return False

    return _raw_matcher(fname, pred)


def _as_number(v: Any) -> float | None:
    if isinstance(v, bool):
        return None
    if isinstance(v, int | float):
        return float(v)
    if isinstance(v, str):
        try:
            return float(v.strip())
        except ValueError:
            return None
    return None


def _compare_matcher(fname: str, value: SigmaCompareExpression) -> Matcher:
    ref = float(value.number.number)
    op = value.op
    tests: dict[CompareOperators, Callable[[float], bool]] = {
        CompareOperators.LT: lambda x: x < ref,
        CompareOperators.LTE: lambda x: x <= ref,
        CompareOperators.GT: lambda x: x > ref,
        CompareOperators.GTE: lambda x: x >= ref,
        CompareOperators.NEQ: lambda x: x != ref,
    }
    test = tests[op]

    def pred(v: Any) -> bool:
        n = _as_number(v)
        return n is not None and test(n)

    return _raw_matcher(fname, pred)


def _fieldref_matcher(fname: str, value: SigmaFieldReference, ctx: _Context) -> Matcher:
    other = value.field
    ctx.fields.add(other)
    starts, ends = value.starts_with, value.ends_with

    def match(raw: Raw, low: Low) -> bool:
        a, b = low[fname], low[other]
        if a is None or b is None or a.__class__ is not str or b.__class__ is not str:
            return False
        if starts and ends:
            return b in a
        if starts:
            return a.startswith(b)
        if ends:
            return a.endswith(b)
        return a == b

    return match


def _parse_time(v: Any) -> dt.datetime | None:
    if isinstance(v, int | float) and not isinstance(v, bool):
        try:
            return dt.datetime.fromtimestamp(v, tz=dt.UTC)
        except (OverflowError, OSError, ValueError):
            return None
    if not isinstance(v, str):
        return None
    text = v.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        return dt.datetime.fromisoformat(text)
    except ValueError:
        return None


_TIME_PARTS: dict[TimestampPart, Callable[[dt.datetime], int]] = {
    TimestampPart.MINUTE: lambda t: t.minute,
    TimestampPart.HOUR: lambda t: t.hour,
    TimestampPart.DAY: lambda t: t.day,
    TimestampPart.WEEK: lambda t: t.isocalendar().week,
    TimestampPart.MONTH: lambda t: t.month,
    TimestampPart.YEAR: lambda t: t.year,
}


def _timestamp_matcher(fname: str, value: SigmaTimestampPart) -> Matcher:
    part = _TIME_PARTS[value.timestamp_part]
    wanted = int(value.number)

    def pred(v: Any) -> bool:
        t = _parse_time(v)
        return t is not None and part(t) == wanted

    return _raw_matcher(fname, pred)


# --- keywords ----------------------------------------------------------------------------------


def _keyword(value: Any, ctx: _Context) -> tuple[Matcher, Need]:
    """A keyword matches when any field value contains it (full-text search, as specified)."""
    if isinstance(value, SigmaExpansion):
        subs = [_keyword(v, ctx) for v in value.values]
        return _or([m for m, _ in subs]), _need_or([n for _, n in subs])
    if isinstance(value, SigmaString):
        cased = isinstance(value, SigmaCasedString)
        values = _expand_placeholders(value, ctx) if value.contains_placeholder() else [value]
        wrapped: list[SigmaString] = []
        for v in values:
            w = SigmaString()
            parts: list[Any] = list(v.s)
            if not parts or parts[0] is not SpecialChars.WILDCARD_MULTI:
                parts.insert(0, SpecialChars.WILDCARD_MULTI)
            if parts[-1] is not SpecialChars.WILDCARD_MULTI:
                parts.append(SpecialChars.WILDCARD_MULTI)
            w.s = parts
            wrapped.append(w)
        pred = _string_pred(wrapped, lower=not cased)
        need = _need_or([_string_need(v) for v in values])
        if cased:

            def match_cased(raw: Raw, low: Low) -> bool:
                return any(pred(s) for v in raw.values() for s in _raw_strings(v))

            return match_cased, need

        def match(raw: Raw, low: Low) -> bool:
            for k in raw:
                x = low[k]
                if x is None:
                    continue
                if x.__class__ is str:
                    if pred(x):
                        return True
                elif any(pred(y) for y in x):
                    return True
            return False

        return match, need
    if isinstance(value, SigmaNumber):
        return _keyword(SigmaString(str(value.number)), ctx)
    if isinstance(value, SigmaRegularExpression):
        rx = re.compile(value.regexp.to_plain(), _regex_flags(value))
        return (
            lambda raw, low: any(rx.search(s) for v in raw.values() for s in _raw_strings(v))
        ), regex_need(value.regexp.to_plain(), _regex_flags(value))
    raise CompileError(f"unsupported keyword value type {type(value).__name__}")

"""The detection engine: route by log source, prefilter by literals, evaluate candidates exactly.

For each distinct :class:`SourceProfile` the engine builds (once, lazily) a route: the rules whose
``logsource`` applies, the fields they read, and a literal scanner (Hyperscan, or an Aho-Corasick
automaton where Hyperscan is not available) over the literals they require. An event is
lowercased over those fields only and scanned once, and only the rules whose required literal
occurred (plus the rules without one) are evaluated.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import ahocorasick

try:  # Hyperscan where a wheel exists for the platform; Aho-Corasick serves elsewhere.
    import hyperscan
except ImportError:  # pragma: no cover - depends on the platform
    hyperscan = None  # type: ignore[assignment]

from ceiba.soc.sigma.compiler import LowView
from ceiba.soc.sigma.logsource import SourceProfile, rule_applies
from ceiba.soc.sigma.rules import CompiledRule

_SEP = "\x00"


@dataclass(frozen=True, slots=True)
class Match:
    """One rule that fired on one event (``author`` is shown as the rules' license requires)."""

    rule: CompiledRule
    event: Mapping[str, Any]
    source: str = ""
    line: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule_id": self.rule.id,
            "title": self.rule.title,
            "level": self.rule.level,
            "author": self.rule.author,
            "tags": list(self.rule.attack_tags),
            "source": self.source,
            "line": self.line,
            "event": dict(self.event),
        }


def _literal_rules(
    needs: list[tuple[int, frozenset[str]]],
) -> tuple[list[str], list[tuple[int, ...]]]:
    """Distinct literals, and for each the positions of the rules that require it."""
    literal_ids: dict[str, int] = {}
    literal_rules: list[list[int]] = []
    for i, need in needs:
        for lit in need:
            lid = literal_ids.get(lit)
            if lid is None:
                lid = literal_ids[lit] = len(literal_rules)
                literal_rules.append([])
            literal_rules[lid].append(i)
    return list(literal_ids), [tuple(x) for x in literal_rules]


class _Prefilter:
    """Literal id -> rule positions, and a scanner that reports which literals occur."""

    def __init__(self, literals: list[str], literal_rules: list[tuple[int, ...]]) -> None:
        self.literal_rules = literal_rules

    def candidates(self, hay: str, into: set[int]) -> None:
        """Add the positions of the rules whose required literal occurs in ``hay``."""
        raise NotImplementedError


class _AhoCorasickPrefilter(_Prefilter):
    """pyahocorasick: reports every occurrence; the portable fallback."""

    def __init__(self, literals: list[str], literal_rules: list[tuple[int, ...]]) -> None:
        super().__init__(literals, literal_rules)
        self.automaton = ahocorasick.Automaton(ahocorasick.STORE_INTS)
        for lid, lit in enumerate(literals):
            self.automaton.add_word(lit, lid)
        self.automaton.make_automaton()

    def candidates(self, hay: str, into: set[int]) -> None:
        lrules = self.literal_rules
        for lid in {lid for _, lid in self.automaton.iter(hay)}:
            into.update(lrules[lid])


class _HyperscanPrefilter(_Prefilter):
    """Hyperscan (vectorised literal matching): each literal is reported once per scan."""

    def __init__(self, literals: list[str], literal_rules: list[tuple[int, ...]]) -> None:
        assert hyperscan is not None
        super().__init__(literals, literal_rules)
        self.database = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
        self.database.compile(
            expressions=[lit.encode("utf-8", "surrogatepass") for lit in literals],
            ids=list(range(len(literals))),
            elements=len(literals),
            flags=hyperscan.HS_FLAG_SINGLEMATCH,
            literal=True,
        )

    def candidates(self, hay: str, into: set[int]) -> None:
        lrules = self.literal_rules

        def found(lid: int, start: int, end: int, flags: int, context: Any) -> None:
            into.update(lrules[lid])

        self.database.scan(hay.encode("utf-8", "surrogatepass"), match_event_handler=found)


SCANNERS: dict[str, type[_Prefilter]] = {"aho-corasick": _AhoCorasickPrefilter}
if hyperscan is not None:
    SCANNERS["hyperscan"] = _HyperscanPrefilter
DEFAULT_SCANNER = "hyperscan" if hyperscan is not None else "aho-corasick"


def _build_prefilter(needs: list[tuple[int, frozenset[str]]], scanner: str) -> _Prefilter | None:
    if not needs:
        return None
    literals, literal_rules = _literal_rules(needs)
    return SCANNERS[scanner](literals, literal_rules)


@dataclass
class _Route:
    rules: list[CompiledRule]
    always: tuple[int, ...]  # rules without a required literal: always evaluated
    prefilter: _Prefilter | None  # literals searched in every field's lowered value


@dataclass
class EngineStats:
    events: int = 0
    evaluations: int = 0
    matches: int = 0

    @property
    def rules_per_event(self) -> float:
        return self.evaluations / self.events if self.events else 0.0


@dataclass
class Engine:
    """Evaluate compiled rules on normalized events; build one per process."""

    rules: Sequence[CompiledRule]
    prefilter: bool = True
    scanner: str = DEFAULT_SCANNER
    stats: EngineStats = field(default_factory=EngineStats)
    _routes: dict[SourceProfile, _Route] = field(default_factory=dict, repr=False)

    def route_rules(self, profile: SourceProfile) -> list[CompiledRule]:
        return self._route(profile).rules

    def _route(self, profile: SourceProfile) -> _Route:
        route = self._routes.get(profile)
        if route is None:
            route = self._routes[profile] = self._build_route(profile)
        return route

    def _build_route(self, profile: SourceProfile) -> _Route:
        rules = [r for r in self.rules if rule_applies(r.logsource, profile)]
        always: list[int] = []
        needs: list[tuple[int, frozenset[str]]] = []
        for i, r in enumerate(rules):
            if not self.prefilter or not r.need:
                always.append(i)
            else:
                needs.append((i, r.need))
        return _Route(
            rules=rules, always=tuple(always), prefilter=_build_prefilter(needs, self.scanner)
        )

    def match(self, profile: SourceProfile, event: Mapping[str, Any]) -> list[CompiledRule]:
        """The rules (in load order) that fire on this event."""
        self.stats.events += 1
        route = self._routes.get(profile)
        if route is None:
            route = self._route(profile)
        rules = route.rules
        if not rules:
            return []
        low = LowView(event)
        order: Iterable[int]
        if route.prefilter is None:
            order = route.always
        else:
            candidates = set(route.always)
            route.prefilter.candidates(_haystack(event), candidates)
            order = sorted(candidates)
        n = 0
        out: list[CompiledRule] = []
        for i in order:
            n += 1
            rule = rules[i]
            if rule.match(event, low):
                out.append(rule)
        self.stats.evaluations += n
        self.stats.matches += len(out)
        return out

    def evaluate(self, rule: CompiledRule, event: Mapping[str, Any]) -> bool:
        """Evaluate one rule on one event, without routing or prefilter."""
        return rule.match(event, LowView(event))


def _haystack(event: Mapping[str, Any]) -> str:
    """Every field value, lowercased, separated by NUL: each field's lowered text is a substring.

    Field literals are searched here too (not only in the fields their rules read): a literal
    found elsewhere only adds a candidate, and one text is built and scanned per event.
    """
    return _SEP.join([v if v.__class__ is str else _text(v) for v in event.values()]).lower()


def _text(v: Any) -> str:
    if v is None or v.__class__ is dict:
        return ""
    if v.__class__ is list:
        return _SEP.join(str(x) for x in v if x is not None and not isinstance(x, dict | list))
    return str(v)

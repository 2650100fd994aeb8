"""The detection engine: route by log source, prefilter by literals, evaluate candidates exactly.

For each distinct :class:`SourceProfile` the engine builds (once, lazily) a route: the rules whose
``logsource`` applies, the fields they read, and an Aho-Corasick automaton over the literals they
require. An event is lowercased over those fields only, scanned once by the automaton, and only
the rules whose required literal occurred (plus the rules without one) are evaluated.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import ahocorasick

from ceiba.soc.sigma.compiler import LowView, lowered
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


@dataclass
class _Prefilter:
    """Aho-Corasick automaton over required literals; literal id -> rule positions."""

    automaton: Any
    literal_rules: list[tuple[int, ...]]

    @classmethod
    def build(cls, needs: list[tuple[int, frozenset[str]]]) -> _Prefilter | None:
        if not needs:
            return None
        literal_ids: dict[str, int] = {}
        literal_rules: list[list[int]] = []
        for i, need in needs:
            for lit in need:
                lid = literal_ids.get(lit)
                if lid is None:
                    lid = literal_ids[lit] = len(literal_rules)
                    literal_rules.append([])
                literal_rules[lid].append(i)
        automaton = ahocorasick.Automaton(ahocorasick.STORE_INTS)
        for lit, lid in literal_ids.items():
            automaton.add_word(lit, lid)
        automaton.make_automaton()
        return cls(automaton, [tuple(x) for x in literal_rules])

    def candidates(self, hay: str, into: set[int]) -> None:
        lrules = self.literal_rules
        for lid in {lid for _, lid in self.automaton.iter(hay)}:
            into.update(lrules[lid])


@dataclass
class _Route:
    rules: list[CompiledRule]
    fields: frozenset[str]  # what field rules read: their literals are searched there
    always: tuple[int, ...]
    field_filter: _Prefilter | None
    keyword_filter: _Prefilter | None  # keyword rules: literals searched in every field


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
        fields: set[str] = set()
        always: list[int] = []
        field_needs: list[tuple[int, frozenset[str]]] = []
        keyword_needs: list[tuple[int, frozenset[str]]] = []
        for i, r in enumerate(rules):
            if not self.prefilter or not r.need:
                always.append(i)
            elif r.keywords:
                keyword_needs.append((i, r.need))
            else:
                field_needs.append((i, r.need))
                fields |= r.fields
        return _Route(
            rules=rules,
            fields=frozenset(fields),
            always=tuple(always),
            field_filter=_Prefilter.build(field_needs),
            keyword_filter=_Prefilter.build(keyword_needs),
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
        if route.field_filter is None and route.keyword_filter is None:
            order = route.always
            self.stats.evaluations += len(route.always)
        else:
            candidates = set(route.always)
            if route.field_filter is not None:
                route.field_filter.candidates(_field_haystack(event, route.fields, low), candidates)
            if route.keyword_filter is not None:
                route.keyword_filter.candidates(_full_haystack(event), candidates)
            order = sorted(candidates)
            self.stats.evaluations += len(candidates)
        out = [rules[i] for i in order if rules[i].match(event, low)]
        self.stats.matches += len(out)
        return out

    def evaluate(self, rule: CompiledRule, event: Mapping[str, Any]) -> bool:
        """Evaluate one rule on one event, without routing or prefilter."""
        return rule.match(event, LowView(event))


def _field_haystack(event: Mapping[str, Any], fields: frozenset[str], low: LowView) -> str:
    parts: list[str] = []
    for k, v in event.items():
        if k not in fields:
            continue
        x = lowered(v)
        low[k] = x
        if x is None:
            continue
        if x.__class__ is str:
            parts.append(x)  # type: ignore[arg-type]
        else:
            parts.extend(x)
    return _SEP.join(parts)


def _full_haystack(event: Mapping[str, Any]) -> str:
    parts: list[str] = []
    for v in event.values():
        t = v.__class__
        if t is str:
            parts.append(v)
        elif v is None or t is dict:
            continue
        elif t is list:
            parts.extend(str(x) for x in v if x is not None and not isinstance(x, dict | list))
        else:
            parts.append(str(v))
    return _SEP.join(parts).lower()

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
class _Route:
    rules: list[CompiledRule]
    fields: frozenset[str] | None  # None: keyword rules present, every field is read
    always: tuple[int, ...]
    automaton: Any
    literal_rules: list[tuple[int, ...]]


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
        fields: set[str] | None = set()
        for r in rules:
            if r.keywords:
                fields = None
                break
            assert fields is not None
            fields |= r.fields
        always: list[int] = []
        literal_ids: dict[str, int] = {}
        literal_rules: list[list[int]] = []
        for i, r in enumerate(rules):
            if not self.prefilter or not r.need:
                always.append(i)
                continue
            for lit in r.need:
                lid = literal_ids.get(lit)
                if lid is None:
                    lid = literal_ids[lit] = len(literal_rules)
                    literal_rules.append([])
                literal_rules[lid].append(i)
        automaton = None
        if literal_ids:
            automaton = ahocorasick.Automaton(ahocorasick.STORE_INTS)
            for lit, lid in literal_ids.items():
                automaton.add_word(lit, lid)
            automaton.make_automaton()
        return _Route(
            rules=rules,
            fields=frozenset(fields) if fields is not None else None,
            always=tuple(always),
            automaton=automaton,
            literal_rules=[tuple(x) for x in literal_rules],
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
        low, hay = _lower(event, route.fields)
        if route.automaton is not None:
            candidates = set(route.always)
            lrules = route.literal_rules
            hits = {lid for _, lid in route.automaton.iter(hay)}
            for lid in hits:
                candidates.update(lrules[lid])
            order: Iterable[int] = sorted(candidates)
            self.stats.evaluations += len(candidates)
        else:
            order = route.always
            self.stats.evaluations += len(order)
        out = [rules[i] for i in order if rules[i].match(event, low)]
        self.stats.matches += len(out)
        return out


def _lower(event: Mapping[str, Any], fields: frozenset[str] | None) -> tuple[dict[str, Any], str]:
    low: dict[str, Any] = {}
    parts: list[str] = []
    for k, v in event.items():
        if fields is not None and k not in fields:
            continue
        t = v.__class__
        if t is str:
            s = v.lower()
            low[k] = s
            parts.append(s)
        elif v is None or t is dict:
            continue
        elif t is list:
            items = tuple(
                str(x).lower() for x in v if x is not None and not isinstance(x, dict | list)
            )
            low[k] = items
            parts.extend(items)
        else:
            s = str(v).lower()
            low[k] = s
            parts.append(s)
    return low, _SEP.join(parts)

"""Sigma detection engine: load SigmaHQ rules with pySigma, compile, route, prefilter, match.

Usable without Django. Entry points: :func:`load_rules`, :class:`Engine`, :func:`read_events`,
and the ``scan`` command in :mod:`ceiba.soc.sigma.cli`.
"""

from ceiba.soc.sigma.engine import Engine, EngineStats, Match
from ceiba.soc.sigma.errors import Problem, ProblemCode
from ceiba.soc.sigma.reader import Event, read_events
from ceiba.soc.sigma.rules import CompiledRule, RuleSet, load_rules

__all__ = [
    "CompiledRule",
    "Engine",
    "EngineStats",
    "Event",
    "Match",
    "Problem",
    "ProblemCode",
    "RuleSet",
    "load_rules",
    "read_events",
]

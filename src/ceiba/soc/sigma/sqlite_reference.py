"""pySigma's SQLite backend (the engine behind Zircolite) as a reference to compare against.

Needs the ``dev`` extra (``pysigma-backend-sqlite``). Events go into an in-memory table whose
columns are ``TEXT COLLATE NOCASE``, as Zircolite builds it. Two modes:

* :func:`reference_matches`: each rule's query runs only over the events of the rule's log source
  (the same routing as the engine), so only matching semantics are compared.
* :func:`zircolite_matches`: as Zircolite runs it: every rule's query over the whole table, the
  log-source conditions (``Channel``/``EventID``/``EventType``) made part of each query by the
  processing pipeline of :func:`zircolite_pipeline`. The official ``pysigma-pipeline-sysmon`` and
  ``-windows`` packages require pySigma < 2, so the pipeline is built with pySigma's own API from
  the same thor.yml table the engine routes with.
"""

from __future__ import annotations

import json
import re
import sqlite3
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import yaml
from sigma.collection import SigmaCollection
from sigma.correlations import SigmaCorrelationRule
from sigma.exceptions import SigmaError
from sigma.processing.conditions import LogsourceCondition, RuleProcessingCondition
from sigma.processing.pipeline import ProcessingItem, ProcessingPipeline
from sigma.processing.transformations import (
    AddConditionTransformation,
    RuleFailureTransformation,
)
from sigma.rule import SigmaDetection, SigmaRule

from ceiba.soc.sigma.logsource import (
    _CATEGORY_EVENTS,
    _SERVICE_CHANNELS,
    SourceProfile,
    rule_applies,
    windows_profiles,
)

_MISSING_COLUMN = re.compile(r"no such column: (.+)$")
UNMAPPED = "log source has no Windows channel/event id in the mapping (thor.yml)"


@dataclass
class SqliteRun:
    matches: set[tuple[int, str]] = field(default_factory=set)
    unconverted: dict[str, str] = field(default_factory=dict)  # rule id -> reason
    failed: dict[str, str] = field(default_factory=dict)  # rule id -> sqlite error
    queries: int = 0
    convert_seconds: float = 0.0
    insert_seconds: float = 0.0
    query_seconds: float = 0.0
    query_cpu_seconds: float = 0.0  # process CPU time: what the machine's other load cannot inflate


@dataclass
class AddAlternativesTransformation(AddConditionTransformation):
    """AND each rule condition with an OR of condition maps: ``(A and B) or (C and D)``.

    ``process_creation`` is Sysmon 1 in the Sysmon channel *or* 4688 in the Security channel;
    a single condition map (``EventID: [1, 4688], Channel: [...]``) would also admit the cross
    pairs.
    """

    alternatives: list[dict[str, Any]] = field(default_factory=list)

    def apply(self, rule: SigmaRule | SigmaCorrelationRule) -> None:
        if isinstance(rule, SigmaRule):
            rule.detection.detections[self.name] = SigmaDetection(
                detection_items=[SigmaDetection.from_definition(a) for a in self.alternatives]
            )
            self.processing_item_applied(rule.detection.detections[self.name])
            # Skip AddConditionTransformation.apply (it would rebuild from ``conditions``).
            super(AddConditionTransformation, self).apply(rule)


@dataclass
class UnmappedLogsourceCondition(RuleProcessingCondition):
    """The rule's log source routes to no Windows event (other product, unknown category...)."""

    def match(self, rule: SigmaRule | SigmaCorrelationRule) -> bool:
        if not isinstance(rule, SigmaRule):
            return False
        return not any(rule_applies(rule.logsource, p) for p in _WINDOWS_PROFILES)


_WINDOWS_PROFILES = windows_profiles()


def zircolite_pipeline() -> ProcessingPipeline:
    """Log-source conditions as Zircolite's Sysmon/Windows pipelines add them to each query.

    Rules whose log source cannot apply to a Windows event fail conversion with
    :data:`UNMAPPED` (Zircolite converts only Windows rules for Windows logs).
    """
    items: list[ProcessingItem] = [
        ProcessingItem(
            identifier="ceiba_unmapped_logsource",
            transformation=RuleFailureTransformation(UNMAPPED),
            rule_conditions=[UnmappedLogsourceCondition()],
        )
    ]
    by_category: dict[str, list[dict[str, Any]]] = {}
    for category, service, event_ids, event_type, _ in _CATEGORY_EVENTS:
        alternatives = by_category.setdefault(category, [])
        channel_list = list(_SERVICE_CHANNELS[service])
        # Rows of one category and service that differ only in event ids share one map.
        for alt in alternatives:
            if alt["Channel"] == channel_list and alt.get("EventType") == event_type:
                alt["EventID"] = [*alt["EventID"], *event_ids]
                break
        else:
            alt = {"Channel": channel_list, "EventID": list(event_ids)}
            if event_type is not None:
                alt["EventType"] = event_type
            alternatives.append(alt)
    for category, alternatives in by_category.items():
        items.append(
            ProcessingItem(
                identifier=f"ceiba_logsource_{category}",
                transformation=AddAlternativesTransformation(alternatives=alternatives),
                rule_conditions=[LogsourceCondition(category=category)],
            )
        )
    for service, channels in _SERVICE_CHANNELS.items():
        items.append(
            ProcessingItem(
                identifier=f"ceiba_service_{service}",
                transformation=AddConditionTransformation({"Channel": list(channels)}),
                rule_conditions=[LogsourceCondition(service=service)],
            )
        )
    return ProcessingPipeline(name="ceiba windows log sources", priority=20, items=items)


def _cell(v: Any) -> Any:
    if v is None or isinstance(v, int | float | str):
        return v
    if isinstance(v, bool):
        return "true" if v else "false"
    return json.dumps(v, ensure_ascii=False)


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def build_table(
    events: Sequence[tuple[SourceProfile, dict[str, Any]]], routes: dict[SourceProfile, int]
) -> sqlite3.Connection:
    """In-memory ``logs`` table: one row per event, ``_row`` its index, ``_route`` its profile."""
    # SQLite column names are case-insensitive: ProcessId and ProcessID share one column.
    columns: dict[str, str] = {}
    for _, ev in events:
        for k in ev:
            columns.setdefault(k.lower(), k)
    keys = list(columns)
    cols = [columns[k] for k in keys]
    db = sqlite3.connect(":memory:")
    ddl = ", ".join(f"{_quote(c)} TEXT COLLATE NOCASE" for c in cols)
    db.execute(f"CREATE TABLE logs (_row INTEGER PRIMARY KEY, _route INTEGER, {ddl})")
    placeholders = ", ".join("?" for _ in range(len(cols) + 2))
    sql = f"INSERT INTO logs VALUES ({placeholders})"  # noqa: S608 - column names are quoted
    db.executemany(
        sql,
        (
            [i, routes.setdefault(p, len(routes)), *(_cell(low.get(k)) for k in keys)]
            for i, (p, low) in enumerate(
                (p, {k.lower(): v for k, v in reversed(ev.items()) if v is not None})
                for p, ev in events
            )
        ),
    )
    db.execute("CREATE INDEX logs_route ON logs (_route)")
    db.create_function("regexp", 2, _regexp, deterministic=True)  # as Zircolite registers it
    return db


def _regexp(pattern: str, value: Any) -> int:
    if value is None:
        return 0
    try:
        return 1 if re.search(pattern, str(value)) else 0
    except re.error:
        return 0


def _run(db: sqlite3.Connection, sql: str) -> list[int]:
    """Run a query; columns the events never had are added (all NULL) and the query retried."""
    for _ in range(64):
        try:
            return [r[0] for r in db.execute(sql)]
        except sqlite3.OperationalError as e:
            m = _MISSING_COLUMN.search(str(e))
            if not m:
                raise
            db.execute(f"ALTER TABLE logs ADD COLUMN {_quote(m.group(1))} TEXT COLLATE NOCASE")
    raise sqlite3.OperationalError("too many missing columns")


def reference_matches(
    rules: Iterable[SigmaRule],
    events: Sequence[tuple[SourceProfile, dict[str, Any]]],
) -> SqliteRun:
    """(event index, rule id) pairs per the SQLite backend, routed like the engine."""
    from sigma.backends.sqlite import sqliteBackend

    run = SqliteRun()
    routes: dict[SourceProfile, int] = {}
    started = time.perf_counter()
    db = build_table(events, routes)
    run.insert_seconds = time.perf_counter() - started
    backend = sqliteBackend()
    for rule in rules:
        rid = str(rule.id)
        wanted = [str(n) for p, n in routes.items() if rule_applies(rule.logsource, p)]
        if not wanted:
            continue
        t0 = time.perf_counter()
        try:
            queries = backend.convert_rule(rule)
        except (SigmaError, NotImplementedError, TypeError, ValueError) as e:
            run.unconverted[rid] = str(e)
            continue
        finally:
            run.convert_seconds += time.perf_counter() - t0
        t0 = time.perf_counter()
        for q in queries:
            where = q.split(" WHERE ", 1)[1] if " WHERE " in q else "1"
            sql = (
                f"SELECT _row FROM logs WHERE _route IN ({', '.join(wanted)}) "  # noqa: S608
                f"AND ({where})"
            )
            try:
                run.matches.update((row, rid) for row in _run(db, sql))
            except sqlite3.Error as e:
                run.failed[rid] = str(e)
        run.query_seconds += time.perf_counter() - t0
    return run


def zircolite_matches(
    rules: Iterable[SigmaRule],
    events: Sequence[tuple[SourceProfile, dict[str, Any]]],
) -> SqliteRun:
    """(event index, rule id) pairs as Zircolite finds them: every query over the whole table.

    Converting with the pipeline adds detections to the rules: pass freshly parsed rules.
    """
    from sigma.backends.sqlite import sqliteBackend

    run = SqliteRun()
    backend = sqliteBackend(processing_pipeline=zircolite_pipeline())
    queries: list[tuple[str, str]] = []
    started = time.perf_counter()
    for rule in rules:
        try:
            queries.extend((str(rule.id), q) for q in backend.convert_rule(rule))
        except (SigmaError, NotImplementedError, TypeError, ValueError) as e:
            run.unconverted[str(rule.id)] = str(e)
    run.convert_seconds = time.perf_counter() - started
    run.queries = len(queries)
    started = time.perf_counter()
    db = build_table(events, {})
    run.insert_seconds = time.perf_counter() - started
    started, cpu = time.perf_counter(), time.process_time()
    for rid, q in queries:
        try:
            run.matches.update(
                (row, rid) for row in _run(db, q.replace("SELECT *", "SELECT _row", 1))
            )
        except sqlite3.Error as e:
            run.failed[rid] = str(e)
    run.query_seconds = time.perf_counter() - started
    run.query_cpu_seconds = time.process_time() - cpu
    db.close()
    return run


def parse_rules(texts: Iterable[str]) -> list[SigmaRule]:
    out: list[SigmaRule] = []
    for text in texts:
        try:
            docs = list(yaml.load_all(text, Loader=yaml.CSafeLoader))
            collection = SigmaCollection.from_dicts(docs, collect_errors=True)
        except (yaml.YAMLError, SigmaError, ValueError, TypeError):
            continue  # the engine reports unparsable rules itself
        out.extend(r for r in collection.rules if isinstance(r, SigmaRule) and not r.errors)
    return out

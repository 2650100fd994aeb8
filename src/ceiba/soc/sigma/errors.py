"""Stable problem codes for rules and events the Sigma engine could not use."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class ProblemCode(enum.Enum):
    """Why a rule or an event was skipped. Values are stable; tools may rely on them."""

    RULE_YAML = "rule_yaml"
    RULE_INVALID = "rule_invalid"
    RULE_UNSUPPORTED = "rule_unsupported"
    RULE_NOT_DETECTION = "rule_not_detection"
    FILE_UNREADABLE = "file_unreadable"
    EVENT_ENCODING = "event_encoding"
    EVENT_JSON = "event_json"
    EVENT_SHAPE = "event_shape"
    EVENT_TOO_DEEP = "event_too_deep"
    EVENT_TOO_LARGE = "event_too_large"
    EVENT_EVTX = "event_evtx"
    FILE_EMPTY = "file_empty"
    FILE_NOT_EVENTS = "file_not_events"  # a packet capture or other binary file, not a log


@dataclass(frozen=True, slots=True)
class Problem:
    """One skipped item, located by file and line (line 0 when the file as a whole is at fault)."""

    code: ProblemCode
    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: [{self.code.value}] {self.message}"


class SigmaEngineError(Exception):
    """Misuse of the engine API; bad rules and events become Problems instead."""

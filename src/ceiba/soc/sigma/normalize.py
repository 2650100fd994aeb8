"""Turn events in the formats the engine reads into Sigma field names and a log-source profile.

Formats (see ``docs/soc.md`` for the field tables):

* Windows flat JSON (NXLog, OTRF datasets): fields are already Sigma's (``EventID``, ``Channel``,
  ``Image``...); ``SourceName``/``ProviderName`` also give ``Provider_Name``.
* Winlogbeat JSON: ``winlog.channel``, ``winlog.event_id``, ``winlog.event_data.*``...
* EVTX JSON (``Event.System`` / ``Event.EventData``, as ``evtx`` and ``evtx_dump`` write it).
* Linux auditd lines (``type=SYSCALL msg=audit(...): key=value ...``).
* Syslog lines (RFC 3164 and RFC 5424).
* Web server access logs (common/combined log format) in W3C field names.
* The platform's own security events (``product: ceiba``), flat ECS-style keys.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping
from typing import Any

from ceiba.soc.sigma.logsource import (
    LINUX_AUDITD,
    LINUX_AUTH,
    LINUX_SYSLOG,
    UNKNOWN,
    WEBSERVER,
    SourceProfile,
    ceiba_profile,
    windows_profile,
)

MAX_DEPTH = 32

Normalized = tuple[SourceProfile, dict[str, Any]]


class EventShapeError(ValueError):
    """The event cannot be read as any supported format."""


class EventTooDeepError(EventShapeError):
    """Nesting deeper than :data:`MAX_DEPTH`."""


def normalize(obj: Any) -> Normalized:
    """Normalize one decoded JSON event (a dict) of any supported format."""
    if not isinstance(obj, dict):
        raise EventShapeError(f"expected a JSON object, got {type(obj).__name__}")
    ev = obj.get("Event")
    if isinstance(ev, dict) and isinstance(ev.get("System"), dict):
        return _windows(_from_evtx(ev))
    if isinstance(obj.get("winlog"), dict):
        return _windows(_from_winlogbeat(obj))
    if "event.category" in obj or (
        isinstance(obj.get("event"), dict) and "category" in obj["event"] and "ceiba" in obj
    ):
        return _ceiba(obj)
    if "EventID" in obj or "Channel" in obj:
        flat = obj if not any(v.__class__ is dict for v in obj.values()) else _flatten(obj)
        return _windows(flat)
    return UNKNOWN, _flatten(obj)


def _flatten(obj: Mapping[str, Any], prefix: str = "", depth: int = 0) -> dict[str, Any]:
    if depth > MAX_DEPTH:
        raise EventTooDeepError(f"event nested deeper than {MAX_DEPTH} levels")
    out: dict[str, Any] = {}
    for k, v in obj.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(_flatten(v, key + ".", depth + 1))
        else:
            if isinstance(v, list):
                _check_depth(v, depth + 1)
            out[key] = v
    return out


def _check_depth(v: Any, depth: int) -> None:
    if depth > MAX_DEPTH:
        raise EventTooDeepError(f"event nested deeper than {MAX_DEPTH} levels")
    if isinstance(v, list):
        for x in v:
            _check_depth(x, depth + 1)
    elif isinstance(v, dict):
        for x in v.values():
            _check_depth(x, depth + 1)


def _windows(ev: dict[str, Any]) -> Normalized:
    channel = ev.get("Channel")
    event_id = _as_int(ev.get("EventID"))
    if "Provider_Name" not in ev:
        provider = ev.get("SourceName", ev.get("ProviderName"))
        if isinstance(provider, str):
            ev["Provider_Name"] = provider
    if not isinstance(channel, str):
        return SourceProfile(product="windows"), ev
    event_type = ev.get("EventType") if event_id == 12 else None
    profile = windows_profile(
        channel, event_id, event_type if isinstance(event_type, str) else None
    )
    for alias, src in profile.aliases:
        if alias not in ev and src in ev:
            ev[alias] = ev[src]
    return profile, ev


def _as_int(v: Any) -> int | None:
    if isinstance(v, bool):
        return None
    if isinstance(v, int):
        return v
    if isinstance(v, str):
        try:
            return int(v.strip())
        except ValueError:
            return None
    if isinstance(v, dict):
        return _as_int(v.get("#text"))
    return None


def _text(v: Any) -> Any:
    """EVTX JSON wraps values with attributes as ``{"#text": ..., "#attributes": {...}}``."""
    if isinstance(v, dict):
        return v.get("#text")
    return v


def _from_evtx(event: dict[str, Any]) -> dict[str, Any]:
    system = event["System"]
    out: dict[str, Any] = {}
    for k, v in system.items():
        if k == "#attributes":
            continue
        if isinstance(v, dict):
            attrs = v.get("#attributes")
            if "#text" in v:
                out[k] = v["#text"]
            if isinstance(attrs, dict):
                for ak, av in attrs.items():
                    out[f"{k}_{ak}"] = av
        else:
            out[k] = v
    if "TimeCreated_SystemTime" in out:
        out.setdefault("TimeCreated", out["TimeCreated_SystemTime"])
    if "Security_UserID" in out:
        out.setdefault("UserID", out["Security_UserID"])
    for section in ("EventData", "UserData"):
        data = event.get(section)
        if isinstance(data, dict):
            _leaves(data, out, 1)
        elif data is not None:
            out[section] = data
    return out


def _leaves(data: Mapping[str, Any], out: dict[str, Any], depth: int) -> None:
    """EventData fields, and UserData's nested elements, by their own (leaf) names."""
    if depth > MAX_DEPTH:
        raise EventTooDeepError(f"event nested deeper than {MAX_DEPTH} levels")
    for k, v in data.items():
        if k == "#attributes":
            continue
        if isinstance(v, dict) and "#text" not in v:
            _leaves(v, out, depth + 1)
        else:
            value = _text(v)
            out.setdefault(k, value)
            if " " in k:
                # Defender and others name fields "Threat Name"; Sigma rules say ThreatName.
                out.setdefault(k.replace(" ", ""), value)


def _from_winlogbeat(obj: dict[str, Any]) -> dict[str, Any]:
    winlog = obj["winlog"]
    out = _flatten({k: v for k, v in obj.items() if k != "winlog"})
    for k, v in (winlog.get("event_data") or {}).items():
        out[k] = v
    for k, v in (winlog.get("user_data") or {}).items():
        out.setdefault(k, v)
    mapping = {
        "channel": "Channel",
        "event_id": "EventID",
        "provider_name": "Provider_Name",
        "computer_name": "Computer",
        "record_id": "EventRecordID",
    }
    for src, dst in mapping.items():
        if src in winlog:
            out[dst] = winlog[src]
    return out


def _ceiba(obj: dict[str, Any]) -> Normalized:
    ev = _flatten(obj)
    category = ev.get("event.category")
    if not isinstance(category, str):
        raise EventShapeError("ceiba event without a string event.category")
    return ceiba_profile(category), ev


# --- text lines --------------------------------------------------------------------------------

_AUDIT = re.compile(
    r"^type=(?P<type>\S+)\s+msg=audit\((?P<ts>[\d.]+):(?P<serial>\d+)\):\s?(?P<rest>.*)$"
)
_SYSLOG_5424 = re.compile(
    r"^<(?P<pri>\d{1,3})>1 (?P<ts>\S+) (?P<host>\S+) (?P<app>\S+) (?P<pid>\S+) (?P<msgid>\S+) "
    r"(?P<sd>-|\[.*?\])\s?(?P<msg>.*)$"
)
_SYSLOG_3164 = re.compile(
    r"^(?:<(?P<pri>\d{1,3})>)?(?P<ts>[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d) (?P<host>\S+) "
    r"(?P<app>[^\s\[:]+)(?:\[(?P<pid>\d+)\])?: ?(?P<msg>.*)$"
)
_ACCESS = re.compile(
    r'^(?P<cip>\S+) \S+ (?P<user>\S+) \[(?P<ts>[^\]]+)\] "(?P<req>[^"]*)" (?P<status>\d{3}|-) '
    r'(?P<bytes>\d+|-)(?: "(?P<referer>[^"]*)" "(?P<ua>[^"]*)")?'
)
_AUTH_PROGRAMS = frozenset({"sshd", "sudo", "su", "login", "passwd", "useradd", "groupadd"})
_AUTH_FACILITIES = frozenset({4, 10})


def normalize_line(line: str) -> Normalized | None:
    """Normalize one non-JSON log line (auditd, syslog, access log), or ``None`` if unknown."""
    m = _AUDIT.match(line)
    if m:
        return LINUX_AUDITD, _auditd(m)
    m = _SYSLOG_5424.match(line) or _SYSLOG_3164.match(line)
    if m:
        return _syslog(m)
    m = _ACCESS.match(line)
    if m:
        return WEBSERVER, _access(m)
    return None


def _auditd(m: re.Match[str]) -> dict[str, Any]:
    ev: dict[str, Any] = {"type": m["type"], "timestamp": m["ts"], "serial": m["serial"]}
    rest = m["rest"]
    try:
        tokens = shlex.split(rest, posix=True)
    except ValueError:
        tokens = rest.split()
    for tok in tokens:
        key, sep, value = tok.partition("=")
        if sep:
            ev[key] = value
    if ev["type"] == "SYSCALL" and "syscall" in ev:
        ev.setdefault("SYSCALL", ev["syscall"])
    return ev


def _syslog(m: re.Match[str]) -> Normalized:
    ev: dict[str, Any] = {
        "timestamp": m["ts"],
        "host": m["host"],
        "program": m["app"],
        "pid": m["pid"] if m["pid"] not in (None, "-") else None,
        "message": m["msg"],
    }
    facility = None
    if m["pri"] is not None:
        pri = int(m["pri"])
        facility = pri // 8
        ev["facility"] = facility
        ev["severity"] = pri % 8
    ev = {k: v for k, v in ev.items() if v is not None}
    if m["app"] in _AUTH_PROGRAMS or facility in _AUTH_FACILITIES:
        return LINUX_AUTH, ev
    return LINUX_SYSLOG, ev


def _access(m: re.Match[str]) -> dict[str, Any]:
    method, _, rest = m["req"].partition(" ")
    uri, _, version = rest.rpartition(" ") if " " in rest else (rest, "", "")
    stem, _, query = uri.partition("?")
    ev: dict[str, Any] = {
        "c-ip": m["cip"],
        "cs-username": None if m["user"] == "-" else m["user"],
        "date": m["ts"],
        "cs-method": method,
        "cs-uri": uri,
        "cs-uri-stem": stem,
        "cs-uri-query": query,
        "cs-version": version,
        "sc-status": int(m["status"]) if m["status"] != "-" else None,
        "sc-bytes": int(m["bytes"]) if m["bytes"] != "-" else None,
    }
    if m["referer"] is not None:
        ev["cs-referer"] = m["referer"]
        ev["cs-user-agent"] = m["ua"]
        ev["c-useragent"] = m["ua"]
    return {k: v for k, v in ev.items() if v is not None}

"""Read events from files: JSON lines, (pretty-printed) JSON documents, ``.evtx``, zip archives.

Every unusable item becomes a :class:`Problem` with file and line; reading never aborts. Lines
that are not valid UTF-8 are decoded with replacement characters and still evaluated (an
attacker must not evade detection with one bad byte), and reported as ``event_encoding``.
"""

from __future__ import annotations

import io
import json
import shutil
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from ceiba.soc.sigma.errors import Problem, ProblemCode
from ceiba.soc.sigma.logsource import SourceProfile
from ceiba.soc.sigma.normalize import (
    EventShapeError,
    EventTooDeepError,
    normalize,
    normalize_line,
)

MAX_LINE_BYTES = 8 * 1024 * 1024
MAX_DOCUMENT_BYTES = 64 * 1024 * 1024
# pcap (both byte orders, micro- and nanosecond) and pcapng section header magic numbers.
_CAPTURE_MAGIC = frozenset(
    {
        b"\xd4\xc3\xb2\xa1",
        b"\xa1\xb2\xc3\xd4",
        b"\x4d\x3c\xb2\xa1",
        b"\xa1\xb2\x3c\x4d",
        b"\x0a\x0d\x0d\x0a",
    }
)


@dataclass(frozen=True, slots=True)
class Event:
    source: str
    line: int
    profile: SourceProfile
    fields: dict[str, Any]


def iter_paths(paths: list[str | Path]) -> Iterator[Path]:
    for p in paths:
        path = Path(p)
        if path.is_dir():
            yield from sorted(f for f in path.rglob("*") if f.is_file())
        else:
            yield path


def read_events(path: str | Path) -> Iterator[Event | Problem]:
    """Events and problems of one file, in file order."""
    p = Path(path)
    spath = str(p)
    try:
        if p.suffix.lower() == ".zip":
            yield from _read_zip(p)
        elif p.suffix.lower() == ".evtx":
            yield from _read_evtx(spath, spath)
        else:
            with p.open("rb") as fh:
                yield from read_stream(fh, spath)
    except (OSError, zipfile.BadZipFile) as e:
        yield Problem(ProblemCode.FILE_UNREADABLE, spath, 0, str(e))


def _read_zip(p: Path) -> Iterator[Event | Problem]:
    with zipfile.ZipFile(p) as zf:
        for info in zf.infolist():
            if info.is_dir():
                continue
            name = f"{p}!{info.filename}"
            if info.filename.lower().endswith(".evtx"):
                yield from _read_zipped_evtx(zf, info, name)
                continue
            with zf.open(info) as fh:
                yield from read_stream(fh, name)


def _read_zipped_evtx(
    zf: zipfile.ZipFile, info: zipfile.ZipInfo, name: str
) -> Iterator[Event | Problem]:
    """The EVTX parser reads files only: extract the member to a temporary file first."""
    with tempfile.TemporaryDirectory(prefix="ceiba-evtx-") as tmp:
        target = Path(tmp) / "member.evtx"
        with zf.open(info) as src, target.open("wb") as dst:
            shutil.copyfileobj(src, dst)
        yield from _read_evtx(str(target), name)


def _read_evtx(path: str, spath: str) -> Iterator[Event | Problem]:
    """Records of the EVTX file at ``path``, reported under the name ``spath``."""
    import evtx

    try:
        parser = evtx.PyEvtxParser(path)
    except (OSError, RuntimeError) as e:
        yield Problem(ProblemCode.EVENT_EVTX, spath, 0, f"not an EVTX file: {e}")
        return
    records = parser.records_json()
    n = 0
    while True:
        n += 1
        try:
            record: Any = next(records)
        except StopIteration:
            break
        except (OSError, RuntimeError) as e:
            yield Problem(ProblemCode.EVENT_EVTX, spath, n, f"broken EVTX record: {e}")
            continue
        rid = int(record.get("event_record_id") or n)
        try:
            obj = json.loads(record["data"])
        except (ValueError, KeyError, TypeError) as e:
            yield Problem(ProblemCode.EVENT_EVTX, spath, rid, f"broken EVTX record: {e}")
            continue
        yield _event(obj, spath, rid)


def read_stream(fh: IO[bytes], spath: str) -> Iterator[Event | Problem]:
    """JSON lines or text log lines; falls back to whole-document JSON for pretty-printed files."""
    stream: Any = fh if isinstance(fh, io.BufferedReader) else io.BufferedReader(fh)
    magic = stream.peek(4)[:4]
    if magic in _CAPTURE_MAGIC:
        yield Problem(
            ProblemCode.FILE_NOT_EVENTS, spath, 0, "packet capture (pcap/pcapng), not an event log"
        )
        return
    head = stream.peek(64)[:64].lstrip()
    if not head:
        yield Problem(ProblemCode.FILE_EMPTY, spath, 0, "empty file")
        return
    first_line = stream.peek(1 << 16).split(b"\n", 1)[0].strip()
    if head[:1] in (b"{", b"[") and not _is_json(first_line):
        yield from _read_documents(stream, spath)
        return
    lineno = 0
    for raw in stream:
        lineno += 1
        if len(raw) > MAX_LINE_BYTES:
            yield Problem(
                ProblemCode.EVENT_TOO_LARGE,
                spath,
                lineno,
                f"line of {len(raw)} bytes exceeds {MAX_LINE_BYTES}",
            )
            continue
        raw = raw.strip()
        if not raw:
            continue
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as e:
            text = raw.decode("utf-8", errors="replace")
            yield Problem(
                ProblemCode.EVENT_ENCODING,
                spath,
                lineno,
                f"not valid UTF-8 ({e.reason} at byte {e.start}); evaluated with replacement",
            )
        if text[0] in "{[":
            try:
                obj = json.loads(text)
            except RecursionError:
                yield Problem(ProblemCode.EVENT_TOO_DEEP, spath, lineno, "JSON nested too deeply")
                continue
            except ValueError as e:
                yield Problem(ProblemCode.EVENT_JSON, spath, lineno, f"invalid JSON: {e}")
                continue
            yield _event(obj, spath, lineno)
            continue
        norm = normalize_line(text)
        if norm is None:
            yield Problem(
                ProblemCode.EVENT_JSON,
                spath,
                lineno,
                "neither JSON nor a known log line format (auditd, syslog, access log)",
            )
            continue
        yield Event(spath, lineno, norm[0], norm[1])


def _is_json(line: bytes) -> bool:
    try:
        json.loads(line)
    except (ValueError, RecursionError):
        return False
    return True


def _read_documents(stream: IO[bytes], spath: str) -> Iterator[Event | Problem]:
    """One or more concatenated JSON documents (objects, or arrays of objects)."""
    data = stream.read(MAX_DOCUMENT_BYTES + 1)
    if len(data) > MAX_DOCUMENT_BYTES:
        yield Problem(
            ProblemCode.EVENT_TOO_LARGE, spath, 1, f"JSON document over {MAX_DOCUMENT_BYTES} bytes"
        )
        return
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        text = data.decode("utf-8", errors="replace")
        yield Problem(
            ProblemCode.EVENT_ENCODING,
            spath,
            data.count(b"\n", 0, e.start) + 1,
            f"not valid UTF-8 ({e.reason}); evaluated with replacement",
        )
    decoder = json.JSONDecoder()
    pos = 0
    while True:
        while pos < len(text) and text[pos] in " \t\r\n,":
            pos += 1
        if pos >= len(text):
            return
        line = text.count("\n", 0, pos) + 1
        try:
            obj, pos = decoder.raw_decode(text, pos)
        except RecursionError:
            yield Problem(ProblemCode.EVENT_TOO_DEEP, spath, line, "JSON nested too deeply")
            return
        except ValueError as e:
            yield Problem(ProblemCode.EVENT_JSON, spath, line, f"invalid JSON: {e}")
            return
        for item in obj if isinstance(obj, list) else [obj]:
            yield _event(item, spath, line)


def _event(obj: Any, spath: str, line: int) -> Event | Problem:
    try:
        profile, fields = normalize(obj)
    except EventTooDeepError as e:
        return Problem(ProblemCode.EVENT_TOO_DEEP, spath, line, str(e))
    except EventShapeError as e:
        return Problem(ProblemCode.EVENT_SHAPE, spath, line, str(e))
    return Event(spath, line, profile, fields)

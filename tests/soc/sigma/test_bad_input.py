"""Bad rules and bad events are reported with file and line, counted, and never abort a run."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from ceiba.soc.sigma import CompiledRule, Event, Problem, ProblemCode, load_rules, read_events
from ceiba.soc.sigma.cli import main

from .conftest import sigma_data

GOOD = """title: good
id: 22222222-2222-2222-2222-222222222222
logsource: {product: windows}
level: high
author: Tester
detection:
  sel:
    CommandLine|contains: 'evil'
  condition: sel
"""


def _write_rules(tmp_path: Path) -> Path:
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "good.yml").write_text(GOOD)
    (rules / "bad_yaml.yml").write_text(
        "title: x\ndetection:\n  sel: [unclosed\n  condition: sel\n"
    )
    (rules / "bad_modifier.yml").write_text(
        "title: x\nlogsource: {product: windows}\ndetection:\n  sel:\n"
        "    F|nosuchmod: 'a'\n  condition: sel\n"
    )
    (rules / "bad_regex.yml").write_text(
        "title: x\nlogsource: {product: windows}\ndetection:\n  sel:\n"
        "    F|re: 'a(b'\n  condition: sel\n"
    )
    (rules / "missing_sel.yml").write_text(
        "title: x\nlogsource: {product: windows}\ndetection:\n  sel:\n"
        "    F: 'a'\n  condition: sel and other\n"
    )
    (rules / "empty.yml").write_text("")
    (rules / "binary.yml").write_bytes(b"\xff\xfe\x00junk")
    return rules


def test_bad_rules_are_reported_with_file_and_line(tmp_path: Path) -> None:
    ruleset = load_rules([_write_rules(tmp_path)])
    assert [r.title for r in ruleset.rules] == ["good"]
    by_file = {Path(p.path).name: p for p in ruleset.problems}
    assert set(by_file) == {
        "bad_yaml.yml",
        "bad_modifier.yml",
        "bad_regex.yml",
        "missing_sel.yml",
        "empty.yml",
        "binary.yml",
    }
    assert by_file["bad_yaml.yml"].code is ProblemCode.RULE_YAML
    assert by_file["bad_yaml.yml"].line == 4
    assert by_file["bad_modifier.yml"].line == 5
    assert "nosuchmod" in by_file["bad_modifier.yml"].message
    assert by_file["bad_regex.yml"].line == 5
    assert by_file["missing_sel.yml"].line == 6
    assert by_file["empty.yml"].code is ProblemCode.FILE_EMPTY
    assert by_file["binary.yml"].code is ProblemCode.FILE_UNREADABLE
    assert ruleset.skipped == 6


def _items(path: Path) -> tuple[list[Event], list[Problem]]:
    items = list(read_events(path))
    return (
        [i for i in items if isinstance(i, Event)],
        [i for i in items if isinstance(i, Problem)],
    )


def test_bad_events_are_reported_and_the_rest_evaluated(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    deep = "[" * 100_000 + "]" * 100_000
    nested = json.dumps(_nest(40))
    lines = [
        json.dumps({"EventID": 1, "Channel": "Security", "CommandLine": "evil"}).encode(),
        b"not json at all",
        deep.encode(),
        nested.encode(),
        b"[1, 2]",
        b'{"EventID": 1, "CommandLine": "caf\xe9 evil"}',
        b"\x00\x01\x02\xff binary",
        json.dumps({"EventID": {"weird": [1, 2]}, "Channel": 5, "CommandLine": ["evil"]}).encode(),
        b'{"EventID": 1, "CommandLine": "' + b"A" * 9_000_000 + b'"}',
    ]
    path.write_bytes(b"\n".join(lines) + b"\n")
    events, problems = _items(path)
    codes = {p.line: p.code for p in problems}
    assert codes == {
        2: ProblemCode.EVENT_JSON,
        3: ProblemCode.EVENT_TOO_DEEP,
        4: ProblemCode.EVENT_TOO_DEEP,
        5: ProblemCode.EVENT_SHAPE,
        6: ProblemCode.EVENT_ENCODING,
        7: ProblemCode.EVENT_JSON,
        9: ProblemCode.EVENT_TOO_LARGE,
    }
    assert [e.line for e in events] == [1, 6, 8]
    assert "\ufffd" in events[1].fields["CommandLine"]


def _nest(depth: int) -> dict[str, object]:
    node: dict[str, object] = {"x": 1}
    for _ in range(depth):
        node = {"n": node}
    return node


def test_empty_file_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "empty.json"
    path.write_bytes(b"")
    events, problems = _items(path)
    assert events == []
    assert [p.code for p in problems] == [ProblemCode.FILE_EMPTY]


def test_scan_cli_counts_and_keeps_going(tmp_path: Path, capsys: object) -> None:
    rules = _write_rules(tmp_path)
    events = tmp_path / "ev"
    events.mkdir()
    (events / "a.jsonl").write_text(
        json.dumps({"EventID": 1, "Channel": "Security", "CommandLine": "so EVIL"}) + "\nbroken\n"
    )
    with zipfile.ZipFile(events / "b.zip", "w") as zf:
        zf.writestr("inner.json", json.dumps({"EventID": 2, "Channel": "X", "CommandLine": "evil"}))
    (events / "c.log").write_text(
        'type=EXECVE msg=audit(1700000000.123:42): argc=2 a0="cat" a1="/etc/shadow"\n'
    )
    status = main(["scan", str(events), "--rules", str(rules), "--format", "json", "--no-progress"])
    assert status == 0
    out, err = capsys.readouterr()  # type: ignore[attr-defined]
    matches = [json.loads(line) for line in out.splitlines()]
    assert [(m["title"], m["author"], Path(m["source"]).name, m["line"]) for m in matches] == [
        ("good", "Tester", "a.jsonl", 1),
        ("good", "Tester", "b.zip!inner.json", 1),
    ]
    assert "6 skipped" in err
    assert "events: 3 from 3 files, 1 skipped" in err
    assert "a.jsonl:2" in err


def test_scan_cli_min_level_and_formats(tmp_path: Path, capsys: object) -> None:
    rules = _write_rules(tmp_path)
    ev = tmp_path / "a.jsonl"
    ev.write_text(json.dumps({"EventID": 1, "Channel": "Security", "CommandLine": "evil"}) + "\n")
    assert main(["scan", str(ev), "--rules", str(rules), "--min-level", "critical"]) == 0
    out, _ = capsys.readouterr()  # type: ignore[attr-defined]
    assert "good" not in out
    assert main(["scan", str(ev), "--rules", str(rules), "--format", "csv"]) == 0
    out, _ = capsys.readouterr()  # type: ignore[attr-defined]
    assert out.splitlines()[0].startswith("timestamp,level,title")
    assert "good" in out
    assert main(["scan", str(ev), "--rules", str(tmp_path / "nope")]) == 2


def test_compiled_rule_carries_author_and_attack_tags(tmp_path: Path) -> None:
    (tmp_path / "r.yml").write_text(
        GOOD.replace("level: high", "level: high\ntags: [attack.t1059]")
    )
    (rule,) = load_rules([tmp_path]).rules
    assert isinstance(rule, CompiledRule)
    assert rule.author == "Tester"
    assert rule.attack_tags == ("attack.t1059",)


def test_evtx_inside_a_zip_reads_like_the_evtx_file(tmp_path: Path) -> None:
    regression = sigma_data() / "regression_data"
    if not regression.exists():
        pytest.skip("shared test data missing: sigma/regression_data (set CEIBA_SHARED_DATA)")
    # given
    evtx = sorted(regression.rglob("*.evtx"))[0]
    archive = tmp_path / "logs.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.write(evtx, "inner/log.evtx")
    # when
    zipped, zipped_problems = _items(archive)
    direct, direct_problems = _items(evtx)
    # then
    assert zipped
    assert not zipped_problems
    assert not direct_problems
    assert [(e.line, e.profile, e.fields) for e in zipped] == [
        (e.line, e.profile, e.fields) for e in direct
    ]
    assert {e.source for e in zipped} == {f"{archive}!inner/log.evtx"}


def test_packet_capture_in_a_zip_is_one_problem_not_junk_lines(tmp_path: Path) -> None:
    # given: a pcap header and a record whose bytes contain newlines and invalid UTF-8
    archive = tmp_path / "recording.zip"
    pcap = bytes.fromhex("d4c3b2a1020004000000000000000000ffff000001000000") + b"\xff\n\xfe\n" * 50
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("capture.cap", pcap)
        zf.writestr("events.json", json.dumps({"EventID": 1, "Channel": "Security"}) + "\n")
    # when
    events, problems = _items(archive)
    # then
    assert len(events) == 1
    assert [(p.code, p.path) for p in problems] == [
        (ProblemCode.FILE_NOT_EVENTS, f"{archive}!capture.cap")
    ]


def test_correlation_rules_are_reported_unsupported_with_their_reason(tmp_path: Path) -> None:
    # given: a detection rule and an event_count correlation over it, in one file
    (tmp_path / "c.yml").write_text(
        GOOD.replace("title: good", "title: good\nname: failed_login")
        + "---\n"
        + "title: Many failed logins\n"
        + "correlation:\n  type: event_count\n  rules: [failed_login]\n"
        + "  group-by: [Computer]\n  timespan: 1h\n  condition: {gte: 100}\n"
    )
    # when
    ruleset = load_rules([tmp_path])
    # then: the detection rule is evaluated, the correlation is reported with its reason
    assert [r.title for r in ruleset.rules] == ["good"]
    (problem,) = ruleset.problems
    assert problem.code is ProblemCode.RULE_NOT_DETECTION
    assert "'Many failed logins' (event_count over rules failed_login within 1h)" in (
        problem.message
    )
    assert "not supported" in problem.message

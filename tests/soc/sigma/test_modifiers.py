"""Every modifier of the specification's appendix, the condition grammar, null and keywords."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from ceiba.soc.sigma import CompiledRule, Engine
from ceiba.soc.sigma.rules import load_rule_text


def rule(detection: str, placeholders: dict[str, list[str]] | None = None) -> CompiledRule:
    text = (
        "title: t\nid: 11111111-1111-1111-1111-111111111111\n"
        "logsource: {product: windows}\nlevel: high\ndetection:\n" + detection
    )
    (item,) = load_rule_text(text, "t.yml", placeholders)
    assert isinstance(item, CompiledRule), str(item)
    return item


def fires(r: CompiledRule, event: dict[str, Any]) -> bool:
    return Engine([r]).evaluate(r, event)


@pytest.mark.parametrize(
    ("detection", "event", "expected"),
    [
        # contains / startswith / endswith, case-insensitive by default
        (
            "  sel: {CommandLine|contains: 'whoami'}\n  condition: sel",
            {"CommandLine": "x WHOAMI y"},
            True,
        ),
        (
            "  sel: {CommandLine|contains: 'whoami'}\n  condition: sel",
            {"CommandLine": "who ami"},
            False,
        ),
        ("  sel: {Image|startswith: 'adm'}\n  condition: sel", {"Image": "ADMIN.exe"}, True),
        ("  sel: {Image|startswith: 'adm'}\n  condition: sel", {"Image": "xadm"}, False),
        (
            "  sel: {Image|endswith: '\\cmd.exe'}\n  condition: sel",
            {"Image": "C:\\W\\CMD.EXE"},
            True,
        ),
        (
            "  sel: {Image|endswith: '\\cmd.exe'}\n  condition: sel",
            {"Image": "C:\\W\\cmd.exe2"},
            False,
        ),
        # all
        (
            "  sel: {CommandLine|contains|all: [' -a ', ' -b ']}\n  condition: sel",
            {"CommandLine": "x -b  -a y"},
            True,
        ),
        (
            "  sel: {CommandLine|contains|all: [' -a ', ' -b ']}\n  condition: sel",
            {"CommandLine": "x -a y"},
            False,
        ),
        # exists: presence only, even with an empty or null value
        ("  sel: {User|exists: true}\n  condition: sel", {"User": None}, True),
        ("  sel: {User|exists: true}\n  condition: sel", {}, False),
        ("  sel: {User|exists: false}\n  condition: sel", {}, True),
        # cased
        ("  sel: {Name|cased: 'Abc'}\n  condition: sel", {"Name": "Abc"}, True),
        ("  sel: {Name|cased: 'Abc'}\n  condition: sel", {"Name": "abc"}, False),
        # neq
        ("  sel: {Name|neq: 'abc'}\n  condition: sel", {"Name": "abd"}, True),
        ("  sel: {Name|neq: 'abc'}\n  condition: sel", {"Name": "ABC"}, False),
        # windash: -, /, en dash, em dash, horizontal bar
        (
            "  sel: {CommandLine|windash|contains: ' -enc '}\n  condition: sel",
            {"CommandLine": "p /enc x"},
            True,
        ),
        (
            "  sel: {CommandLine|windash|contains: ' -enc '}\n  condition: sel",
            {"CommandLine": "p \u2013enc x"},
            True,
        ),
        (
            "  sel: {CommandLine|windash|contains: ' -enc '}\n  condition: sel",
            {"CommandLine": "p \u2014enc x"},
            True,
        ),
        (
            "  sel: {CommandLine|windash|contains: ' -enc '}\n  condition: sel",
            {"CommandLine": "p \u2015enc x"},
            True,
        ),
        (
            "  sel: {CommandLine|windash|contains: ' -enc '}\n  condition: sel",
            {"CommandLine": "p +enc x"},
            False,
        ),
        # re: case-sensitive by default, flags i, m, s
        ("  sel: {F|re: 'ab.c'}\n  condition: sel", {"F": "xabXc"}, True),
        ("  sel: {F|re: 'ab.c'}\n  condition: sel", {"F": "ABXC"}, False),
        ("  sel: {F|re|i: 'ab.c'}\n  condition: sel", {"F": "ABXC"}, True),
        ("  sel: {F|re|m: '^b$'}\n  condition: sel", {"F": "a\nb\nc"}, True),
        ("  sel: {F|re: '^b$'}\n  condition: sel", {"F": "a\nb\nc"}, False),
        ("  sel: {F|re|s: 'a.b'}\n  condition: sel", {"F": "a\nb"}, True),
        ("  sel: {F|re: 'a.b'}\n  condition: sel", {"F": "a\nb"}, False),
        # base64 and base64offset
        (
            "  sel: {F|base64: 'cmd'}\n  condition: sel",
            {"F": base64.b64encode(b"cmd").decode()},
            True,
        ),
        (
            "  sel: {F|base64offset|contains: 'http://'}\n  condition: sel",
            {"F": base64.b64encode(b"xhttp://a").decode()},
            True,
        ),
        (
            "  sel: {F|base64offset|contains: 'http://'}\n  condition: sel",
            {"F": base64.b64encode(b"xyhttp://a").decode()},
            True,
        ),
        (
            "  sel: {F|base64offset|contains: 'http://'}\n  condition: sel",
            {"F": base64.b64encode(b"https://a").decode()},
            False,
        ),
        # utf16le / wide / utf16be / utf16 (with BOM), combined with base64 as rules use them
        (
            "  sel: {F|wide|base64offset|contains: 'ping'}\n  condition: sel",
            {"F": base64.b64encode("x ping".encode("utf-16-le")).decode()},
            True,
        ),
        (
            "  sel: {F|utf16le|base64: 'cmd'}\n  condition: sel",
            {"F": base64.b64encode("cmd".encode("utf-16-le")).decode()},
            True,
        ),
        (
            "  sel: {F|utf16be|base64: 'cmd'}\n  condition: sel",
            {"F": base64.b64encode("cmd".encode("utf-16-be")).decode()},
            True,
        ),
        (
            "  sel: {F|utf16|base64: 'cmd'}\n  condition: sel",
            {"F": base64.b64encode(b"\xff\xfe" + "cmd".encode("utf-16-le")).decode()},
            True,
        ),
        (
            "  sel: {F|utf16be|base64: 'cmd'}\n  condition: sel",
            {"F": base64.b64encode("cmd".encode("utf-16-le")).decode()},
            False,
        ),
        # lt / lte / gt / gte, on numbers and numeric strings
        ("  sel: {N|lt: 5}\n  condition: sel", {"N": 4}, True),
        ("  sel: {N|lt: 5}\n  condition: sel", {"N": "5"}, False),
        ("  sel: {N|lte: 5}\n  condition: sel", {"N": "5"}, True),
        ("  sel: {N|gt: 5}\n  condition: sel", {"N": 5.5}, True),
        ("  sel: {N|gte: 5}\n  condition: sel", {"N": 4}, False),
        ("  sel: {N|gte: 5}\n  condition: sel", {"N": "n/a"}, False),
        # time parts
        ("  sel: {T|minute: 7}\n  condition: sel", {"T": "2024-03-05T10:07:00Z"}, True),
        ("  sel: {T|hour: 10}\n  condition: sel", {"T": "2024-03-05T10:07:00Z"}, True),
        ("  sel: {T|day: 5}\n  condition: sel", {"T": "2024-03-05 10:07:00"}, True),
        ("  sel: {T|week: 10}\n  condition: sel", {"T": "2024-03-05T10:07:00Z"}, True),
        ("  sel: {T|month: 3}\n  condition: sel", {"T": "2024-03-05T10:07:00Z"}, True),
        ("  sel: {T|year: 2023}\n  condition: sel", {"T": "2024-03-05T10:07:00Z"}, False),
        # cidr, v4 and v6
        (
            "  sel: {DestinationIp|cidr: 10.0.0.0/8}\n  condition: sel",
            {"DestinationIp": "10.1.2.3"},
            True,
        ),
        (
            "  sel: {DestinationIp|cidr: 10.0.0.0/8}\n  condition: sel",
            {"DestinationIp": "11.1.2.3"},
            False,
        ),
        (
            "  sel: {DestinationIp|cidr: 'fe80::/10'}\n  condition: sel",
            {"DestinationIp": "fe80::1"},
            True,
        ),
        (
            "  sel: {DestinationIp|cidr: 10.0.0.0/8}\n  condition: sel",
            {"DestinationIp": "junk"},
            False,
        ),
        # fieldref, alone and with startswith/endswith and neq
        (
            "  sel: {ParentImage|fieldref: Image}\n  condition: sel",
            {"Image": "A", "ParentImage": "a"},
            True,
        ),
        ("  sel: {ParentImage|fieldref: Image}\n  condition: sel", {"Image": "A"}, False),
        ("  sel: {P|fieldref|endswith: Q}\n  condition: sel", {"P": "xxab", "Q": "ab"}, True),
        ("  sel: {P|fieldref|startswith: Q}\n  condition: sel", {"P": "xxab", "Q": "ab"}, False),
        ("  sel: {P|fieldref|neq: Q}\n  condition: sel", {"P": "a", "Q": "b"}, True),
        # null: absent or null
        (
            "  sel: {EventID: 4738}\n  f: {PasswordLastSet: null}\n  condition: sel and not f",
            {"EventID": 4738},
            False,
        ),
        (
            "  sel: {EventID: 4738}\n  f: {PasswordLastSet: null}\n  condition: sel and not f",
            {"EventID": 4738, "PasswordLastSet": "x"},
            True,
        ),
        # empty value
        ("  sel: {F: ''}\n  condition: sel", {"F": ""}, True),
        ("  sel: {F: ''}\n  condition: sel", {"F": "a"}, False),
        # wildcards inside values, and escaped ones
        ("  sel: {F: 'a*b?d'}\n  condition: sel", {"F": "AxxBcD"}, True),
        ("  sel: {F: 'a\\*b'}\n  condition: sel", {"F": "a*b"}, True),
        ("  sel: {F: 'a\\*b'}\n  condition: sel", {"F": "axb"}, False),
        # numbers match numeric strings and the reverse
        ("  sel: {EventID: 4688}\n  condition: sel", {"EventID": "4688"}, True),
        ("  sel: {EventID: '4688'}\n  condition: sel", {"EventID": 4688}, True),
        # list values in events: any element
        ("  sel: {Tags: 'b'}\n  condition: sel", {"Tags": ["a", "B"]}, True),
    ],
)
def test_modifier(detection: str, event: dict[str, Any], expected: bool) -> None:
    assert fires(rule(detection), event) is expected


def test_expand_uses_placeholder_values() -> None:
    r = rule("  sel: {User|expand: '%admins%'}\n  condition: sel", {"admins": ["root", "admin"]})
    assert fires(r, {"User": "ADMIN"})
    assert not fires(r, {"User": "guest"})


def test_expand_without_values_is_reported() -> None:
    text = (
        "title: t\nlogsource: {product: windows}\ndetection:\n"
        "  sel:\n    User|expand: '%admins%'\n  condition: sel\n"
    )
    (item,) = load_rule_text(text, "t.yml")
    assert not isinstance(item, CompiledRule)
    assert "admins" in item.message
    assert item.line == 5


@pytest.mark.parametrize(
    ("condition", "event", "expected"),
    [
        ("a and b", {"A": "1", "B": "1"}, True),
        ("a and b", {"A": "1"}, False),
        ("a or b", {"B": "1"}, True),
        ("not a", {"B": "1"}, True),
        ("a and not (b or c)", {"A": "1", "C": "1"}, False),
        ("a and not (b or c)", {"A": "1"}, True),
        ("1 of sel_*", {"X2": "1"}, True),
        ("all of sel_*", {"X1": "1"}, False),
        ("all of sel_*", {"X1": "1", "X2": "1"}, True),
        ("1 of them", {"C": "1"}, True),
        ("all of them", {"A": "1", "B": "1", "C": "1", "X1": "1"}, False),
        ("all of them", {"A": "1", "B": "1", "C": "1", "X1": "1", "X2": "1"}, True),
        ("a or b and c", {"A": "1"}, True),
        ("(a or b) and c", {"A": "1"}, False),
        ("not a and not b", {}, True),
    ],
)
def test_condition_grammar(condition: str, event: dict[str, Any], expected: bool) -> None:
    detection = (
        "  a: {A: '1'}\n  b: {B: '1'}\n  c: {C: '1'}\n  sel_1: {X1: '1'}\n  sel_2: {X2: '1'}\n"
        f"  condition: {condition}\n"
    )
    assert fires(rule(detection), event) is expected


def test_not_filter_on_absent_field_keeps_the_match() -> None:
    # SQL engines turn "NOT (field = x)" on a missing column into NULL and drop the match.
    r = rule(
        "  sel: {Image|endswith: '\\x.exe'}\n  filter: {User: 'SYSTEM'}\n"
        "  condition: sel and not filter"
    )
    assert fires(r, {"Image": "c:\\x.exe"})
    assert not fires(r, {"Image": "c:\\x.exe", "User": "system"})


def test_keywords_search_every_field() -> None:
    r = rule("  keywords:\n    - 'mimikatz'\n    - 'sekurlsa::*'\n  condition: keywords")
    assert fires(r, {"A": 1, "Message": "ran MimiKatz.exe"})
    assert fires(r, {"CommandLine": "sekurlsa::logonpasswords"})
    assert not fires(r, {"Message": "benign"})


def test_keyword_with_selection_and_multiple_values_linked_by_all() -> None:
    r = rule("  keywords:\n    '|all':\n      - 'a1'\n      - 'b2'\n  condition: keywords")
    assert fires(r, {"X": "a1", "Y": "B2"})
    assert not fires(r, {"X": "a1"})


def test_prefilter_never_changes_the_result() -> None:
    r1 = rule(
        "  sel: {CommandLine|contains: 'whoami'}\n  f: {User: 'x'}\n  condition: sel and not f"
    )
    profile_event = {"CommandLine": "WhoAmI /all", "User": "y"}
    from ceiba.soc.sigma.logsource import SourceProfile

    profile = SourceProfile(product="windows")
    assert Engine([r1]).match(profile, profile_event) == [r1]
    assert Engine([r1], prefilter=False).match(profile, profile_event) == [r1]
    assert Engine([r1]).match(profile, {"CommandLine": "id"}) == []

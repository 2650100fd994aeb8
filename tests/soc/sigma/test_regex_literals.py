"""Required literals of regular expressions, used to prefilter regex rules."""

from __future__ import annotations

import re

import pytest

from ceiba.soc.sigma.compiler import regex_need


@pytest.mark.parametrize(
    ("pattern", "flags", "need"),
    [
        ("powershell.*-enc", 0, {"powershell"}),
        ("Invoke-(Expression|WebRequest)", 0, {"expression", "webrequest"}),
        ("ab(cde|fgh)+x", 0, {"cde", "fgh"}),
        ("(abc)?xyz", 0, {"xyz"}),
        (r"\\temp\\[a-z]{5}\.exe", 0, {"\\temp\\"}),
        ("(?i)invoke-expression", 0, {"e-expre"}),
        ("invoke-expression", re.IGNORECASE, {"e-expre"}),
        ("a|bcd", 0, None),  # one branch has no literal of three characters
        ("(?:abc)*", 0, None),  # may repeat zero times
        ("(?!abc)def", 0, {"def"}),  # lookarounds are not entered
        ("[a-z]+\\d", 0, None),
    ],
)
def test_regex_need(pattern: str, flags: int, need: set[str] | None) -> None:
    assert regex_need(pattern, flags) == (frozenset(need) if need is not None else None)


@pytest.mark.parametrize(
    ("pattern", "flags", "text"),
    [
        ("(?i)mimikatz", 0, "MIMIKATZ"),
        ("(?i)kerberos", 0, "\u212aerberos"),  # Kelvin sign: lowercases to itself
        ("(?i)sekurlsa", 0, "\u017fekurlsa"),  # long s
        ("(?i)pi\\w+", 0, "p\u0131ng"),  # dotless i
        ("(?i)abc(?-i:CDE)fgh", 0, "ABCCDEFGH"),
        ("Invoke-(Expression|WebRequest)", 0, "x Invoke-WebRequest y"),
        ("c:\\\\windows\\\\temp", 0, "c:\\windows\\temp\\x"),
    ],
)
def test_a_match_always_contains_a_required_literal(pattern: str, flags: int, text: str) -> None:
    # given
    assert re.search(pattern, text, flags)
    # when
    need = regex_need(pattern, flags)
    # then
    assert need is None or any(lit in text.lower() for lit in need)

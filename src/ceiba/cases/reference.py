"""Human-friendly case references with a check character: ``BC-2026-000123-K``.

The shape is ``PREFIX-YEAR-SEQUENCE-CHECK``: a two-letter prefix from the service (the initials
of the first two words of the service id's last part: ``birth-certificate-copy`` -> ``BC``),
the year of submission, a six-digit sequence per administration and year (more digits past
999999), and one check character computed with ISO/IEC 7064 MOD 37,36 (the hybrid system
with M=36 over ``0-9A-Z``) on the reference without hyphens. It catches every single-character
error and every swap of two adjacent characters, so a reference read out over the phone or
typed on a counter is refused when mistyped instead of opening someone else's case.
"""

from __future__ import annotations

import re

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_M = 36
_PATTERN = re.compile(r"^([A-Z]{2})-(\d{4})-(\d{6,})-([0-9A-Z])$")


def check_character(payload: str) -> str:
    """The ISO 7064 MOD 37,36 check character of ``payload`` (characters of ``0-9A-Z``)."""
    product = _M
    for char in payload.upper():
        value = ALPHABET.index(char)
        total = (product + value) % _M or _M
        product = (total * 2) % (_M + 1)
    return ALPHABET[(_M + 1 - product) % _M]


def is_valid_check(payload_with_check: str) -> bool:
    text = payload_with_check.upper()
    if len(text) < 2 or any(char not in ALPHABET for char in text):
        return False
    return check_character(text[:-1]) == text[-1]


def prefix_for(service_code: str) -> str:
    """``civil-registry.birth-certificate-copy`` -> ``BC``; ``tax.vat`` -> ``VA``."""
    last = service_code.rsplit(".", 1)[-1]
    words = [word for word in re.split(r"[^A-Za-z0-9]+", last) if word]
    letters = "".join(word[0] for word in words[:2]).upper()
    if len(letters) < 2:
        letters = (words[0][:2] if words else "CA").upper()
    return re.sub(r"[^A-Z]", "X", letters.ljust(2, "X"))


def format_reference(prefix: str, year: int, sequence: int) -> str:
    body = f"{prefix}-{year:04d}-{sequence:06d}"
    return f"{body}-{check_character(body.replace('-', ''))}"


def normalize(text: str) -> str:
    """What people type (spaces, lower case, dashes of any kind) into the canonical form."""
    return re.sub(r"[\s\u2010-\u2015_]+", "-", text.strip().upper()).strip("-")


def is_valid_reference(text: str) -> bool:
    match = _PATTERN.match(normalize(text))
    if match is None:
        return False
    return is_valid_check("".join(match.groups()))

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from ceiba.cases import reference, sla
from ceiba.cases.models import PublicHoliday
from tests.conftest import Tenant


def test_check_character_known_value_and_round_trip() -> None:
    ref = reference.format_reference("BC", 2026, 123)
    assert ref.startswith("BC-2026-000123-")
    assert reference.is_valid_reference(ref)
    assert reference.is_valid_reference(ref.lower().replace("-", " "))


def test_every_single_substitution_and_adjacent_swap_is_caught() -> None:
    payload = "BC2026000123"
    check = reference.check_character(payload)
    full = payload + check
    for index in range(len(full)):
        for char in reference.ALPHABET:
            if char == full[index]:
                continue
            assert not reference.is_valid_check(full[:index] + char + full[index + 1 :])
    for index in range(len(full) - 1):
        swapped = full[:index] + full[index + 1] + full[index] + full[index + 2 :]
        if swapped != full:
            assert not reference.is_valid_check(swapped)


@pytest.mark.parametrize(
    ("code", "prefix"),
    [
        ("civil-registry.birth-certificate-copy", "BC"),
        ("commerce-registry.business-registration", "BR"),
        ("tax.vat", "VA"),
    ],
)
def test_prefix(code: str, prefix: str) -> None:
    assert reference.prefix_for(code) == prefix


def test_working_days_skip_weekends_and_holidays() -> None:
    friday = date(2026, 3, 6)
    assert sla.add_working_days(friday, 1) == date(2026, 3, 9)
    assert sla.add_working_days(friday, 5) == date(2026, 3, 13)
    assert sla.add_working_days(friday, 1, {date(2026, 3, 9)}) == date(2026, 3, 10)
    assert sla.add_working_days(friday, 0) == friday


def test_due_at_uses_the_administrations_zone_and_holidays(tenant_a: Tenant) -> None:
    tenant_a.administration.time_zone = "Africa/Douala"
    tenant_a.administration.save()
    PublicHoliday.objects.create(administration=tenant_a.administration, date=date(2026, 3, 9))
    # Friday 23:30 UTC is already Saturday 00:30 in Douala.
    start = datetime(2026, 3, 6, 23, 30, tzinfo=ZoneInfo("UTC"))
    due = sla.due_at(tenant_a.administration, start, 1)
    local = due.astimezone(ZoneInfo("Africa/Douala"))
    assert local.date() == date(2026, 3, 10)
    assert local.hour == 23
    assert due - start > timedelta(days=3)

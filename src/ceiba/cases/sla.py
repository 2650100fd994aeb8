"""Time limits in working days: Monday to Friday, minus the administration's public holidays.

A limit of N working days that starts on a given moment ends at the end (23:59:59.999999, in
the administration's time zone) of the N-th working day after that moment's date, so a case
submitted on Friday evening with a 1-day limit is due at the end of Monday.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ceiba.tenancy.models import Administration


def add_working_days(start: date, days: int, holidays: Collection[date] = ()) -> date:
    """The date ``days`` working days after ``start`` (``start`` itself never counts)."""
    if days < 0:
        raise ValueError("days must not be negative")
    current = start
    remaining = days
    while remaining > 0:
        current += timedelta(days=1)
        if current.weekday() < 5 and current not in holidays:
            remaining -= 1
    return current


def zone_of(administration: Administration) -> ZoneInfo:
    try:
        return ZoneInfo(administration.time_zone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def due_at(administration: Administration, start: datetime, days: int) -> datetime:
    """The end of the ``days``-th working day after ``start``, as an aware datetime."""
    from ceiba.cases.models import PublicHoliday

    zone = zone_of(administration)
    local_start = start.astimezone(zone).date()
    holidays = set(
        PublicHoliday.objects.filter(
            administration=administration,
            date__gt=local_start,
            date__lte=local_start + timedelta(days=days * 3 + 31),
        ).values_list("date", flat=True)
    )
    end = add_working_days(local_start, days, holidays)
    return datetime.combine(end, time.max, tzinfo=zone)

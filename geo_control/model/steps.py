"""Time steps of the model: ISO weeks by default, or days or calendar months."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from geo_control.errors import InputError
from geo_control.records import Step

FREQS = ("day", "week", "month")


def step_start(day: dt.date, freq: str) -> dt.date:
    """First day of the step holding ``day``."""
    if freq == "day":
        return day
    if freq == "week":
        return day - dt.timedelta(days=day.weekday())
    if freq == "month":
        return day.replace(day=1)
    raise InputError(f"freq '{freq}' is not a time step; use one of {', '.join(FREQS)}")


def _next(start: dt.date, freq: str) -> dt.date:
    if freq == "day":
        return start + dt.timedelta(days=1)
    if freq == "week":
        return start + dt.timedelta(days=7)
    return (start.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def label(start: dt.date, freq: str) -> str:
    """``YYYY-Www`` for weeks, ``YYYY-MM-DD`` for days, ``YYYY-MM`` for months.

    >>> label(dt.date(2017, 11, 1), "week")
    '2017-W44'
    """
    if freq == "week":
        year, week, _ = start.isocalendar()
        return f"{year}-W{week:02d}"
    if freq == "month":
        return f"{start.year}-{start.month:02d}"
    return start.isoformat()


def make_steps(dates: Iterable[dt.date], freq: str = "week", date_from: str | dt.date | None = None,
               date_to: str | dt.date | None = None) -> list[Step]:
    """Consecutive steps from the first to the last date (or ``date_from``/``date_to``).

    >>> [s.label for s in make_steps([dt.date(2017, 11, 1), dt.date(2017, 11, 14)])]
    ['2017-W44', '2017-W45', '2017-W46']
    """
    if freq not in FREQS:
        raise InputError(f"freq '{freq}' is not a time step; use one of {', '.join(FREQS)}")
    days = sorted(dates)
    first = _as_date(date_from, "--from") if date_from else (days[0] if days else None)
    last = _as_date(date_to, "--to") if date_to else (days[-1] if days else None)
    if first is None or last is None:
        return []
    if first > last:
        raise InputError(f"--from {first} is after --to {last}; swap them")
    steps = []
    start = step_start(first, freq)
    while start <= last:
        end = _next(start, freq)
        steps.append(Step(label(start, freq), start, end))
        start = end
    return steps


def _as_date(value: str | dt.date, option: str) -> dt.date:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise InputError(f"{option} '{value}' is not a date; use YYYY-MM-DD") from None

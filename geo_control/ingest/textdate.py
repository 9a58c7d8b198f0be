"""The report date written in a report: a dateline, a title date or a week range."""

from __future__ import annotations

import datetime as dt
import re

MONTHS = {m: i for i, m in enumerate(
    ("january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
     "november", "december"), start=1)}
MONTHS.update({m[:3]: i for m, i in list(MONTHS.items())})
MONTHS["sept"] = 9
_MON = r"(?P<mon>(?:jan|feb|mar|apr|may|jun|jul|aug|sept?|oct|nov|dec)[a-z]*)\.?"

# "September 7-13, 2017", "November 2, 2017", "NOVEMBER 25, 2018", "2 November 2017", "2017-11-02".
RANGE_MD = re.compile(_MON + r"\s+(?P<d1>\d{1,2})\s*[-–]\s*(?:" + _MON.replace("mon", "mon2") +
                      r"\s+)?(?P<d2>\d{1,2}),?\s+(?P<y>(?:19|20)\d\d)\b", re.IGNORECASE)
MDY = re.compile(r"\b" + _MON + r"\s+(?P<d>\d{1,2})(?:st|nd|rd|th)?,?\s+(?P<y>(?:19|20)\d\d)\b", re.IGNORECASE)
DMY = re.compile(r"\b(?P<d>\d{1,2})(?:st|nd|rd|th)?\s+" + _MON + r",?\s+(?P<y>(?:19|20)\d\d)\b", re.IGNORECASE)
ISO = re.compile(r"\b(?P<y>(?:19|20)\d\d)-(?P<m>\d\d)-(?P<d>\d\d)\b")


def _date(y: str, mon: str | int, d: str) -> dt.date | None:
    month = mon if isinstance(mon, int) else MONTHS.get(mon.lower().rstrip(".")[:4] if mon.lower().startswith("sept")
                                                       else mon.lower()[:3])
    try:
        return dt.date(int(y), int(month or 0), int(d))
    except (ValueError, TypeError):
        return None


def find_report_date(text: str, head_chars: int = 1500) -> dt.date | None:
    """The date a report states near its top: a week range gives its last day.

    >>> find_report_date("Weekly Conflict Summary September 7-13, 2017")
    datetime.date(2017, 9, 13)
    >>> find_report_date("DEIR EZ-ZOR GOVERNORATE (NOVEMBER 25, 2018) – Islamic State ...")
    datetime.date(2018, 11, 25)
    """
    head = text[:head_chars]
    hits: list[tuple[int, dt.date]] = []
    for m in RANGE_MD.finditer(head):
        mon = m.group("mon2") or m.group("mon")
        d = _date(m.group("y"), mon, m.group("d2"))
        if d:
            hits.append((m.start(), d))
    for rx in (MDY, DMY):
        for m in rx.finditer(head):
            d = _date(m.group("y"), m.group("mon"), m.group("d"))
            if d and not any(s <= m.start() < s + 40 for s, _ in hits):
                hits.append((m.start(), d))
    for m in ISO.finditer(head):
        d = _date(m.group("y"), int(m.group("m")), m.group("d"))
        if d:
            hits.append((m.start(), d))
    if not hits:
        return None
    return min(hits)[1]

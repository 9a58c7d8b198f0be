"""``manifest.csv``: one row per report file with its date and where it came from."""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from geo_control.errors import ManifestError

#: Report dates before this are typos, not reports.
EARLIEST = dt.date(1900, 1, 1)


@dataclass(frozen=True)
class ManifestRow:
    file: str
    date: dt.date | None
    source: str = ""
    title: str = ""
    notes: str = ""


def read_manifest(path: Path) -> dict[str, ManifestRow]:
    """Rows of a manifest by file name (as written in its ``file`` column)."""
    try:
        try:
            text = path.read_text(encoding="utf-8-sig")
        except UnicodeDecodeError:
            text = path.read_text(encoding="cp1252")
    except OSError as exc:
        raise ManifestError(f"{path}: cannot read the manifest ({exc.strerror}); fix its permissions "
                            "or remove it") from None
    reader = csv.DictReader(text.splitlines())
    fields = [f.strip().lower() for f in (reader.fieldnames or [])]
    if "file" not in fields or "date" not in fields:
        raise ManifestError(f"{path}: needs a header with columns file,date (optionally source,title,notes); "
                            f"got {','.join(fields) or 'nothing'}")
    rows: dict[str, ManifestRow] = {}
    for n, row in enumerate(reader, start=2):
        row = {(k or "").strip().lower(): (v or "").strip() for k, v in row.items() if k}
        name = row.get("file", "")
        if not name:
            raise ManifestError(f"{path}: line {n} has no file name; fill the file column or delete the line")
        value = row.get("date", "")
        date = None
        if value:
            try:
                date = dt.date.fromisoformat(value)
            except ValueError:
                raise ManifestError(f"{path}: line {n}: date '{value}' of {name} is not YYYY-MM-DD; fix it") from None
            # A mistyped year (2071, 1017) would make a series of thousands of weekly maps.
            if not EARLIEST <= date <= dt.date.today() + dt.timedelta(days=1):
                raise ManifestError(f"{path}: line {n}: date {value} of {name} is "
                                    f"{'in the future' if date > EARLIEST else 'before 1900'}; fix the year")
        rows[name] = ManifestRow(name, date, row.get("source", ""), row.get("title", ""), row.get("notes", ""))
    return rows

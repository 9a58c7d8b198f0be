"""Sanity checks on the geocoder gold table (tests/gold/geocode.csv).

The table is hand-assembled; these checks keep it well-formed so that
`geo-control eval geocode --gold tests/gold/geocode.csv` measures the geocoder,
not typos in the gold.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

GOLD = Path(__file__).parent / "gold" / "geocode.csv"
COLUMNS = ["query", "lat", "lon", "context", "source", "note"]
SOURCE_PREFIXES = ("wof:", "geonames:", "hnap:", "wikipedia", "osm", "approx:")


@pytest.fixture(scope="module")
def rows() -> list[dict[str, str]]:
    with GOLD.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        assert reader.fieldnames == COLUMNS
        return list(reader)


def test_enough_rows(rows: list[dict[str, str]]) -> None:
    assert len(rows) >= 300


def test_required_fields_present(rows: list[dict[str, str]]) -> None:
    for i, row in enumerate(rows, start=2):
        assert row["query"].strip(), f"line {i}: empty query"
        assert row["query"] == row["query"].strip(), f"line {i}: query has outer whitespace"
        assert row["source"].startswith(SOURCE_PREFIXES), f"line {i}: source {row['source']!r}"


def test_coordinates_in_syria_region(rows: list[dict[str, str]]) -> None:
    # Syria plus the border strips of its neighbours (al-Qaim, Rukban).
    for i, row in enumerate(rows, start=2):
        lat, lon = float(row["lat"]), float(row["lon"])
        assert 31.0 <= lat <= 38.5, f"line {i}: lat {lat} for {row['query']!r}"
        assert 34.0 <= lon <= 43.5, f"line {i}: lon {lon} for {row['query']!r}"


def test_no_duplicate_query_context(rows: list[dict[str, str]]) -> None:
    seen: dict[tuple[str, str], int] = {}
    for i, row in enumerate(rows, start=2):
        key = (row["query"].casefold(), row["context"].casefold())
        assert key not in seen, f"line {i}: duplicate of line {seen[key]}: {key}"
        seen[key] = i


def test_ambiguous_names_carry_context(rows: list[dict[str, str]]) -> None:
    # A query that appears with different coordinates must be told apart by context.
    by_query: dict[str, set[tuple[str, str]]] = {}
    for row in rows:
        by_query.setdefault(row["query"].casefold(), set()).add((row["lat"], row["lon"]))
    ambiguous = {q for q, pts in by_query.items() if len(pts) > 1}
    for row in rows:
        if row["query"].casefold() in ambiguous and not row["context"]:
            # the context-free row is the default reading (major place); at most one per query
            same = [r for r in rows if r["query"].casefold() == row["query"].casefold() and not r["context"]]
            assert len(same) == 1, f"{row['query']!r}: several context-free readings"


def test_enough_ambiguous_cases(rows: list[dict[str, str]]) -> None:
    # Spellings shared by different places, told apart by the context a report carries.
    points: dict[str, set[tuple[str, str]]] = {}
    for row in rows:
        points.setdefault(row["query"].casefold(), set()).add((row["lat"], row["lon"]))
    shared = [row for row in rows if row["context"] and len(points[row["query"].casefold()]) > 1]
    assert len(shared) >= 30


def test_some_arabic_script(rows: list[dict[str, str]]) -> None:
    arabic = [row for row in rows if any("\u0600" <= ch <= "\u06ff" for ch in row["query"])]
    assert len(arabic) >= 25

"""Property and fuzz tests: arbitrary text never crashes reading, extraction or geocoding, and the
events table survives CSV and GeoJSON.

Texts mix the vocabulary of conflict reports (so the deep paths run: actors, actions, offsets,
dates, places) with arbitrary Unicode: control characters, bidi marks, combining marks,
Arabic script, very long tokens. Surrogates are left out (they cannot be written as UTF-8).
"""

from __future__ import annotations

import datetime as dt
import math

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from geo_control.records import EVENT_COLUMNS, UNRESOLVED_COLUMNS, Document

VOCAB = [
    "the", "Syrian Arab Army", "SAA", "Tiger Forces", "SDF", "ISIS", "Daesh", "HTS", "Turkish-backed", "forces",
    "captured", "took", "advanced", "withdrew from", "besieged", "clashes", "shelled", "reportedly", "claimed",
    "did not capture", "are expected to take", "10km", "18 km", "south of", "southwest of", "near", "towards",
    "the village of", "its countryside", "between", "and", "Mayadin", "Deir ez-Zor", "Deir Ezzor", "Abu Kamal",
    "al-Bukamal", "Hajin", "Raqqa", "Tabqa", "Aleppo", "Idlib", "T2 pumping station", "the Euphrates",
    "on Tuesday", "November 2", "Nov 10", "late on November 1", "2017", "yesterday", "earlier this month",
    "(", ")", ",", ".", ";", ":", "—", "-", "'s", "\n", "\n\n", "\r\n", "\t", "\u200f", "\u200e", "\u202e",
    "\u2066", "\ufeff", "\u00a0", "\x00", "\x0b", "\x1f", "\u0301", "الميادين", "دير الزور", "سيطر الجيش",
    "#", "**", "<b>", "</b>", "<script>", "http://x.y/z", "%", "½", "٣", "𝔄",
]
UNICODE = st.characters(blacklist_categories=("Cs",))
TOKEN = st.one_of(st.sampled_from(VOCAB), st.text(UNICODE, min_size=1, max_size=12))
LONG_TOKEN = st.text(UNICODE, min_size=300, max_size=3000) | st.sampled_from(["x" * 5000, "al-" * 800, "١" * 2000])
TEXTS = st.one_of(
    st.lists(TOKEN, max_size=120).map(" ".join),
    st.lists(TOKEN, max_size=60).map("".join),
    st.text(UNICODE, max_size=400),
    st.tuples(st.lists(TOKEN, max_size=30).map(" ".join), LONG_TOKEN).map(lambda p: p[0] + " " + p[1] + " captured Raqqa."),
)
FUZZ = settings(max_examples=80, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow,
                                                                      HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module")
def factions():
    from geo_control.factions import FactionRegistry

    return FactionRegistry.default()


@pytest.fixture(scope="module")
def gazetteer():
    from geo_control.geocode import Gazetteer
    from geo_control.settings import data_dir

    return Gazetteer.load(data_dir())


def _doc(text: str) -> Document:
    return Document(name="fuzz.txt", text=text, date=dt.date(2017, 11, 2), date_source="option", sha256="0")


@FUZZ
@given(text=TEXTS)
def test_extract_and_locate_never_raise(factions, gazetteer, text):
    from geo_control.extract import extract
    from geo_control.geocode import locate
    from geo_control.ingest import clean_text

    for body in (text, clean_text(text)):
        statements = extract(_doc(body), factions)
        for s in statements:
            assert 0 <= s.start <= s.end <= len(body)
        events, unresolved = locate(statements, gazetteer, body)
        assert list(events.columns) == list(EVENT_COLUMNS)
        assert list(unresolved.columns) == list(UNRESOLVED_COLUMNS)
        assert len(events) + len(unresolved) == len(statements)


@FUZZ
@given(raw=st.binary(max_size=2000) | TEXTS.map(lambda t: t.encode("utf-8")))
def test_reading_arbitrary_bytes_never_raises(tmp_path, raw):
    from geo_control.ingest import clean_text, find_report_date
    from geo_control.ingest.readers import read_text

    for suffix in (".txt", ".html"):
        text = read_text(tmp_path / f"r{suffix}", raw)
        if text is not None:
            find_report_date(clean_text(text))


# -- the events table through CSV and GeoJSON ---------------------------------------------------------

#: Text a report or a file name can put into a text field: quotes, separators, CR/LF and other
#: control characters, markup, RTL, emoji. Not NUL: ingest drops it (GDAL strings end there).
FIELD_TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00")
                     | st.sampled_from(['"', ",", ";", "\n", "\r"]), max_size=40)
FLOAT6 = st.floats(-1e4, 1e4, allow_nan=False).map(lambda v: round(v, 6))
DATES = st.dates(dt.date(1990, 1, 1), dt.date(2030, 12, 31)).map(dt.date.isoformat)


@st.composite
def events_tables(draw) -> pd.DataFrame:
    n = draw(st.integers(1, 6))
    rows = []
    for i in range(n):
        no_offset = draw(st.booleans())
        start = draw(st.integers(0, 10_000))
        rows.append({
            "id": f"ev-{i:016x}", "doc": draw(FIELD_TEXT.filter(str.strip)), "doc_date": draw(DATES),
            "date": draw(DATES), "date_precision": draw(st.sampled_from(["day", "week", "month", "doc"])),
            "actor": draw(FIELD_TEXT), "faction": draw(st.sampled_from(["government", "isis", "sdf", "unknown"])),
            "action": draw(st.sampled_from(["capture", "advance", "hold", "siege", "contest", "withdraw", "attack"])),
            "place": draw(FIELD_TEXT), "place_id": draw(st.sampled_from(["173480", "ovr-1", "0012"])),
            "place_name": draw(FIELD_TEXT), "lat": draw(st.floats(32, 38).map(lambda v: round(v, 6))),
            "lon": draw(st.floats(35, 43).map(lambda v: round(v, 6))), "precision": draw(st.integers(1, 3)),
            "uncertainty_km": draw(FLOAT6.map(abs)), "from_place": "" if no_offset else draw(FIELD_TEXT),
            "distance_km": math.nan if no_offset else draw(FLOAT6.map(abs)),
            "bearing_deg": math.nan if no_offset else draw(st.floats(0, 359.999999).map(lambda v: round(v, 6))),
            "target": draw(FIELD_TEXT), "modality": draw(st.sampled_from(["asserted", "claimed", "expected", "negated"])),
            "confidence": draw(st.floats(0, 1).map(lambda v: round(v, 6))), "sentence": draw(FIELD_TEXT),
            "start": start, "end": start + draw(st.integers(0, 80)),
        })
    return pd.DataFrame(rows, columns=list(EVENT_COLUMNS))


TEXT_COLUMNS = [c for c in EVENT_COLUMNS if c not in
                ("lat", "lon", "precision", "uncertainty_km", "distance_km", "bearing_deg", "confidence", "start", "end")]
NUMBER_COLUMNS = ["lat", "lon", "precision", "uncertainty_km", "distance_km", "bearing_deg", "confidence", "start", "end"]


def _assert_same_events(got: pd.DataFrame, want: pd.DataFrame, source: str) -> None:
    assert list(got.columns) == list(EVENT_COLUMNS), source
    assert len(got) == len(want), source
    for c in TEXT_COLUMNS:
        assert got[c].astype(str).tolist() == want[c].astype(str).tolist(), f"{source}: column {c}"
    for c in NUMBER_COLUMNS:
        g = pd.to_numeric(got[c], errors="coerce").to_numpy(dtype=float)
        w = want[c].to_numpy(dtype=float)
        for a, b in zip(g, w, strict=True):
            assert (math.isnan(a) and math.isnan(b)) or a == b, f"{source}: column {c}: {a!r} != {b!r}"


@settings(max_examples=60, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(events=events_tables())
def test_events_round_trip_through_csv_and_geojson(tmp_path, events):
    from geo_control.export import write_tables
    from geo_control.model import read_events

    out = tmp_path / "tables"
    write_tables(events, None, None, out)
    for name in ("events.csv", "events.geojson"):
        _assert_same_events(read_events(out / name), events, name)
    # Written again from what was read back: the same bytes.
    again = tmp_path / "again"
    write_tables(read_events(out / "events.csv"), None, None, again)
    assert (again / "events.csv").read_bytes() == (out / "events.csv").read_bytes()
    assert (again / "events.geojson").read_bytes() == (out / "events.geojson").read_bytes()


def test_text_that_looks_like_numbers_or_missing_stays_text(tmp_path):
    """The cases the round-trip property found or may miss: every text column reads back as
    written, whatever pandas would guess from it."""
    from geo_control.export import write_tables
    from geo_control.model import read_events

    row = {c: "" for c in EVENT_COLUMNS}
    row.update(id="ev-1", doc="0", doc_date="2017-11-02", date="2017-11-01", date_precision="day", actor="1e5",
               faction="government", action="capture", place="00", place_id="0012", place_name="NaN",
               lat=35.0, lon=40.45, precision=1, uncertainty_km=1.0, distance_km=math.nan, bearing_deg=math.nan,
               target="null", modality="asserted", confidence=0.9, sentence="a\rb,\"c\"\n-1", start=0, end=1,
               from_place="NA")
    events = pd.DataFrame([row], columns=list(EVENT_COLUMNS))
    write_tables(events, None, None, tmp_path)
    for name in ("events.csv", "events.geojson"):
        _assert_same_events(read_events(tmp_path / name), events, name)

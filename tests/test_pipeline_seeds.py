"""End to end on the five seed reports: every output of DESIGN.md, and hand-verified facts.

The facts below were checked by reading the reports and a map, not taken from a run.
"""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import pyogrio
import pytest

from geo_control.crs import distance_km
from geo_control.pipeline import run
from geo_control.records import EVENT_COLUMNS

pytestmark = pytest.mark.slow

SEEDS = "seeds"


@pytest.fixture(scope="module")
def seed_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("outputs")
    result = run([SEEDS], out)
    return result, out


@pytest.fixture(scope="module")
def events(seed_run):
    _, out = seed_run
    return pd.read_csv(out / "events.csv", dtype={"place_id": str})


def test_every_output_is_written(seed_run):
    result, out = seed_run
    for name in ("events.csv", "events.geojson", "unresolved.csv", "control.gpkg", "map.html",
                 "control.gif", "stats.csv", "run.json"):
        assert (out / name).is_file() and (out / name).stat().st_size > 0, name
    weeks = [s.label for s in result.layers.steps]
    assert weeks, "no time steps"
    assert sorted(p.stem for p in (out / "maps").glob("*.png")) == sorted(weeks)
    assert sorted(p.stem for p in (out / "heatmaps").glob("*.tif")) == sorted(weeks)
    layers = {name for name, _ in pyogrio.list_layers(out / "control.gpkg")}
    assert {"places", "events", "control", "frontlines", "advances", "changes"} <= layers
    assert not [p for p in out.iterdir() if p.name.startswith(".geo-control")], "staging left behind"


def test_events_table_has_the_design_schema(events):
    assert tuple(events.columns) == EVENT_COLUMNS
    assert events["id"].is_unique
    assert set(events["action"]) <= {"capture", "advance", "hold", "siege", "contest", "withdraw", "attack"}


def _near(events, faction, action, lon, lat, km):
    rows = events[(events.faction == faction) & (events.action == action)].dropna(subset=["lat", "lon"])
    return rows[[distance_km(r.lon, r.lat, lon, lat) <= km for r in rows.itertuples()]]


def test_sdf_seized_villages_east_of_deir_ezzor(events):
    # SouthFront, 2 November 2017: "the US-backed Syrian Democratic Forces seized the villages of
    # al-Akidat and al-Bakaara east of Deir Ezzor city": east-bank villages within ~40 km.
    rows = _near(events, "sdf", "capture", 40.14, 35.33, 40)
    assert len(rows) >= 1
    assert (rows.lon > 40.14).all()
    dates = pd.to_datetime(rows["date"]).dt.date
    assert dates.between(dt.date(2017, 10, 26), dt.date(2017, 11, 2)).all()


def test_government_captured_villages_west_of_maadan_on_tuesday(events):
    # "On Tuesday, the Syrian army ... capturing the villages of Numeisa, al-Jaber, and al-Khamisiya.
    # These villages lies west of Maadan" (report of 16 August 2017; Tuesday = 15 August).
    rows = _near(events, "government", "capture", 39.60, 35.755, 15)
    assert len(rows) >= 3
    assert set(rows["date"]) == {"2017-08-15"}


def test_government_captured_sukhnah_on_sunday(events):
    rows = _near(events, "government", "capture", 38.871, 34.885, 5)
    assert len(rows) >= 1 and "2017-08-13" in set(rows["date"])


def test_isis_captured_bahrah_in_the_hajin_pocket(events):
    rows = _near(events, "isis", "capture", 40.77, 34.742, 8)
    assert len(rows) >= 1
    assert not _near(events, "isis", "capture", 36.6, 35.2, 60).shape[0], "placed at the Hama namesake"


def test_no_event_from_reader_comments_or_debris(events):
    for needle in ("ABORTION", "Jens Holm", "Sukna", "sheeple", "I-0.2", "Leave A Reply"):
        assert not events["sentence"].str.contains(needle, regex=False).any(), needle


def test_future_tense_changes_nothing(events):
    storming = events[events["sentence"].str.contains("will start storming", regex=False)]
    assert (storming["modality"] == "expected").all()
    expected = events[events["sentence"].str.contains("expected to take the town", regex=False)]
    assert (expected["modality"] == "expected").all()


def test_run_json_records_inputs_and_counts(seed_run):
    _, out = seed_run
    info = json.loads((out / "run.json").read_text())
    text = json.dumps(info)
    for name in ("000_2e36d310c1a690cd.txt", "004_1081c0406dd2c9e3.txt"):
        assert name in text
    assert "sha256" in text

"""The control model on scripted campaigns: who holds which point in which week."""

from __future__ import annotations

import datetime as dt

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from geo_control.crs import destination
from geo_control.errors import BaselineError, InputError, MissingInputError
from geo_control.model import build, read_baseline, read_events
from geo_control.model.steps import make_steps
from geo_control.records import EVENT_COLUMNS, covering
from geo_control.settings import Settings

# (lat, lon) of real towns of the Euphrates valley and the desert.
MAYADIN = (35.0188, 40.4526)
ABU_KAMAL = (34.4525, 40.9187)
DEIR = (35.3359, 40.1408)
RAQQA = (35.9594, 39.0079)
PALMYRA = (34.5560, 38.2669)
SUKHNAH = (34.8867, 38.8733)
QURIYAH = (34.9725, 40.5242)   # 12 km south-east of Mayadin along the river


def ev(i: int, date: str, faction: str, action: str, place: str, latlon: tuple[float, float], **kw) -> dict:
    row = {c: "" for c in EVENT_COLUMNS}
    row.update(id=f"ev-{i:04d}", doc=kw.pop("doc", "report.txt"), doc_date=date, date=date, date_precision="day",
               actor=faction, faction=faction, action=action, place=place, place_id=kw.pop("place_id", place),
               place_name=place, lat=latlon[0], lon=latlon[1], precision=1, uncertainty_km=1.0,
               modality=kw.pop("modality", "asserted"), confidence=kw.pop("confidence", 0.9),
               sentence=kw.pop("sentence", f"{faction} {action} {place}"), start=i * 10, end=i * 10 + 5)
    row.update(kw)
    return row


def run(basemap, factions, rows, baseline=None, **settings) -> object:
    return build(pd.DataFrame(rows, columns=list(EVENT_COLUMNS)), basemap, Settings(**settings), factions,
                 baseline=baseline)


def places_at(layers, label: str):
    """The places rows (spans) that cover step ``label``."""
    step = next(s for s in layers.steps if s.label == label)
    return covering(layers.places, step)


def holder(layers, step: str, latlon: tuple[float, float]) -> tuple[str, str] | None:
    """(faction, status) of the control area holding a point at a step, or None."""
    point = shapely.Point(latlon[1], latlon[0])
    rows = layers.control[layers.control["step"] == step]
    hits = [(r.faction, r.status) for r in rows.itertuples() if r.geometry.intersects(point)]
    assert len(hits) <= 1, f"areas overlap at {latlon} in {step}: {hits}"
    return hits[0] if hits else None


def test_capture_and_recapture(basemap, factions):
    layers = run(basemap, factions, [
        ev(1, "2017-10-02", "government", "capture", "Mayadin", MAYADIN),
        ev(2, "2017-10-11", "isis", "capture", "Mayadin", MAYADIN),
        ev(3, "2017-10-18", "government", "capture", "Mayadin", MAYADIN),
    ])
    assert [s.label for s in layers.steps] == ["2017-W40", "2017-W41", "2017-W42"]
    assert holder(layers, "2017-W40", MAYADIN) == ("government", "held")
    assert holder(layers, "2017-W41", MAYADIN) == ("isis", "held")
    assert holder(layers, "2017-W42", MAYADIN) == ("government", "held")
    ch = layers.changes
    w41 = ch[(ch["step"] == "2017-W41") & (ch["change"] == "gain")]
    assert w41[["faction", "from_faction", "to_faction"]].values.tolist() == [["isis", "government", "isis"]]
    assert w41["area_km2"].iloc[0] > 20
    w42 = ch[(ch["step"] == "2017-W42") & (ch["change"] == "loss")]
    assert w42[["faction", "to_faction"]].values.tolist() == [["isis", "government"]]
    places = layers.places[layers.places["place_id"] == "Mayadin"]
    assert places["faction"].tolist() == ["government", "isis", "government"]
    # Ground does not spread across the governorate: Abu Kamal, 80 km away, stays unpainted.
    assert holder(layers, "2017-W40", ABU_KAMAL) is None


def test_state_persists_and_confidence_decays(basemap, factions):
    layers = run(basemap, factions, [
        ev(1, "2017-10-02", "government", "capture", "Mayadin", MAYADIN),
        ev(2, "2017-11-20", "isis", "hold", "Abu Kamal", ABU_KAMAL),
    ], half_life_days=14)
    assert holder(layers, "2017-W46", MAYADIN) == ("government", "held")
    # One span of unchanged evidence; the area's confidence decays week by week.
    span = layers.places[layers.places["place_id"] == "Mayadin"]
    assert len(span) == 1 and span["step"].iloc[0] == "2017-W40"
    assert len(places_at(layers, "2017-W46")[lambda p: p["place_id"] == "Mayadin"]) == 1
    conf = layers.control[layers.control["faction"] == "government"]["confidence"].tolist()
    assert conf == sorted(conf, reverse=True) and conf[-1] < conf[0] / 4


def test_siege_then_lifted(basemap, factions):
    layers = run(basemap, factions, [
        ev(1, "2017-09-04", "government", "hold", "Deir ez-Zor", DEIR),
        ev(2, "2017-09-12", "isis", "siege", "Deir ez-Zor", DEIR),
        ev(3, "2017-09-27", "isis", "withdraw", "Deir ez-Zor", DEIR),
    ])
    assert holder(layers, "2017-W36", DEIR) == ("government", "held")
    assert holder(layers, "2017-W37", DEIR) == ("government", "besieged")
    besieged = layers.control[(layers.control["step"] == "2017-W37") & (layers.control["status"] == "besieged")]
    assert besieged["besieger"].tolist() == ["isis"]
    assert holder(layers, "2017-W38", DEIR) == ("government", "besieged")  # persists until contradicted
    assert holder(layers, "2017-W39", DEIR) == ("government", "held")


def test_withdrawal_hands_to_the_other_side_or_leaves_unknown(basemap, factions):
    layers = run(basemap, factions, [
        ev(1, "2017-06-05", "isis", "hold", "Raqqa", RAQQA, doc="a.txt"),
        ev(2, "2017-06-06", "sdf", "attack", "Raqqa", RAQQA, doc="a.txt"),
        ev(3, "2017-06-14", "isis", "withdraw", "Raqqa", RAQQA, doc="b.txt"),
        ev(4, "2017-06-05", "government", "hold", "Palmyra", PALMYRA, doc="c.txt"),
        ev(5, "2017-06-14", "government", "withdraw", "Palmyra", PALMYRA, doc="c.txt"),
    ])
    assert holder(layers, "2017-W23", RAQQA) == ("isis", "held")
    # The withdrawal's report names nobody else; the attack near Raqqa days before says the SDF.
    assert holder(layers, "2017-W24", RAQQA) == ("sdf", "held")
    assert holder(layers, "2017-W23", PALMYRA) == ("government", "held")
    assert holder(layers, "2017-W24", PALMYRA) is None  # nobody known: unknown, not painted
    w24 = places_at(layers, "2017-W24")
    assert "Palmyra" not in w24["place_id"].tolist()


def test_advance_claims_a_corridor(basemap, factions):
    lon, lat = destination(MAYADIN[1], MAYADIN[0], 225, 20)
    layers = run(basemap, factions, [
        ev(1, "2017-10-16", "government", "capture", "Mayadin", MAYADIN),
        ev(2, "2017-10-24", "government", "advance", "T2 pumping station", (lat, lon), place_id="",
           from_place="Mayadin", distance_km=20, bearing_deg=225, precision=2, target="T2 pumping station"),
    ])
    adv = layers.advances
    assert len(adv) == 1 and adv["step"].iloc[0] == "2017-W43" and adv["faction"].iloc[0] == "government"
    assert adv["length_km"].iloc[0] == pytest.approx(20, abs=0.1)
    start = adv.geometry.iloc[0].coords[0]
    assert start == pytest.approx((MAYADIN[1], MAYADIN[0]), abs=1e-3)
    mid_lon, mid_lat = destination(MAYADIN[1], MAYADIN[0], 225, 10)
    assert holder(layers, "2017-W43", (mid_lat, mid_lon)) == ("government", "held")
    assert holder(layers, "2017-W42", (mid_lat, mid_lon)) is None
    assert holder(layers, "2017-W43", (lat, lon)) == ("government", "held")
    w43 = places_at(layers, "2017-W43")
    reached = w43[w43["place_name"] == "T2 pumping station"]
    assert reached["confidence"].iloc[0] < 0.9 * 0.9  # an advance weighs less than a capture


def test_partial_capture_splits_the_place(basemap, factions):
    layers = run(basemap, factions, [
        ev(1, "2017-10-02", "isis", "hold", "Mayadin", MAYADIN),
        ev(2, "2017-10-10", "government", "capture", "Mayadin", MAYADIN,
           sentence="Government forces captured the southern part of Mayadin on Tuesday."),
    ])
    south = destination(MAYADIN[1], MAYADIN[0], 180, 2)
    north = destination(MAYADIN[1], MAYADIN[0], 0, 2)
    assert holder(layers, "2017-W41", (south[1], south[0])) == ("government", "held")
    assert holder(layers, "2017-W41", (north[1], north[0])) == ("isis", "held")
    assert holder(layers, "2017-W40", (south[1], south[0])) == ("isis", "held")
    parts = places_at(layers, "2017-W41")
    assert sorted(zip(parts["part"], parts["faction"], strict=True)) == [("", "isis"), ("south", "government")]


def test_claim_against_stronger_evidence_is_contested(basemap, factions):
    layers = run(basemap, factions, [
        ev(1, "2017-10-02", "isis", "capture", "Mayadin", MAYADIN),
        ev(2, "2017-10-03", "government", "capture", "Mayadin", MAYADIN, modality="claimed"),
        ev(3, "2017-10-02", "isis", "capture", "Abu Kamal", ABU_KAMAL),
        ev(4, "2017-10-03", "government", "capture", "Abu Kamal", ABU_KAMAL, modality="expected"),
        ev(5, "2017-10-03", "government", "attack", "Sukhnah", SUKHNAH),
    ])
    assert holder(layers, "2017-W40", MAYADIN) == ("contested", "contested")
    row = layers.control[layers.control["faction"] == "contested"]
    assert row["factions"].tolist() == ["government;isis"]
    assert holder(layers, "2017-W40", ABU_KAMAL) == ("isis", "held")   # expected changes nothing
    assert holder(layers, "2017-W40", SUKHNAH) is None                  # attacks feed only the heatmap


def test_frontline_between_neighbours(basemap, factions):
    layers = run(basemap, factions, [
        ev(1, "2017-10-02", "government", "capture", "Mayadin", MAYADIN),
        ev(2, "2017-10-03", "isis", "hold", "al-Quriyah", QURIYAH),
    ])
    fl = layers.frontlines
    assert fl[["faction_a", "faction_b"]].values.tolist() == [["government", "isis"]]
    assert 2 < fl["length_km"].iloc[0] < 60
    assert fl["event_ids"].iloc[0] == "ev-0001;ev-0002"


def test_baseline_continues_and_changes_only_where_evidence_touches(basemap, factions):
    box = shapely.box(37.8, 34.2, 38.8, 34.9)   # around Palmyra
    base = gpd.GeoDataFrame({"faction": ["government"]}, geometry=[box], crs="EPSG:4326")
    layers = run(basemap, factions, [
        ev(1, "2017-10-02", "isis", "hold", "Mayadin", MAYADIN),
        ev(2, "2017-10-18", "isis", "capture", "Palmyra", PALMYRA),
    ], baseline=base)
    far = (34.35, 38.0)  # inside the box, 30 km from Palmyra
    assert holder(layers, "2017-W40", PALMYRA) == ("government", "held")
    assert holder(layers, "2017-W42", PALMYRA) == ("isis", "held")
    assert holder(layers, "2017-W42", far) == ("government", "held")
    assert holder(layers, "2017-W40", MAYADIN) == ("isis", "held")
    gov = layers.stats[layers.stats["faction"] == "government"]["area_km2"].tolist()
    assert gov[0] > 5000 and gov[-1] < gov[0]


def test_baseline_from_previous_control_gpkg(basemap, factions, tmp_path):
    from geo_control.export import write_geopackage

    first = run(basemap, factions, [ev(1, "2017-10-02", "government", "capture", "Mayadin", MAYADIN)])
    path = write_geopackage(first, factions, tmp_path / "control.gpkg")
    base = read_baseline(path)
    assert base["faction"].tolist() == ["government"] and base.crs.to_epsg() == 4326
    later = run(basemap, factions, [ev(2, "2017-11-06", "isis", "hold", "Abu Kamal", ABU_KAMAL)], baseline=base)
    assert holder(later, "2017-W45", MAYADIN) == ("government", "held")
    assert holder(later, "2017-W45", ABU_KAMAL) == ("isis", "held")


def test_baseline_errors(tmp_path, factions):
    with pytest.raises(BaselineError, match="not found"):
        read_baseline(tmp_path / "nope.gpkg")
    gdf = gpd.GeoDataFrame({"name": ["x"]}, geometry=[shapely.box(38, 34, 39, 35)], crs="EPSG:4326")
    gdf.to_file(tmp_path / "nofaction.geojson")
    with pytest.raises(BaselineError, match="no faction column"):
        read_baseline(tmp_path / "nofaction.geojson")
    gdf = gpd.GeoDataFrame({"faction": ["martians"]}, geometry=[shapely.box(38, 34, 39, 35)], crs="EPSG:4326")
    gdf.to_file(tmp_path / "unknown.geojson")
    with pytest.raises(BaselineError, match="unknown faction 'martians'"):
        read_baseline(tmp_path / "unknown.geojson", factions)
    gdf = gpd.GeoDataFrame({"faction": ["Islamic State"]}, geometry=[shapely.box(38, 34, 39, 35)], crs="EPSG:4326")
    gdf.to_file(tmp_path / "alias.geojson")
    assert read_baseline(tmp_path / "alias.geojson", factions)["faction"].tolist() == ["isis"]


def test_read_events_round_trip_and_errors(tmp_path):
    rows = [ev(1, "2017-10-02", "government", "capture", "Mayadin", MAYADIN)]
    pd.DataFrame(rows).to_csv(tmp_path / "events.csv", index=False)
    df = read_events(tmp_path / "events.csv")
    assert list(df.columns) == list(EVENT_COLUMNS) and df["lat"].iloc[0] == MAYADIN[0]
    with pytest.raises(MissingInputError):
        read_events(tmp_path / "missing.csv")
    pd.DataFrame({"a": [1]}).to_csv(tmp_path / "bad.csv", index=False)
    with pytest.raises(InputError, match="lacks column"):
        read_events(tmp_path / "bad.csv")
    (tmp_path / "x.txt").write_text("hello")
    with pytest.raises(InputError, match="not an events table"):
        read_events(tmp_path / "x.txt")


def test_steps():
    days = [dt.date(2017, 12, 30), dt.date(2018, 1, 9)]
    assert [s.label for s in make_steps(days)] == ["2017-W52", "2018-W01", "2018-W02"]
    assert [s.label for s in make_steps(days, "month")] == ["2017-12", "2018-01"]
    assert len(make_steps(days, "day")) == 11
    steps = make_steps(days, "week", "2017-12-01", "2017-12-10")
    assert [s.label for s in steps] == ["2017-W48", "2017-W49"]
    assert steps[0].start == dt.date(2017, 11, 27) and steps[-1].end == dt.date(2017, 12, 11)
    with pytest.raises(InputError):
        make_steps(days, "year")


def test_dated_fields_and_schema(basemap, factions):
    layers = run(basemap, factions, [
        ev(1, "2017-10-02", "government", "capture", "Mayadin", MAYADIN),
        ev(2, "2017-10-10", "isis", "capture", "Mayadin", MAYADIN),
    ])
    for name in ("places", "control", "changes", "events"):
        gdf = getattr(layers, name)
        assert gdf.crs.to_epsg() == 4326
        assert str(gdf["valid_from"].dt.tz) == "UTC" and (gdf["valid_to"] > gdf["valid_from"]).all()
    row = layers.control.iloc[0]
    assert row["valid_from"] == pd.Timestamp("2017-10-02", tz="UTC")
    assert row["valid_to"] == pd.Timestamp("2017-10-09", tz="UTC")
    assert {"confidence", "event_ids", "n_sentences", "area_km2"} <= set(layers.control.columns)
    assert list(layers.stats.columns) == ["step", "valid_from", "valid_to", "faction", "area_km2"]
    assert layers.control.is_valid.all()


def test_seed_004_deir_ezzor_november_2017(basemap, factions):
    """Statements of seeds/004 (SouthFront, 2 November 2017), geocoded by hand as the geocoder does."""
    hamidiyah = (35.343, 40.148)
    sentence = ("On November 1, the Syrian Arab Army (SAA) Tiger Forces and the Republican Guard liberated "
                "Jubaliyah neighborhood, the central park area, the school of law and education area and the "
                "southern part of Hamidiyah neighborhood.")
    layers = run(basemap, factions, [
        ev(1, "2017-10-30", "isis", "hold", "Deir ez-Zor", (35.33588, 40.14084), place_id="170794"),
        ev(2, "2017-11-01", "government", "capture", "Jubaliyah neighborhood", (35.344, 40.128),
           place_id="curated:jubaylah", sentence=sentence),
        ev(3, "2017-11-01", "government", "capture", "Hamidiyah neighborhood", (35.3403, 40.148),
           place_id="curated:hamidiyah", precision=2, sentence=sentence),
        ev(4, "2017-11-02", "government", "advance", "Hamidiyah", hamidiyah, place_id="curated:hamidiyah",
           sentence="On November 2, the Tiger Forces and the Republican Guard advanced deeper in Hamidiyah"),
        ev(5, "2017-11-01", "isis", "hold", "al-Bukamal", (34.45, 40.91861), place_id="174448"),
        ev(6, "2017-11-02", "sdf", "capture", "al-Bakaara", (35.25, 40.33), place_id="curated:jadid-bakkarah"),
        ev(7, "2017-11-02", "sdf", "capture", "al-Akidat", (35.25, 40.36), place_id="curated:al-akidat",
           precision=3),
        ev(8, "2017-11-02", "sdf", "siege", "al-Busarityah", (35.15618, 40.42716), place_id="173927"),
        ev(9, "2017-11-02", "isis", "hold", "al-Busarityah", (35.15618, 40.42716), place_id="173927"),
        ev(10, "2017-11-01", "israel", "attack", "Hisyah Industrial Area", (34.45, 36.76), place_id="curated:hisyah"),
    ])
    assert [s.label for s in layers.steps] == ["2017-W44"]
    assert holder(layers, "2017-W44", (35.344, 40.128)) == ("government", "held")     # Jubaliyah
    south = destination(hamidiyah[1], hamidiyah[0], 180, 0.8)
    assert holder(layers, "2017-W44", (south[1], south[0])) == ("government", "held")  # south Hamidiyah
    assert holder(layers, "2017-W44", (35.25, 40.33)) == ("sdf", "held")              # al-Bakaara
    assert holder(layers, "2017-W44", (35.15618, 40.42716)) == ("isis", "besieged")   # al-Busarityah
    besieged = layers.control[layers.control["status"] == "besieged"]
    assert besieged["besieger"].tolist() == ["sdf"]
    assert holder(layers, "2017-W44", (34.45, 40.91861)) == ("isis", "held")          # al-Bukamal
    assert holder(layers, "2017-W44", (34.45, 36.76)) is None                          # an airstrike
    assert not (layers.places["place_id"] == "curated:al-akidat").any()                # area centroid
    assert {"government", "isis", "sdf"} <= set(layers.stats["faction"])


def test_the_euphrates_is_the_line_between_banks(basemap, factions):
    layers = run(basemap, factions, [
        ev(1, "2017-10-02", "government", "hold", "Mayadin", MAYADIN),          # west bank
        ev(2, "2017-10-02", "sdf", "hold", "Dhiban", (35.0106, 40.5058)),      # east bank, across
    ])
    fl = layers.frontlines
    assert fl[["faction_a", "faction_b"]].values.tolist() == [["government", "sdf"]]
    river = basemap.rivers[basemap.rivers["level"] <= 3].geometry.union_all()
    coords = shapely.get_coordinates(fl.geometry.iloc[0])
    on_river = [river.distance(shapely.Point(c)) < 0.002 for c in coords]   # ~200 m
    assert sum(on_river) / len(on_river) > 0.6


def test_background_years_before_the_reports_set_the_first_step_without_stretching_the_series(basemap, factions):
    # A 2017 report recalls "In 2014, ISIS captured Mayadin": background, not 150 empty weeks.
    layers = run(basemap, factions, [
        ev(1, "2014-07-03", "isis", "capture", "Mayadin", MAYADIN, doc_date="2017-10-20"),
        ev(2, "2017-10-18", "government", "capture", "Sukhnah", SUKHNAH, doc_date="2017-10-20"),
    ], min_confidence=0)  # keep the three-year-old state from going stale: this test is about steps
    labels = [s.label for s in layers.steps]
    assert labels[0] == "2017-W34" and labels[-1] == "2017-W42"  # 56 days before the report
    assert holder(layers, labels[0], MAYADIN) == ("isis", "held")
    assert holder(layers, "2017-W42", SUKHNAH) == ("government", "held")
    # --from still wins.
    explicit = run(basemap, factions, [
        ev(1, "2014-07-03", "isis", "capture", "Mayadin", MAYADIN, doc_date="2017-10-20"),
    ], date_from="2014-06-30", date_to="2014-07-13")
    assert [s.label for s in explicit.steps] == ["2014-W27", "2014-W28"]


def test_stale_evidence_is_no_longer_drawn(basemap, factions):
    # Nothing said about Mayadin for months: its old state fades out instead of being drawn as news.
    rows = [
        ev(1, "2017-10-02", "isis", "capture", "Mayadin", MAYADIN),
        ev(2, "2018-03-05", "government", "capture", "Sukhnah", SUKHNAH),
    ]
    layers = run(basemap, factions, rows, half_life_days=28, min_confidence=0.05)
    assert holder(layers, "2017-W40", MAYADIN) == ("isis", "held")
    assert holder(layers, "2017-W50", MAYADIN) == ("isis", "held")   # ~10 weeks: still believed
    assert holder(layers, "2018-W10", MAYADIN) is None                # ~22 weeks: stale
    assert "Mayadin" not in set(places_at(layers, "2018-W10")["place_id"])
    kept = run(basemap, factions, rows, half_life_days=28, min_confidence=0)
    assert holder(kept, "2018-W10", MAYADIN) == ("isis", "held")


def test_half_of_a_place_whose_cell_is_empty_is_no_ground():
    # Found at 10,000 reports: a settlement whose cell the country outline cut away has empty
    # bounds (NaN), and "the northern part of X" built a polygon of NaNs.
    from geo_control.model.areas import _half_plane

    assert _half_plane(100.0, 200.0, 0.0, shapely.Polygon()).is_empty
    assert _half_plane(float("nan"), 200.0, 0.0, shapely.box(0, 0, 10, 10)).is_empty
    assert _half_plane(5.0, 5.0, 0.0, shapely.box(0, 0, 10, 10)).area > 0

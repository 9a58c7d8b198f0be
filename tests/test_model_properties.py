"""Invariants of the control model under generated event sets (hypothesis).

Factions' areas never overlap at any step; every geometry is valid; a place lies inside the
area of the faction its latest evidence gives it; the same inputs give identical outputs.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from geo_control.basemap import load_basemap
from geo_control.factions import FactionRegistry
from geo_control.model import build
from geo_control.records import EVENT_COLUMNS
from geo_control.settings import Settings, data_dir

# Towns of the middle Euphrates, close enough that their ground meets (lat, lon).
TOWNS = {
    "Mayadin": (35.0188, 40.4526), "al-Quriyah": (34.9725, 40.5242), "Mahkan": (34.9656, 40.5675),
    "Buqrus": (35.0564, 40.4000), "Deir ez-Zor": (35.3359, 40.1408), "Muhasan": (35.2447, 40.2956),
    "al-Ashara": (34.9197, 40.5678), "Busayrah": (35.1556, 40.4331), "Hajin": (34.6953, 40.8328),
    "Abu Kamal": (34.4525, 40.9187), "Sukhnah": (34.8867, 38.8733), "Palmyra": (34.5560, 38.2669),
}
FACTIONS = ["government", "isis", "sdf"]
ACTIONS = ["capture", "hold", "siege", "contest", "withdraw", "advance", "attack"]

event = st.tuples(
    st.sampled_from(sorted(TOWNS)), st.sampled_from(FACTIONS), st.sampled_from(ACTIONS),
    st.integers(0, 27), st.sampled_from(["asserted", "asserted", "claimed", "expected"]),
    st.sampled_from(["", "", "", "southern part of ", "eastern part of "]),
    st.integers(0, 359), st.floats(2, 15),
)


@pytest.fixture(scope="module")
def env():
    return load_basemap(data_dir()), FactionRegistry.default()


def frame(items) -> pd.DataFrame:
    rows = []
    start = dt.date(2017, 10, 2)
    for i, (town, fac, action, day, modality, part, bearing, dist) in enumerate(items):
        date = (start + dt.timedelta(days=day)).isoformat()
        row = {c: "" for c in EVENT_COLUMNS}
        lat, lon = TOWNS[town]
        row.update(id=f"ev-{i:04d}", doc=f"r{i % 3}.txt", doc_date=date, date=date, date_precision="day",
                   actor=fac, faction=fac, action=action, place=town, place_id=town, place_name=town, lat=lat,
                   lon=lon, precision=1, uncertainty_km=1.0, modality=modality, confidence=0.8,
                   sentence=f"{fac} {action} the {part}{town}", start=i, end=i + 1)
        if action == "advance":
            row.update(from_place="somewhere", distance_km=dist, bearing_deg=float(bearing), precision=2,
                       place_id="", lat=lat, lon=lon)
        rows.append(row)
    return pd.DataFrame(rows, columns=list(EVENT_COLUMNS))


def check_invariants(layers) -> None:
    control = layers.control
    assert control.is_valid.all()
    assert (control.geom_type.isin(["Polygon", "MultiPolygon"])).all()
    assert layers.changes.is_valid.all()
    for step, rows in control.groupby("step"):
        geoms = rows.geometry.tolist()
        for i in range(len(geoms)):
            for j in range(i + 1, len(geoms)):
                overlap = shapely.intersection(geoms[i], geoms[j]).area
                # Areas are in degrees²: 1e-10 deg² is about 1 m².
                assert overlap < 1e-10, f"{step}: {rows.iloc[i].faction} overlaps {rows.iloc[j].faction}"
    country = None
    label_by_end = {pd.Timestamp(s.end).tz_localize("UTC"): s.label for s in layers.steps}
    for place in layers.places[layers.places["part"] == ""].itertuples():
        # A place is a span of steps: it lies in its faction's area at every one of them.
        covered = [s.label for s in layers.steps
                   if place.valid_from <= pd.Timestamp(s.start).tz_localize("UTC") < place.valid_to]
        assert covered and covered[0] == place.step and covered[-1] == label_by_end[place.valid_to]
        for label in covered:
            rows = control[(control["step"] == label) & (control["faction"] == place.faction)
                           & (control["status"] == place.status)]
            inside = any(g.distance(place.geometry) < 1e-6 for g in rows.geometry)
            if not inside:
                if country is None:
                    country = load_basemap(data_dir()).country.geometry.iloc[0]
                assert not country.contains(place.geometry), (
                    f"{label}: {place.place_name} ({place.faction}/{place.status}) is outside its area")


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(event, min_size=1, max_size=14))
def test_invariants(env, items):
    basemap, factions = env
    layers = build(frame(items), basemap, Settings(), factions)
    check_invariants(layers)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(event, min_size=1, max_size=10))
def test_same_inputs_same_outputs(env, items):
    basemap, factions = env
    a = build(frame(items), basemap, Settings(), factions)
    b = build(frame(items).sample(frac=1.0, random_state=1), basemap, Settings(), factions)
    for name in ("places", "control", "frontlines", "advances", "changes", "events"):
        left, right = getattr(a, name), getattr(b, name)
        pd.testing.assert_frame_equal(left.drop(columns="geometry"), right.drop(columns="geometry"))
        assert all(x.equals_exact(y, 0) if x is not None else y is None
                   for x, y in zip(left.geometry, right.geometry, strict=True)), name
    pd.testing.assert_frame_equal(a.stats, b.stats)

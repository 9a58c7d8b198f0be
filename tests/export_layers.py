"""Synthetic ``records.Layers`` for the export tests: two ISO weeks on the Euphrates.

Week 2017-W44 the Islamic State holds Mayadin and Abu Kamal; in 2017-W45 the government
takes Mayadin (a gain), the area west of Abu Kamal is contested, the SDF holds a zone in the
north-east, and there is a frontline and an advance. Follows ``records.Layers`` exactly.
"""

from __future__ import annotations

import datetime as dt

import geopandas as gpd
import pandas as pd
from shapely.geometry import LineString, MultiLineString, MultiPolygon, Point, box

from geo_control.records import EVENT_COLUMNS, Layers, Step

CRS = "EPSG:4326"
W44 = Step("2017-W44", dt.date(2017, 10, 30), dt.date(2017, 11, 6))
W45 = Step("2017-W45", dt.date(2017, 11, 6), dt.date(2017, 11, 13))
STEPS = [W44, W45]

MAYADIN = (40.4517, 35.0207)  # lon, lat
ABU_KAMAL = (40.9169, 34.4506)
HAJIN = (40.8286, 34.6928)


def _utc(d: dt.date) -> pd.Timestamp:
    return pd.Timestamp(d.isoformat(), tz="UTC")


def _dated(step: Step) -> dict:
    return {"step": step.label, "valid_from": _utc(step.start), "valid_to": _utc(step.end)}


def _square(lon: float, lat: float, half: float):
    return box(lon - half, lat - half, lon + half, lat + half)


def events_frame() -> pd.DataFrame:
    rows = [
        dict(id="ev-0000000000000001", doc="a.txt", doc_date="2017-11-03", date="2017-11-02",
             date_precision="day", actor="IS militants", faction="isis", action="hold", place="Abu Kamal",
             place_id="170017", place_name="Abu Kamal", lat=ABU_KAMAL[1], lon=ABU_KAMAL[0], precision=1,
             uncertainty_km=2.0, from_place="", distance_km=None, bearing_deg=None, target="",
             modality="asserted", confidence=0.9, sentence="IS militants still hold Abu Kamal.", start=0, end=35),
        dict(id="ev-0000000000000002", doc="b.txt", doc_date="2017-11-08", date="2017-11-07",
             date_precision="day", actor="the Tiger Forces", faction="government", action="capture",
             place="Mayadin", place_id="167046", place_name="Al Mayadin", lat=MAYADIN[1], lon=MAYADIN[0],
             precision=1, uncertainty_km=2.0, from_place="", distance_km=None, bearing_deg=None, target="",
             modality="asserted", confidence=0.95, sentence="The Tiger Forces captured Mayadin on Tuesday.",
             start=10, end=55),
        dict(id="ev-0000000000000003", doc="b.txt", doc_date="2017-11-08", date="2017-11-08",
             date_precision="day", actor="government forces", faction="government", action="advance",
             place="18km southeast of Mayadin", place_id="", place_name="", lat=34.905, lon=40.596,
             precision=2, uncertainty_km=4.5, from_place="Mayadin", distance_km=18.0, bearing_deg=135.0,
             target="Hajin", modality="claimed", confidence=0.6,
             sentence="Government forces advanced 18km southeast of Mayadin towards Hajin, «شرق».",
             start=56, end=130),
    ]
    return pd.DataFrame(rows, columns=list(EVENT_COLUMNS))


def synthetic_layers() -> Layers:
    events = events_frame()
    places = gpd.GeoDataFrame(
        [
            {**_dated(W44), "place_id": "167046", "place_name": "Al Mayadin", "faction": "isis", "status": "held",
             "confidence": 0.7, "event_ids": [], "n_sentences": 0},
            {**_dated(W44), "place_id": "170017", "place_name": "Abu Kamal", "faction": "isis", "status": "held",
             "confidence": 0.9, "event_ids": ["ev-0000000000000001"], "n_sentences": 1},
            {**_dated(W45), "place_id": "167046", "place_name": "Al Mayadin", "faction": "government",
             "status": "held", "confidence": 0.95, "event_ids": ["ev-0000000000000002"], "n_sentences": 1},
            {**_dated(W45), "place_id": "170017", "place_name": "Abu Kamal", "faction": "isis",
             "status": "contested", "confidence": 0.8, "event_ids": ["ev-0000000000000001"], "n_sentences": 1},
        ],
        geometry=[Point(MAYADIN), Point(ABU_KAMAL), Point(MAYADIN), Point(ABU_KAMAL)],
        crs=CRS,
    )
    ev_steps = [W44, W45, W45]
    ev = gpd.GeoDataFrame(
        events.assign(valid_from=[_utc(s.start) for s in ev_steps], valid_to=[_utc(s.end) for s in ev_steps]),
        geometry=gpd.points_from_xy(events["lon"], events["lat"]),  # x = lon, y = lat
        crs=CRS,
    )
    control = gpd.GeoDataFrame(
        [
            {**_dated(W44), "faction": "isis", "status": "held", "factions": "", "area_km2": 2400.0,
             "confidence": 0.8, "event_ids": ["ev-0000000000000001"], "n_sentences": 1},
            {**_dated(W45), "faction": "government", "status": "held", "factions": "", "area_km2": 410.0,
             "confidence": 0.9, "event_ids": ["ev-0000000000000002"], "n_sentences": 1},
            {**_dated(W45), "faction": "isis", "status": "held", "factions": "", "area_km2": 900.0,
             "confidence": 0.7, "event_ids": ["ev-0000000000000001"], "n_sentences": 1},
            {**_dated(W45), "faction": "contested", "status": "contested", "factions": "isis;government",
             "area_km2": 300.0, "confidence": 0.5, "event_ids": ["ev-0000000000000003"], "n_sentences": 1},
            {**_dated(W45), "faction": "sdf", "status": "besieged", "factions": "", "area_km2": 500.0,
             "confidence": 0.6, "event_ids": [], "n_sentences": 0},
        ],
        geometry=[
            MultiPolygon([_square(*MAYADIN, 0.12), _square(*ABU_KAMAL, 0.12)]),
            MultiPolygon([_square(*MAYADIN, 0.12)]),
            MultiPolygon([_square(*ABU_KAMAL, 0.12)]),
            MultiPolygon([_square(*HAJIN, 0.08)]),
            MultiPolygon([_square(40.9, 35.3, 0.1)]),
        ],
        crs=CRS,
    )
    frontlines = gpd.GeoDataFrame(
        [{**_dated(W45), "faction_a": "government", "faction_b": "isis", "length_km": 27.0}],
        geometry=[MultiLineString([[(40.55, 34.90), (40.75, 34.75)]])],
        crs=CRS,
    )
    advances = gpd.GeoDataFrame(
        [{**_dated(W45), "event_id": "ev-0000000000000003", "faction": "government", "from_place": "Mayadin",
          "target": "Hajin", "distance_km": 18.0, "bearing_deg": 135.0, "date": dt.date(2017, 11, 8)}],
        geometry=[LineString([MAYADIN, (40.596, 34.905)])],
        crs=CRS,
    )
    changes = gpd.GeoDataFrame(
        [{**_dated(W45), "faction": "government", "change": "gain", "from_faction": "isis",
          "to_faction": "government", "area_km2": 410.0}],
        geometry=[MultiPolygon([_square(*MAYADIN, 0.12)])],
        crs=CRS,
    )
    stats = pd.DataFrame(
        [
            {"step": "2017-W44", "valid_from": _utc(W44.start), "valid_to": _utc(W44.end), "faction": "isis",
             "area_km2": 2400.0},
            {"step": "2017-W45", "valid_from": _utc(W45.start), "valid_to": _utc(W45.end), "faction": "government",
             "area_km2": 410.0},
            {"step": "2017-W45", "valid_from": _utc(W45.start), "valid_to": _utc(W45.end), "faction": "isis",
             "area_km2": 900.123456789},
        ]
    )
    return Layers(steps=STEPS, places=places, events=ev, control=control, frontlines=frontlines,
                  advances=advances, changes=changes, stats=stats)


def empty_layers() -> Layers:
    """Layers with no rows (a run whose reports held no usable statement)."""
    empty = gpd.GeoDataFrame(geometry=gpd.GeoSeries([], crs=CRS), crs=CRS)
    return Layers(steps=[], places=empty, events=empty.copy(), control=empty.copy(), frontlines=empty.copy(),
                  advances=empty.copy(), changes=empty.copy(), stats=pd.DataFrame(columns=["step"]))

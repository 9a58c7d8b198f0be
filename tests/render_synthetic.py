"""Synthetic model layers (records.Layers) for render tests and the render benchmark.

Government holds the west, the SDF the north-east, IS the Euphrates valley, the opposition
Idlib; week by week the government pushes east from Palmyra towards Deir ez-Zor: a growing
disc of gains, a contested band on its edge, a frontline, an advance arrow, fighting events
along the front and a besieged pocket. Deterministic.
"""

from __future__ import annotations

import datetime as dt

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely.geometry import LineString, Point
from shapely.ops import unary_union

from geo_control.crs import SYRIA_CRS, area_km2
from geo_control.records import EVENT_COLUMNS, Layers, Step, event_id

UTC = dt.UTC

GOVERNMENT = ["Damascus", "Rural Damascus", "Homs", "Hama", "Lattakia", "Tartous", "As-Sweida", "Dar'a", "Quneitra"]


def _ts(day: dt.date) -> pd.Timestamp:
    return pd.Timestamp(day, tz=UTC)


def weekly_steps(n: int, first: dt.date = dt.date(2017, 1, 2)) -> list[Step]:
    out = []
    for k in range(n):
        start = first + dt.timedelta(weeks=k)
        iso = start.isocalendar()
        out.append(Step(f"{iso.year}-W{iso.week:02d}", start, start + dt.timedelta(days=7)))
    return out


def _match(govs: gpd.GeoDataFrame, names: list[str]):
    low = govs["ADM1_EN"].str.lower()
    return unary_union([govs.geometry[low.str.startswith(n.lower()[:5])].union_all() for n in names])


def synthetic_layers(basemap, n_steps: int = 6, seed: int = 7) -> Layers:
    rng = np.random.default_rng(seed)
    steps = weekly_steps(n_steps)
    govs = basemap.governorates.to_crs(SYRIA_CRS)
    syria = basemap.country.to_crs(SYRIA_CRS).geometry.iloc[0]
    west = _match(govs, GOVERNMENT)
    north_east = _match(govs, ["Al-Hasakeh", "Ar-Raqqa"])
    east = _match(govs, ["Deir-ez-Zor"])
    idlib = _match(govs, ["Idleb"])
    aleppo = _match(govs, ["Aleppo"])
    to_p = gpd.GeoSeries(gpd.points_from_xy([38.28, 40.14, 37.16, 40.92], [34.56, 35.33, 36.20, 34.45]),
                         crs="EPSG:4326").to_crs(SYRIA_CRS)
    palmyra, deir, aleppo_city, abu_kamal = (Point(p.x, p.y) for p in to_p)
    pocket = deir.buffer(9_000)
    rows_c, rows_f, rows_a, rows_e, rows_ch, stats = [], [], [], [], [], []
    for k, st in enumerate(steps):
        vf, vt = _ts(st.start), _ts(st.end)
        reach = palmyra.buffer(60_000 + k * (150_000 / max(1, n_steps - 1)))
        gains = reach.intersection(east)
        contested = reach.buffer(12_000).difference(reach).intersection(east)
        isis = east.difference(reach.buffer(12_000)).difference(pocket)
        gov = unary_union([west, gains.intersection(east), pocket.intersection(syria)]).intersection(syria)
        sdf = north_east.difference(reach)
        areas = {
            ("government", "held"): gov.difference(pocket), ("government", "besieged"): pocket,
            ("isis", "held"): isis, ("sdf", "held"): sdf, ("hts", "held"): idlib.difference(gov),
            ("turkey", "held"): aleppo.intersection(aleppo_city.buffer(80_000).difference(aleppo_city.buffer(30_000)))
            .difference(gov),
            ("contested", "contested"): contested,
        }
        for (faction, status), geom in areas.items():
            if geom.is_empty:
                continue
            g4326 = gpd.GeoSeries([geom], crs=SYRIA_CRS).to_crs("EPSG:4326").iloc[0]
            a = area_km2(g4326)
            rows_c.append({"step": st.label, "valid_from": vf, "valid_to": vt, "faction": faction, "status": status,
                           "factions": "government,isis" if faction == "contested" else faction,
                           "area_km2": a, "confidence": 0.8, "event_ids": "", "n_sentences": 3, "geometry": geom})
            stats.append({"step": st.label, "valid_from": vf, "valid_to": vt, "faction": faction, "area_km2": a})
        if k:
            prev = palmyra.buffer(60_000 + (k - 1) * (150_000 / max(1, n_steps - 1)))
            gained = reach.difference(prev).intersection(east)
            if not gained.is_empty:
                rows_ch.append({"step": st.label, "valid_from": vf, "valid_to": vt, "faction": "government",
                                "change": "gain", "from_faction": "isis", "to_faction": "government",
                                "area_km2": gained.area / 1e6, "geometry": gained})
        front = reach.exterior.intersection(east)
        if not front.is_empty:
            rows_f.append({"step": st.label, "valid_from": vf, "valid_to": vt, "faction_a": "government",
                           "faction_b": "isis", "length_km": front.length / 1000, "geometry": front})
        r0 = 60_000 + k * (150_000 / max(1, n_steps - 1))
        ang = np.deg2rad(40 + 10 * np.sin(k))
        a0 = Point(palmyra.x + (r0 - 40_000) * np.cos(ang), palmyra.y + (r0 - 40_000) * np.sin(ang))
        a1 = Point(palmyra.x + (r0 + 25_000) * np.cos(ang), palmyra.y + (r0 + 25_000) * np.sin(ang))
        rows_a.append({"step": st.label, "valid_from": vf, "valid_to": vt, "event_id": f"adv-{k}",
                       "faction": "government", "from_place": "Palmyra", "target": "Deir ez-Zor",
                       "distance_km": 65.0, "bearing_deg": 50.0, "date": st.start.isoformat(),
                       "geometry": LineString([a0, a1])})
        boundary = list(front.geoms) if hasattr(front, "geoms") else [front]
        for j in range(14):
            line = boundary[j % len(boundary)] if boundary and not front.is_empty else None
            p = line.interpolate(rng.uniform(0, 1), normalized=True) if line is not None else palmyra
            p = Point(p.x + rng.normal(0, 8_000), p.y + rng.normal(0, 8_000))
            action = ["attack", "attack", "contest", "capture", "advance", "siege", "withdraw", "hold"][j % 8]
            day = st.start + dt.timedelta(days=int(j % 7))
            rows_e.append({"action": action, "faction": "government" if j % 3 else "isis", "geometry": p,
                           "date": day, "place": f"Village {k}-{j}", "j": j})
        rows_e.append({"action": "attack", "faction": "hts", "geometry": aleppo_city.buffer(1).centroid,
                       "date": st.start + dt.timedelta(days=2), "place": "Aleppo", "j": 99})
    ev = gpd.GeoDataFrame(rows_e, geometry="geometry", crs=SYRIA_CRS).to_crs("EPSG:4326")
    recs = []
    for i, r in ev.iterrows():
        doc = f"report_{r['date'].isocalendar().week:02d}.txt"
        recs.append({
            "id": event_id(doc, i * 10, i * 10 + 40, r["place"], r["action"]), "doc": doc,
            "doc_date": r["date"] + dt.timedelta(days=1), "date": r["date"], "date_precision": "day",
            "actor": "pro-government forces" if r["faction"] == "government" else r["faction"],
            "faction": r["faction"], "action": r["action"], "place": r["place"], "place_id": f"gn:{i}",
            "place_name": r["place"], "lat": r.geometry.y, "lon": r.geometry.x, "precision": 1,
            "uncertainty_km": 2.0, "from_place": "", "distance_km": None, "bearing_deg": None, "target": "",
            "modality": "asserted", "confidence": 0.9,
            "sentence": f"Forces {r['action']} near {r['place']}.", "start": i * 10, "end": i * 10 + 40,
            "valid_from": _ts(r["date"]), "valid_to": _ts(r["date"] + dt.timedelta(days=7)),
            "geometry": r.geometry,
        })
    events = gpd.GeoDataFrame(recs, geometry="geometry", crs="EPSG:4326")
    assert list(events.columns[: len(EVENT_COLUMNS)]) == list(EVENT_COLUMNS)
    places = gpd.GeoDataFrame(
        {"step": [s.label for s in steps], "place_id": ["gn:deir"] * n_steps, "place_name": ["Deir ez-Zor"] * n_steps,
         "faction": ["government"] * n_steps, "status": ["besieged"] * n_steps, "confidence": [0.9] * n_steps,
         "event_ids": [""] * n_steps, "n_sentences": [2] * n_steps,
         "valid_from": [_ts(s.start) for s in steps], "valid_to": [_ts(s.end) for s in steps]},
        geometry=[Point(40.14, 35.33)] * n_steps, crs="EPSG:4326")

    def gdf(rows, cols):
        if not rows:
            return gpd.GeoDataFrame({c: [] for c in cols}, geometry=[], crs="EPSG:4326")
        return gpd.GeoDataFrame(rows, geometry="geometry", crs=SYRIA_CRS).to_crs("EPSG:4326")

    changes = gdf(rows_ch, ["step", "faction", "change", "from_faction", "to_faction", "area_km2"])
    return Layers(steps=steps, places=places, events=events,
                  control=gdf(rows_c, ["step", "faction", "status"]),
                  frontlines=gdf(rows_f, ["step"]), advances=gdf(rows_a, ["step"]), changes=changes,
                  stats=pd.DataFrame(stats, columns=["step", "valid_from", "valid_to", "faction", "area_km2"]))

"""``build``: events (and a starting map) -> the dated layers a cartographer draws each step."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import math
from collections import defaultdict
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo_control.crs import STORAGE_CRS, area_km2, length_km
from geo_control.errors import BaselineError
from geo_control.model.areas import NONE, Baseline, Painter, Painting, Source, baseline_cells
from geo_control.model.cells import GRID, Cells, load_cells, to_projected, to_storage
from geo_control.model.state import Timeline, prepare_events, timeline
from geo_control.model.steps import make_steps
from geo_control.records import EVENT_COLUMNS, Layers, Step

log = logging.getLogger(__name__)

NO_FACTION = "none"
CONTROL_COLUMNS = ["step", "valid_from", "valid_to", "faction", "status", "factions", "besieger", "area_km2",
                   "confidence", "event_ids", "n_sentences"]
PLACES_COLUMNS = ["step", "valid_from", "valid_to", "place_key", "place_id", "place_name", "part", "faction",
                  "status", "factions", "besieger", "confidence", "event_ids", "n_sentences", "last_evidence"]
FRONTLINE_COLUMNS = ["step", "valid_from", "valid_to", "faction_a", "faction_b", "length_km", "confidence",
                     "event_ids", "n_sentences"]
ADVANCE_COLUMNS = ["step", "valid_from", "valid_to", "event_id", "faction", "from_place", "target", "distance_km",
                   "bearing_deg", "date", "length_km", "confidence", "event_ids", "n_sentences"]
CHANGE_COLUMNS = ["step", "valid_from", "valid_to", "faction", "change", "from_faction", "to_faction", "area_km2",
                  "confidence", "event_ids", "n_sentences"]
_BEARING_NAMES = ["north", "northeast", "east", "southeast", "south", "southwest", "west", "northwest"]


def _utc(day: dt.date) -> pd.Timestamp:
    return pd.Timestamp(day).tz_localize("UTC")


def _frame(rows: list[dict], columns: list[str], geoms: list) -> gpd.GeoDataFrame:
    df = pd.DataFrame(rows, columns=columns)
    for col in ("valid_from", "valid_to"):
        if col in df:
            df[col] = pd.to_datetime(df[col], utc=True)
    return gpd.GeoDataFrame(df, geometry=gpd.GeoSeries(geoms, crs=STORAGE_CRS), crs=STORAGE_CRS)


def _valid(geom):
    """A valid polygonal geometry (transforming to lon/lat can, rarely, fold a ring)."""
    if geom is None or geom.is_empty:
        return geom
    if not geom.is_valid:
        geom = shapely.make_valid(geom)
    if geom.geom_type not in ("Polygon", "MultiPolygon"):
        polys = [p for p in shapely.get_parts(geom) if p.geom_type in ("Polygon", "MultiPolygon")]
        geom = shapely.union_all(polys) if polys else shapely.Polygon()
    return geom


def _sources_meta(sources: list[Source], idxs) -> tuple[float, str, int]:
    """Confidence (mean), event ids (';'-joined, sorted) and sentence count behind some sources."""
    idxs = sorted(set(idxs))
    if not idxs:
        return float("nan"), "", 0
    conf = float(np.mean([sources[i].confidence for i in idxs]))
    ids = sorted({e for i in idxs for e in sources[i].event_ids})
    sents = set().union(*(sources[i].sentences for i in idxs))
    return round(conf, 6), ";".join(ids), len(sents)


class _Dissolver:
    """Union of the cells and pieces painted by a set of sources, cached across steps."""

    def __init__(self, cells: Cells):
        self.cells = cells
        self.cache: dict[bytes, Any] = {}

    def __call__(self, painting: Painting, idxs: set[int]):
        mask = np.isin(painting.cell_src, list(idxs))
        pieces = [(c, g) for c, plist in sorted(painting.special.items()) for g, s in plist if s in idxs]
        h = hashlib.sha1(np.packbits(mask).tobytes())
        for c, g in pieces:
            h.update(str(c).encode())
            h.update(shapely.to_wkb(g))
        key = h.digest()
        if key not in self.cache:
            geom = shapely.coverage_union_all(self.cells.geoms[mask]) if mask.any() else shapely.Polygon()
            if pieces:
                geom = shapely.union_all([geom, *(g for _, g in pieces)], grid_size=GRID)
            geom = _valid(geom)
            self.cache[key] = geom
        return self.cache[key]


def build(events_df: pd.DataFrame, basemap, settings, factions, baseline: gpd.GeoDataFrame | None = None) -> Layers:
    """The dated layers (places, events, control, frontlines, advances, changes, stats) from events.

    ``events_df`` has the EVENT_COLUMNS schema; ``baseline`` is an optional starting map
    (polygons with a ``faction`` column, see ``read_baseline``). Every layer is in EPSG:4326.
    """
    events_df = _with_columns(events_df)
    prepared = prepare_events(events_df)
    steps = make_steps(prepared["day"].tolist(), settings.freq, settings.date_from, settings.date_to)
    cells = load_cells(basemap, settings.resolved_data_dir(), settings.projected_crs, settings.settlement_reach_km)
    tl = timeline(events_df, steps, settings)
    base = _baseline(baseline, cells, factions) if baseline is not None and len(baseline) else None
    painter = Painter(cells, tl, settings, base)
    dissolve = _Dissolver(cells)

    control_rows: list[dict] = []
    control_geoms: list = []
    place_rows: list[dict] = []
    place_geoms: list = []
    front_rows: list[dict] = []
    front_geoms: list = []
    change_rows: list[dict] = []
    change_geoms: list = []
    stats_rows: list[dict] = []
    area_cache: dict[int, tuple[Any, float]] = {}
    prev: Painting | None = None
    prev_fac: dict[str, Any] = {}
    for t, step in enumerate(steps):
        day = step.end - dt.timedelta(days=1)
        painting = painter.paint(t, day)
        vf, vt = _utc(step.start), _utc(step.end)
        dated = {"step": step.label, "valid_from": vf, "valid_to": vt}
        used = set(painting.cell_src[painting.cell_src != NONE].tolist())
        used |= {s for plist in painting.special.values() for _, s in plist}
        by_label: dict[tuple[str, str], set[int]] = defaultdict(set)
        by_faction: dict[str, set[int]] = defaultdict(set)
        for i in sorted(used):
            src = painting.sources[i]
            if src.label is None:
                continue
            by_label[src.label].add(i)
            by_faction[src.label[0]].add(i)
        for label in sorted(by_label):
            idxs = by_label[label]
            geom = dissolve(painting, idxs)
            g4326, km2 = _storage(geom, cells, area_cache)
            if g4326 is None or g4326.is_empty:
                continue
            conf, ids, nsent = _sources_meta(painting.sources, idxs)
            sides = sorted({f for i in idxs for f in painting.sources[i].sides}) if label[0] == "contested" else []
            besiegers = sorted({painting.sources[i].besieger for i in idxs if painting.sources[i].besieger})
            control_rows.append({**dated, "faction": label[0], "status": label[1], "factions": ";".join(sides),
                                 "besieger": ";".join(besiegers), "area_km2": round(km2, 3), "confidence": conf,
                                 "event_ids": ids, "n_sentences": nsent})
            control_geoms.append(g4326)
        fac_geom = {f: dissolve(painting, idxs) for f, idxs in sorted(by_faction.items())}
        for f, geom in fac_geom.items():
            stats_rows.append({**dated, "faction": f, "area_km2": round(_storage(geom, cells, area_cache)[1], 3)})
        _frontlines(fac_geom, painting, cells, dated, front_rows, front_geoms)
        _places(tl, t, painting, painter, dated, place_rows, place_geoms, cells)
        if prev is not None:
            _changes(prev, painting, cells, dated, change_rows, change_geoms)
        prev, prev_fac = painting, fac_geom
    del prev_fac

    layers = Layers(
        steps=steps,
        places=_sorted(_frame(place_rows, PLACES_COLUMNS, place_geoms), ["step", "place_key", "part"]),
        events=_events_layer(events_df, steps),
        control=_sorted(_frame(control_rows, CONTROL_COLUMNS, control_geoms), ["step", "faction", "status"]),
        frontlines=_sorted(_frame(front_rows, FRONTLINE_COLUMNS, front_geoms), ["step", "faction_a", "faction_b"]),
        advances=_advances(tl, steps, settings),
        changes=_sorted(_frame(change_rows, CHANGE_COLUMNS, change_geoms),
                        ["step", "from_faction", "to_faction", "change", "faction"]),
        stats=_stats(stats_rows),
    )
    log.info("built %d steps: %d control areas, %d frontlines, %d advances, %d changes", len(steps),
             len(layers.control), len(layers.frontlines), len(layers.advances), len(layers.changes))
    return layers


def _sorted(gdf: gpd.GeoDataFrame, by: list[str]) -> gpd.GeoDataFrame:
    return gdf.sort_values(by, kind="stable").reset_index(drop=True) if len(gdf) else gdf


def _with_columns(events: pd.DataFrame) -> pd.DataFrame:
    missing = [c for c in EVENT_COLUMNS if c not in events.columns]
    if missing:
        events = events.copy()
        for c in missing:
            events[c] = np.nan if c in ("lat", "lon", "precision", "uncertainty_km", "distance_km", "bearing_deg",
                                        "confidence", "start", "end") else ""
    return events


def _storage(geom, cells: Cells, cache: dict) -> tuple[Any, float]:
    """A projected geometry in EPSG:4326 and its geodesic area, cached by identity."""
    key = id(geom)
    if key not in cache:
        if geom is None or geom.is_empty:
            cache[key] = (None, 0.0, geom)
        else:
            g = _valid(to_storage(geom, cells.crs))
            cache[key] = (g, area_km2(g), geom)  # keep geom alive so its id stays unique
    g, km2, _ = cache[key]
    return g, km2


def _baseline(baseline: gpd.GeoDataFrame, cells: Cells, factions) -> Baseline:
    """Baseline polygons by (faction, status), projected and cut to the cells."""
    from geo_control.model.io import normalise_baseline

    gdf = normalise_baseline(baseline, factions, "baseline")
    proj = to_projected(gdf.geometry.to_numpy(), cells.crs)
    proj = shapely.set_precision(np.array([_valid(shapely.make_valid(g)) for g in proj], dtype=object), GRID)
    by_label: dict[tuple[str, str], list] = defaultdict(list)
    for fac, status, g in zip(gdf["faction"], gdf["status"], proj, strict=True):
        label = ("contested", "contested") if fac == "contested" or status == "contested" else (fac, status)
        by_label[label].append(g)
    polys: dict[tuple[str, str], Any] = {}
    taken = shapely.Polygon()
    # Overlapping baseline polygons: the first faction in sorted order keeps the overlap.
    for label in sorted(by_label):
        geom = shapely.intersection(shapely.union_all(by_label[label], grid_size=GRID), cells.country, grid_size=GRID)
        geom = _valid(shapely.difference(geom, taken, grid_size=GRID))
        if geom is not None and not geom.is_empty:
            polys[label] = geom
            taken = shapely.union_all([taken, geom], grid_size=GRID)
    if not polys:
        raise BaselineError("baseline: no polygon of it lies in the country; check its CRS and extent")
    return baseline_cells(polys, cells)


def _frontlines(fac_geom: dict, painting: Painting, cells: Cells, dated: dict, rows: list, geoms: list) -> None:
    """Shared boundaries between two factions' areas (contested ground is not a faction)."""
    facs = [f for f in fac_geom if f != "contested" and not fac_geom[f].is_empty]
    for i, a in enumerate(facs):
        for b in facs[i + 1:]:
            ga, gb = fac_geom[a], fac_geom[b]
            if not shapely.intersects(shapely.envelope(ga), shapely.envelope(gb)):
                continue
            shared = shapely.intersection(shapely.boundary(ga), shapely.boundary(gb), grid_size=GRID)
            lines = [p for p in shapely.get_parts(shared) if p.geom_type in ("LineString", "MultiLineString")]
            if not lines:
                continue
            line = shapely.line_merge(shapely.union_all(lines))
            g = to_storage(line, cells.crs)
            near = cells.tree.query(line, predicate="intersects")
            idxs = {int(painting.cell_src[c]) for c in near if painting.cell_src[c] != NONE}
            idxs |= {s for c in near for _, s in painting.special.get(int(c), [])}
            idxs = {s for s in idxs if painting.sources[s].faction in (a, b)}
            conf, ids, nsent = _sources_meta(painting.sources, idxs)
            rows.append({**dated, "faction_a": a, "faction_b": b, "length_km": round(length_km(g), 3),
                         "confidence": conf, "event_ids": ids, "n_sentences": nsent})
            geoms.append(g)


def _cell_partition(painting: Painting, c: int, cells: Cells) -> list[tuple[Any, str, int]]:
    """A cell as (piece, faction, source) pieces covering all of it; unpainted ground is 'none'."""
    if c in painting.special:
        pieces = [(g, painting.sources[s].faction or NO_FACTION, s) for g, s in painting.special[c]]
        rest = shapely.difference(cells.geoms[c], shapely.union_all([g for g, _, _ in pieces], grid_size=GRID),
                                  grid_size=GRID)
        if not rest.is_empty and rest.area > 1.0:
            pieces.append((rest, NO_FACTION, NONE))
        return pieces
    s = int(painting.cell_src[c])
    return [(cells.geoms[c], painting.sources[s].faction if s != NONE else NO_FACTION, s)]


def _changes(prev: Painting, cur: Painting, cells: Cells, dated: dict, rows: list, geoms: list) -> None:
    """Ground that passed from one faction (or none) to another between two steps."""
    def codes(p: Painting) -> np.ndarray:
        fac = np.array([s.faction or NO_FACTION for s in p.sources] + [NO_FACTION], dtype=object)
        out = fac[np.where(p.cell_src == NONE, len(p.sources), p.cell_src)]
        out[list(p.special)] = "*"
        return out

    a, b = codes(prev), codes(cur)
    plain = (a != "*") & (b != "*") & (a != b)
    whole: dict[tuple[str, str], list[int]] = defaultdict(list)
    for c in np.flatnonzero(plain).tolist():
        whole[(a[c], b[c])].append(c)
    pieces: dict[tuple[str, str], list] = defaultdict(list)
    srcs: dict[tuple[str, str], set] = defaultdict(set)
    for (f, g), cs in whole.items():
        src = cur if g != NO_FACTION else prev
        srcs[(f, g)] |= {int(src.cell_src[c]) for c in cs if src.cell_src[c] != NONE}
    for c in sorted(set(prev.special) | set(cur.special)):
        pa, pb = _cell_partition(prev, c, cells), _cell_partition(cur, c, cells)
        if len(pa) == len(pb) and all(x[1] == y[1] and x[0].equals(y[0]) for x, y in zip(pa, pb, strict=True)):
            continue
        for ga, fa, sa in pa:
            for gb, fb, sb in pb:
                if fa == fb:
                    continue
                inter = shapely.intersection(ga, gb, grid_size=GRID)
                if inter.is_empty or inter.area <= 1.0:
                    continue
                pieces[(fa, fb)].append(inter)
                keep = sb if fb != NO_FACTION else sa
                if keep != NONE:
                    srcs[(fa, fb)].add(keep)
    for pair in sorted(set(whole) | set(pieces)):
        f, g = pair
        geom = shapely.coverage_union_all(cells.geoms[whole[pair]]) if whole.get(pair) else shapely.Polygon()
        if pieces.get(pair):
            geom = shapely.union_all([geom, *pieces[pair]], grid_size=GRID)
        geom = _valid(to_storage(_valid(geom), cells.crs))
        if geom is None or geom.is_empty:
            continue
        km2 = round(area_km2(geom), 3)
        meta_src = cur if g != NO_FACTION else prev
        conf, ids, nsent = _sources_meta(meta_src.sources, srcs[pair])
        base = {**dated, "from_faction": f, "to_faction": g, "area_km2": km2, "confidence": conf,
                "event_ids": ids, "n_sentences": nsent}
        if g != NO_FACTION:
            rows.append({**base, "faction": g, "change": "gain"})
            geoms.append(geom)
        if f != NO_FACTION:
            rows.append({**base, "faction": f, "change": "loss"})
            geoms.append(geom)


def _places(tl: Timeline, t: int, painting: Painting, painter: Painter, dated: dict, rows: list, geoms: list,
            cells: Cells) -> None:
    """One row per place (and per part of a place) with a known state at this step."""
    by_key: dict[tuple[str, str], int] = {}
    for i, s in enumerate(painting.sources):
        if s.kind == "place":
            by_key.setdefault((s.key, s.date.isoformat() + repr(s.event_ids)), i)
    for key, (whole, parts) in tl.states[t].items():
        info = tl.sites[key]
        entries = [("", whole, None)] + [(_bearing_name(b), ev, b) for b, ev in parts]
        for part, ev, _bearing in entries:
            if ev is None or ev.faction is None:
                continue
            conf = ev.at(dated["valid_to"].date() - dt.timedelta(days=1), painter.half_life)
            point = shapely.Point(info.lon, info.lat)
            if part:
                src = by_key.get((key, ev.date.isoformat() + repr(ev.event_ids)))
                part_geoms = [g for plist in painting.special.values() for g, s in plist if s == src]
                if part_geoms:
                    point = to_storage(shapely.point_on_surface(shapely.union_all(part_geoms)), cells.crs)
            rows.append({**dated, "place_key": key, "place_id": info.place_id, "place_name": info.place_name,
                         "part": part, "faction": "contested" if ev.status == "contested" else ev.faction,
                         "status": ev.status, "factions": ";".join(ev.sides), "besieger": ev.besieger,
                         "confidence": round(conf, 6), "event_ids": ";".join(sorted(ev.event_ids)),
                         "n_sentences": len(ev.sentences), "last_evidence": ev.date.isoformat()})
            geoms.append(point)


def _bearing_name(bearing: float) -> str:
    if math.isnan(bearing):
        return "half"
    return _BEARING_NAMES[int(round(bearing / 45.0)) % 8]


def _step_of(day: dt.date, steps: list[Step]) -> int:
    for i, s in enumerate(steps):
        if s.start <= day < s.end:
            return i
    return -1


def _advances(tl: Timeline, steps: list[Step], settings) -> gpd.GeoDataFrame:
    rows, geoms = [], []
    for adv in tl.advances:
        if adv["start"] is None:
            continue
        t = _step_of(adv["day"], steps)
        if t < 0:
            continue
        line = shapely.LineString([adv["start"], adv["end"]])
        rows.append({"step": steps[t].label, "valid_from": _utc(steps[t].start), "valid_to": _utc(steps[t].end),
                     "event_id": adv["event_id"], "faction": adv["faction"], "from_place": adv["from_place"],
                     "target": adv["target"], "distance_km": adv["distance_km"], "bearing_deg": adv["bearing_deg"],
                     "date": adv["day"].isoformat(), "length_km": round(length_km(line), 3),
                     "confidence": round(adv["confidence"], 6), "event_ids": adv["event_id"], "n_sentences": 1})
        geoms.append(line)
    return _sorted(_frame(rows, ADVANCE_COLUMNS, geoms), ["step", "date", "event_id"])


def _events_layer(events: pd.DataFrame, steps: list[Step]) -> gpd.GeoDataFrame:
    df = events[list(EVENT_COLUMNS)].copy().reset_index(drop=True)
    prepared = prepare_events(df)
    by_id = dict(zip(prepared["id"], prepared["day"], strict=True))
    vf, vt, lab = [], [], []
    for eid in df["id"].astype(str):
        day = by_id.get(eid)
        t = _step_of(day, steps) if day is not None else -1
        if t >= 0:
            vf.append(_utc(steps[t].start))
            vt.append(_utc(steps[t].end))
            lab.append(steps[t].label)
        elif day is not None:
            vf.append(_utc(day))
            vt.append(_utc(day + dt.timedelta(days=1)))
            lab.append("")
        else:
            vf.append(pd.NaT)
            vt.append(pd.NaT)
            lab.append("")
    df["step"] = lab
    df["valid_from"] = pd.to_datetime(pd.Series(vf, dtype=object), utc=True)
    df["valid_to"] = pd.to_datetime(pd.Series(vt, dtype=object), utc=True)
    lat = pd.to_numeric(df["lat"], errors="coerce")
    lon = pd.to_numeric(df["lon"], errors="coerce")
    geoms = [shapely.Point(x, y) if not (math.isnan(x) or math.isnan(y)) else None
             for x, y in zip(lon.fillna(np.nan), lat.fillna(np.nan), strict=True)]
    gdf = gpd.GeoDataFrame(df, geometry=gpd.GeoSeries(geoms, crs=STORAGE_CRS), crs=STORAGE_CRS)
    return gdf.sort_values(["date", "id"], kind="stable").reset_index(drop=True) if len(gdf) else gdf


def _stats(rows: list[dict]) -> pd.DataFrame:
    from geo_control.records import STATS_COLUMNS

    df = pd.DataFrame(rows, columns=list(STATS_COLUMNS))
    for col in ("valid_from", "valid_to"):
        df[col] = pd.to_datetime(df[col], utc=True)
    return df.sort_values(["step", "faction"], kind="stable").reset_index(drop=True)

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

from geo_control.crs import GEOD, STORAGE_CRS, area_km2, length_km
from geo_control.errors import BaselineError
from geo_control.forkpool import can_fork, fork_pool
from geo_control.model.areas import NONE, Baseline, Painter, Painting, baseline_cells
from geo_control.model.cells import (
    GRID,
    GRID_DEG,
    Cells,
    cell_areas_km2,
    cells_key,
    load_cells,
    mended_cells,
    shared_edges_4326,
    storage_cells,
    to_projected,
    to_storage,
)
from geo_control.model.reuse import StepDigests, StepOutput, StepStore, global_key
from geo_control.model.state import LiveStates, Timeline, prepare_events, timeline
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


def _frame(rows: list, columns: list[str], geoms: list) -> gpd.GeoDataFrame:
    df = pd.DataFrame(rows, columns=columns)
    for col in ("valid_from", "valid_to"):
        if col in df:
            df[col] = pd.to_datetime(df[col], utc=True)
    return gpd.GeoDataFrame(df, geometry=gpd.GeoSeries(geoms, crs=STORAGE_CRS), crs=STORAGE_CRS)


def _valid(geom, check: bool = True):
    """A valid polygonal geometry (overlays of split pieces can leave slivers or collections)."""
    if geom is None or geom.is_empty:
        return geom
    if check and not geom.is_valid:
        geom = shapely.make_valid(geom)
    if geom.geom_type not in ("Polygon", "MultiPolygon"):
        polys = [p for p in shapely.get_parts(geom) if p.geom_type in ("Polygon", "MultiPolygon")]
        geom = shapely.union_all(polys) if polys else shapely.Polygon()
    return geom


def _overlay_union(parts) -> Any:
    """A valid union of polygons that do not overlap but are not exactly noded with each other.

    Tiles and split pieces of cells only touch, so the floating-point overlay (several times
    faster than snap-rounding on a grid) dissolves them; should it fail on a nearly
    coincident edge, snap-rounding on the lon/lat grid is the robust fallback.
    """
    try:
        return _valid(shapely.union_all(parts))
    except shapely.errors.GEOSException:
        return _valid(shapely.union_all(parts, grid_size=GRID_DEG))


def _sources_meta(painting: Painting, idxs) -> tuple[float, str, int]:
    """Confidence (mean), event ids (';'-joined, sorted) and sentence count behind some sources."""
    idxs = sorted(set(idxs))
    sources = painting.sources
    if not idxs:
        return float("nan"), "", 0
    conf = float(np.mean([painting.confidence(i) for i in idxs]))
    ids = sorted({e for i in idxs for e in sources[i].event_ids})
    sents = set().union(*(sources[i].sentences for i in idxs))
    return round(conf, 6), ";".join(ids), len(sents)


def _coverage_union(parts: list, fallback=None) -> Any:
    """Union of polygons that form a coverage (edges they share have the same vertices).

    A coverage union is linear in the vertices, many times faster than an overlay; should the
    inputs not be exactly noded after all (the area of the result differs from the sum of
    theirs, or it is invalid), the overlay is the fallback.
    """
    if len(parts) == 1:
        return parts[0]
    arr = np.array(parts, dtype=object)
    try:
        geom = shapely.coverage_union_all(arr)
    except shapely.errors.GEOSException:  # "incorrectly noded inputs"
        geom = None
    expected = float(np.sum(shapely.area(arr)))
    if geom is not None and geom.is_valid and abs(geom.area - expected) <= 1e-9 * max(expected, 1e-12):
        return geom
    return (fallback or _overlay_union)(parts)


class _Dissolver:
    """Union in EPSG:4326 (and geodesic km²) of the ground painted by a set of sources.

    Clean cells form an exact coverage (shared edges have the same vertices), so they merge by
    coverage union, linear in their vertices. Split cells' pieces and cells mended after
    reprojection are not exactly noded with their neighbours: each is merged, together with
    the neighbouring cells of the same set, by a floating-point overlay (``_overlay_union``);
    the outline of such a cluster runs along its outer cells' own edges, so the cluster joins
    the rest by coverage union again. Clean cells are grouped in square tiles whose unions are
    cached by content, so a step only recomputes the tiles where something changed. At 10,000
    reports (216,000 events) the overlay of every tile with split cells and the final overlay
    of all tiles had taken most of the model's time.
    """

    TILE_M = 50_000.0

    def __init__(self, cells: Cells):
        self.cells = cells
        self.areas = cell_areas_km2(cells)
        tx = np.floor(cells.xy[:, 0] / self.TILE_M).astype(np.int64)
        ty = np.floor(cells.xy[:, 1] / self.TILE_M).astype(np.int64)
        tile = (tx - tx.min()) * 10_000 + (ty - ty.min())
        self.order = np.argsort(tile, kind="stable")
        _, self.starts = np.unique(tile[self.order], return_index=True)
        self.ends = np.append(self.starts[1:], len(tile))
        self.tiles: dict[bytes, Any] = {}
        self.clusters: dict[bytes, Any] = {}
        self.cache: dict[bytes, tuple[Any, float]] = {}
        self._piece_area: dict[int, tuple[Any, float]] = {}
        self._piece_4326: dict[int, tuple[Any, Any]] = {}
        self._neighbours: dict[int, np.ndarray] = {}
        self.mended = mended_cells(cells)

    def piece_km2(self, geom) -> float:
        key = id(geom)
        if key not in self._piece_area:
            self._piece_area[key] = (geom, area_km2(to_storage(geom, self.cells.crs)))
        return self._piece_area[key][1]

    def neighbours(self, c: int) -> np.ndarray:
        """Cells touching cell ``c`` (at an edge or a corner)."""
        if c not in self._neighbours:
            self._neighbours[c] = self.cells.tree.query(self.cells.geoms[c], predicate="intersects")
        return self._neighbours[c]

    def __call__(self, painting: Painting, idxs: set[int]) -> tuple[Any, float]:
        mask = np.isin(painting.cell_src, list(idxs))
        pieces = [(c, g) for c, plist in sorted(painting.special.items()) for g, s in plist if s in idxs]
        # Clusters: split cells with pieces in the set, mended cells of the set, and the set's
        # clean cells next to either.
        seeds = sorted({c for c, _ in pieces} | set(np.flatnonzero(mask & self.mended).tolist()))
        in_cluster = np.zeros(len(mask), dtype=bool)
        for c in seeds:
            in_cluster[self.neighbours(c)] = True
        in_cluster &= mask
        rest = mask & ~in_cluster
        keys = []
        parts = []
        rsorted = rest[self.order]
        for k in np.flatnonzero(np.add.reduceat(rsorted, self.starts) > 0).tolist():
            a, b = self.starts[k], self.ends[k]
            key = hashlib.sha1(np.int64(k).tobytes() + np.packbits(rsorted[a:b]).tobytes()).digest()
            keys.append(key)
            if key not in self.tiles:
                self.tiles[key] = shapely.coverage_union_all(storage_cells(self.cells)[self.order[a:b][rsorted[a:b]]])
            parts.append(self.tiles[key])
        if seeds:
            h = hashlib.sha1(b"cluster" + np.packbits(in_cluster).tobytes())
            for c, g in pieces:
                h.update(np.int64(c).tobytes())
                h.update(shapely.to_wkb(g))
            key = h.digest()
            keys.append(key)
            if key not in self.clusters:
                self.clusters[key] = self._cluster(np.flatnonzero(in_cluster), pieces)
            parts.append(self.clusters[key])
        total = hashlib.sha1(b"".join(keys)).digest()
        if total not in self.cache:
            km2 = float(self.areas[mask].sum()) + sum(self.piece_km2(g) for _, g in pieces)
            parts = [p for p in parts if p is not None and not p.is_empty]
            geom = _coverage_union(parts) if parts else None
            self.cache[total] = (geom, km2)
        return self.cache[total]

    def _cluster(self, cell_idx: np.ndarray, pieces: list) -> Any:
        """The union of the cells and pieces around split and mended cells, in EPSG:4326."""
        g4326 = storage_cells(self.cells)
        # Clean cells dissolve by coverage union first, so the overlay with the pieces
        # (and any mended cells) nodes a few outlines instead of every inner edge.
        clean = cell_idx[~self.mended[cell_idx]]
        parts = list(g4326[cell_idx[self.mended[cell_idx]]]) + [self.piece_4326(c, g) for c, g in pieces]
        if len(clean):
            parts.append(shapely.coverage_union_all(g4326[clean]))
        parts = [p for p in parts if p is not None and not p.is_empty]
        return _overlay_union(parts) if parts else None

    def piece_4326(self, c: int, geom) -> Any:
        """A piece of cell ``c`` in EPSG:4326, clipped to the transformed cell.

        A split adds vertices on the cell's edges that its neighbours lack; mapped to lon/lat
        they would leave the straight edge by centimetres and overlap the neighbour. Clipping
        to the cell's own lon/lat outline keeps every piece inside its cell.
        """
        key = id(geom)
        if key not in self._piece_4326:
            clipped = shapely.intersection(storage_cells(self.cells)[c], to_storage(geom, self.cells.crs),
                                           grid_size=GRID_DEG)
            self._piece_4326[key] = (geom, _valid(clipped))
        return self._piece_4326[key][1]


def _series_start(prepared: pd.DataFrame, settings) -> dt.date | None:
    """``--from``, else the first event, but no earlier than ``lookback_days`` before the first report.

    A weekly report that recalls "in 2012 the FSA captured Mayadin" must not stretch the
    series over years of empty weeks; such events still set the state of the first step.
    """
    if settings.date_from or prepared.empty:
        return settings.date_from
    first_event = min(prepared["day"])
    doc_days = pd.to_datetime(prepared["doc_date"], errors="coerce").dropna()
    if doc_days.empty:
        return first_event
    floor = doc_days.min().date() - dt.timedelta(days=float(settings.lookback_days))
    return max(first_event, floor)


def build(events_df: pd.DataFrame, basemap, settings, factions, baseline: gpd.GeoDataFrame | None = None,
          reuse: bool = False, workers: int = 1) -> Layers:
    """The dated layers (places, events, control, frontlines, advances, changes, stats) from events.

    ``events_df`` has the EVENT_COLUMNS schema; ``baseline`` is an optional starting map
    (polygons with a ``faction`` column, see ``read_baseline``). Every layer is in EPSG:4326.
    ``reuse`` copies the steps whose inputs are unchanged since the last run from the on-disk
    step store (``geo_control.model.reuse``) and keeps this run's steps there; same layers.
    ``workers`` > 1 builds the steps on that many forked processes; same layers.
    """
    events_df = _with_columns(events_df)
    prepared = prepare_events(events_df)
    steps = make_steps(prepared["day"].tolist(), settings.freq, _series_start(prepared, settings), settings.date_to)
    cells = load_cells(basemap, settings.resolved_data_dir(), settings.projected_crs, settings.settlement_reach_km)
    store = StepStore.open(global_key(settings, cells_key(settings), baseline) if reuse else None)
    tl = timeline(events_df, steps, settings, cells, prepared=prepared,
                  corridor_memo=store.corridors if reuse else None)
    base = _baseline(baseline, cells, factions) if baseline is not None and len(baseline) else None
    painter = Painter(cells, tl, settings, base)

    digests = StepDigests(tl, painter.half_life, painter.min_confidence)
    days = [step.end - dt.timedelta(days=1) for step in steps]
    keys = [digests(t, step, days[t]) for t, step in enumerate(steps)]
    outs: dict[int, StepOutput | None] = {t: store.get(k) for t, k in enumerate(keys)}
    changes: dict[int, tuple[list, list] | None] = {t: store.get_change((keys[t - 1], keys[t]))
                                                     for t in range(1, len(steps))}
    spans = _PlaceSpans(tl, painter, cells)
    todo = sorted({t for t, o in outs.items() if o is None} | {t for t, c in changes.items() if c is None})
    job = _StepJob(steps, days, painter, spans, cells, _Dissolver(cells), outs, changes)
    for t, out, changed in job.run(todo, workers):
        if out is not None:
            outs[t] = out
            store.put(keys[t], out)
        if changed is not None:
            changes[t] = changed
            store.put_change((keys[t - 1], keys[t]), *changed)

    control_rows: list[dict] = []
    control_geoms: list = []
    front_rows: list[dict] = []
    front_geoms: list = []
    change_rows: list[dict] = []
    change_geoms: list = []
    stats_rows: list[dict] = []
    for t, step in enumerate(steps):
        out = outs[t]
        assert out is not None
        spans.add(t, None, _dated(step), points=out.part_points)
        control_rows += out.control_rows
        control_geoms += out.control_geoms
        stats_rows += out.stats_rows
        front_rows += out.front_rows
        front_geoms += out.front_geoms
        if t:
            changed = changes[t]
            assert changed is not None
            change_rows += changed[0]
            change_geoms += changed[1]
    store.save()
    if reuse:
        log.info("model: %d of %d steps reused from the last run", len(steps) - len(todo), len(steps))

    place_rows, place_geoms = spans.finish(steps)
    layers = Layers(
        steps=steps,
        places=_sorted(_frame(place_rows, PLACES_COLUMNS, _points(place_geoms)), ["step", "place_key", "part"]),
        events=_events_layer(events_df, steps, prepared),
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


def _dated(step: Step) -> dict:
    return {"step": step.label, "valid_from": _utc(step.start), "valid_to": _utc(step.end)}


# Set in the parent before forking; the workers read it (nothing big is pickled to them).
_JOB: dict[str, _StepJob] = {}


class _StepJob:
    """Builds the steps (and the changes into them) that the step store did not have.

    Steps only depend on the timeline, so they can be built in any order or process: chunks
    of consecutive steps go to forked workers, each painting a chunk's first step's
    predecessor again for its changes. Results are the same rows in the same order.
    """

    CHUNK = 8

    def __init__(self, steps, days, painter, spans, cells, dissolve, outs, changes):
        self.steps, self.days, self.painter, self.spans = steps, days, painter, spans
        self.cells, self.dissolve, self.outs, self.changes = cells, dissolve, outs, changes

    def run(self, todo: list[int], workers: int):
        chunks = [todo[i:i + self.CHUNK] for i in range(0, len(todo), self.CHUNK)]
        workers = min(workers, len(chunks))
        if workers > 1 and can_fork():
            _JOB["job"] = self
            try:
                with fork_pool(workers) as pool:
                    for done in pool.imap(_run_chunk, chunks):
                        yield from done
            finally:
                _JOB.clear()
        else:
            for chunk in chunks:
                yield from self.chunk(chunk)

    def chunk(self, ts: list[int]) -> list[tuple[int, StepOutput | None, tuple[list, list] | None]]:
        done = []
        paintings: dict[int, Painting] = {}

        def painting(t: int) -> Painting:
            if t not in paintings:
                paintings[t] = self.painter.paint(t, self.days[t])
            return paintings[t]

        for t in ts:
            dated = _dated(self.steps[t])
            needs_change = bool(t) and self.changes[t] is None
            if needs_change:
                painting(t - 1)  # first: the painter's live states go forward step by step
            out = None
            if self.outs[t] is None:
                p = painting(t)
                out = _step_output(p, self.cells, dated, self.dissolve)
                out.part_points = self.spans.part_points(self.painter.live(t, self.days[t]), p)
            changed: tuple[list, list] | None = None
            if needs_change:
                changed = ([], [])
                _changes(painting(t - 1), painting(t), self.cells, dated, changed[0], changed[1], self.dissolve)
            for old in [k for k in paintings if k < t]:
                del paintings[old]
            done.append((t, out, changed))
        return done


def _run_chunk(ts: list[int]):
    return _JOB["job"].chunk(ts)


def _step_output(painting: Painting, cells: Cells, dated: dict, dissolve: _Dissolver) -> StepOutput:
    """One step's control areas (one per faction and status), km² per faction and frontlines."""
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
    out = StepOutput([], [], [], [], [], {})
    label_km2: dict[tuple[str, str], float] = {}
    for label in sorted(by_label):
        idxs = by_label[label]
        g4326, km2 = dissolve(painting, idxs)
        label_km2[label] = km2
        if g4326 is None or g4326.is_empty:
            continue
        conf, ids, nsent = _sources_meta(painting, idxs)
        sides = sorted({f for i in idxs for f in painting.sources[i].sides}) if label[0] == "contested" else []
        besiegers = sorted({painting.sources[i].besieger for i in idxs if painting.sources[i].besieger})
        out.control_rows.append({**dated, "faction": label[0], "status": label[1], "factions": ";".join(sides),
                                 "besieger": ";".join(besiegers), "area_km2": round(km2, 3), "confidence": conf,
                                 "event_ids": ids, "n_sentences": nsent})
        out.control_geoms.append(g4326)
    for f in sorted(by_faction):
        out.stats_rows.append({**dated, "faction": f, "area_km2": round(sum(
            km2 for lab, km2 in label_km2.items() if lab[0] == f), 3)})
    _frontlines(painting, cells, dated, out.front_rows, out.front_geoms, dissolve)
    return out


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


class _Storage:
    """Projected geometries to valid EPSG:4326 ones, cached by identity."""

    def __init__(self, cells: Cells):
        self.crs = cells.crs
        self.cache: dict[int, tuple[Any, Any]] = {}

    def __call__(self, geom):
        if geom is None or geom.is_empty:
            return None
        key = id(geom)
        if key not in self.cache:
            # Coordinates on a 1 m grid of a valid coverage stay valid when mapped to lon/lat.
            self.cache[key] = (_valid(to_storage(geom, self.crs), check=False), geom)  # keep geom alive
        return self.cache[key][0]


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


def _frontlines(painting: Painting, cells: Cells, dated: dict, rows: list, geoms: list,
                dissolve: _Dissolver) -> None:
    """Lines where two factions' areas meet (contested ground is not a faction), from shared cell edges.

    Works on the lon/lat coverage, whose neighbours share their edges exactly.
    """
    edges = shared_edges_4326(cells)
    facs = sorted({src.faction for src in painting.sources if src.label is not None and src.faction != "contested"})
    code_of = {f: k + 1 for k, f in enumerate(facs)}
    src_code = np.array([code_of.get(src.faction, 0) if src.label is not None else 0 for src in painting.sources]
                        + [0], dtype=np.int64)
    cell_code = src_code[np.where(painting.cell_src == NONE, len(painting.sources), painting.cell_src)]
    cell_s = painting.cell_src
    special = np.zeros(len(cell_code), dtype=bool)
    special[list(painting.special)] = True
    ca, cb = cell_code[edges.a], cell_code[edges.b]
    sa, sb = cell_s[edges.a], cell_s[edges.b]
    touched = np.flatnonzero(special[edges.a] | special[edges.b])
    if len(touched):
        ca, cb, sa, sb = ca.copy(), cb.copy(), sa.copy(), sb.copy()
        mids = shapely.points(edges.mid[touched])
        for cell_idx, code, srcs in ((edges.a, ca, sa), (edges.b, cb, sb)):
            for k, e in enumerate(touched.tolist()):
                c = int(cell_idx[e])
                if not special[c]:
                    continue
                code[e], srcs[e] = 0, NONE
                for g, s in painting.special[c]:
                    if shapely.dwithin(dissolve.piece_4326(c, g), mids[k], 1e-7):
                        code[e], srcs[e] = src_code[s], s
                        break
    front = np.flatnonzero((ca > 0) & (cb > 0) & (ca != cb))
    segs: dict[tuple[str, str], list] = defaultdict(list)
    srcs_by: dict[tuple[str, str], set[int]] = defaultdict(set)
    lo, hi = np.minimum(ca, cb)[front], np.maximum(ca, cb)[front]
    pair_code = lo * 1000 + hi
    for code in np.unique(pair_code).tolist():
        sel = front[pair_code == code]
        pair = (facs[code // 1000 - 1], facs[code % 1000 - 1])
        segs[pair].append(edges.coords[sel])
        srcs_by[pair] |= set(np.unique(np.concatenate([sa[sel], sb[sel]])).tolist())
    # Inside split cells: between pieces of different factions.
    for c, plist in sorted(painting.special.items()):
        for x in range(len(plist)):
            for y in range(x + 1, len(plist)):
                fa, fb = src_code[plist[x][1]], src_code[plist[y][1]]
                if fa == 0 or fb == 0 or fa == fb:
                    continue
                shared = shapely.intersection(shapely.boundary(dissolve.piece_4326(c, plist[x][0])),
                                              shapely.boundary(dissolve.piece_4326(c, plist[y][0])))
                lines = [p for p in shapely.get_parts(shapely.line_merge(shared) if shared.geom_type ==
                                                      "MultiLineString" else shared)
                         if p.geom_type == "LineString"]
                if lines:
                    pair = (facs[min(fa, fb) - 1], facs[max(fa, fb) - 1])
                    segs[pair].extend(lines)
                    srcs_by[pair] |= {plist[x][1], plist[y][1]}
    for pair in sorted(segs):
        lines = []
        km = 0.0
        for item in segs[pair]:
            if isinstance(item, np.ndarray):
                lines.extend(shapely.linestrings(item))
                _, _, dist = GEOD.inv(item[:, 0, 0], item[:, 0, 1], item[:, 1, 0], item[:, 1, 1])
                km += float(np.sum(dist)) / 1000.0
            else:
                lines.append(item)
                km += _length_km(item)
        g = shapely.line_merge(shapely.multilinestrings(lines))
        conf, ids, nsent = _sources_meta(painting, {s for s in srcs_by[pair] if s != NONE})
        rows.append({**dated, "faction_a": pair[0], "faction_b": pair[1], "length_km": round(km, 3),
                     "confidence": conf, "event_ids": ids, "n_sentences": nsent})
        geoms.append(g)


def _length_km(line) -> float:
    """Geodesic length of a lon/lat line, summed over its segments in one vectorised call."""
    parts = shapely.get_parts(line)
    coords, idx = shapely.get_coordinates(parts, return_index=True)
    same = idx[1:] == idx[:-1]
    if not same.any():
        return 0.0
    a, b = coords[:-1][same], coords[1:][same]
    _, _, dist = GEOD.inv(a[:, 0], a[:, 1], b[:, 0], b[:, 1])
    return float(np.sum(dist)) / 1000.0


class _ByPieces:
    """Results worked out from a list of pieces (geometries), remembered by the pieces' identity.

    The painter keeps a split's pieces (the same objects) for as long as the split holds, so
    what is derived from them is worked out once, not every week. The pieces are kept alive
    with the result, so their ids are not reused while remembered.
    """

    LIMIT = 50_000

    def __init__(self) -> None:
        self._memo: dict[tuple, tuple[list, Any]] = {}

    def get(self, scope: tuple, pieces: list, compute) -> Any:
        key = (scope, tuple(id(g) for g in pieces))
        hit = self._memo.get(key)
        if hit is None or any(a is not b for a, b in zip(hit[0], pieces, strict=True)):
            if len(self._memo) > self.LIMIT:
                self._memo.clear()
            hit = self._memo[key] = (list(pieces), compute())
        return hit[1]


_REST = _ByPieces()


def _unpainted_rest(cells: Cells, c: int, geoms: list) -> Any:
    """What the pieces of a split cell leave unpainted (once per split, see ``_ByPieces``)."""
    return _REST.get((id(cells), c), geoms, lambda: _valid(
        shapely.difference(cells.geoms[c], shapely.union_all(geoms, grid_size=GRID), grid_size=GRID)))


def _cell_partition(painting: Painting, c: int, cells: Cells) -> list[tuple[Any, str, int]]:
    """A cell as (piece, faction, source) pieces covering all of it; unpainted ground is 'none'."""
    if c in painting.special:
        pieces = [(g, painting.sources[s].faction or NO_FACTION, s) for g, s in painting.special[c]]
        rest = _unpainted_rest(cells, c, [g for g, _, _ in pieces])
        if not rest.is_empty and rest.area > 1.0:
            pieces.append((rest, NO_FACTION, NONE))
        return pieces
    s = int(painting.cell_src[c])
    return [(cells.geoms[c], painting.sources[s].faction if s != NONE else NO_FACTION, s)]


def _changes(prev: Painting, cur: Painting, cells: Cells, dated: dict, rows: list, geoms: list,
             dissolve: _Dissolver) -> None:
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
        if len(pa) == len(pb) and all(x[1] == y[1] and (x[0] is y[0] or x[0].equals(y[0]))
                                      for x, y in zip(pa, pb, strict=True)):
            continue
        for ga, fa, sa in pa:
            for gb, fb, sb in pb:
                if fa == fb:
                    continue
                inter = _valid(shapely.intersection(ga, gb, grid_size=GRID))
                if inter.is_empty or inter.area <= 1.0:
                    continue
                pieces[(fa, fb)].append((c, inter))
                keep = sb if fb != NO_FACTION else sa
                if keep != NONE:
                    srcs[(fa, fb)].add(keep)
    areas = dissolve.areas
    for pair in sorted(set(whole) | set(pieces)):
        f, g = pair
        cells_idx = np.array(whole.get(pair, []), dtype=np.int64)
        km2 = float(areas[cells_idx].sum()) if len(cells_idx) else 0.0
        plist = pieces.get(pair, [])
        if not plist:
            geom = shapely.coverage_union_all(cells.geoms[cells_idx]) if len(cells_idx) else shapely.Polygon()
        else:
            # As in _Dissolver: pieces and the whole cells next to them by a (snap-rounding)
            # overlay, the other cells and that cluster by coverage union.
            near = np.unique(np.concatenate([dissolve.neighbours(c) for c, _ in plist]))
            clustered = np.isin(cells_idx, near)
            cluster = [pc for _, pc in plist]
            if clustered.any():
                cluster.append(shapely.coverage_union_all(cells.geoms[cells_idx[clustered]]))
            parts = [shapely.union_all(cluster, grid_size=GRID)]
            if (~clustered).any():
                parts.append(shapely.coverage_union_all(cells.geoms[cells_idx[~clustered]]))
            geom = _coverage_union(parts, fallback=lambda ps: shapely.union_all(ps, grid_size=GRID))
            km2 += sum(area_km2(to_storage(pc, cells.crs)) for _, pc in plist)
        # Mapping to lon/lat can fold a vertex of a coverage union over its neighbour: check again.
        geom = _valid(to_storage(_valid(geom, check=bool(pieces.get(pair))), cells.crs))
        if geom is None or geom.is_empty:
            continue
        meta_src = cur if g != NO_FACTION else prev
        conf, ids, nsent = _sources_meta(meta_src, srcs[pair])
        base = {**dated, "from_faction": f, "to_faction": g, "area_km2": round(km2, 3), "confidence": conf,
                "event_ids": ids, "n_sentences": nsent}
        if g != NO_FACTION:
            rows.append({**base, "faction": g, "change": "gain"})
            geoms.append(geom)
        if f != NO_FACTION:
            rows.append({**base, "faction": f, "change": "loss"})
            geoms.append(geom)


class _PlaceSpans:
    """The places layer as spans: one row per place (and part) per run of steps in one state.

    A place keeps the same evidence for weeks; a row per place per week made the layer grow
    with places x weeks (190,000 rows at 1,000 reports, 11x the spans). A span starts when the
    evidence (or a part's point) changes and ends when it changes again or goes stale; its
    ``step`` is its first step and its ``confidence`` is the decayed value at that step (areas
    in ``control`` carry the confidence of every step).
    """

    def __init__(self, tl: Timeline, painter: Painter, cells: Cells):
        self.tl, self.painter, self.cells = tl, painter, cells
        self.live = LiveStates(tl, painter.half_life, painter.min_confidence)
        self.open: dict[tuple[str, str], list] = {}  # (key, part) -> [evidence, point, row start]
        self.open_by_key: dict[str, set[tuple[str, str]]] = {}
        self.with_parts: set[str] = set()  # keys with an open part span (its point may move)
        self.rows: list[list] = []
        self.ends: list[int] = []  # each row's last step
        self.geoms: list = []
        self._t = -1
        self._points = _ByPieces()

    def add(self, t: int, painting: Painting | None, dated: dict, points: dict | None = None) -> dict:
        """Record step ``t`` (steps come in order); returns the points of split places' parts
        (what a later run reuses).

        ``painting`` may be None when ``points`` (the parts' points of this step from an
        earlier run) are given. Only the places whose live state changed since the last step,
        and the split ones (their parts' points may move), are looked at: every other open
        span runs on.
        """
        assert t == self._t + 1, "steps are added in order"
        self._t = t
        day = dated["valid_to"].date() - dt.timedelta(days=1)
        state = self.live(t, day)
        part_points: dict[tuple[str, str], Any] = {} if points is None else points
        if points is None and painting is not None:
            part_points = self.part_points(state, painting)
        for key in sorted(self.live.changed | self.with_parts):
            seen = set()
            whole, parts = state.get(key, (None, ()))
            entries = [("", whole)] + [(_bearing_name(b), ev) for b, ev in parts] if parts else [("", whole)]
            for part, ev in entries:
                if ev is None or ev.faction is None:
                    continue
                ident = (key, part)
                point = part_points.get((key, ev.date.isoformat() + repr(ev.event_ids))) if part else None
                cur = self.open.get(ident)
                if cur is None or cur[0] is not ev or not _same_point(cur[1], point):
                    if cur is not None:
                        self._close(ident, t - 1)
                    self.open[ident] = [ev, point, (t, dated, day)]
                    self.open_by_key.setdefault(key, set()).add(ident)
                seen.add(ident)
            for ident in sorted(self.open_by_key.get(key, set()) - seen):
                self._close(ident, t - 1)
            if any(part for _key, part in self.open_by_key.get(key, ())):
                self.with_parts.add(key)
            else:
                self.with_parts.discard(key)
        return part_points

    def part_points(self, state: dict, painting: Painting) -> dict:
        """Where each part of a split place is drawn: a point on the ground its source paints."""
        out: dict[tuple[str, str], Any] = {}
        split = [key for key, (_whole, parts) in state.items() if parts]
        if not split:
            return out
        # Sources by place and pieces by source, found once (a scan of every piece for every
        # source was quadratic: 4.5 of 27 CPU s in 8 weeks at 10,000 reports).
        sources_of: dict[str, list[int]] = defaultdict(list)
        for i, src in enumerate(painting.sources):
            if src.kind == "place":
                sources_of[src.key].append(i)
        pieces_of: dict[int, list] = defaultdict(list)
        for plist in painting.special.values():
            for g, s in plist:
                pieces_of[s].append(g)
        for key in split:
            for i in sources_of.get(key, ()):
                src = painting.sources[i]
                part_geoms = pieces_of.get(i)
                if part_geoms:
                    out[(key, src.date.isoformat() + repr(src.event_ids))] = self._part_point(part_geoms)
        return out

    def _part_point(self, part_geoms: list) -> Any:
        """A point on a part's pieces (once while they hold, see ``_ByPieces``)."""
        return self._points.get((), part_geoms, lambda: to_storage(
            shapely.point_on_surface(shapely.union_all(part_geoms)), self.cells.crs))

    def _close(self, ident: tuple[str, str], last: int) -> None:
        ev, point, (t0, dated, day) = self.open.pop(ident)
        key, part = ident
        idents = self.open_by_key[key]
        idents.discard(ident)
        if not idents:
            del self.open_by_key[key]
        info = self.tl.sites[key]
        self.rows.append([dated["step"], dated["valid_from"], None, key, info.place_id, info.place_name, part,
                          "contested" if ev.status == "contested" else ev.faction, ev.status, ";".join(ev.sides),
                          ev.besieger, round(ev.at(day, self.painter.half_life), 6), ";".join(sorted(ev.event_ids)),
                          len(ev.sentences), ev.date.isoformat()])
        self.ends.append(last)
        self.geoms.append(point if point is not None else (info.lon, info.lat))

    def finish(self, steps: list[Step]) -> tuple[list[tuple], list]:
        """Close every open span; the rows (valid_to set from each span's last step) and points."""
        for ident in list(self.open):
            self._close(ident, len(steps) - 1)
        for row, t1 in zip(self.rows, self.ends, strict=True):
            row[2] = _utc(steps[t1].end)
        return [tuple(r) for r in self.rows], self.geoms


def _same_point(a, b) -> bool:
    if a is None or b is None:
        return a is b
    return bool(a.equals_exact(b, 0))


def _points(items: list) -> list:
    """(lon, lat) tuples and ready geometries to geometries, tuples in one vectorised call."""
    out = np.empty(len(items), dtype=object)
    is_tuple = np.array([isinstance(g, tuple) for g in items], dtype=bool)
    if is_tuple.any():
        out[is_tuple] = shapely.points(np.array([g for g in items if isinstance(g, tuple)], dtype=float))
    for k in np.flatnonzero(~is_tuple).tolist():
        out[k] = items[k]
    return list(out)


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


def _events_layer(events: pd.DataFrame, steps: list[Step], prepared: pd.DataFrame) -> gpd.GeoDataFrame:
    """The events as points, each dated by the step holding its day (or that day alone)."""
    df = events[list(EVENT_COLUMNS)].copy().reset_index(drop=True)
    by_id = dict(zip(prepared["id"], prepared["day"], strict=True))
    days = [by_id.get(eid) for eid in df["id"].astype(str)]
    known = np.array([d is not None for d in days], dtype=bool)
    ordinal = np.array([d.toordinal() if d is not None else 0 for d in days], dtype=np.int64)
    starts = np.array([s.start.toordinal() for s in steps], dtype=np.int64)
    ends = np.array([s.end.toordinal() for s in steps], dtype=np.int64)
    t = np.searchsorted(starts, ordinal, side="right") - 1
    inside = known & (t >= 0) & (ordinal < ends[np.clip(t, 0, None)] if len(steps) else np.zeros(len(df), bool))
    epoch = dt.date(1970, 1, 1).toordinal()
    vf_day = np.where(inside, starts[np.clip(t, 0, None)] if len(steps) else ordinal, ordinal)
    vt_day = np.where(inside, ends[np.clip(t, 0, None)] if len(steps) else ordinal + 1, ordinal + 1)

    def stamps(ordinals: np.ndarray) -> pd.Series:
        values = pd.to_datetime((ordinals - epoch).astype("int64"), unit="D", utc=True).as_unit("s")
        return pd.Series(values).where(known, pd.NaT)

    df["step"] = [steps[k].label if ok else "" for k, ok in zip(t.tolist(), inside.tolist(), strict=True)]
    df["valid_from"] = stamps(vf_day)
    df["valid_to"] = stamps(vt_day)
    lat = pd.to_numeric(df["lat"], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    lon = pd.to_numeric(df["lon"], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    geoms = np.full(len(df), None, dtype=object)
    ok = ~(np.isnan(lat) | np.isnan(lon))
    geoms[ok] = shapely.points(lon[ok], lat[ok])
    gdf = gpd.GeoDataFrame(df, geometry=gpd.GeoSeries(geoms, crs=STORAGE_CRS), crs=STORAGE_CRS)
    return gdf.sort_values(["date", "id"], kind="stable").reset_index(drop=True) if len(gdf) else gdf


def _stats(rows: list[dict]) -> pd.DataFrame:
    from geo_control.records import STATS_COLUMNS

    df = pd.DataFrame(rows, columns=list(STATS_COLUMNS))
    for col in ("valid_from", "valid_to"):
        df[col] = pd.to_datetime(df[col], utc=True)
    return df.sort_values(["step", "faction"], kind="stable").reset_index(drop=True)

"""Interactive ``map.html`` (folium + Leaflet.TimeDimension), fully offline.

One time-enabled layer (TimestampedGeoJson) carries, per step, the control areas, the fighting
heatmap as density bands, frontlines, advance arrows and event markers; base layers are drawn
from ``data/`` (no tile server). Leaflet and the plugin scripts ship in ``geo_control/assets``
and are inlined into the saved page; every other CDN reference folium emits is dropped.

Sized to open in a browser at tens of thousands of reports: geometry work is vectorised and done
once per distinct geometry; control areas and frontlines are split into their parts and a part
that stays the same from week to week (same rounded geometry, style and popup) is written once
with the list of steps it belongs to (a span of the places layer covers each of its steps); a
small patch to Leaflet.TimeDimension shows a feature whole at each of its steps. Features are
written compactly (delta-encoded integer coordinates, shared tables of styles, popups and times)
and expanded by ``gcTimeData`` in the page. What the page leaves out, and says so: outlines are
simplified to ~250 m and rounded to 5 decimals (~1 m); a control part's popup names the side and
status, not the week's total area (stats.csv has it); events at one place, action and side in a
week share one marker quoting the first ``MAX_POPUP_EVENTS``, and a week keeps its
``MAX_MARKERS`` busiest places (the page's title box counts what was left out).

Report text is untrusted: every value shown in a popup or tooltip is HTML-escaped, and the
embedded JSON has ``<``, ``>`` and ``&`` as unicode escapes so no string can close the script.
The JSON is spliced into the page after templating (folium/jinja only sees a placeholder).
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import json
import logging
import re
import secrets
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely.geometry import box, mapping

from geo_control import style
from geo_control.crs import STORAGE_CRS
from geo_control.render.context import RenderContext

log = logging.getLogger(__name__)

ASSETS = Path(__file__).resolve().parent.parent / "assets"

#: CDN URL fragment folium emits -> inlined asset. Anything else folium links is dropped.
INLINE_JS = {
    "leaflet@1.9.3/dist/leaflet.js": "leaflet.js",
    "jquery-3.7.1.min.js": "jquery.min.js",
    "jquery/3.7.1/jquery.min.js": "jquery.min.js",
    "iso8601.min.js": "iso8601.js",
    "leaflet.timedimension.min.js": "leaflet.timedimension.min.js",
    "moment.min.js": "moment.min.js",
}
INLINE_CSS = {
    "leaflet@1.9.3/dist/leaflet.css": "leaflet.css",
    "leaflet.timedimension.control.css": "leaflet.timedimension.control.css",
}

#: Decimals of lon/lat in map.html: 1e-5 degree is about 1 m.
DECIMALS = 5

#: Drawing order of the time layer (earlier kinds are drawn below later ones), as it was per week.
KIND_ORDER = {"frame": 0, "control": 1, "taken": 2, "heat": 3, "frontline": 4, "advance": 5, "event": 6}

#: Appended to the inlined Leaflet.TimeDimension. The stock GeoJSON layer slices a feature's
#: coordinates by its ``times`` (one time per vertex/ring: a track); ours lists the steps a
#: feature belongs to, so it is shown whole when any of its times is within the current window
#: [now - duration, now], which is exactly when a single-time feature was shown before.
TIMEDIMENSION_PATCH = """
L.TimeDimension.Layer.GeoJson.prototype._getFeatureBetweenDates = function (feature, minTime, maxTime) {
  var times = this._getFeatureTimes(feature);
  if (!times.length) { return feature; }
  var lo = 0, hi = times.length;
  while (lo < hi) { var mid = (lo + hi) >> 1; if (times[mid] < minTime) { lo = mid + 1; } else { hi = mid; } }
  return (lo < times.length && times[lo] <= maxTime) ? feature : null;
};
function gcLine(q, close) {
  var out = [], x = 0, y = 0;
  for (var i = 0; i + 1 < q.length; i += 2) { x += q[i]; y += q[i + 1]; out.push([x / 1e5, y / 1e5]); }
  if (close && out.length) { out.push(out[0].slice()); }
  return out;
}
function gcGeometry(code, q) {
  var ring = function (r) { return gcLine(r, true); };
  if (code === 0) { return {type: "Point", coordinates: q}; }
  if (code === 1) { return {type: "LineString", coordinates: gcLine(q, false)}; }
  if (code === 2) { return {type: "MultiLineString", coordinates: q.map(function (l) { return gcLine(l, false); })}; }
  if (code === 3) { return {type: "Polygon", coordinates: q.map(ring)}; }
  return {type: "MultiPolygon", coordinates: q.map(function (p) { return p.map(ring); })};
}
function gcTimeData(data) {
  var shared = {gc_style: "style", gc_icon: "iconstyle", gc_popup: "popup", gc_tooltip: "tooltip"};
  var feats = data.features;
  for (var i = 0; i < feats.length; i++) {
    var row = feats[i], src = data.gc_props[row[0]], p = {};
    p.times = row[1].map(function (t) { return data.gc_times[t]; });
    for (var k in src) { p[shared[k] || k] = shared[k] ? data[k + "s"][src[k]] : src[k]; }
    feats[i] = {type: "Feature", geometry: gcGeometry(row[2], row[3]), properties: p};
  }
  return data;
}
"""
PATCHES = {"leaflet.timedimension.min.js": TIMEDIMENSION_PATCH}

#: Heatmap bands: lower bound as a share of the series' peak density.
HEAT_BANDS = (0.08, 0.2, 0.35, 0.55, 0.75)

#: Simplification (metres, projected CRS) of the time layer's outlines: about a screen pixel at
#: zoom 9, where the page opens at 7; finer detail only grows the page.
SIMPLIFY_M = {"control": 250.0, "taken": 250.0, "frontline": 250.0}
#: Vertices of the distinct geometries of each layer the page may hold (about 8 bytes each):
#: beyond, the layer is simplified further (see the title box's note).
MAX_VERTICES = {"control": 1_500_000, "taken": 400_000, "frontline": 600_000}
#: Event markers a step keeps (its busiest places first), and events a marker's popup quotes.
MAX_MARKERS = 150
MAX_POPUP_EVENTS = 3
#: Feature properties written once in a table of the page (property -> index key; the
#: table is the key + "s"): thousands of features share a few styles, icons and popups.
SHARED = {"style": "gc_style", "iconstyle": "gc_icon", "popup": "gc_popup", "tooltip": "gc_tooltip"}
#: Characters of a report sentence quoted in a popup.
SENTENCE_CHARS = 240


def _safe_json(obj) -> str:
    """JSON that can sit inside a <script>: no raw <, > or & (decoded again by the JS parser)."""
    text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _esc(value) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    return html.escape(str(value), quote=True)


def _iso(day: dt.date) -> str:
    return f"{day.isoformat()}T00:00:00Z"


def _duration(start: dt.date, end: dt.date) -> str:
    """How long a step's features stay visible: up to, not including, the next step."""
    days = (end - start).days
    return f"P{days - 1}D" if days > 1 else "PT23H"


def _period(ctx: RenderContext) -> str:
    if len(ctx.steps) > 1:
        days = (ctx.steps[1].start - ctx.steps[0].start).days
        return "P1W" if days == 7 else ("P1D" if days == 1 else "P1M")
    return "P1W"


def _present(geoms) -> np.ndarray:
    import shapely

    arr = np.asarray(geoms, dtype=object)
    return ~(shapely.is_missing(arr) | shapely.is_empty(arr))


def _lonlat(geoms, crs, simplify_m: float = 0.0, max_vertices: int = 0,
            used: dict[str, float] | None = None, name: str = "") -> np.ndarray:
    """Projected geometries simplified (vectorised), in lon/lat rounded to ``DECIMALS``.

    Each distinct geometry is done once (a series repeats most areas week after week); missing
    or empty ones come back as None. With ``max_vertices``, the tolerance doubles until the
    distinct geometries hold at most that many vertices (the page's size stays bounded as
    reports accumulate); the tolerance used is recorded in ``used[name]``.
    """
    import shapely
    from pyproj import Transformer

    geoms = np.asarray(geoms, dtype=object)
    out = np.full(len(geoms), None, dtype=object)
    ok = _present(geoms)
    if not ok.any():
        return out
    uniq, inverse = np.unique(shapely.to_wkb(geoms[ok]), return_inverse=True)
    done = shapely.from_wkb(uniq)
    if simplify_m:
        tolerance = simplify_m
        # Plain Douglas-Peucker, four times faster than the topology-preserving kind: a part
        # narrower than the tolerance (under a pixel where the page opens) may drop out, and
        # Leaflet draws a ring that touches itself as well as a valid one.
        done = shapely.simplify(done, tolerance, preserve_topology=False)
        count = shapely.get_num_coordinates(done).sum()
        while max_vertices and count > max_vertices and tolerance < 8 * simplify_m:
            # Each pass simplifies the last one's output (far fewer vertices than the original);
            # stop when a pass gains little: the vertices are then in many small parts.
            tolerance *= 2
            done = shapely.simplify(done, tolerance, preserve_topology=False)
            before, count = count, shapely.get_num_coordinates(done).sum()
            if count > 0.85 * before:
                break
        if tolerance != simplify_m:
            log.info("map.html: %s simplified to %.0f m to stay within %d vertices", name, tolerance, max_vertices)
        if used is not None:
            used[name] = tolerance
    to_lonlat = Transformer.from_crs(crs, STORAGE_CRS, always_xy=True)

    def project(coords: np.ndarray) -> np.ndarray:
        x, y = to_lonlat.transform(coords[:, 0], coords[:, 1])
        return np.round(np.column_stack([x, y]), DECIMALS)

    out[ok] = shapely.transform(done, project)[inverse.ravel()]
    return out


def _to_wgs84(gdf: gpd.GeoDataFrame, simplify_m: float = 0.0) -> gpd.GeoDataFrame:
    """``gdf`` simplified in its projected CRS and in lon/lat (rounded to ``DECIMALS``)."""
    if not len(gdf):
        return gdf.to_crs(STORAGE_CRS) if gdf.crs is not None else gdf
    geoms = _lonlat(gdf.geometry.values, gdf.crs, simplify_m)
    return gpd.GeoDataFrame(gdf.drop(columns=gdf.geometry.name), geometry=list(geoms), index=gdf.index,
                            crs=STORAGE_CRS)


def step_ranges(gdf: pd.DataFrame, steps, spans: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """For each row, the first and past-the-last index of the steps it is shown at.

    With ``spans``, a row covers every step whose start lies in its [valid_from, valid_to) (one
    step for the per-step layers, a run of steps for the places spans); rows without those
    dates, or without ``spans`` (events carry their own day as valid_from), go by their
    ``step`` label. Rows at no step get an empty range.
    """
    n = len(gdf)
    index = {st.label: i for i, st in enumerate(steps)}
    labels = gdf["step"] if "step" in gdf else pd.Series([None] * n)
    by_label = np.array([index.get(s, -1) if isinstance(s, str) else -1 for s in labels], dtype=np.int64)
    first = np.where(by_label >= 0, by_label, 0)
    stop = np.where(by_label >= 0, by_label + 1, 0)
    if spans and n and steps and {"valid_from", "valid_to"} <= set(gdf.columns):
        starts = np.array([np.datetime64(st.start, "D") for st in steps])
        vf = pd.to_datetime(gdf["valid_from"], utc=True, errors="coerce")
        vt = pd.to_datetime(gdf["valid_to"], utc=True, errors="coerce")
        dated = (vf.notna() & vt.notna()).to_numpy()
        if dated.any():
            lo = vf[dated].dt.tz_convert(None).to_numpy().astype("datetime64[D]")
            hi = vt[dated].dt.tz_convert(None).to_numpy().astype("datetime64[D]")
            first[dated] = np.searchsorted(starts, lo, "left")
            stop[dated] = np.searchsorted(starts, hi, "left")
    return first, np.maximum(stop, first)


def _merge(entries: list[tuple]) -> list[tuple]:
    """One feature per distinct (geometry, properties), with the sorted steps it is shown at.

    ``entries`` are (geometries in lon/lat, properties per row, first step, past-the-last
    step) per layer, in drawing order; the result keeps that order, then order of first
    appearance (step, then row), so each step draws its features as it did when they were
    written step by step. Returns (geometry, properties, step indices).
    """
    import shapely

    out: list[tuple] = []
    for geoms, props, first, stop in entries:
        geoms = np.asarray(geoms, dtype=object)
        first, stop = np.asarray(first, dtype=np.int64), np.asarray(stop, dtype=np.int64)
        rows = np.flatnonzero(_present(geoms) & (stop > first))
        if not len(rows):
            continue
        rows = rows[np.lexsort((rows, first[rows]))]  # order of first appearance
        _, gid = np.unique(shapely.to_wkb(geoms[rows]), return_inverse=True)
        # Properties by content: one JSON key per distinct dict object.
        key_of: dict[int, int] = {}
        keys: dict[str, int] = {}
        pid = np.empty(len(rows), dtype=np.int64)
        for i, row in enumerate(rows.tolist()):
            p = props[row]
            k = key_of.get(id(p))
            if k is None:
                text = json.dumps(p, sort_keys=True, separators=(",", ":"))
                k = key_of[id(p)] = keys.setdefault(text, len(keys))
            pid[i] = k
        _, at, group = np.unique(gid.ravel() * len(keys) + pid, return_index=True, return_inverse=True)
        group = group.ravel()
        # Every (feature, step) pair, sorted: each feature's steps are one run of the array.
        lengths = stop[rows] - first[rows]
        pair_group = np.repeat(group, lengths)
        offsets = np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths)
        pairs = np.unique(np.stack([pair_group, np.repeat(first[rows], lengths) + offsets]), axis=1)
        bounds = np.searchsorted(pairs[0], np.arange(len(at) + 1))
        steps = pairs[1]
        for g in np.argsort(at, kind="stable").tolist():
            row = rows[at[g]]
            out.append((geoms[row], props[row], steps[bounds[g]:bounds[g + 1]].tolist()))
    return out


def _popup_event(row, more: int = 0) -> str:
    date = _esc(row.get("date"))
    sentence = str(row.get("sentence") or "")
    if len(sentence) > SENTENCE_CHARS:  # cut the raw text, then escape: no half entity
        sentence = sentence[:SENTENCE_CHARS].rstrip() + "…"
    parts = [
        f"<b>{_esc(str(row.get('action', '')).capitalize())}</b> · {_esc(row.get('place_name') or row.get('place'))}",
        f"<i>{_esc(row.get('actor'))}</i> ({_esc(row.get('faction'))}) · {_esc(row.get('modality'))}",
        f"<blockquote>{_esc(sentence)}</blockquote>",
        f"Report: {_esc(row.get('doc'))} ({_esc(row.get('doc_date'))}) · event date {date}",
    ]
    return "<br>".join(parts)


def _marker_icon(action: str, colour: str) -> dict:
    svg = style.marker_svg(action, colour)
    uri = "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()
    return {"iconUrl": uri, "iconSize": [18, 18], "iconAnchor": [9, 9], "popupAnchor": [0, -8]}


def _heat_bands(ctx: RenderContext, label: str) -> list[tuple[int, object]]:
    """Density bands of one step as (band index, projected polygon)."""
    import shapely
    from rasterio.features import shapes
    from shapely.geometry import shape

    grid = ctx.heat.get(label)
    if grid is None or ctx.heat_max <= 0:
        return []
    classes = np.zeros(grid.shape, dtype=np.uint8)
    for i, frac in enumerate(HEAT_BANDS, 1):
        classes[grid >= frac * ctx.heat_max] = i
    if not classes.any():
        return []
    cell = ctx.heat_transform.a
    found = list(shapes(classes, mask=classes > 0, transform=ctx.heat_transform))
    polys = np.array([shape(g) for g, _ in found], dtype=object)
    # Rounded out and back in: density bands, not staircases of cells.
    polys = shapely.simplify(shapely.buffer(shapely.buffer(polys, cell * 0.9), -cell * 0.9), cell * 0.3)
    return [(int(v), p) for (_, v), p in zip(found, polys, strict=True)]


class EventMarkers:
    """Event markers of the time layer: one per place, action and faction a step, capped.

    Several events at one place in one step share a marker whose popup shows the first
    ``MAX_POPUP_EVENTS``; a step keeps its ``MAX_MARKERS`` busiest places (then the first
    reported). Counts of what was left out go into the page.
    """

    def __init__(self, ctx: RenderContext):
        self.geoms: np.ndarray = np.array([], dtype=object)
        self.props: list[dict] = []
        self.first = self.stop = np.array([], dtype=np.int64)
        self.events = self.shown_events = self.markers = self.dropped_markers = 0
        ev = ctx.events
        if not len(ev):
            return
        first, stop = step_ranges(ev, ctx.steps, spans=False)
        points = _lonlat(ev.geometry.values, ctx.crs)
        ok = (stop > first) & _present(points)
        if not ok.any():
            return
        import shapely

        rows = np.flatnonzero(ok)
        pts = points[rows]
        table = pd.DataFrame({
            "s": first[rows], "x": shapely.get_x(pts), "y": shapely.get_y(pts),
            "a": ev["action"].astype(str).to_numpy()[rows] if "action" in ev else "",
            "f": ev["faction"].astype(str).to_numpy()[rows] if "faction" in ev else "",
            "row": rows,
        })
        grouped = table.groupby(["s", "x", "y", "a", "f"], sort=False)
        table["g"] = grouped.ngroup()
        table["k"] = grouped.cumcount()
        groups = grouped.agg(n=("row", "size"), row=("row", "min")).reset_index(drop=False)
        groups["g"] = np.arange(len(groups))
        groups = groups.sort_values(["s", "n", "row"], ascending=[True, False, True], kind="stable")
        groups["rank"] = groups.groupby("s").cumcount()
        kept = groups[groups["rank"] < MAX_MARKERS].sort_values(["s", "row"], kind="stable")
        self.events = len(table)
        self.markers = len(groups)
        self.dropped_markers = len(groups) - len(kept)
        self.shown_events = int(kept["n"].sum())
        cols = [c for c in ("action", "place_name", "place", "actor", "faction", "modality", "sentence", "doc",
                            "doc_date", "date") if c in ev.columns]
        shown = table[table["g"].isin(kept["g"]) & (table["k"] < MAX_POPUP_EVENTS)]
        records = ev.iloc[shown["row"].to_numpy()][cols].to_dict("records")
        texts: dict[int, list[str]] = {}
        for g, rec in zip(shown["g"].to_numpy(), records, strict=True):
            texts.setdefault(int(g), []).append(_popup_event(rec))
        icons: dict[tuple[str, str], dict] = {}
        first_rec = ev.iloc[kept["row"].to_numpy()][cols].to_dict("records")
        props = []
        for (g, n), rec in zip(kept[["g", "n"]].itertuples(index=False), first_rec, strict=True):
            action, faction = str(rec.get("action")), str(rec.get("faction"))
            icon = icons.get((action, faction))
            if icon is None:
                icon = icons[(action, faction)] = _marker_icon(action, ctx.colours.get(faction, "#999999"))
            place = rec.get("place_name") or rec.get("place")
            body = "<hr>".join(texts[int(g)])
            if n > 1:
                body = f"<b>{n} events</b> here this week<hr>{body}"
            if n > MAX_POPUP_EVENTS:
                body += f"<hr><i>and {n - MAX_POPUP_EVENTS} more (events.csv)</i>"
            props.append({"icon": "marker", "iconstyle": icon, "popup": f"<div class='gc-popup'>{body}</div>",
                          "kind": "event", "tooltip": _esc(place) + (f" ({n})" if n > 1 else "")})
        self.geoms = points[kept["row"].to_numpy()]
        self.props = props
        self.first = kept["s"].to_numpy(dtype=np.int64)
        self.stop = self.first + 1

    def note(self) -> str:
        """What the markers leave out, for the page."""
        if not self.events:
            return ""
        text = "Markers: one per place, action and side a week"
        if self.dropped_markers:
            text += (f", the {MAX_MARKERS} busiest places a week ({self.events - self.shown_events:,} of "
                     f"{self.events:,} events not drawn)")
        return text + "; every event is in events.csv."


def _row_props(gdf: pd.DataFrame, make) -> list[dict]:
    """``make(row)`` for each row, each distinct result one shared dict (merged by identity)."""
    cache: dict[str, dict] = {}
    out = []
    for rec in gdf.drop(columns=gdf.geometry.name).to_dict("records"):
        p = make(rec)
        key = json.dumps(p, sort_keys=True, separators=(",", ":"))
        out.append(cache.setdefault(key, p))
    return out


def _parts(gdf: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Single parts of the projected geometries and the row each comes from."""
    import shapely

    geoms = np.asarray(gdf.geometry.values, dtype=object)
    ok = np.flatnonzero(_present(geoms))
    parts, index = shapely.get_parts(geoms[ok], return_index=True)
    return parts, ok[index]


class TimeLayer:
    """Every feature of the time layer: geometry in lon/lat, style, escaped popup and the steps
    it is shown at; built layer by layer with vectorised geometry work."""

    def __init__(self, ctx: RenderContext):

        from geo_control.render.static import arrow_polygon, taken

        n_steps = len(ctx.steps)
        self.tolerances: dict[str, float] = {}
        self.times = [_iso(st.start) for st in ctx.steps]
        entries: list[tuple] = []
        centre = _lonlat([box(*ctx.extent).centroid], ctx.crs)
        # An invisible point at every step, so every step is on the slider even with no features.
        entries.append((centre, [{"kind": "frame", "icon": "circle", "iconstyle": {
            "radius": 0, "stroke": False, "fill": False, "interactive": False}}],
            np.array([0]), np.array([n_steps])))

        # Control areas, part by part: a part held unchanged for weeks is written once (so a
        # popup names the side and status, not the week's total area: that is in stats.csv).
        control = ctx.control
        if len(control):
            parts, rows = _parts(control)
            first, stop = step_ranges(control, ctx.steps)
            heads = _row_props(control, lambda r: self._control_style(ctx, r))
            props = [heads[row] for row in rows]
            entries.append((_lonlat(parts, ctx.crs, SIMPLIFY_M["control"], MAX_VERTICES["control"],
                                    self.tolerances, "control"), props, first[rows], stop[rows]))

        gains = taken(ctx.changes)
        if len(gains):
            first, stop = step_ranges(gains, ctx.steps)

            def taken_props(r):
                colour = style.darker(ctx.colours.get(str(r.get("faction")), "#999999"), 0.8)
                text = (f"<b>Taken this week</b> by {_esc(ctx.labels.get(str(r.get('faction')), r.get('faction')))}"
                        f" from {_esc(ctx.labels.get(str(r.get('from_faction')), r.get('from_faction')))}")
                return {"style": {"color": colour, "weight": 2.5, "dashArray": "2 4", "fill": False},
                        "popup": text, "kind": "taken"}

            entries.append((_lonlat(gains.geometry.values, ctx.crs, SIMPLIFY_M["taken"], MAX_VERTICES["taken"],
                                    self.tolerances, "taken"),
                            _row_props(gains, taken_props), first, stop))

        # Heat bands, every step's at once.
        bands, levels, at = [], [], []
        for i, st in enumerate(ctx.steps):
            for band, poly in _heat_bands(ctx, st.label):
                bands.append(poly)
                levels.append(band)
                at.append(i)
        if bands:
            heat_props = [{"style": {"stroke": False, "fillOpacity": 0.5,
                                     "fillColor": style.HEATMAP_STOPS[min(b, len(style.HEATMAP_STOPS) - 1)]},
                           "kind": "heat", "tooltip": "Fighting density"} for b in range(max(levels) + 1)]
            at_arr = np.array(at, dtype=np.int64)
            entries.append((_lonlat(np.array(bands, dtype=object), ctx.crs), [heat_props[b] for b in levels],
                            at_arr, at_arr + 1))

        fl = ctx.frontlines
        if len(fl):
            first, stop = step_ranges(fl, ctx.steps)

            def front_props(r):
                sides = (f"{_esc(ctx.labels.get(str(r.get('faction_a')), r.get('faction_a')))} / "
                         f"{_esc(ctx.labels.get(str(r.get('faction_b')), r.get('faction_b')))}")
                return {"style": {"color": style.FRONTLINE_COLOUR, "weight": 3},
                        "popup": f"<b>Frontline</b><br>{sides}", "kind": "frontline"}

            parts, rows = _parts(fl)
            heads = _row_props(fl, front_props)
            entries.append((_lonlat(parts, ctx.crs, SIMPLIFY_M["frontline"], MAX_VERTICES["frontline"],
                                    self.tolerances, "frontline"), [heads[r] for r in rows],
                            first[rows], stop[rows]))

        adv = ctx.advances
        if len(adv):
            first, stop = step_ranges(adv, ctx.steps)
            width = ctx.extent[2] - ctx.extent[0]
            arrows = np.array([arrow_polygon(g, width) for g in adv.geometry.values], dtype=object)

            def advance_props(r):
                colour = ctx.colours.get(str(r.get("faction")), "#999999")
                text = (f"<b>Advance</b> · {_esc(ctx.labels.get(str(r.get('faction')), r.get('faction')))}<br>"
                        f"from {_esc(r.get('from_place'))} towards {_esc(r.get('target'))}"
                        f"<br>{_esc(r.get('distance_km'))} km · {_esc(r.get('date'))}")
                return {"style": {"color": style.ADVANCE_EDGE, "weight": 1, "fillColor": colour,
                                  "fillOpacity": 0.9}, "popup": text, "kind": "advance"}

            entries.append((_lonlat(arrows, ctx.crs), _row_props(adv, advance_props), first, stop))

        self.markers = EventMarkers(ctx)
        entries.append((self.markers.geoms, self.markers.props, self.markers.first, self.markers.stop))
        self.features = _merge(entries)

    def note(self) -> str:
        """What the page leaves out, for its title box."""
        names = {"control": "areas", "taken": "areas taken", "frontline": "frontlines"}
        tol = ", ".join(f"{names[k]} {t:,.0f} m" for k, t in self.tolerances.items())
        text = f"Outlines simplified ({tol}). " if tol else ""
        return text + self.markers.note()

    @staticmethod
    def _control_style(ctx: RenderContext, r: dict) -> dict:
        status = str(r.get("status", "held"))
        fid = str(r.get("faction"))
        if status == "contested":
            sides = r.get("factions") or ""
            stl = {"color": style.CONTESTED_COLOUR, "weight": 1.5, "dashArray": "4 3",
                   "fillColor": style.CONTESTED_COLOUR, "fillOpacity": 0.3}
            text = f"<b>Contested</b> {_esc(sides)}"
        else:
            colour = ctx.colours.get(fid, "#999999")
            stl = {"color": style.darker(colour), "weight": 1, "fillColor": colour,
                   "fillOpacity": style.STATUS_ALPHA.get(status, 0.45)}
            if status == "besieged":
                stl.update(color=style.BESIEGED_EDGE, weight=2, dashArray="6 3")
            text = f"<b>{_esc(ctx.labels.get(fid, fid))}</b> · {_esc(status)}"
        return {"style": stl, "popup": text, "kind": "control"}

    def payload(self):
        """The time layer as a JS expression, in pieces (one per feature: no second copy of it all).

        A feature is written as ``[properties, times, geometry type, coordinates]``: properties
        an index into ``gc_props``, times indices into ``gc_times``, coordinates delta-encoded
        integers (``_geometry_json``); styles, icons, popups and tooltips are stored once in
        ``gc_styles``, ``gc_icons``, ``gc_popups`` and ``gc_tooltips``. ``gcTimeData`` turns it
        back into GeoJSON in the page.
        """
        tables: dict[str, dict[str, int]] = {k: {} for k in SHARED}
        props_table: dict[str, int] = {}
        by_id: dict[int, int] = {}
        yield 'gcTimeData({"type":"FeatureCollection","features":['
        for i, (geom, props, steps) in enumerate(self.features):
            index = by_id.get(id(props))
            if index is None:
                p: dict[str, Any] = {}
                for k, v in props.items():
                    if k in tables:
                        key = json.dumps(v, sort_keys=True, separators=(",", ":"))
                        p[SHARED[k]] = tables[k].setdefault(key, len(tables[k]))
                    else:
                        p[k] = v
                index = by_id[id(props)] = props_table.setdefault(
                    json.dumps(p, sort_keys=True, separators=(",", ":")), len(props_table))
            times = ",".join(map(str, steps))
            yield f'{"," if i else ""}[{index},[{times}],{_geometry_json(geom)}]'
        yield '],"gc_times":' + _safe_json(self.times)
        yield ',"gc_props":' + _safe_json([json.loads(k) for k in props_table])
        for k, name in SHARED.items():
            yield f',"{name}s":{_safe_json([json.loads(v) for v in tables[k]])}'
        yield "})"


def _ints(coords: np.ndarray) -> str:
    """A ring or line as 'x0,y0,dx1,dy1,...' in units of 10^-DECIMALS degree."""
    q = np.rint(coords * 10**DECIMALS).astype(np.int64)
    q[1:] -= q[:-1].copy()
    return ",".join(map(str, q.ravel().tolist()))


#: Geometry type codes of the page's compact features (``gcTimeData`` reads them).
GEOMETRY_CODES = {"Point": 0, "LineString": 1, "MultiLineString": 2, "Polygon": 3, "MultiPolygon": 4}


def _geometry_json(geom) -> str:
    """``code,coordinates`` of a geometry in lon/lat (already rounded to ``DECIMALS``).

    Points as ``[x,y]``; lines and polygon rings as delta-encoded integers (rings without their
    closing vertex): about half the bytes of decimal pairs.
    """
    import shapely

    kind = geom.geom_type
    if kind == "Point":
        return f"0,[{geom.x!r},{geom.y!r}]"
    if kind in ("LineString", "LinearRing"):
        return f"1,[{_ints(shapely.get_coordinates(geom))}]"
    if kind == "MultiLineString":
        return "2,[" + ",".join(f"[{_ints(shapely.get_coordinates(g))}]" for g in geom.geoms) + "]"
    if kind == "Polygon":
        return f"3,{_rings(geom)}"
    if kind == "MultiPolygon":
        return "4,[" + ",".join(_rings(g) for g in geom.geoms) + "]"
    parts = [g for g in shapely.get_parts(geom) if g.geom_type in GEOMETRY_CODES and g.geom_type != "MultiPolygon"]
    polys = [g for g in parts if g.geom_type == "Polygon"]  # a collection: its polygons, else its first part
    if polys:
        return "4,[" + ",".join(_rings(g) for g in polys) + "]"
    return _geometry_json(parts[0]) if parts else "0,[0,0]"


def _rings(poly) -> str:
    import shapely

    rings = [poly.exterior, *poly.interiors]
    return "[" + ",".join(f"[{_ints(shapely.get_coordinates(r)[:-1])}]" for r in rings) + "]"


def time_features(ctx: RenderContext) -> list[dict]:
    """The time layer as plain GeoJSON features (``times`` listing their steps): for tests and tools."""
    layer = TimeLayer(ctx)
    return [{"type": "Feature", "geometry": mapping(geom), "properties": {"times": [layer.times[s] for s in steps],
                                                                         **props}}
            for geom, props, steps in layer.features]


def _legend_html(ctx: RenderContext, note: str = "") -> str:
    from geo_control.render.static import series_items

    rows = []
    for key in series_items(ctx):
        if key[0] == "faction":
            c = ctx.colours.get(key[1], "#999")
            rows.append(f"<i style='background:{c};opacity:.75'></i>{_esc(ctx.labels.get(key[1], key[1]))}")
        elif key[0] == "contested":
            rows.append(f"<i style='background:{style.CONTESTED_COLOUR};opacity:.45;"
                        f"border:1px dashed {style.CONTESTED_COLOUR}'></i>Contested")
        elif key[0] == "besieged":
            rows.append("<i style='border:2px dashed #000'></i>Besieged pocket")
        elif key[0] == "taken":
            rows.append("<i style='border:2px dotted #555'></i>Taken this week")
        elif key[0] == "frontline":
            rows.append("<i style='height:3px;margin-top:6px;background:#111'></i>Frontline")
        elif key[0] == "advance":
            rows.append("<i style='clip-path:polygon(0 35%,60% 25%,60% 0,100% 50%,60% 100%,60% 75%,0 65%);"
                        "background:#777'></i>Axis of advance")
        elif key[0] == "heat":
            grad = ",".join(style.HEATMAP_STOPS)
            rows.append(f"<i style='background:linear-gradient(90deg,{grad});opacity:.7'></i>Fighting density")
        elif key[0] == "action":
            svg = base64.b64encode(style.marker_svg(key[1], "#bdbdbd", 14).encode()).decode()
            rows.append(f"<img src='data:image/svg+xml;base64,{svg}' width='14' height='14' "
                        f"style='margin-right:6px;vertical-align:-2px'>{_esc(style.ACTION_MARKERS[key[1]][2])}")
    where = _esc(ctx.region_name or "Syria")
    first = ctx.steps[0].start.isoformat() if ctx.steps else ""
    last = (ctx.steps[-1].end - dt.timedelta(days=1)).isoformat() if ctx.steps else ""
    return (
        "<style>.gc-box{position:absolute;z-index:1000;background:rgba(255,255,255,.93);padding:8px 10px;"
        "font:12px/1.35 'Helvetica Neue',Arial,sans-serif;border-radius:4px;box-shadow:0 1px 4px rgba(0,0,0,.35)}"
        ".gc-legend{right:10px;bottom:24px;max-width:230px}.gc-legend i{display:inline-block;width:18px;height:13px;"
        "margin-right:6px;vertical-align:-2px}.gc-title{left:54px;top:10px;max-width:640px}.gc-title b{font-size:15px}"
        ".gc-credits{left:130px;right:70px;bottom:0;padding:2px 6px;font-size:9px;color:#555;border-radius:0;"
        "box-shadow:none;background:rgba(255,255,255,.8)}"
        ".gc-note{font-size:10px;color:#555}.gc-popup hr{margin:4px 0;border:0;border-top:1px solid #ddd}"
        ".gc-popup blockquote{margin:4px 0;padding-left:6px;border-left:3px solid #ccc;max-width:320px}"
        ".gc-town{font:11px Arial,sans-serif;color:#333;white-space:nowrap;text-shadow:0 0 2px #fff,0 0 2px #fff}"
        ".gc-town span{display:inline-block;width:5px;height:5px;border-radius:50%;background:#333;"
        "margin-right:4px;vertical-align:1px}"
        f".leaflet-container{{background:{style.BASE['sea']}}}</style>"
        f"<div class='gc-box gc-title'><b>Territorial control and fighting — {where}</b><br>"
        f"{_esc(first)} to {_esc(last)} · use the slider below to change week"
        + (f"<br><span class='gc-note'>{_esc(note)}</span>" if note else "") + "</div>"
        "<div class='gc-box gc-legend'><b>Legend</b><br>" + "<br>".join(rows) + "</div>"
        f"<div class='gc-box gc-credits'>{_esc(style.CREDITS)}</div>"
    )


def _inline_assets(page: str) -> str:
    """Replace folium's CDN <script>/<link> tags by the shipped assets; drop the others."""
    done: set[str] = set()

    def script(m):
        url = m.group(1)
        for frag, name in INLINE_JS.items():
            if frag in url:
                if name in done:
                    return ""
                done.add(name)
                code = (ASSETS / name).read_text(encoding="utf-8") + PATCHES.get(name, "")
                code = code.replace("</script", "<\\/script")
                return f"<script>/* {name} (inlined) */\n{code}\n</script>"
        return ""

    def link(m):
        url = m.group(1)
        for frag, name in INLINE_CSS.items():
            if frag in url:
                if name in done:
                    return ""
                done.add(name)
                return f"<style>/* {name} (inlined) */\n{(ASSETS / name).read_text(encoding='utf-8')}\n</style>"
        return ""

    page = re.sub(r"<script\s+src=\"(https?:[^\"]+|//[^\"]+)\"\s*>\s*</script>", script, page)
    page = re.sub(r"<link\s+rel=\"stylesheet\"\s+href=\"(https?:[^\"]+|//[^\"]+)\"\s*/?>", link, page)
    missing = {n for n in (*INLINE_JS.values(), *INLINE_CSS.values())} - done
    if missing - {"jquery.min.js"}:
        log.warning("map.html: assets not inlined (folium version changed?): %s", ", ".join(sorted(missing)))
    return page


def write_html(ctx: RenderContext, layers, settings, path: Path) -> Path:
    """Write the interactive map with a step slider; no network needed to open it."""
    import folium
    from folium.plugins import TimestampedGeoJson

    xmin, ymin, xmax, ymax = ctx.extent
    ext = gpd.GeoSeries(gpd.points_from_xy([xmin, xmax], [ymin, ymax]), crs=ctx.crs).to_crs(STORAGE_CRS)
    (west, east), (south, north) = ext.x.tolist(), ext.y.tolist()
    m = folium.Map(location=[(south + north) / 2, (west + east) / 2], zoom_start=7, tiles=None,
                   control_scale=True, prefer_canvas=False)
    b = ctx.base

    def add_base(gdf, name, stl, simplify=500.0):
        if not len(gdf):
            return
        data = json.loads(_to_wgs84(gdf[["geometry"]], simplify).to_json())
        folium.GeoJson(data, name=name, style_function=lambda _f, s=stl: s, interactive=False,
                       control=True).add_to(m)

    add_base(b.locator_neighbours, "Neighbouring countries",
             {"fillColor": style.BASE["neighbour"], "color": "#b9b6ae", "weight": 0.8, "fillOpacity": 1})
    add_base(b.locator_syria, "Syria", {"fillColor": style.BASE["land"], "color": style.BASE["country_edge"],
                                        "weight": 2, "fillOpacity": 1})
    add_base(b.wide_governorates, "Governorates", {"fill": False, "color": style.BASE["governorate_edge"],
                                              "weight": 1, "dashArray": "5 3"})
    add_base(b.wide_rivers, "Rivers", {"color": style.BASE["river"], "weight": 1.2}, 200.0)
    add_base(b.wide_lakes, "Lakes", {"fillColor": style.BASE["lake"], "color": style.BASE["river"], "weight": 0.5,
                                "fillOpacity": 1})
    towns = folium.FeatureGroup(name="Towns", control=True)
    # Labels do not move out of each other's way in Leaflet: keep towns at least ~2% of the
    # view apart, largest first.
    kept: list = []
    keep: list[bool] = []
    spacing = 0.022 * (ctx.extent[2] - ctx.extent[0])
    for geom in ctx.base.cities.geometry:
        keep.append(all(geom.distance(k) > spacing for k in kept))
        if keep[-1]:
            kept.append(geom)
    spaced = ctx.base.cities[keep]
    for _, r in _to_wgs84(spaced.head(60)).iterrows():
        folium.Marker([r.geometry.y, r.geometry.x], icon=folium.DivIcon(
            html=f"<div class='gc-town'><span></span>{_esc(r['name'])}</div>", icon_size=(140, 16),
            icon_anchor=(3, 8)), interactive=False).add_to(towns)
    towns.add_to(m)
    layer = TimeLayer(ctx)
    period = _period(ctx)
    duration = _duration(ctx.steps[0].start, ctx.steps[0].end) if ctx.steps else "P6D"
    # folium/jinja gets a placeholder; the (large) JSON goes in after templating, ids and
    # asset inlining, so none of those passes runs over the data. Random, so no report text
    # can contain it.
    token = f"gc_time_data_{secrets.token_hex(8)}"
    TimestampedGeoJson(token, period=period,
                       duration=duration, add_last_point=False, auto_play=False, loop=False,
                       date_options=("[Week of] D MMM YYYY" if period == "P1W" else "D MMM YYYY"), speed_slider=False,
                       time_slider_drag_update=True, transition_time=300).add_to(m)
    folium.LayerControl(collapsed=True).add_to(m)
    m.fit_bounds([[south, west], [north, east]])
    root: Any = m.get_root()
    root.html.add_child(folium.Element(_legend_html(ctx, layer.note())))
    root.title = "geo_control: territorial control"
    page = _inline_assets(root.render())
    # folium's template logs every date to the console; keep the page quiet.
    page = page.replace("console.log(newdate)", "")
    if ctx.steps:
        # Open on the latest step, as a situation map should (runs after folium's script).
        name, last = m.get_name(), json.dumps(_iso(ctx.steps[-1].start))
        page = page.replace("</html>", f"<script>if ({name}.timeDimension) "
                            f"{{ {name}.timeDimension.setCurrentTime(Date.parse({last})); }}</script>\n</html>")
    head, sep, tail = stable_ids(page).partition(token)
    if not sep or token in tail:
        raise RuntimeError("map.html: the time layer's placeholder is not in the page exactly once")
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as fh:
        fh.write(head)
        fh.writelines(layer.payload())
        fh.write(tail)
    return path


def stable_ids(page: str) -> str:
    """Replace folium's random element ids (uuid4 hex) by numbers in order of appearance.

    The same inputs then give the same map.html, byte for byte.
    """
    ids: dict[str, str] = {}

    def number(m):
        return f"{m.group(1)}_{ids.setdefault(m.group(2), f'{len(ids) + 1:04d}')}"

    return re.sub(r"\b([a-z][a-z_]*?)_([0-9a-f]{32})(?![0-9a-f])", number, page)

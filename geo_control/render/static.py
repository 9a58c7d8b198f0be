"""Weekly static maps: one finished, publishable map per step (matplotlib, Agg, projected CRS).

Layout: title and date range on top; the map on the left; a side panel with the legend (only
what the map shows), a note of the week's counts and a locator inset; credits at the bottom.
The map carries base geography, control fills, contested hatching, besieged outlines, the
fighting heatmap, frontlines, axis-of-advance arrows, event markers, greedy non-colliding
place labels, a geodesic scale bar and a north arrow pointing to true north.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import math
import re
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from shapely.geometry import MultiLineString, Polygon
from shapely.ops import substring

from geo_control import style
from geo_control.crs import GEOD, transformer
from geo_control.records import ACTIONS
from geo_control.render.context import RenderContext, present

log = logging.getLogger(__name__)

#: Figure layout in inches (width is style.MAP_WIDTH_IN).
TITLE_IN = 0.78
CREDITS_IN = 0.42
MAP_LEFT = 0.012
MAP_W = 0.735
PANEL_LEFT = 0.765
PANEL_W = 0.225


@dataclass
class Drawn:
    """A drawn step map: the figure, its map axes and the replaceable legend artists."""

    fig: Any
    ax: Any
    panel: Any
    legend_artists: list


# -- what a step shows -------------------------------------------------------------------
#: The dated layers of a RenderContext that a step map draws.
STEP_LAYERS = ("control", "frontlines", "advances", "events", "places", "changes")


def step_index(ctx: RenderContext) -> dict[str, dict[str, np.ndarray]]:
    """Row positions of each dated layer by step, in view only; built once per context.

    One pass per layer (a vectorised intersects and a groupby) instead of filtering every layer
    for every step: at 1,000 reports the places layer alone has ~190,000 rows.
    """
    if ctx.by_step:
        return ctx.by_step
    import shapely
    from shapely.geometry import box

    view = box(*ctx.extent)
    for name in STEP_LAYERS:
        gdf = getattr(ctx, name)
        if not len(gdf) or "step" not in gdf:
            ctx.by_step[name] = {}
            continue
        # Only what lies in the view: the legend and the counts describe what the map shows.
        inside = shapely.intersects(np.asarray(gdf.geometry.values, dtype=object), view)
        if name == "places":
            ctx.by_step[name] = _span_index(ctx, gdf, inside)
            continue
        steps = gdf["step"].where(inside)
        ctx.by_step[name] = {str(k): v for k, v in steps.groupby(steps, sort=False).indices.items()}
    return ctx.by_step


def _span_index(ctx: RenderContext, gdf, inside: np.ndarray) -> dict[str, np.ndarray]:
    """Row positions by step of a layer of spans (places): every step a row's span covers.

    Within a step, rows come in (place_key, part) order, as they would from one row per step.
    """
    starts = np.array([np.datetime64(s.start, "D") for s in ctx.steps])
    ends = np.array([np.datetime64(s.end, "D") for s in ctx.steps])
    vf = pd.to_datetime(gdf["valid_from"], utc=True).dt.tz_convert(None).to_numpy().astype("datetime64[D]")
    vt = pd.to_datetime(gdf["valid_to"], utc=True).dt.tz_convert(None).to_numpy().astype("datetime64[D]")
    first = np.searchsorted(starts, vf, side="left")
    last = np.searchsorted(ends, vt, side="left")
    keys = [gdf[c].astype(str).to_numpy() for c in ("part", "place_key") if c in gdf]
    order = np.lexsort(keys) if keys else np.arange(len(gdf))
    order = order[inside[order]]
    out = {}
    for k, st in enumerate(ctx.steps):
        pos = order[(first[order] <= k) & (last[order] >= k)]
        if len(pos):
            out[st.label] = pos
    return out


def step_rows(ctx: RenderContext, label: str) -> dict:
    """The rows of every dated layer that belong to step ``label`` and lie in the view."""
    index = step_index(ctx)

    def sel(name):
        gdf = getattr(ctx, name)
        pos = index[name].get(label)
        return gdf.iloc[pos] if pos is not None else gdf.iloc[0:0]

    return {
        "control": sel("control"), "frontlines": sel("frontlines"), "advances": sel("advances"),
        "events": sel("events"), "places": sel("places"), "taken": taken(sel("changes")),
    }


def taken(changes):
    """Gains taken from another faction this step (not areas first reported this step)."""
    if not len(changes) or "change" not in changes:
        return changes.iloc[0:0]
    source = changes["from_faction"].fillna("none").astype(str) if "from_faction" in changes else None
    mask = changes["change"] == "gain"
    if source is not None:
        mask &= ~source.isin(["none", "", "unknown"])
    return changes[mask]


def shown_items(ctx: RenderContext, label: str, rows: dict | None = None) -> list[tuple]:
    """Legend keys of what the map of step ``label`` shows (``rows``: its ``step_rows``), in legend order."""
    rows = step_rows(ctx, label) if rows is None else rows
    items: list[tuple] = []
    control = rows["control"]
    if len(control):
        status = control["status"].astype(str)
        held = control[status != "contested"]
        for fid in ctx.colours:
            if (held["faction"] == fid).any():
                items.append(("faction", fid))
        for fid in sorted(set(held["faction"]) - set(ctx.colours)):
            items.append(("faction", fid))
        if (status == "contested").any():
            items.append(("contested",))
        if (status == "besieged").any():
            items.append(("besieged",))
    if len(rows["taken"]):
        items.append(("taken",))
    if len(rows["frontlines"]):
        items.append(("frontline",))
    if len(rows["advances"]):
        items.append(("advance",))
    grid = ctx.heat.get(label)
    if grid is not None and ctx.heat_max > 0 and float(grid.max()) >= style.HEATMAP_FLOOR * ctx.heat_max:
        items.append(("heat",))
    ev = rows["events"]
    if len(ev):
        for action in ACTIONS:
            if (ev["action"] == action).any():
                items.append(("action", action))
    return items


def series_items(ctx: RenderContext) -> list[tuple]:
    """Legend keys of everything any step shows (the fixed legend of the animation)."""
    seen: dict[tuple, None] = {}
    for st in ctx.steps:
        for key in shown_items(ctx, st.label):
            seen.setdefault(key, None)
    order = {"faction": 0, "contested": 1, "besieged": 2, "taken": 2.5, "frontline": 3, "advance": 4, "heat": 5,
             "action": 6}
    fids = list(ctx.colours)

    def rank(k):
        sub = fids.index(k[1]) if k[0] == "faction" and k[1] in fids else (
            ACTIONS.index(k[1]) if k[0] == "action" else 0)
        return (order[k[0]], sub)

    return sorted(seen, key=rank)


# -- geometry helpers --------------------------------------------------------------------
def arrow_polygon(line, map_width: float) -> Polygon | None:
    """A tapered axis-of-advance arrow along ``line`` (projected), sized to the map.

    The shaft widens from tail to head; the head is a triangle ending at the point reached.
    """
    if line is None or line.is_empty:
        return None
    if isinstance(line, MultiLineString):
        line = max(line.geoms, key=lambda g: g.length)
    length = line.length
    if length <= 0:
        return None
    scale = min(1.0, length / (0.06 * map_width)) * 0.5 + 0.5
    w_tail, w_neck = 0.0035 * map_width * scale, 0.0085 * map_width * scale
    head_w = 0.024 * map_width * scale
    head_len = min(0.45 * length, 0.028 * map_width * scale)
    shaft = substring(line, 0, length - head_len)
    n = 24
    ts = np.linspace(0, shaft.length, n)
    pts = np.array([shaft.interpolate(t).coords[0] for t in ts])
    d = np.gradient(pts, axis=0)
    norm = np.hypot(d[:, 0], d[:, 1])
    norm[norm == 0] = 1
    normals = np.stack([-d[:, 1] / norm, d[:, 0] / norm], axis=1)
    widths = np.linspace(w_tail, w_neck, n)[:, None] / 2
    left, right = pts + normals * widths, pts - normals * widths
    tip = np.array(line.coords[-1])
    base = pts[-1]
    direction = tip - base
    dn = np.hypot(*direction) or 1.0
    hn = np.array([-direction[1], direction[0]]) / dn
    ring = [*left, base + hn * head_w / 2, tip, base - hn * head_w / 2, *right[::-1]]
    poly = Polygon(ring)
    return poly if poly.is_valid else poly.buffer(0)


def nice_distance(km: float) -> float:
    """The largest of 1, 2, 5 x 10^k not above ``km``."""
    exp = 10 ** math.floor(math.log10(km))
    for m in (5, 2, 1):
        if m * exp <= km:
            return m * exp
    return exp


# -- drawing -----------------------------------------------------------------------------
#: Matplotlib paths of the base layers, built once per process (id of the GeoDataFrame -> paths).
_PATH_CACHE: dict[int, tuple[object, list]] = {}


def _poly_paths(gdf, cache: bool = False) -> list:

    if cache and id(gdf) in _PATH_CACHE and _PATH_CACHE[id(gdf)][0] is gdf:
        return _PATH_CACHE[id(gdf)][1]
    import shapely

    # Vectorised: the polygons (parts of multi-geometries too), their rings and coordinates in
    # three shapely calls, then one matplotlib Path per polygon (exterior and holes).
    geoms = np.asarray(gdf.geometry.values, dtype=object)
    geoms = geoms[present(geoms)]
    parts = shapely.get_parts(geoms)
    polys = parts[(shapely.get_type_id(parts) == 3) & ~shapely.is_empty(parts)]
    paths: list = []
    if len(polys):
        paths = _polygon_paths(polys)
    if cache:
        _PATH_CACHE[id(gdf)] = (gdf, paths)
    return paths


def _polygon_paths(polys: np.ndarray) -> list:
    """One matplotlib Path per polygon of ``polys`` (exterior and holes)."""
    import shapely
    from matplotlib.path import Path as MPath

    rings, ring_poly = shapely.get_rings(polys, return_index=True)
    coords, ring_of = shapely.get_coordinates(rings, return_index=True)
    ring_len = np.bincount(ring_of, minlength=len(rings))
    ring_end = np.cumsum(ring_len)
    codes = np.full(len(coords), MPath.LINETO, dtype=MPath.code_type)
    codes[ring_end - ring_len] = MPath.MOVETO
    codes[ring_end - 1] = MPath.CLOSEPOLY
    # Where each polygon's first ring starts in the coordinates.
    poly_start = (ring_end - ring_len)[np.r_[0, np.flatnonzero(np.diff(ring_poly)) + 1]]
    return [MPath(v, c) for v, c in zip(np.split(coords, poly_start[1:]), np.split(codes, poly_start[1:]),
                                        strict=True)]


def _plot_polys(ax, gdf, cache: bool = False, **kw):
    from matplotlib.collections import PathCollection

    # The paths go straight into one collection (no PathPatch per polygon: same pixels, less work).
    paths = _poly_paths(gdf, cache)
    if paths and kw.get("hatch") and kw.get("facecolor") == "none" and not kw.get("linewidth"):
        from matplotlib.path import Path as MPath

        # Agg hatches one path at a time, building the hatch pattern each time: one compound
        # path is one hatch fill (~0.45 s a map for a week's ~250 taken areas otherwise).
        paths = [MPath.make_compound_path(*paths)]
    if paths:
        coll = PathCollection(paths, **kw)
        ax.add_collection(coll)
        return coll
    return None


def _plot_lines(ax, gdf, **kw):
    from matplotlib.collections import LineCollection

    segs = []
    for geom in gdf.geometry:
        if geom is None or geom.is_empty:
            continue
        if geom.geom_type in ("Polygon", "MultiPolygon"):
            geom = geom.boundary
        for line in getattr(geom, "geoms", [geom]):
            if line.geom_type == "LineString":
                segs.append(np.asarray(line.coords))
    if segs:
        coll = LineCollection(segs, **kw)
        ax.add_collection(coll)
        return coll
    return None


def _halo(width: float = 2.2, colour: str = style.HALO):
    from matplotlib import patheffects

    return [patheffects.withStroke(linewidth=width, foreground=colour)]


def _draw_base(ctx: RenderContext, ax) -> None:
    b = ctx.base
    ax.set_facecolor(style.BASE["sea"])
    _plot_polys(ax, b.neighbours, cache=True, facecolor=style.BASE["neighbour"], edgecolor="#b9b6ae", linewidth=0.5, zorder=1)
    _plot_polys(ax, b.syria, cache=True, facecolor=style.BASE["land"], edgecolor="none", zorder=1.5)
    _plot_polys(ax, b.lakes, cache=True, facecolor=style.BASE["lake"], edgecolor=style.BASE["river"], linewidth=0.3, zorder=2.6)
    if len(b.rivers):
        lw = np.where(b.rivers["level"].astype(int) <= 2, 0.9, 0.5) if "level" in b.rivers else 0.6
        _plot_lines(ax, b.rivers, colors=style.BASE["river"], linewidths=lw, zorder=2.5, capstyle="round")


def _draw_veil(ctx: RenderContext, ax) -> None:
    """With --region, a white veil over what lies outside the governorate."""
    if ctx.region_shape is None:
        return
    import geopandas as gpd
    from shapely.geometry import box as sbox

    xmin, ymin, xmax, ymax = ctx.extent
    outside = sbox(xmin - 1e5, ymin - 1e5, xmax + 1e5, ymax + 1e5).difference(ctx.region_shape)
    _plot_polys(ax, gpd.GeoSeries([outside]).to_frame("geometry"), facecolor="white", alpha=0.38,
                edgecolor="none", zorder=5.5)


def _draw_boundaries(ctx: RenderContext, ax) -> None:
    b = ctx.base
    _plot_lines(ax, b.governorates, colors=style.BASE["governorate_edge"], linewidths=0.55,
                linestyles=(0, (4, 2)), zorder=6)
    _plot_lines(ax, b.syria, colors=style.BASE["country_edge"], linewidths=1.3, zorder=6.1)


def _draw_control(ctx: RenderContext, ax, control) -> None:
    if not len(control):
        return
    status = control["status"].astype(str)
    for (fid, st), part in control.groupby([control["faction"].astype(str), status], sort=False):
        if st == "contested":
            continue
        colour = ctx.colours.get(fid, ctx.colours.get("unknown", "#999999"))
        _plot_polys(ax, part, facecolor=colour, alpha=style.STATUS_ALPHA.get(st, 0.45), edgecolor="none", zorder=3)
        _plot_polys(ax, part, facecolor="none", edgecolor=style.darker(colour), linewidth=0.7, zorder=3.1)
    contested = control[status == "contested"]
    if len(contested):
        _plot_polys(ax, contested, facecolor=style.CONTESTED_COLOUR, alpha=0.12, edgecolor="none", zorder=3.2)
        _plot_polys(ax, contested, facecolor="none", edgecolor=style.CONTESTED_COLOUR, hatch=style.CONTESTED_HATCH,
                    linewidth=0.0, zorder=3.3)
        _plot_polys(ax, contested, facecolor="none", edgecolor=style.CONTESTED_COLOUR, linewidth=0.9, zorder=3.35)
    besieged = control[status == "besieged"]
    if len(besieged):
        _plot_polys(ax, besieged, facecolor="none", edgecolor=style.BESIEGED_EDGE, linewidth=1.5,
                    linestyle=(0, (3, 1.6)), zorder=3.4)


def _draw_taken(ctx: RenderContext, ax, rows) -> None:
    """Ground taken this step: dotted in the taker's colour with a bold outline."""
    if not len(rows["taken"]):
        return
    for fid, part in rows["taken"].groupby(rows["taken"]["faction"].astype(str)):
        colour = style.darker(ctx.colours.get(fid, "#999999"), 0.8)
        _plot_polys(ax, part, facecolor="none", edgecolor=colour, hatch=style.TAKEN_HATCH, linewidth=0.0,
                    zorder=3.45)
        _plot_polys(ax, part, facecolor="none", edgecolor=colour, linewidth=1.6, zorder=3.5)


def _draw_heat(ctx: RenderContext, ax, label: str) -> None:
    grid = ctx.heat.get(label)
    if grid is None or ctx.heat_max <= 0:
        return
    floor = style.HEATMAP_FLOOR * ctx.heat_max
    if float(grid.max()) < floor:
        return
    # Nodata as zero and an opacity ramp from zero: the density fades out smoothly, no cell edges.
    data = np.where(grid < 0, 0.0, grid)
    # Draw only the window that holds density: resampling cost follows the drawn area.
    rows = np.flatnonzero((data > 0.02 * floor).any(axis=1))
    cols = np.flatnonzero((data > 0.02 * floor).any(axis=0))
    r0, r1 = max(rows[0] - 2, 0), min(rows[-1] + 3, data.shape[0])
    c0, c1 = max(cols[0] - 2, 0), min(cols[-1] + 3, data.shape[1])
    window = data[r0:r1, c0:c1]
    t = ctx.heat_transform
    west, north = t.c + c0 * t.a, t.f + r0 * t.e
    east, south = west + window.shape[1] * t.a, north + window.shape[0] * t.e
    ax.imshow(window, extent=(west, east, south, north), origin="upper", cmap=style.heatmap_cmap(),
              vmin=0.0, vmax=ctx.heat_max, interpolation="bilinear", zorder=4)


def _draw_lines_and_arrows(ctx: RenderContext, ax, rows) -> None:
    fl = rows["frontlines"]
    if len(fl):
        # The casing is a collection of its own under the line: a Stroke path effect draws the
        # same pixels but one path at a time (thousands of segments a week at scale).
        _plot_lines(ax, fl, colors=style.FRONTLINE_CASING, linewidths=style.FRONTLINE_WIDTH_PT + 2.2, zorder=7,
                    capstyle="round")
        _plot_lines(ax, fl, colors=style.FRONTLINE_COLOUR, linewidths=style.FRONTLINE_WIDTH_PT, zorder=7,
                    capstyle="round")
    adv = rows["advances"]
    if not len(adv):
        return
    import geopandas as gpd

    width = ctx.extent[2] - ctx.extent[0]
    factions = adv["faction"] if "faction" in adv else pd.Series([None] * len(adv))
    arrows, colours = [], []
    for line, fid in zip(adv.geometry, factions, strict=True):
        poly = arrow_polygon(line, width)
        if poly is None or poly.is_empty:
            continue
        arrows.append(poly)
        colours.append(ctx.colours.get(str(fid), "#999999"))
    # One collection per arrow, in row order: a later arrow covers the outline of the one under it.
    for poly, colour in zip(arrows, colours, strict=True):
        _plot_polys(ax, gpd.GeoSeries([poly]).to_frame("geometry"), facecolor=colour, edgecolor=style.ADVANCE_EDGE,
                    linewidth=0.8, alpha=0.92, zorder=8)


def _draw_events(ctx: RenderContext, ax, events) -> list:
    """Markers by action in faction colours; returns their display boxes (labels avoid them)."""
    points: list[tuple[float, float]] = []
    if not len(events):
        return points
    ev = events[present(events.geometry)]
    for action in ACTIONS:
        part = ev[ev["action"] == action]
        if not len(part):
            continue
        marker = style.ACTION_MARKERS[action][0]
        colours = [ctx.colours.get(str(f), "#999999") for f in part["faction"]]
        size = style.MARKER_SIZE_PT2 * (1.5 if marker == "*" else 1.0)
        ax.scatter(part.geometry.x, part.geometry.y, s=size, marker=marker, c=colours,
                   edgecolors=style.MARKER_EDGE, linewidths=0.6, zorder=9)
        points.extend(zip(part.geometry.x, part.geometry.y, strict=True))
    return points


def _label_name(row) -> str:
    """The gazetteer name in plain letters (Ālbū Kamāl -> Albu Kamal), or the report's spelling when
    the gazetteer has none. Always the gazetteer's when it has one: a series of weekly maps must not
    call a town "al-Bukamal" one week and "Albu Kamal" the next because two reports spelled it so."""
    return _label_text(row.get("place_name"), row.get("place"))


@functools.lru_cache(maxsize=65536)
def _label_text(place_name, place) -> str:
    # Cached: a week's thousands of live places repeat the same few thousand names every week.
    name = str(place_name or "").strip() or str(place or "").strip()
    if not name.isascii() and all(ord(c) < 0x250 for c in name):
        # Latin with transliteration marks (Ālbū Kamāl): plain letters, as reports write them.
        from unidecode import unidecode

        name = unidecode(name)
    # "Jubaylah (Deir ez-Zor)": the gazetteer's disambiguation is for lists, not for maps.
    return re.sub(r"\s*\([^)]*\)\s*$", "", name).replace("`", "'")


def _hashable(value):
    """A column value usable as an lru_cache key (NaN and other floats pass; lists do not occur)."""
    return value if isinstance(value, str | int | float | type(None)) else str(value)


def _overlaps(bb, boxes) -> bool:
    return any(bb.x0 < o.x1 and bb.x1 > o.x0 and bb.y0 < o.y1 and bb.y1 > o.y0 for o in boxes)


def _hits(boxes: np.ndarray, others: np.ndarray) -> np.ndarray:
    """For each box (x0, y0, x1, y1) of ``boxes``, whether it overlaps any of ``others``."""
    if not len(others) or not len(boxes):
        return np.zeros(len(boxes), dtype=bool)
    b, o = boxes[:, None, :], others[None, :, :]
    hit = (b[..., 0] < o[..., 2]) & (b[..., 2] > o[..., 0]) & (b[..., 1] < o[..., 3]) & (b[..., 3] > o[..., 1])
    return np.asarray(hit.any(axis=1))


def _column(frame, name: str) -> list:
    return list(frame[name]) if name in frame else [None] * len(frame)


def _label_candidates(ctx: RenderContext, rows) -> list[tuple[float, str, float, float, str]]:
    """(priority, text, x, y, kind) of every name the map of ``rows`` could show, best first."""
    xmin, _, xmax, _ = ctx.extent
    candidates: list[tuple[float, str, float, float, str]] = []
    seen: set[str] = set()
    ev = rows["events"]
    if len(ev):
        order = {a: i for i, a in enumerate(("capture", "siege", "withdraw", "advance", "contest", "hold", "attack"))}
        ev = ev.assign(_o=ev["action"].map(order).fillna(9)).sort_values(["_o", "confidence"], ascending=[True, False])
        for geom, from_place, precision, place_name, place in zip(
                ev.geometry, _column(ev, "from_place"), _column(ev, "precision"), _column(ev, "place_name"),
                _column(ev, "place"), strict=True):
            # A position derived from another place ("18 km southwest of Mayadin") is not that
            # place: naming the point after it would mislead. The marker and arrow tell it.
            derived = str(from_place or "").strip() != "" or (pd.notna(precision) and int(precision) >= 2)
            name = "" if derived else _label_text(_hashable(place_name), _hashable(place))
            if name and name.lower() not in seen and geom is not None:
                seen.add(name.lower())
                candidates.append((0, name, geom.x, geom.y, "place"))
    pl = rows["places"]
    if len(pl) and "place_name" in pl:
        for geom, place_name, place in zip(pl.geometry, _column(pl, "place_name"), _column(pl, "place"), strict=True):
            name = _label_text(_hashable(place_name), _hashable(place))
            if name and name.lower() not in seen:
                seen.add(name.lower())
                candidates.append((1, name, geom.x, geom.y, "place"))
    anchors = np.array([(c[2], c[3]) for c in candidates]) if candidates else np.empty((0, 2))
    near_m = 0.007 * (xmax - xmin)
    cities = ctx.base.cities
    if len(cities):
        cx, cy = cities.geometry.x.to_numpy(), cities.geometry.y.to_numpy()
        # Distance of each town to the nearest of the week's names, in chunks to bound memory.
        nearest = np.full(len(cities), np.inf)
        for i in range(0, len(anchors), 2048):
            a = anchors[i:i + 2048]
            nearest = np.minimum(nearest, np.hypot(a[None, :, 0] - cx[:, None], a[None, :, 1] - cy[:, None]).min(1))
        majors = _column(cities, "major")
        for name, major, rank, x, y, near in zip(cities["name"], majors, cities["rank"], cx, cy, nearest, strict=True):
            name = str(name)
            major = bool(major) if major is not None else False
            # A town already labelled under its report spelling ("Albu Kamal" / "Abu Kamal") is not repeated.
            if not major and near < near_m:
                continue
            if major or name.lower() not in seen:
                seen.add(name.lower())
                # Cities of 100k+ orient every reader: they come before the week's places.
                prio = -1.0 if major else 2 + float(rank) / 10
                candidates.append((prio, name, float(x), float(y), "major" if major else "city"))
    gov = ctx.base.governorates
    if len(gov) and "ADM1_EN" in gov:
        for name, geom in zip(gov["ADM1_EN"], gov.geometry, strict=True):
            p = geom.representative_point()
            candidates.append((9, str(name).upper(), p.x, p.y, "region"))
    candidates.sort(key=lambda c: c[0])
    return candidates


#: Label slots around a point (offset points, alignment): the first ring, then a wider one.
_RING = [(5, 3, "left", "bottom"), (5, -3, "left", "top"), (-5, 3, "right", "bottom"),
         (-5, -3, "right", "top"), (0, 7, "center", "bottom"), (0, -7, "center", "top"),
         (7, 0, "left", "center"), (-7, 0, "right", "center")]
_HA = {"left": 0.0, "center": 0.5, "right": 1.0}
_VA = {"bottom": 0.0, "center": 0.5, "top": 1.0}
#: Labels on one map at most.
MAX_LABELS = 70


def _place_labels(ctx: RenderContext, fig, ax, rows, event_points, reserved) -> None:
    """Greedy labelling: each candidate, by priority, takes the first free slot around its point.

    A candidate's text is measured once; its slots' boxes are computed from that size and tested
    against the placed labels and the markers in one vectorised step. Only the chosen slot
    becomes an artist (creating and removing an annotation per tried slot cost ~1 s a map).
    """
    from matplotlib.font_manager import FontProperties
    from matplotlib.text import Text

    renderer = fig.canvas.get_renderer()
    axbox = ax.get_window_extent(renderer)
    pix = fig.dpi / 72.0
    occupied = np.array([(b.x0, b.y0, b.x1, b.y1) for b in reserved], dtype=float).reshape(-1, 4)
    pts = np.asarray(event_points, dtype=float).reshape(-1, 2)
    if len(pts):
        disp = ax.transData.transform(pts)
        markers = np.hstack([disp - 4.5 * pix, disp + 4.5 * pix])
    else:
        markers = np.empty((0, 4))
    xmin, ymin, xmax, ymax = ctx.extent
    near_m = 0.007 * (xmax - xmin)

    # The slots as arrays: offsets in pixels, alignment fractions, may the label cover markers.
    slots = [(o, False) for o in _RING] + [((dx * 2.2, dy * 2.2, ha, va), False) for dx, dy, ha, va in _RING] + \
            [(o, True) for o in _RING]
    off = np.array([(dx * pix, dy * pix) for (dx, dy, _, _), _ in slots])
    align = np.array([(_HA[ha], _VA[va]) for (_, _, ha, va), _ in slots])
    covers = np.array([c for _, c in slots])
    n_plain = len(_RING) * 2

    sizes = {"place": style.PLACE_LABEL_PT, "city": style.CITY_LABEL_PT, "major": style.MAJOR_CITY_LABEL_PT,
             "region": style.REGION_LABEL_PT}
    weights = {"place": "bold", "major": "bold"}
    colours = {"place": style.BASE["label"], "city": "#3a3a3a", "major": "#111111", "region": "#9a968c"}
    probes: dict[str, Text] = {}

    def measure(kind: str, text: str) -> tuple[float, float]:
        # The same font properties as the artist drawn below: the box is the artist's box.
        if kind not in probes:
            probes[kind] = Text(0, 0, "", figure=fig, fontproperties=FontProperties(
                size=sizes[kind], weight=weights.get(kind, "normal"),
                style="italic" if kind == "region" else "normal"))
        probe = probes[kind]
        probe.set_text(text)
        bb = probe.get_window_extent(renderer)
        return bb.width, bb.height

    anchors_done = np.empty((MAX_LABELS, 2))
    placed = 0
    placed_names: set[str] = set()
    for prio, text, x, y, kind in _label_candidates(ctx, rows):
        if not (xmin <= x <= xmax and ymin <= y <= ymax) or text.lower() in placed_names:
            continue
        if placed >= MAX_LABELS:
            break
        # One label per spot: two spellings of one town, or a town and its quarter, read as clutter;
        # reference towns keep a wider spacing so dense areas do not fill with names.
        spacing = near_m * (3.0 if kind == "city" else 1.0)
        if kind != "region" and placed and \
                np.hypot(anchors_done[:placed, 0] - x, anchors_done[:placed, 1] - y).min() < spacing:
            continue
        px, py = ax.transData.transform((x, y))
        if kind == "region":
            # Governorate names sit on their area, not beside a point; letter-spaced, quiet.
            shown = " ".join(text)
            w, h = measure(kind, shown)
            boxes = np.array([[px - w / 2, py - h / 2, px + w / 2, py + h / 2]])
            allowed = np.array([False])
        else:
            w, h = measure(kind, text)
            # Big cities and the week's captures may, as a last resort, cover a marker.
            n = len(slots) if prio <= 0 else n_plain
            x0 = px + off[:n, 0] - align[:n, 0] * w
            y0 = py + off[:n, 1] - align[:n, 1] * h
            boxes = np.column_stack([x0, y0, x0 + w, y0 + h])
            allowed = covers[:n]
        # Bbox.expanded(1.06, 1.12): grown about its centre.
        boxes[:, 0] -= 0.03 * w
        boxes[:, 2] += 0.03 * w
        boxes[:, 1] -= 0.06 * h
        boxes[:, 3] += 0.06 * h
        if kind in ("city", "major"):
            # The town's dot is part of its label: it must not sit on another name either.
            r = 2.5 * pix
            boxes[:, 0] = np.minimum(boxes[:, 0], px - r)
            boxes[:, 1] = np.minimum(boxes[:, 1], py - r)
            boxes[:, 2] = np.maximum(boxes[:, 2], px + r)
            boxes[:, 3] = np.maximum(boxes[:, 3], py + r)
        inside = (boxes[:, 0] >= axbox.x0) & (boxes[:, 2] <= axbox.x1) & (boxes[:, 1] >= axbox.y0) & \
                 (boxes[:, 3] <= axbox.y1)
        free = inside & ~_hits(boxes, occupied) & (allowed | ~_hits(boxes, markers))
        if not free.any():
            continue
        k = int(np.argmax(free))
        occupied = np.vstack([occupied, boxes[k]])
        placed_names.add(text.lower())
        size, weight, colour = sizes[kind], weights.get(kind, "normal"), colours[kind]
        if kind == "region":
            ax.text(x, y, " ".join(text), ha="center", va="center", fontsize=size, color=colour,
                    fontstyle="italic", zorder=5.8)
            continue
        (dx, dy, ha, va), _ = slots[k]
        ax.annotate(text, (x, y), xytext=(dx, dy), textcoords="offset points", ha=ha, va=va,
                    fontsize=size, fontweight=weight, color=colour, zorder=11, path_effects=_halo(2.0))
        anchors_done[placed] = (x, y)
        placed += 1
        if kind in ("city", "major"):
            ms = 4.2 if kind == "major" else 2.6
            marker = "s" if kind == "major" else "o"
            ax.plot([x], [y], marker, ms=ms, color=style.CITY_DOT, mec="white", mew=0.6, zorder=10)


def _country_labels(ctx: RenderContext, ax, fig, avoid: list) -> list:
    """Grey capitals for neighbouring countries inside the view; returns their boxes."""
    from shapely.geometry import box as sbox

    names = {"TUR": "TURKEY", "IRQ": "IRAQ", "JOR": "JORDAN", "LBN": "LEBANON", "ISR": "ISRAEL",
             "PSE": "PALESTINE", "CYP": "CYPRUS", "SAU": "SAUDI ARABIA", "IRN": "IRAN", "EGY": "EGYPT"}
    xmin, ymin, xmax, ymax = ctx.extent
    view = sbox(xmin, ymin, xmax, ymax)
    w = xmax - xmin
    boxes: list[Any] = []
    renderer = fig.canvas.get_renderer()
    axbox = ax.get_window_extent(renderer)
    if "ISO_A3" not in ctx.base.neighbours:
        return boxes
    for _, r in ctx.base.neighbours.iterrows():
        name = names.get(str(r["ISO_A3"]))
        if not name:
            continue
        part = r.geometry.intersection(view)
        if part.is_empty or part.area < (0.012 * w) ** 2 * 4:
            continue
        p = part.representative_point()
        t = ax.text(p.x, p.y, name, ha="center", va="center", fontsize=style.COUNTRY_LABEL_PT, color="#8a877f",
                    fontweight="bold", zorder=2.8, alpha=0.9)
        bb = t.get_window_extent(renderer)
        if not (bb.x0 >= axbox.x0 and bb.x1 <= axbox.x1 and bb.y0 >= axbox.y0 and bb.y1 <= axbox.y1) \
                or _overlaps(bb, boxes) or _overlaps(bb, avoid):
            t.remove()
            continue
        boxes.append(bb)
    return boxes


def _scale_bar(ctx: RenderContext, ax) -> tuple[float, float, float, float]:
    """A geodesic scale bar in the lower left; returns its display box."""
    from matplotlib.patches import Rectangle

    xmin, ymin, xmax, ymax = ctx.extent
    w, h = xmax - xmin, ymax - ymin
    x0, y0 = xmin + 0.035 * w, ymin + 0.04 * h
    to_ll = transformer(ctx.crs, "EPSG:4326")
    to_xy = transformer("EPSG:4326", ctx.crs)
    lon, lat = to_ll.transform(x0, y0)
    km = nice_distance(0.22 * w / 1000.0)
    # Length on the map of `km` measured on the ellipsoid along the grid's east direction.
    lon2, lat2, _ = GEOD.fwd(lon, lat, 90.0, km * 1000.0)
    x2, y2 = to_xy.transform(lon2, lat2)
    length = math.hypot(x2 - x0, y2 - y0)
    bar_h = 0.007 * h
    for i in range(4):
        ax.add_patch(Rectangle((x0 + i * length / 4, y0), length / 4, bar_h, facecolor="#222" if i % 2 == 0 else "white",
                               edgecolor="#222", linewidth=0.6, zorder=12))
    for frac, val in ((0, 0), (0.5, km / 2), (1, km)):
        txt = f"{val:g}" + (" km" if frac == 1 else "")
        ax.text(x0 + frac * length, y0 + bar_h * 1.6, txt, ha="center", va="bottom", fontsize=6.5, zorder=12,
                path_effects=_halo(1.8))
    return (x0 - 0.01 * w, y0 - 0.01 * h, x0 + length + 0.04 * w, y0 + 0.05 * h)


def _north_arrow(ctx: RenderContext, ax) -> tuple[float, float, float, float]:
    """A north arrow turned by the grid convergence at the map centre (Lambert grid north != true north)."""
    xmin, ymin, xmax, ymax = ctx.extent
    w, h = xmax - xmin, ymax - ymin
    cx, cy = xmin + 0.95 * w, ymin + 0.86 * h
    lon, lat = transformer(ctx.crs, "EPSG:4326").transform(cx, cy)
    nx, ny = transformer("EPSG:4326", ctx.crs).transform(lon, lat + 0.2)
    angle = math.atan2(nx - cx, ny - cy)
    size = 0.055 * h
    dx, dy = math.sin(angle) * size, math.cos(angle) * size
    ax.annotate("", xy=(cx + dx / 2, cy + dy / 2), xytext=(cx - dx / 2, cy - dy / 2),
                arrowprops={"arrowstyle": "-|>,head_length=0.9,head_width=0.45", "color": "#222", "lw": 1.6},
                zorder=12)
    ax.text(cx + dx * 0.75, cy + dy * 0.75, "N", ha="center", va="center", fontsize=10, fontweight="bold",
            zorder=12, path_effects=_halo(2))
    return (cx - 0.04 * w, cy - size, cx + 0.04 * w, cy + size * 1.1)


def _locator(ctx: RenderContext, fig, rect) -> None:
    """A small map of Syria and its neighbours with the extent of the main map."""
    from matplotlib.patches import Rectangle

    ax = fig.add_axes(rect)
    ax.set_facecolor(style.BASE["sea"])
    _plot_polys(ax, ctx.base.locator_neighbours, cache=True, facecolor=style.BASE["neighbour"], edgecolor="#b9b6ae", linewidth=0.3)
    _plot_polys(ax, ctx.base.locator_syria, cache=True, facecolor="#d9d3c3", edgecolor=style.BASE["country_edge"], linewidth=0.6)
    sx0, sy0, sx1, sy1 = ctx.base.locator_syria.total_bounds
    xmin, ymin, xmax, ymax = ctx.extent
    pad = 0.12 * (sx1 - sx0)
    lx0, lx1 = min(sx0, xmin) - pad, max(sx1, xmax) + pad
    ly0, ly1 = min(sy0, ymin) - pad, max(sy1, ymax) + pad
    # Square locator: grow the shorter side.
    cx, cy, half = (lx0 + lx1) / 2, (ly0 + ly1) / 2, max(lx1 - lx0, ly1 - ly0) / 2
    ax.set_xlim(cx - half, cx + half)
    ax.set_ylim(cy - half, cy + half)
    ax.set_aspect("equal")
    ax.add_patch(Rectangle((xmin, ymin), xmax - xmin, ymax - ymin, facecolor="none", edgecolor=style.EXTENT_BOX,
                           linewidth=1.3, zorder=5))
    ax.set_xticks([])
    ax.set_yticks([])
    for s in ax.spines.values():
        s.set_edgecolor("#777")
        s.set_linewidth(0.6)


def _legend_handles(ctx: RenderContext, items: list[tuple], bandwidth_km: float):
    from matplotlib.legend_handler import HandlerPatch
    from matplotlib.lines import Line2D
    from matplotlib.patches import FancyArrow, Patch

    def arrow_artist(legend, orig_handle, xdescent, ydescent, width, height, fontsize):
        return FancyArrow(-xdescent, height / 2 - ydescent, width * 0.92, 0, width=height * 0.32,
                          head_width=height * 0.9, head_length=width * 0.3, length_includes_head=True)

    sections: dict[str, list] = {"Control": [], "Activity": [], "Events": []}
    handler_map = {}
    h: Any
    for key in items:
        kind = key[0]
        if kind == "faction":
            colour = ctx.colours.get(key[1], "#999999")
            h = Patch(facecolor=colour, alpha=style.STATUS_ALPHA["held"] + 0.15, edgecolor=style.darker(colour), lw=0.7)
            sections["Control"].append((h, ctx.labels.get(key[1], key[1])))
        elif kind == "contested":
            h = Patch(facecolor="#fdebd9", edgecolor=style.CONTESTED_COLOUR, hatch=style.CONTESTED_HATCH, lw=0.9)
            sections["Control"].append((h, "Contested"))
        elif kind == "besieged":
            h = Patch(facecolor="#eeeeee", edgecolor=style.BESIEGED_EDGE, linestyle=(0, (3, 1.6)), lw=1.3)
            sections["Control"].append((h, "Besieged pocket"))
        elif kind == "taken":
            h = Patch(facecolor="none", edgecolor="#555555", hatch=style.TAKEN_HATCH, lw=1.4)
            sections["Control"].append((h, "Taken this week (taker's colour)"))
        elif kind == "frontline":
            h = Line2D([], [], color=style.FRONTLINE_COLOUR, lw=style.FRONTLINE_WIDTH_PT)
            sections["Control"].append((h, "Frontline"))
        elif kind == "advance":
            h = Patch(facecolor="#9a9a9a", edgecolor=style.ADVANCE_EDGE, lw=0.7)
            handler_map[h] = HandlerPatch(patch_func=arrow_artist)
            sections["Activity"].append((h, "Axis of advance (faction colour)"))
        elif kind == "heat":
            h = Patch(facecolor=style.HEATMAP_STOPS[3], alpha=0.7, edgecolor="none")
            sections["Activity"].append((h, f"Fighting density ({bandwidth_km:g} km kernel)"))
        elif kind == "action":
            marker, _, text = style.ACTION_MARKERS[key[1]]
            h = Line2D([], [], ls="", marker=marker, ms=8 if marker == "*" else 6.5, mfc="#bdbdbd",
                       mec=style.MARKER_EDGE, mew=0.6)
            sections["Events"].append((h, text))
    ref = [
        (Line2D([], [], color=style.BASE["country_edge"], lw=1.3), "International boundary"),
        (Line2D([], [], color=style.BASE["governorate_edge"], lw=0.7, ls=(0, (4, 2))), "Governorate boundary"),
        (Line2D([], [], color=style.BASE["river"], lw=1.0), "River"),
    ]
    sections["Reference"] = ref
    return sections, handler_map


def _draw_legend(ctx: RenderContext, fig, panel, items: list[tuple], bandwidth_km: float,
                 floor: float = 0.0) -> list:
    """Legend sections stacked from the top of ``panel`` down to ``floor`` (axes fraction).

    When they do not fit, the activity markers go into two columns, then the reference lines
    (self-explanatory) are left out.
    """
    sections, handler_map = _legend_handles(ctx, items, bandwidth_km)
    renderer = fig.canvas.get_renderer()
    pbox = panel.get_window_extent(renderer)
    gap = 8 * fig.dpi / 72 / pbox.height
    artists: list = []
    for two_columns, with_reference in ((False, True), (True, True), (True, False), (False, False)):
        for a in artists:
            a.remove()
        artists = []
        y = 1.0
        for title, entries in sections.items():
            if not entries or (title == "Reference" and not with_reference):
                continue
            leg = panel.legend([h for h, _ in entries], [t for _, t in entries], loc="upper left",
                               bbox_to_anchor=(0.0, y), frameon=False, fontsize=style.LEGEND_PT, title=title,
                               title_fontproperties={"size": style.LEGEND_PT + 1, "weight": "bold"},
                               alignment="left", handlelength=2.0, handleheight=1.1, borderaxespad=0.0,
                               labelspacing=0.45, handler_map=handler_map,
                               ncols=2 if two_columns and title == "Events" else 1, columnspacing=0.8)
            panel.add_artist(leg)
            artists.append(leg)
            y -= leg.get_window_extent(renderer).height / pbox.height + gap
        panel.legend_ = None
        if y + gap >= floor:
            break
    return artists


def _date_range(start: dt.date, end: dt.date) -> str:
    last = end - dt.timedelta(days=1)
    if last <= start:
        return f"{start.day} {start:%B %Y}"
    if start.year != last.year:
        return f"{start.day} {start:%B %Y} – {last.day} {last:%B %Y}"
    if start.month != last.month:
        return f"{start.day} {start:%B} – {last.day} {last:%B %Y}"
    return f"{start.day}–{last.day} {last:%B %Y}"


def week_note(rows) -> str:
    ev = rows["events"]
    if not len(ev):
        return "No events reported in view this week."
    n_fight = int(ev["action"].isin(("attack", "contest")).sum())
    n_docs = ev["doc"].nunique() if "doc" in ev else 0
    return (f"{len(ev)} event{'s' if len(ev) != 1 else ''} in view from {n_docs} report{'s' if n_docs != 1 else ''}, "
            f"{n_fight} {'clash, strike or contest' if n_fight == 1 else 'clashes, strikes or contests'}")


def figure_size(ctx: RenderContext) -> tuple[float, float, float]:
    """(width, height, map height) in inches."""
    xmin, ymin, xmax, ymax = ctx.extent
    map_h = style.MAP_WIDTH_IN * MAP_W * (ymax - ymin) / (xmax - xmin)
    return style.MAP_WIDTH_IN, map_h + TITLE_IN + CREDITS_IN, map_h


def draw_step(ctx: RenderContext, index: int, settings, legend: str = "step") -> Drawn:
    """Draw the map of step ``index``. ``legend``: ``step`` (what this map shows) or ``series``."""
    import textwrap

    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    st = ctx.steps[index]
    rows = step_rows(ctx, st.label)
    fw, fh, map_h = figure_size(ctx)
    dpi = settings.map_width_px / fw
    fig = Figure(figsize=(fw, fh), dpi=dpi, facecolor="white")
    FigureCanvasAgg(fig)
    bottom = CREDITS_IN / fh
    ax = fig.add_axes((MAP_LEFT, bottom, MAP_W, map_h / fh))
    xmin, ymin, xmax, ymax = ctx.extent
    ax.set_xlim(xmin, xmax)
    ax.set_ylim(ymin, ymax)
    ax.set_aspect("equal", adjustable="box")
    ax.set_xticks([])
    ax.set_yticks([])
    for s in ax.spines.values():
        s.set_linewidth(0.8)
        s.set_edgecolor("#333")

    _draw_base(ctx, ax)
    _draw_control(ctx, ax, rows["control"])
    _draw_taken(ctx, ax, rows)
    _draw_heat(ctx, ax, st.label)
    _draw_veil(ctx, ax)
    _draw_boundaries(ctx, ax)
    _draw_lines_and_arrows(ctx, ax, rows)
    points = _draw_events(ctx, ax, rows["events"])
    from matplotlib.transforms import Bbox

    furniture = [Bbox(ax.transData.transform([(x0, y0), (x1, y1)]))
                 for x0, y0, x1, y1 in (_scale_bar(ctx, ax), _north_arrow(ctx, ax))]
    reserved = furniture + _country_labels(ctx, ax, fig, furniture)
    _place_labels(ctx, fig, ax, rows, points, reserved)

    where = ctx.region_name or "Syria"
    fig.text(MAP_LEFT, 1 - 0.16 / fh, f"Territorial control and fighting — {where}", ha="left", va="top",
             fontsize=style.TITLE_PT, fontweight="bold", color="#111")
    fig.text(MAP_LEFT, 1 - 0.5 / fh, f"{_date_range(st.start, st.end)}  ·  {st.label}", ha="left", va="top",
             fontsize=style.SUBTITLE_PT + 1, color="#333")
    credits = textwrap.fill(style.CREDITS + " Projection: Syria Lambert (EPSG:22770).", 190)
    fig.text(MAP_LEFT, 0.07 / fh, credits, ha="left", va="bottom", fontsize=style.CREDITS_PT, color="#555",
             linespacing=1.25)

    # The panel spans the map's height; the locator sits at its foot, the legend above it.
    panel = fig.add_axes((PANEL_LEFT, bottom, PANEL_W, map_h / fh))
    panel.axis("off")
    loc_h = min(0.33 * map_h, PANEL_W * fw)
    items = shown_items(ctx, st.label, rows) if legend == "step" else series_items(ctx)
    artists = _draw_legend(ctx, fig, panel, items, settings.heatmap_bandwidth_km, floor=(loc_h + 0.1) / map_h)
    fig.text(1 - MAP_LEFT, 1 - 0.5 / fh, week_note(rows), ha="right", va="top", fontsize=style.LEGEND_PT + 0.5,
             color="#444", linespacing=1.35)
    _locator(ctx, fig, (PANEL_LEFT, bottom, PANEL_W, loc_h / fh))
    return Drawn(fig, ax, panel, artists)

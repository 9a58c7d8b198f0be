"""Interactive ``map.html`` (folium + Leaflet.TimeDimension), fully offline.

One time-enabled layer (TimestampedGeoJson) carries, per step, the control areas, the fighting
heatmap as density bands, frontlines, advance arrows and event markers; base layers are drawn
from ``data/`` (no tile server). Leaflet and the plugin scripts ship in ``geo_control/assets``
and are inlined into the saved page; every other CDN reference folium emits is dropped.

A feature that stays the same from week to week (same rounded geometry, same style and popup) is
written once with the list of steps it belongs to, and a small patch to Leaflet.TimeDimension
shows a feature whole at each of its steps: the slider shows what it showed when every feature
was copied into every week, in a fraction of the bytes. Coordinates are rounded to 5 decimals
(~1 m) in the page only.

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
function gcTimeData(data) {
  var icons = data.gc_icons || [];
  for (var i = 0; i < data.features.length; i++) {
    var p = data.features[i].properties;
    if (p.gc_icon !== undefined) { p.iconstyle = icons[p.gc_icon]; delete p.gc_icon; }
  }
  return data;
}
"""
PATCHES = {"leaflet.timedimension.min.js": TIMEDIMENSION_PATCH}

#: Heatmap bands: lower bound as a share of the series' peak density.
HEAT_BANDS = (0.08, 0.2, 0.35, 0.55, 0.75)


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


def _feature(geom, t: str, props: dict) -> tuple | None:
    """One (geometry, step time, properties) entry of the time layer; merged later."""
    if geom is None or geom.is_empty:
        return None
    return geom, t, props


def _merge(entries: list[tuple]) -> list[dict]:
    """One GeoJSON feature per distinct (geometry, properties), listing every step it is in.

    Ordered by kind, then by first appearance, so each step draws its features in the order
    it did when they were written per step. Coordinates are rounded first, so the same area
    reprojected twice is one feature.
    """
    import shapely

    groups: dict[tuple[bytes, str], tuple[Any, dict, list[str]]] = {}
    for geom, t, props in entries:
        geom = shapely.transform(geom, lambda c: np.round(c, DECIMALS))
        key = (geom.wkb, json.dumps(props, sort_keys=True, separators=(",", ":")))
        group = groups.get(key)
        if group is None:
            groups[key] = (geom, props, [t])
        elif group[2][-1] != t:
            group[2].append(t)
    ordered = sorted(groups.values(), key=lambda g: KIND_ORDER.get(g[1].get("kind", ""), len(KIND_ORDER)))
    return [{"type": "Feature", "geometry": mapping(geom), "properties": {"times": times, **props}}
            for geom, props, times in ordered]


def _to_wgs84(gdf: gpd.GeoDataFrame, simplify_m: float = 0.0) -> gpd.GeoDataFrame:
    """Simplified (in the projected CRS) and in lon/lat; each distinct geometry is done once.

    A series repeats most areas week after week, so this is far cheaper than row by row.
    """
    import shapely

    if not len(gdf):
        return gdf
    out = gdf.copy()
    geoms = out.geometry.values
    if geoms.isna().any():  # missing geometries cannot be keyed by WKB: the plain way
        if simplify_m:
            out["geometry"] = out.geometry.simplify(simplify_m, preserve_topology=True)
        return out.to_crs(STORAGE_CRS)
    uniq, inverse = np.unique(shapely.to_wkb(np.asarray(geoms)), return_inverse=True)
    done = gpd.GeoSeries(shapely.from_wkb(uniq), crs=gdf.crs)
    if simplify_m:
        done = done.simplify(simplify_m, preserve_topology=True)
    done = done.to_crs(STORAGE_CRS)
    return out.set_geometry(gpd.GeoSeries(done.values[inverse.ravel()], index=out.index, crs=STORAGE_CRS))


def _popup_event(row) -> str:
    date = _esc(row.get("date"))
    parts = [
        f"<b>{_esc(str(row.get('action', '')).capitalize())}</b> · {_esc(row.get('place_name') or row.get('place'))}",
        f"<i>{_esc(row.get('actor'))}</i> ({_esc(row.get('faction'))}) · {_esc(row.get('modality'))}",
        f"<blockquote>{_esc(row.get('sentence'))}</blockquote>",
        f"Report: {_esc(row.get('doc'))} ({_esc(row.get('doc_date'))}) · event date {date}",
    ]
    return "<div class='gc-popup'>" + "<br>".join(parts) + "</div>"


def _marker_icon(action: str, colour: str) -> dict:
    svg = style.marker_svg(action, colour)
    uri = "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()
    return {"iconUrl": uri, "iconSize": [18, 18], "iconAnchor": [9, 9], "popupAnchor": [0, -8]}


def _heat_bands(ctx: RenderContext, label: str) -> list[tuple[int, object]]:
    """Density bands of one step as (band index, projected polygon)."""
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
    out = []
    for geom, value in shapes(classes, mask=classes > 0, transform=ctx.heat_transform):
        # Rounded out and back in: density bands, not staircases of cells.
        out.append((int(value), shape(geom).buffer(cell * 0.9).buffer(-cell * 0.9).simplify(cell * 0.3)))
    return out


def _payload(feats: list[dict]):
    """The time layer as a JS expression, in pieces (one per feature: no second copy of it all).

    Marker icons (data URIs) are stored once in ``gc_icons``, not per event.
    """
    icons: dict[str, int] = {}
    yield 'gcTimeData({"type":"FeatureCollection","features":['
    for i, f in enumerate(feats):
        props = f["properties"]
        if "iconstyle" in props:
            props = dict(props)
            key = json.dumps(props.pop("iconstyle"), sort_keys=True, separators=(",", ":"))
            props["gc_icon"] = icons.setdefault(key, len(icons))
            f = {**f, "properties": props}
        yield ("," if i else "") + _safe_json(f)
    yield f'],"gc_icons":{_safe_json([json.loads(k) for k in icons])}}})'


def time_features(ctx: RenderContext) -> list[dict]:
    """Every feature of the time layer, with its style, escaped popup and the steps it is in."""
    from geo_control.render.static import arrow_polygon, taken

    feats: list[tuple] = []
    # Projected, simplified and reprojected once for the whole series, then taken step by step.
    control_all = _to_wgs84(ctx.control, 150.0)
    taken_all = _to_wgs84(taken(ctx.changes), 150.0)
    frontlines_all = _to_wgs84(ctx.frontlines, 100.0)
    events_all = _to_wgs84(ctx.events)
    width = ctx.extent[2] - ctx.extent[0]
    centre = gpd.GeoSeries([box(*ctx.extent).centroid], crs=ctx.crs).to_crs(STORAGE_CRS).iloc[0]
    for st in ctx.steps:
        t = _iso(st.start)
        # An invisible point per step, so every step is on the slider even with no features.
        feats.append((centre, t, {"kind": "frame", "icon": "circle",
                                  "iconstyle": {"radius": 0, "stroke": False, "fill": False, "interactive": False}}))
        control = control_all[control_all["step"] == st.label] if len(control_all) else control_all
        for _, r in control.iterrows():
            status = str(r.get("status", "held"))
            fid = str(r.get("faction"))
            if status == "contested":
                sides = r.get("factions") if "factions" in r else ""
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
            area = r.get("area_km2")
            if area is not None and not (isinstance(area, float) and np.isnan(area)):
                text += f"<br>{float(area):,.0f} km²"
            f = _feature(r.geometry, t, {"style": stl, "popup": text, "kind": "control"})
            if f:
                feats.append(f)
        ch = taken_all[taken_all["step"] == st.label] if len(taken_all) else taken_all
        for _, r in ch.iterrows():
            colour = style.darker(ctx.colours.get(str(r.get("faction")), "#999999"), 0.8)
            text = (f"<b>Taken this week</b> by {_esc(ctx.labels.get(str(r.get('faction')), r.get('faction')))}"
                    f" from {_esc(ctx.labels.get(str(r.get('from_faction')), r.get('from_faction')))}")
            f = _feature(r.geometry, t, {"style": {"color": colour, "weight": 2.5, "dashArray": "2 4",
                                                   "fill": False}, "popup": text, "kind": "taken"})
            if f:
                feats.append(f)
        bands = _heat_bands(ctx, st.label)
        if bands:
            g = gpd.GeoDataFrame({"band": [b for b, _ in bands]}, geometry=[p for _, p in bands], crs=ctx.crs)
            for _, r in g.to_crs(STORAGE_CRS).iterrows():
                colour = style.HEATMAP_STOPS[min(int(r["band"]), len(style.HEATMAP_STOPS) - 1)]
                f = _feature(r.geometry, t, {"style": {"stroke": False, "fillColor": colour, "fillOpacity": 0.5},
                                             "kind": "heat", "tooltip": "Fighting density"})
                if f:
                    feats.append(f)
        fl = frontlines_all[frontlines_all["step"] == st.label] if len(frontlines_all) else frontlines_all
        for _, r in fl.iterrows():
            sides = f"{_esc(ctx.labels.get(str(r.get('faction_a')), r.get('faction_a')))} / " \
                    f"{_esc(ctx.labels.get(str(r.get('faction_b')), r.get('faction_b')))}"
            f = _feature(r.geometry, t, {"style": {"color": style.FRONTLINE_COLOUR, "weight": 3},
                                         "popup": f"<b>Frontline</b><br>{sides}", "kind": "frontline"})
            if f:
                feats.append(f)
        adv = ctx.advances[ctx.advances["step"] == st.label] if len(ctx.advances) else ctx.advances
        for _, r in adv.iterrows():
            poly = arrow_polygon(r.geometry, width)
            if poly is None:
                continue
            geom = gpd.GeoSeries([poly], crs=ctx.crs).to_crs(STORAGE_CRS).iloc[0]
            colour = ctx.colours.get(str(r.get("faction")), "#999999")
            text = (f"<b>Advance</b> · {_esc(ctx.labels.get(str(r.get('faction')), r.get('faction')))}<br>"
                    f"from {_esc(r.get('from_place'))} towards {_esc(r.get('target'))}"
                    f"<br>{_esc(r.get('distance_km'))} km · {_esc(r.get('date'))}")
            f = _feature(geom, t, {"style": {"color": style.ADVANCE_EDGE, "weight": 1, "fillColor": colour,
                                             "fillOpacity": 0.9}, "popup": text, "kind": "advance"})
            if f:
                feats.append(f)
        ev = events_all[events_all["step"] == st.label] if len(events_all) else events_all
        for _, r in ev.iterrows():
            colour = ctx.colours.get(str(r.get("faction")), "#999999")
            f = _feature(r.geometry, t, {"icon": "marker", "iconstyle": _marker_icon(str(r.get("action")), colour),
                                         "popup": _popup_event(r), "kind": "event",
                                         "tooltip": _esc(r.get("place_name") or r.get("place"))})
            if f:
                feats.append(f)
    return _merge(feats)


def _legend_html(ctx: RenderContext) -> str:
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
        "margin-right:6px;vertical-align:-2px}.gc-title{left:54px;top:10px}.gc-title b{font-size:15px}"
        ".gc-credits{left:130px;right:70px;bottom:0;padding:2px 6px;font-size:9px;color:#555;border-radius:0;"
        "box-shadow:none;background:rgba(255,255,255,.8)}"
        ".gc-popup blockquote{margin:4px 0;padding-left:6px;border-left:3px solid #ccc;max-width:320px}"
        ".gc-town{font:11px Arial,sans-serif;color:#333;white-space:nowrap;text-shadow:0 0 2px #fff,0 0 2px #fff}"
        ".gc-town span{display:inline-block;width:5px;height:5px;border-radius:50%;background:#333;"
        "margin-right:4px;vertical-align:1px}"
        f".leaflet-container{{background:{style.BASE['sea']}}}</style>"
        f"<div class='gc-box gc-title'><b>Territorial control and fighting — {where}</b><br>"
        f"{_esc(first)} to {_esc(last)} · use the slider below to change week</div>"
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
    feats = time_features(ctx)
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
    root.html.add_child(folium.Element(_legend_html(ctx)))
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
        fh.writelines(_payload(feats))
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

"""map.html's time layer: compact encoding, one feature per distinct area, spans, capped markers, escaping."""

from __future__ import annotations

import datetime as dt
import json
import re

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from render_synthetic import synthetic_layers
from shapely.geometry import Point, Polygon, box, shape

from geo_control.crs import SYRIA_CRS
from geo_control.records import Step
from geo_control.render import heatmap
from geo_control.render.context import build_context
from geo_control.render.interactive import (
    MAX_MARKERS,
    MAX_POPUP_EVENTS,
    EventMarkers,
    _merge,
    step_ranges,
    write_html,
)
from geo_control.settings import Settings

N_STEPS = 3
HOSTILE = "<script>alert('x')</script> shelled <img src=x onerror=alert(1)> the town"


@pytest.fixture(scope="module")
def layers(basemap):
    layers = synthetic_layers(basemap, N_STEPS)
    layers.events.loc[layers.events.index[0], "sentence"] = HOSTILE
    layers.events.loc[layers.events.index[0], "doc"] = "evil<b>.txt"
    return layers


def _context(layers, basemap, factions):
    settings = Settings(map_width_px=1200)
    ctx = build_context(layers, basemap, settings, factions)
    heatmap.compute(ctx, settings, basemap.country)
    return ctx, settings


@pytest.fixture(scope="module")
def page(layers, basemap, factions, tmp_path_factory):
    ctx, settings = _context(layers, basemap, factions)
    path = write_html(ctx, layers, settings, tmp_path_factory.mktemp("html") / "map.html")
    return path.read_text(encoding="utf-8")


def _line(q, close):
    xs, ys = np.cumsum(q[0::2]), np.cumsum(q[1::2])
    pts = [[round(x / 1e5, 5), round(y / 1e5, 5)] for x, y in zip(xs.tolist(), ys.tolist(), strict=True)]
    return pts + pts[:1] if close and pts else pts


def _geometry(code, q):
    if code == 0:
        return {"type": "Point", "coordinates": q}
    if code == 1:
        return {"type": "LineString", "coordinates": _line(q, False)}
    if code == 2:
        return {"type": "MultiLineString", "coordinates": [_line(x, False) for x in q]}
    if code == 3:
        return {"type": "Polygon", "coordinates": [_line(r, True) for r in q]}
    return {"type": "MultiPolygon", "coordinates": [[_line(r, True) for r in p] for p in q]}


def _time_layer(page: str) -> dict:
    """The time layer as GeoJSON, decoded as the page's ``gcTimeData`` does."""
    data = re.search(r"L\.geoJson\(gcTimeData\((\{.*?\})\), \{\s*pointToLayer", page, re.S)
    assert data, "time layer data not found"
    raw = json.loads(data.group(1))
    shared = {"gc_style": "style", "gc_icon": "iconstyle", "gc_popup": "popup", "gc_tooltip": "tooltip"}
    feats = []
    for index, times, code, q in raw["features"]:
        props = {"times": [raw["gc_times"][t] for t in times]}
        for k, v in raw["gc_props"][index].items():
            props[shared.get(k, k)] = raw[k + "s"][v] if k in shared else v
        feats.append({"type": "Feature", "geometry": _geometry(code, q), "properties": props})
    return {**raw, "features": feats}


def test_page_decodes_to_geojson_with_every_step_and_rounded_coordinates(page, layers):
    assert "gc_time_data_" not in page  # the placeholder was replaced by the data
    assert "_getFeatureBetweenDates" in page and "function gcTimeData" in page
    data = _time_layer(page)
    feats = data["features"]
    steps = [f"{st.start.isoformat()}T00:00:00Z" for st in layers.steps]
    frames = [f for f in feats if f["properties"]["kind"] == "frame"]
    assert len(frames) == 1 and frames[0]["properties"]["times"] == steps  # every step on the slider
    keys = [json.dumps([f["geometry"], {k: v for k, v in f["properties"].items() if k != "times"}], sort_keys=True)
            for f in feats]
    assert len(keys) == len(set(keys))  # each distinct feature once
    for f in feats:
        times = f["properties"]["times"]
        assert times == sorted(set(times)) and set(times) <= set(steps)
    events = [f for f in feats if f["properties"]["kind"] == "event"]
    assert events and all(f["properties"]["iconstyle"]["iconUrl"].startswith("data:image/svg+xml;base64,")
                          for f in events)
    coords = re.findall(r"-?\d+\.(\d+)", json.dumps([f["geometry"] for f in feats]))
    assert coords and max(len(c) for c in coords) <= 5


def test_every_control_area_of_a_step_is_shown_at_that_step(page, layers):
    feats = _time_layer(page)["features"]
    for st in layers.steps:
        t = f"{st.start.isoformat()}T00:00:00Z"
        shown = [shape(f["geometry"]) for f in feats if f["properties"]["kind"] == "control"
                 and t in f["properties"]["times"]]
        rows = layers.control[layers.control["step"] == st.label]
        want = gpd.GeoSeries(list(rows.geometry), crs="EPSG:4326").to_crs(SYRIA_CRS).area.sum()
        got = gpd.GeoSeries(shown, crs="EPSG:4326").to_crs(SYRIA_CRS).area.sum()
        assert len(shown) >= len(rows) and abs(got - want) <= 0.02 * want, st.label


def test_hostile_report_text_is_escaped_in_popups(page):
    assert "<script>alert" not in page and "<img src=x onerror" not in page and "evil<b>" not in page
    popups = [f["properties"].get("popup", "") for f in _time_layer(page)["features"]]
    hostile = [p for p in popups if "alert" in p]
    assert hostile and all("&lt;script&gt;" in p and "<img" not in p for p in hostile)
    assert any("evil&lt;b&gt;.txt" in p for p in hostile)


def test_same_inputs_give_the_same_page(page, layers, basemap, factions, tmp_path):
    ctx, settings = _context(layers, basemap, factions)
    again = write_html(ctx, layers, settings, tmp_path / "map.html").read_text(encoding="utf-8")
    assert again == page


def test_merge_keeps_drawing_order_and_lists_each_features_steps():
    a, b = Point(36.12346, 35.0), Point(37.0, 35.0)
    ev, ev2, ctl = {"kind": "event", "popup": "x"}, {"kind": "event", "popup": "y"}, {"kind": "control"}
    control = (np.array([b, b], dtype=object), [ctl, ctl], np.array([0, 2]), np.array([1, 3]))
    events = (np.array([a, Point(36.12346, 35.0), a, None], dtype=object), [ev, ev, ev2, ev],
              np.array([1, 0, 2, 0]), np.array([2, 1, 3, 1]))
    feats = _merge([control, events])
    assert [p["kind"] for _, p, _ in feats] == ["control", "event", "event"]  # drawing order kept
    assert [steps for _, _, steps in feats] == [[0, 2], [0, 1], [2]]


def test_step_ranges_follow_valid_dates_so_a_span_covers_each_of_its_steps():
    steps = [Step(f"2017-W0{i + 1}", dt.date(2017, 1, 2) + dt.timedelta(weeks=i),
                  dt.date(2017, 1, 9) + dt.timedelta(weeks=i)) for i in range(4)]
    ts = [pd.Timestamp(st.start, tz="UTC") for st in steps] + [pd.Timestamp(steps[-1].end, tz="UTC")]
    rows = pd.DataFrame({"step": ["2017-W02", "2017-W01", "2017-W03", "2099-W01"],
                         "valid_from": [ts[1], ts[0], pd.NaT, pd.NaT], "valid_to": [ts[2], ts[3], pd.NaT, pd.NaT]})
    first, stop = step_ranges(rows, steps)
    assert [list(range(a, b)) for a, b in zip(first, stop, strict=True)] == [[1], [0, 1, 2], [2], []]
    first, stop = step_ranges(rows, steps, spans=False)  # events: by label only
    assert [list(range(a, b)) for a, b in zip(first, stop, strict=True)] == [[1], [0], [2], []]


def test_markers_group_a_place_and_cap_a_step_with_a_note(layers, basemap, factions):
    ctx, _ = _context(layers, basemap, factions)
    label = ctx.steps[0].label
    n = MAX_MARKERS + 7
    origin = ctx.events.geometry.iloc[0]
    many = gpd.GeoDataFrame({
        "step": [label] * (n + 4), "action": ["attack"] * (n + 4), "faction": ["government"] * (n + 4),
        "sentence": [f"s{i}" for i in range(n + 4)], "place_name": [f"p{i}" for i in range(n + 4)],
    }, geometry=[Point(origin.x + 2_000 * i, origin.y) for i in range(n)] + [origin] * 4, crs=ctx.crs)
    ctx.events = many
    markers = EventMarkers(ctx)
    assert len(markers.props) == MAX_MARKERS and markers.dropped_markers == n - MAX_MARKERS
    busiest = markers.props[0]  # the place with 5 events is kept, and says so
    assert busiest["popup"].count("<blockquote>") == MAX_POPUP_EVENTS and "5 events" in busiest["popup"]
    assert "and 2 more" in busiest["popup"]
    assert f"the {MAX_MARKERS} busiest places a week" in markers.note()


def test_geometry_encoding_round_trips_polygons_with_holes_and_lines():
    from shapely.geometry import LineString, MultiPolygon

    from geo_control.render.interactive import _geometry_json

    ring = Polygon(box(36.0, 35.0, 36.5, 35.5).exterior.coords, [box(36.1, 35.1, 36.2, 35.2).exterior.coords])
    for geom in (ring, MultiPolygon([ring, box(37.0, 35.0, 37.1, 35.1)]), LineString([(36.0, 35.0), (36.00001, 34.5)]),
                 Point(36.5, 35.25)):
        code, _, rest = _geometry_json(geom).partition(",")
        back = shape(_geometry(int(code), json.loads(rest)))
        assert back.equals_exact(geom, 1e-9) or back.equals(geom), geom.geom_type

"""Render: weekly maps (pixels), heatmap GeoTIFFs, GIF, stats, offline map.html, escaping, Chromium DOM."""

from __future__ import annotations

import dataclasses
import re
import shutil
import subprocess
import tempfile

import geopandas as gpd
import numpy as np
import pytest
from render_synthetic import synthetic_layers
from shapely.geometry import LineString, Point

from geo_control.crs import SYRIA_CRS
from geo_control.errors import InputError
from geo_control.render import render_all
from geo_control.render.context import build_context, find_governorate, map_extent
from geo_control.render.heatmap import NODATA, density, grid_spec, write_geotiff
from geo_control.settings import Settings

N_STEPS = 3

try:
    import imageio_ffmpeg  # noqa: F401

    HAS_FFMPEG = True
except ImportError:
    HAS_FFMPEG = False


@pytest.fixture(scope="module")
def layers(basemap):
    layers = synthetic_layers(basemap, N_STEPS)
    hostile = "<script>alert('x')</script> shelled <img src=x onerror=alert(1)> the town"
    layers.events.loc[layers.events.index[0], "sentence"] = hostile
    layers.events.loc[layers.events.index[0], "doc"] = "evil<b>.txt"
    return layers


@pytest.fixture(scope="module")
def rendered(layers, basemap, factions, tmp_path_factory):
    out = tmp_path_factory.mktemp("render")
    settings = Settings(map_width_px=1200, gif_width_px=600, mp4=HAS_FFMPEG)
    files = render_all(layers, basemap, settings, factions, out)
    return out, files


def _expected_fill(colour: str, alpha: float, under: str = "#f4f1ea") -> np.ndarray:
    c = np.array([int(colour[i:i + 2], 16) for i in (1, 3, 5)], dtype=float)
    u = np.array([int(under[i:i + 2], 16) for i in (1, 3, 5)], dtype=float)
    return alpha * c + (1 - alpha) * u


def test_weekly_map_shows_each_faction_colour_where_its_area_is(layers, basemap, factions, tmp_path):
    from PIL import Image

    from geo_control import style
    from geo_control.render.static import draw_step

    settings = Settings(map_width_px=1000)
    ctx = build_context(layers, basemap, settings, factions)
    drawn = draw_step(ctx, 1, settings)
    png = tmp_path / "m.png"
    drawn.fig.savefig(png, dpi=drawn.fig.dpi)
    img = np.asarray(Image.open(png).convert("RGB")).astype(float)
    height = img.shape[0]
    control = ctx.control[(ctx.control["step"] == ctx.steps[1].label) & (ctx.control["status"] == "held")]
    candidates = {f: _expected_fill(factions.colour(f), style.STATUS_ALPHA["held"]) for f in ctx.colours}
    checked = 0
    for fid in ("sdf", "isis", "government", "hts"):
        geom = control[control["faction"] == fid].geometry.union_all().buffer(-15_000)
        assert not geom.is_empty, fid
        p = geom.representative_point()
        px, py = drawn.ax.transData.transform((p.x, p.y))
        col, row = int(round(px)), int(round(height - py))
        window = img[row - 3:row + 4, col - 3:col + 4].reshape(-1, 3)
        colour = np.median(window, axis=0)
        nearest = min(candidates, key=lambda f: np.linalg.norm(candidates[f] - colour))
        assert nearest == fid, (fid, colour)
        assert np.linalg.norm(candidates[fid] - colour) < 30
        checked += 1
    assert checked == 4


def test_render_all_writes_every_output(rendered, layers):
    out, files = rendered
    labels = [s.label for s in layers.steps]
    assert [p.name for p in files if p.parent.name == "maps"] == [f"{x}.png" for x in labels]
    for name in ("control.gif", "map.html", "stats.png") + (("control.mp4",) if HAS_FFMPEG else ()):
        assert (out / name).stat().st_size > 1000, name
    assert sorted(p.name for p in (out / "heatmaps").glob("*.tif")) == [f"{x}.tif" for x in labels]
    assert sorted(p.stem for p in (out / "heatmaps").glob("*.qml")) == labels
    assert all(p.exists() for p in files)


def test_gif_has_one_frame_per_step_at_gif_width(rendered):
    from PIL import Image

    out, _ = rendered
    with Image.open(out / "control.gif") as im:
        assert im.n_frames == N_STEPS
        assert im.width == 600


@pytest.mark.skipif(not HAS_FFMPEG, reason="imageio-ffmpeg is not installed (pip install imageio-ffmpeg)")
def test_mp4_frames_are_divisible_by_16(rendered):
    import imageio.v2 as iio2

    out, _ = rendered

    reader = iio2.get_reader(out / "control.mp4")
    frame = reader.get_data(0)
    reader.close()
    assert frame.shape[0] % 16 == 0 and frame.shape[1] % 16 == 0


def test_heatmap_geotiff_crs_nodata_overviews_and_peak(rendered, layers):
    import rasterio

    out, _ = rendered
    label = layers.steps[1].label
    with rasterio.open(out / "heatmaps" / f"{label}.tif") as src:
        assert src.crs.to_epsg() == 22770
        assert src.nodata == NODATA
        assert src.overviews(1)
        data = src.read(1, masked=True)
        assert data.mask.any() and not data.mask.all()
        row, col = np.unravel_index(np.argmax(data.filled(-1)), data.shape)
        x, y = src.xy(row, col)
    fight = layers.events[layers.events["action"].isin(["attack", "contest"])]
    fight = fight[fight["date"].astype(str) >= layers.steps[1].start.isoformat()]
    fight = fight[fight["date"].astype(str) < layers.steps[1].end.isoformat()].to_crs(SYRIA_CRS)
    nearest = fight.distance(Point(x, y)).min()
    assert nearest < 25_000


def test_heatmap_qml_is_xml_with_a_colour_ramp(rendered):
    import xml.etree.ElementTree as ET

    out, _ = rendered
    qml = next((out / "heatmaps").glob("*.qml")).read_text(encoding="utf-8")
    root = ET.fromstring(qml.split("\n", 1)[1])
    items = root.findall(".//colorrampshader/item")
    assert len(items) >= 5 and items[0].get("alpha") == "0"


def test_density_peaks_at_a_single_event_and_integrates_to_its_weight(tmp_path):
    import rasterio

    transform, nx, ny = grid_spec((0, 0, 100_000, 80_000), 2_000)
    grid = density(np.array([41_000.0]), np.array([37_000.0]), np.array([1.0]), transform, nx, ny, 8_000)
    assert abs(grid.sum() * 4.0 - 1.0) < 1e-6  # cells of 4 km²
    row, col = np.unravel_index(np.argmax(grid), grid.shape)
    path = write_geotiff(tmp_path / "h.tif", grid.astype(np.float32), transform, SYRIA_CRS, {"step": "x"})
    with rasterio.open(path) as src:
        x, y = src.xy(row, col)
        assert src.tags()["step"] == "x"
    assert abs(x - 41_000) <= 2_000 and abs(y - 37_000) <= 2_000


def test_map_html_loads_nothing_from_the_network(rendered):
    out, _ = rendered
    page = (out / "map.html").read_text(encoding="utf-8")
    assert not re.search(r"<script[^>]+src=[\"']?(https?:)?//", page)
    assert not re.search(r"<link[^>]+href=[\"']?(https?:)?//", page)
    assert not re.search(r"url\([\"']?(https?:)?//", page)
    assert "L.timeDimension" in page and "L.Control.TimeDimension" in page


# The time layer's encoding, merging, escaping and markers: tests/test_render_interactive.py.


def test_same_inputs_give_the_same_files(rendered, layers, basemap, factions, tmp_path):
    import hashlib

    out, _ = rendered
    again = tmp_path / "again"
    render_all(layers, basemap, Settings(map_width_px=1200, gif_width_px=600), factions, again)

    def digest(p):
        return hashlib.sha256(p.read_bytes()).hexdigest()

    for rel in ("map.html", "control.gif", "stats.png", f"maps/{layers.steps[1].label}.png",
                f"heatmaps/{layers.steps[1].label}.tif"):
        assert digest(out / rel) == digest(again / rel), rel


def test_stats_png_is_an_image(rendered):
    from PIL import Image

    out, _ = rendered
    with Image.open(out / "stats.png") as im:
        assert im.width > 800


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


@pytest.mark.chromium
@pytest.mark.skipif(_chromium() is None, reason="headless Chromium is not installed (apt-get install chromium)")
def test_map_html_renders_polygons_and_slider_in_headless_chromium(rendered, layers):
    out, _ = rendered
    with tempfile.TemporaryDirectory() as profile:
        res = subprocess.run(
            [_chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
             f"--user-data-dir={profile}", "--virtual-time-budget=5000", "--dump-dom",
             (out / "map.html").resolve().as_uri()],
            capture_output=True, text=True, timeout=120, check=False)
    dom = res.stdout
    assert "timecontrol-slider" in dom, res.stderr[-500:]
    paths = re.findall(r"<path[^>]*class=\"leaflet-interactive\"", dom)
    first = layers.control[layers.control["step"] == layers.steps[0].label]
    assert len(paths) >= len(first)
    assert "Syrian Democratic Forces" in dom  # the legend


def test_region_extent_matches_fuzzy_governorate_names(basemap):
    govs = basemap.governorates
    for name in ("Deir ez-Zor", "Dayr az Zawr", "deir ezzor", "دير الزور"):
        assert govs["ADM1_EN"].iloc[find_governorate(name, govs)] == "Deir-ez-Zor", name
    assert govs["ADM1_EN"].iloc[find_governorate("Idlib", govs)] == "Idleb"
    with pytest.raises(InputError, match="governorate"):
        find_governorate("Atlantis", govs)


def test_extent_is_bbox_region_or_fitted(layers, basemap):
    s = Settings(bbox=(39.0, 34.0, 41.5, 36.0))
    (xmin, ymin, xmax, ymax), _ = map_extent(layers, basemap, s)
    p = gpd.GeoSeries([Point(40.14, 35.33)], crs="EPSG:4326").to_crs(SYRIA_CRS).iloc[0]
    assert xmin < p.x < xmax and ymin < p.y < ymax
    region, name = map_extent(layers, basemap, dataclasses.replace(s, bbox=None, region="Raqqa"))
    assert name == "Ar-Raqqa" and region != (xmin, ymin, xmax, ymax)
    fitted, _ = map_extent(layers, basemap, Settings())
    assert fitted[2] - fitted[0] > 100_000


def test_arrow_polygon_is_valid_and_ends_at_the_point_reached():
    from geo_control.render.static import arrow_polygon

    line = LineString([(0, 0), (30_000, 10_000), (60_000, 0)])
    poly = arrow_polygon(line, 500_000)
    assert poly.is_valid and poly.area > 0
    assert poly.distance(Point(60_000, 0)) < 1.0
    assert poly.buffer(1).covers(Point(0, 0))


def _events_table():
    import datetime as dt

    import pandas as pd

    from geo_control.records import EVENT_COLUMNS, event_id

    rows = []
    places = [("Deir ez-Zor", 35.336, 40.141), ("Al Mayadin", 35.017, 40.451), ("Abu Kamal", 34.452, 40.918),
              ("Al Busayrah", 35.158, 40.424), ("Hajin", 34.694, 40.826)]
    plan = [(0, "government", "capture"), (1, "government", "advance"), (2, "isis", "hold"), (3, "sdf", "capture"),
            (4, "isis", "hold"), (1, "government", "attack"), (0, "isis", "attack"), (2, "government", "capture")]
    for i, (p, faction, action) in enumerate(plan):
        name, lat, lon = places[p]
        day = dt.date(2017, 10, 23) + dt.timedelta(days=3 * i)
        sentence = f"{faction} forces {action} {name}."
        rows.append({"id": event_id("r.txt", i, i + 9, name, action), "doc": "r.txt", "doc_date": day.isoformat(),
                     "date": day.isoformat(), "date_precision": "day", "actor": faction, "faction": faction,
                     "action": action, "place": name, "place_id": f"t{p}", "place_name": name, "lat": lat,
                     "lon": lon, "precision": 1, "uncertainty_km": 1.0, "from_place": "", "distance_km": None,
                     "bearing_deg": None, "target": "", "modality": "asserted", "confidence": 0.9,
                     "sentence": sentence, "start": i, "end": i + 9})
    return pd.DataFrame(rows, columns=list(EVENT_COLUMNS))


def test_renders_the_layers_model_build_makes(basemap, factions, tmp_path):
    from PIL import Image

    from geo_control.model import build

    settings = Settings(region="Deir-ez-Zor", map_width_px=800, gif_width_px=400)
    layers = build(_events_table(), basemap, settings, factions)
    assert layers.steps and len(layers.control)
    files = render_all(layers, basemap, settings, factions, tmp_path)
    maps = [p for p in files if p.parent.name == "maps"]
    assert [p.stem for p in maps] == [s.label for s in layers.steps]
    held = layers.control[layers.control["faction"] == "government"]
    step = str(held["step"].iloc[-1])
    img = np.asarray(Image.open(tmp_path / "maps" / f"{step}.png").convert("RGB")).astype(float)
    target = _expected_fill(factions.colour("government"), 0.45)
    close = np.linalg.norm(img - target, axis=2) < 20
    assert close.sum() > 50  # government fill is on the map


def test_layers_with_nothing_in_them_still_render(basemap, factions, tmp_path):
    import datetime as dt

    import pandas as pd

    from geo_control.records import STATS_COLUMNS, Layers, Step

    def empty():
        return gpd.GeoDataFrame({"step": []}, geometry=[], crs="EPSG:4326")

    steps = [Step("2017-W01", dt.date(2017, 1, 2), dt.date(2017, 1, 9))]
    layers = Layers(steps=steps, places=empty(), events=empty(), control=empty(), frontlines=empty(),
                    advances=empty(), changes=empty(), stats=pd.DataFrame(columns=list(STATS_COLUMNS)))
    files = render_all(layers, basemap, Settings(map_width_px=700, gif_width_px=400), factions, tmp_path)
    assert {p.name for p in files} >= {"2017-W01.png", "2017-W01.tif", "control.gif", "map.html", "stats.png"}


@pytest.mark.chromium
@pytest.mark.skipif(_chromium() is None, reason="headless Chromium is not installed (apt-get install chromium)")
def test_hostile_sentence_shows_as_text_in_an_open_popup(rendered, tmp_path):
    out, _ = rendered
    page = (out / "map.html").read_text(encoding="utf-8")
    name = re.search(r"var (map_\w+) = L\.map\(", page).group(1)
    # Go to the first week, open every popup that carries the hostile sentence, and mark the body.
    probe = f"""<script>
    setTimeout(function () {{
      var m = {name};
      m.timeDimension.setCurrentTime(m.timeDimension.getAvailableTimes()[0]);
      setTimeout(function () {{
        var found = 0;
        m.eachLayer(function (l) {{
          var p = l.getPopup && l.getPopup();
          if (p && String(p.getContent()).indexOf("alert") >= 0) {{ l.openPopup(); found += 1; }}
        }});
        document.body.setAttribute("data-hostile-popups", String(found));
      }}, 400);
    }}, 400);
    </script></html>"""
    probed = tmp_path / "probe.html"
    probed.write_text(page.replace("</html>", probe), encoding="utf-8")
    with tempfile.TemporaryDirectory() as profile:
        res = subprocess.run(
            [_chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
             f"--user-data-dir={profile}", "--virtual-time-budget=5000", "--dump-dom", probed.as_uri()],
            capture_output=True, text=True, timeout=120, check=False)
    dom = res.stdout
    assert re.search(r'data-hostile-popups="[1-9]', dom), res.stderr[-500:]
    assert "leaflet-popup-content" in dom
    assert "&lt;script&gt;alert" in dom  # shown as text
    assert "<img src=\"x\"" not in dom and "onerror=\"alert" not in dom  # never an element

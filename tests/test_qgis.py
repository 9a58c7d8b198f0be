"""Our outputs in real QGIS (Debian's qgis + python3-qgis), driven in a separate process.

The venv has no ``qgis.core``; Debian's /usr/bin/python3 does. ``tests/qgis_probe.py`` opens
the GeoPackage and the project there (offscreen) and reports what QGIS sees as JSON.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from export_layers import ABU_KAMAL, MAYADIN, W44, W45, synthetic_layers  # noqa: E402

from geo_control import style  # noqa: E402
from geo_control.basemap import load_basemap  # noqa: E402
from geo_control.export import LAYER_NAMES, write_geopackage, write_qgis_project  # noqa: E402
from geo_control.factions import FactionRegistry  # noqa: E402
from geo_control.settings import data_dir  # noqa: E402

SYSTEM_PYTHON = "/usr/bin/python3"
PROBE = Path(__file__).parent / "qgis_probe.py"
DATED = set(LAYER_NAMES)


def _qgis_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "PROJ_LIB", "PROJ_DATA",
                                                             "GDAL_DATA", "VIRTUAL_ENV")}
    env["QT_QPA_PLATFORM"] = "offscreen"
    return env


def _qgis_missing() -> str | None:
    if not Path(SYSTEM_PYTHON).exists():
        return f"{SYSTEM_PYTHON} not found (Debian's python3 with python3-qgis is needed)"
    probe = subprocess.run([SYSTEM_PYTHON, "-c", "import qgis.core"], capture_output=True, text=True,
                           env=_qgis_env(), timeout=120)
    if probe.returncode != 0:
        return "QGIS is not installed: apt-get install qgis python3-qgis qgis-providers (import qgis.core failed)"
    return None


_REASON = _qgis_missing()
pytestmark = [pytest.mark.qgis, pytest.mark.skipif(_REASON is not None, reason=_REASON or "")]

EXTENT = [40.2, 34.3, 41.1, 35.5]
#: Inside the Mayadin control square, away from the place marker, its label and the advance.
MAYADIN_PROBE = [MAYADIN[0] - 0.09, MAYADIN[1] - 0.09]
#: On the west edges of the besieged SDF square and the held Mayadin square (2017-W45).
SDF_EDGE = [40.8, 35.3]
MAYADIN_EDGE = [MAYADIN[0] - 0.12, MAYADIN[1] - 0.06]


def _heatmaps(folder: Path) -> list[Path]:
    import rasterio
    from affine import Affine

    (folder / "heatmaps").mkdir()
    paths = []
    for i, step in enumerate([W44, W45]):
        grid = np.zeros((40, 40), "float32")
        grid[30:38, 30 - i * 10:38 - i * 10] = 1.0 + i  # south-east of the probes
        path = folder / "heatmaps" / f"{step.label}.tif"
        with rasterio.open(path, "w", driver="GTiff", width=40, height=40, count=1, dtype="float32",
                           crs="EPSG:4326", transform=Affine(0.03, 0, 40.2, 0, -0.03, 35.5), nodata=-9999) as dst:
            dst.write(grid, 1)
        paths.append(path)
    return paths


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    out = tmp_path_factory.mktemp("qgis")
    factions = FactionRegistry.default()
    layers = synthetic_layers()
    write_geopackage(layers, factions, out / "control.gpkg")
    tifs = _heatmaps(out)
    write_qgis_project(layers, factions, out, tifs, basemap=load_basemap(data_dir()))
    renders = [
        {"from_project": True, "extent": EXTENT, "start": f"{s.start}T00:00:00Z", "end": f"{s.end}T00:00:00Z",
         "png": str(out / f"{s.label}.png"), "probes": [MAYADIN_PROBE, list(MAYADIN), SDF_EDGE, MAYADIN_EDGE]}
        for s in (W44, W45)
    ]
    request = {"gpkg": str(out / "control.gpkg"), "layers": list(LAYER_NAMES), "project": str(out / "control.qgs"),
               "rasters": [str(t) for t in tifs], "renders": renders, "controller": True}
    (out / "request.json").write_text(json.dumps(request))
    done = subprocess.run([SYSTEM_PYTHON, str(PROBE), str(out / "request.json")], capture_output=True, text=True,
                          env=_qgis_env(), timeout=300, cwd=out)
    assert done.stdout.strip(), f"QGIS probe printed nothing: {done.stderr[-2000:]}"
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_every_layer_valid_with_its_default_style(report):
    for name in LAYER_NAMES:
        info = report["layers"][name]
        assert info["valid"], name
        assert info["default_style_loaded"], (name, info["default_style_message"])
    layers = report["layers"]
    assert layers["control"]["renderer"] == "categorizedSymbol"
    assert layers["control"]["attr"] == "faction"
    assert layers["control"]["categories"]["contested"]["layers"] == ["SimpleFill", "LinePatternFill"]
    assert layers["control"]["categories"]["government"]["colour"][:3] == [192, 57, 43]
    assert set(layers["advances"]["categories"]["isis"]["layers"]) == {"ArrowLine"}
    assert layers["events"]["attr"] == "action"
    assert layers["frontlines"]["symbol_layers"] == ["SimpleLine"]
    assert layers["places"]["labels"] is True


def test_dated_layers_are_time_enabled(report):
    for name in DATED:
        t = report["layers"][name]["temporal"]
        assert t["active"], name
        assert (t["start"], t["end"]) == ("valid_from", "valid_to"), name
        assert report["layers"][name]["valid_from_type"] == "DateTime"


def test_heatmaps_styled_on_open(report):
    for info in report["rasters"].values():
        assert info["valid"] and info["renderer"] == "singlebandpseudocolor"


def test_project_opens_with_every_layer_found(report):
    project = report["project"]
    assert project["read"]
    assert project["crs"] == "EPSG:4326"
    names = [lyr["name"] for lyr in project["layers"]]
    assert names[:6] == ["places", "events", "advances", "frontlines", "changes", "control"]
    assert {"heatmap 2017-W44", "heatmap 2017-W45", "country", "governorates", "rivers"} <= set(names)
    for lyr in project["layers"]:
        assert lyr["found"] and lyr["valid"], lyr
        assert not lyr["source"].startswith("./")  # resolved against the project folder
    assert project["time_start"] == "2017-10-30T00:00:00Z"
    assert project["time_end"] == "2017-11-13T00:00:00Z"
    assert "OpenStreetMap" in project["copyright_label"]


def test_temporal_controller_opens_ready_to_play_the_weeks(report):
    controller = report["controller"]
    assert controller["mode"] == 1  # animated
    assert controller["frames"] == 2
    assert controller["first_frame"] == ["2017-10-30T00:00:00Z", "2017-11-06T00:00:00Z", False]


def _blend(hex_colour: str, alpha: float, under: str) -> np.ndarray:
    top = np.array([int(hex_colour[i:i + 2], 16) for i in (1, 3, 5)], float)
    bottom = np.array([int(under[i:i + 2], 16) for i in (1, 3, 5)], float)
    return alpha * top + (1 - alpha) * bottom


def test_render_at_a_week_shows_the_holders_colour(report):
    factions = FactionRegistry.default()
    alpha, land = style.STATUS_ALPHA["held"], style.BASE["land"]
    expected = {"isis": _blend(factions.colour("isis"), alpha, land),
                "government": _blend(factions.colour("government"), alpha, land)}
    w44, w45 = (np.array(r["pixels"][0][:3], float) for r in report["renders"])
    for r in report["renders"]:
        assert r["errors"] == []

    def nearest(px):
        return min(expected, key=lambda f: np.abs(expected[f] - px).sum())

    assert nearest(w44) == "isis", w44
    assert nearest(w45) == "government", w45
    assert np.abs(expected["government"] - w45).max() < 12  # only last week's area, not both


def test_place_markers_take_the_holders_colour(report):
    # The marker at Mayadin is drawn with its faction's colour (a data-defined fill).
    factions = FactionRegistry.default()
    w44, w45 = (np.array(r["pixels"][1][:3], float) for r in report["renders"])
    isis = np.array([int(factions.colour("isis")[i:i + 2], 16) for i in (1, 3, 5)], float)
    gov = np.array([int(factions.colour("government")[i:i + 2], 16) for i in (1, 3, 5)], float)
    assert np.abs(w44 - isis).max() < 20, w44
    assert np.abs(w45 - gov).max() < 20, w45


@pytest.fixture(scope="module")
def model_report(tmp_path_factory):
    """The model's own layers (geo_control.model.build on the synthetic events) in QGIS."""
    from export_layers import events_frame

    from geo_control.model import build
    from geo_control.settings import Settings

    out = tmp_path_factory.mktemp("qgis_model")
    factions = FactionRegistry.default()
    layers = build(events_frame(), load_basemap(data_dir()), Settings(), factions)
    write_geopackage(layers, factions, out / "control.gpkg")
    # Abu Kamal is held by IS in W44 (a 'hold' on Nov 2); Mayadin is captured in W45.
    probes = {"2017-W44": [ABU_KAMAL[0] - 0.025, ABU_KAMAL[1] - 0.025],
              "2017-W45": [MAYADIN[0] - 0.025, MAYADIN[1] - 0.025]}
    renders = [{"layers": ["control"], "extent": EXTENT, "start": f"{s.start}T00:00:00Z",
                "end": f"{s.end}T00:00:00Z", "probes": [probes[s.label]]} for s in (W44, W45)]
    request = {"gpkg": str(out / "control.gpkg"), "layers": list(LAYER_NAMES), "renders": renders}
    (out / "request.json").write_text(json.dumps(request))
    done = subprocess.run([SYSTEM_PYTHON, str(PROBE), str(out / "request.json")], capture_output=True, text=True,
                          env=_qgis_env(), timeout=300, cwd=out)
    assert done.stdout.strip(), f"QGIS probe printed nothing: {done.stderr[-2000:]}"
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_model_layers_open_styled_and_time_enabled(model_report):
    for name in LAYER_NAMES:
        info = model_report["layers"][name]
        assert info["valid"] and info["default_style_loaded"], name
        assert info["temporal"]["active"], name
    white = np.array([255, 255, 255], float)
    factions = FactionRegistry.default()
    alpha = style.STATUS_ALPHA["held"]
    expected = {f: _blend(factions.colour(f), alpha, "#ffffff") for f in ("isis", "government")}
    for render, holder in zip(model_report["renders"], ("isis", "government"), strict=True):
        px = np.array(render["pixels"][0][:3], float)
        assert np.abs(px - white).max() > 20, f"nothing drawn where {holder} holds"
        assert min(expected, key=lambda f: np.abs(expected[f] - px).sum()) == holder, px


def test_besieged_areas_have_a_black_edge_held_ones_their_colour(report):
    w45 = report["renders"][1]["pixels"]
    besieged_edge, held_edge = np.array(w45[2][:3], float), np.array(w45[3][:3], float)
    assert besieged_edge.max() < 60, besieged_edge
    assert held_edge.min() > 100 and held_edge[0] > held_edge[1] + 30, held_edge  # red, not black

"""geo-control render (from a GeoPackage) and geo-control animate (from a folder of PNGs)."""

from __future__ import annotations

import subprocess
import sys

import pytest
from render_synthetic import synthetic_layers

from geo_control.basemap import load_basemap
from geo_control.render.io import read_layers
from geo_control.settings import data_dir


def geo_control(*args):
    return subprocess.run([sys.executable, "-m", "geo_control", *args], capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def gpkg(tmp_path_factory):
    layers = synthetic_layers(load_basemap(data_dir()), 2)
    path = tmp_path_factory.mktemp("gpkg") / "control.gpkg"
    for name in ("places", "events", "control", "frontlines", "advances"):
        gdf = getattr(layers, name).copy()
        for col in ("date", "doc_date"):
            if col in gdf:
                gdf[col] = gdf[col].astype(str)
        gdf.to_file(path, layer=name, driver="GPKG")
    return path, layers


def test_read_layers_gives_back_steps_and_areas(gpkg):
    path, layers = gpkg
    back = read_layers(path)
    assert [(s.label, s.start, s.end) for s in back.steps] == [(s.label, s.start, s.end) for s in layers.steps]
    assert len(back.control) == len(layers.control)
    assert set(back.stats["faction"]) == set(layers.control["faction"])
    assert back.control.crs.to_epsg() == 4326


def test_render_command_writes_maps_for_a_region(gpkg, tmp_path):
    path, layers = gpkg
    res = geo_control("render", str(path), "--out", str(tmp_path / "r"), "--region", "Deir ez Zor", "--width", "800", "--format", "svg",
                      "--no-progress")
    assert res.returncode == 0, res.stderr
    assert sorted(p.stem for p in (tmp_path / "r" / "maps").glob("*.png")) == [s.label for s in layers.steps]
    assert (tmp_path / "r" / "map.html").exists() and (tmp_path / "r" / "control.gif").exists()
    assert len(list((tmp_path / "r" / "maps").glob("*.svg"))) == len(layers.steps)
    res = geo_control("animate", str(tmp_path / "r" / "maps"), "--out", str(tmp_path / "a.gif"), "--width", "400")
    assert res.returncode == 0, res.stderr
    assert (tmp_path / "a.gif").stat().st_size > 1000


@pytest.mark.parametrize("args, message", [
    (["render", "missing.gpkg", "--out", "x"], "GeoPackage not found"),
    (["animate", "no_such_dir"], "not a folder"),
])
def test_render_and_animate_errors_are_one_line(args, message, tmp_path):
    res = subprocess.run([sys.executable, "-m", "geo_control", *args], capture_output=True, text=True, cwd=tmp_path,
                         timeout=120)
    assert res.returncode == 2
    assert message in res.stderr and "Traceback" not in res.stderr

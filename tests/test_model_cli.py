"""geo-control build: events.csv (+ a baseline) -> control.gpkg, and one-line errors."""

from __future__ import annotations

import subprocess
import sys

import geopandas as gpd
import pandas as pd
import pyogrio
import shapely

from geo_control.records import EVENT_COLUMNS


def geo_control(*args):
    return subprocess.run([sys.executable, "-m", "geo_control", *args], capture_output=True, text=True, timeout=300)


def write_events(path):
    rows = []
    for i, (date, fac, action, place, lat, lon) in enumerate([
        ("2017-10-02", "government", "capture", "Mayadin", 35.0188, 40.4526),
        ("2017-10-10", "isis", "capture", "Mayadin", 35.0188, 40.4526),
        ("2017-10-11", "isis", "hold", "Abu Kamal", 34.4525, 40.9187),
    ]):
        row = {c: "" for c in EVENT_COLUMNS}
        row.update(id=f"ev-{i}", doc="r.txt", doc_date=date, date=date, date_precision="day", actor=fac,
                   faction=fac, action=action, place=place, place_id=place, place_name=place, lat=lat, lon=lon,
                   precision=1, uncertainty_km=1, modality="asserted", confidence=0.9, sentence="s",
                   start=i, end=i + 1)
        rows.append(row)
    pd.DataFrame(rows, columns=list(EVENT_COLUMNS)).to_csv(path, index=False)


def test_build_writes_the_geopackage_and_continues_from_it(tmp_path):
    write_events(tmp_path / "events.csv")
    res = geo_control("build", str(tmp_path / "events.csv"), "--out", str(tmp_path / "control.gpkg"))
    assert res.returncode == 0, res.stderr
    layers = {name for name, _ in pyogrio.list_layers(tmp_path / "control.gpkg")}
    assert {"places", "events", "control", "frontlines", "advances", "changes"} <= layers
    control = gpd.read_file(tmp_path / "control.gpkg", layer="control")
    assert control[control["step"] == "2017-W41"]["faction"].tolist() == ["isis"]
    # Next week's run continues from this map.
    res = geo_control("build", str(tmp_path / "events.csv"), "--out", str(tmp_path / "next.gpkg"),
                      "--baseline", str(tmp_path / "control.gpkg"), "--from", "2017-10-16", "--to", "2017-10-22")
    assert res.returncode == 0, res.stderr
    control = gpd.read_file(tmp_path / "next.gpkg", layer="control")
    assert control["step"].unique().tolist() == ["2017-W42"]
    assert sorted(control["faction"]) == ["isis"]
    assert control.geometry.iloc[0].contains(shapely.Point(40.4526, 35.0188))


def test_build_errors_are_one_line(tmp_path):
    write_events(tmp_path / "events.csv")
    gpd.GeoDataFrame({"who": ["x"]}, geometry=[shapely.box(38, 34, 39, 35)], crs="EPSG:4326").to_file(
        tmp_path / "base.geojson")
    for args, needle in [
        ([str(tmp_path / "missing.csv")], "events file not found"),
        ([str(tmp_path / "events.csv"), "--baseline", str(tmp_path / "base.geojson")], "no faction column"),
        ([str(tmp_path / "events.csv"), "--baseline", str(tmp_path / "nope.gpkg")], "baseline not found"),
    ]:
        res = geo_control("build", *args, "--out", str(tmp_path / "c.gpkg"))
        assert res.returncode == 2
        lines = [ln for ln in res.stderr.splitlines() if "error" in ln]
        assert len(lines) == 1 and needle in lines[0], res.stderr

"""Export: atomic output folder, deterministic tables, GeoPackage layers and styles, run.json."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import sys
from pathlib import Path

import pandas as pd
import pyogrio
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from export_layers import W44, W45, empty_layers, events_frame, synthetic_layers  # noqa: E402

from geo_control.errors import OutputError  # noqa: E402
from geo_control.export import (  # noqa: E402
    LAYER_NAMES,
    staged_output,
    write_geopackage,
    write_run_json,
    write_tables,
)
from geo_control.records import EVENT_COLUMNS, STATS_COLUMNS, UNRESOLVED_COLUMNS, Document  # noqa: E402
from geo_control.settings import Settings  # noqa: E402


@pytest.fixture(scope="module")
def layers():
    return synthetic_layers()


@pytest.fixture(scope="module")
def gpkg(tmp_path_factory, layers, factions):
    return write_geopackage(layers, factions, tmp_path_factory.mktemp("gpkg") / "control.gpkg")


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


# -- staged_output ------------------------------------------------------------------------
def test_staged_output_moves_files_and_folders_into_place(tmp_path):
    out = tmp_path / "out"
    with staged_output(out) as stage:
        (stage / "events.csv").write_text("new\n")
        (stage / "maps").mkdir()
        (stage / "maps" / "2017-W45.png").write_bytes(b"png")
    assert (out / "events.csv").read_text() == "new\n"
    assert (out / "maps" / "2017-W45.png").read_bytes() == b"png"
    assert [p.name for p in out.iterdir() if p.name.startswith(".")] == []


def test_staged_output_swaps_folders_whole(tmp_path):
    out = tmp_path / "out"
    (out / "maps").mkdir(parents=True)
    (out / "maps" / "2017-W01.png").write_bytes(b"old week")
    with staged_output(out) as stage:
        (stage / "maps").mkdir()
        (stage / "maps" / "2017-W45.png").write_bytes(b"new week")
    assert sorted(p.name for p in (out / "maps").iterdir()) == ["2017-W45.png"]


def test_exception_in_staged_output_leaves_previous_outputs_byte_identical(tmp_path):
    out = tmp_path / "out"
    (out / "maps").mkdir(parents=True)
    (out / "events.csv").write_text("previous run\n")
    (out / "maps" / "2017-W44.png").write_bytes(b"\x89PNG previous")
    (out / "notes.txt").write_text("the user's own file")
    before = _snapshot(out)
    with pytest.raises(RuntimeError), staged_output(out) as stage:
        (stage / "events.csv").write_text("half-written")
        (stage / "maps").mkdir()
        raise RuntimeError("stage failed")
    assert _snapshot(out) == before
    assert sorted(p.name for p in out.iterdir()) == ["events.csv", "maps", "notes.txt"]


def test_success_keeps_files_it_did_not_produce(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    with staged_output(out) as stage:
        (stage / "run.json").write_text("{}")
    assert (out / "notes.txt").read_text() == "mine"
    assert (out / "run.json").exists()


def test_unwritable_out_dir_is_one_line_output_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(OutputError) as err, staged_output(blocker / "out"):
        pass
    assert "\n" not in str(err.value) and str(blocker) in str(err.value)


def test_stale_staging_of_a_dead_process_is_cleaned(tmp_path):
    out = tmp_path / "out"
    stale = out / ".geo-control-staging-999999999"
    stale.mkdir(parents=True)
    with staged_output(out) as stage:
        (stage / "a.txt").write_text("a")
    assert not stale.exists()


# -- tables ---------------------------------------------------------------------------------
def test_tables_have_contract_columns_and_are_byte_identical(tmp_path, layers):
    unresolved = pd.DataFrame([{"doc": "a.txt", "doc_date": dt.date(2017, 11, 3), "place": "Tabiyah",
                                "reason": "no match", "candidates": ["Tabiyah Jazirah", "Tabiyah Shamiyah"]}])
    a = write_tables(events_frame(), unresolved, layers.stats, tmp_path / "a")
    b = write_tables(events_frame().copy(), unresolved.copy(), layers.stats.copy(), tmp_path / "b")
    assert [p.name for p in a] == ["events.csv", "events.geojson", "unresolved.csv", "stats.csv"]
    for pa, pb in zip(a, b, strict=True):
        assert pa.read_bytes() == pb.read_bytes()
    assert pd.read_csv(a[0]).columns.tolist() == list(EVENT_COLUMNS)
    assert pd.read_csv(a[2]).columns.tolist() == list(UNRESOLVED_COLUMNS)
    stats = pd.read_csv(a[3])
    assert stats.columns.tolist() == list(STATS_COLUMNS)
    assert stats["valid_from"].tolist()[0] == "2017-10-30T00:00:00Z"
    assert "900.123457" in a[3].read_text()  # fixed decimals
    assert "Tabiyah Jazirah;Tabiyah Shamiyah" in a[2].read_text()


def test_events_geojson_points_and_property_order(tmp_path):
    (path,) = [p for p in write_tables(events_frame(), None, None, tmp_path) if p.suffix == ".geojson"]
    fc = json.loads(path.read_text(encoding="utf-8"))
    assert len(fc["features"]) == 3
    f = fc["features"][1]
    assert list(f["properties"]) == list(EVENT_COLUMNS)
    assert f["geometry"] == {"type": "Point", "coordinates": [40.4517, 35.0207]}  # lon, lat
    assert fc["features"][2]["properties"]["sentence"].endswith("«شرق».")
    assert fc["features"][0]["properties"]["distance_km"] is None


# -- GeoPackage -----------------------------------------------------------------------------
def test_gpkg_has_all_layers_with_geometry_types(gpkg):
    layers = dict(pyogrio.list_layers(gpkg))
    assert list(layers) == [*LAYER_NAMES, "layer_styles"]
    assert layers["control"] == "MultiPolygon"
    assert layers["frontlines"] == "MultiLineString"
    assert layers["advances"] == "LineString"
    assert layers["places"] == layers["events"] == "Point"
    assert layers["layer_styles"] is None


def test_gpkg_version_and_tz_aware_datetimes(gpkg):
    con = sqlite3.connect(gpkg)
    assert con.execute("PRAGMA user_version").fetchone()[0] == 10200  # GeoPackage 1.2
    for name in LAYER_NAMES:
        df = pyogrio.read_dataframe(gpkg, layer=name)
        assert str(df["valid_from"].dt.tz) == "UTC", name
        assert df.crs.to_epsg() == 4326
    control = pyogrio.read_dataframe(gpkg, layer="control")
    assert control["valid_from"].min() == pd.Timestamp(W44.start.isoformat(), tz="UTC")
    assert control["valid_to"].max() == pd.Timestamp(W45.end.isoformat(), tz="UTC")
    assert "isis;government" in control["factions"].tolist()
    places = pyogrio.read_dataframe(gpkg, layer="places")
    assert places["event_ids"].iloc[1] == "ev-0000000000000001"


def test_layer_styles_rows_follow_qgis_layout(gpkg):
    con = sqlite3.connect(gpkg)
    rows = con.execute(
        "SELECT f_table_catalog, f_table_schema, f_table_name, f_geometry_column, useAsDefault, styleQML "
        "FROM layer_styles ORDER BY id"
    ).fetchall()
    assert [r[2] for r in rows] == list(LAYER_NAMES)
    geom_col = pyogrio.read_info(gpkg, layer="control")["geometry_name"]
    for catalog, schema, _name, geom, default, qml in rows:
        assert catalog == "" and schema == ""  # empty, not NULL
        assert geom == geom_col
        assert default == 1
        assert "<temporal enabled=\"1\"" in qml and 'startField="valid_from"' in qml
        assert 'endField="valid_to"' in qml
    qml = dict((r[2], r[5]) for r in rows)
    assert 'class="LinePatternFill"' in qml["control"]
    assert 'class="ArrowLine"' in qml["advances"]
    assert 'fieldName="place_name"' in qml["places"]
    assert "192,57,43" in qml["control"]  # government colour from the registry


def test_arrow_and_row_writers_give_the_same_layers(tmp_path, factions, layers, monkeypatch):
    from geo_control.export import gpkg as gpkg_module

    assert gpkg_module._arrow()  # pyarrow is a dependency: the fast path is the one used
    fast = write_geopackage(layers, factions, tmp_path / "arrow.gpkg")
    monkeypatch.setattr(gpkg_module, "_arrow", lambda: False)
    rows = write_geopackage(layers, factions, tmp_path / "rows.gpkg")
    for name in LAYER_NAMES:
        a = pyogrio.read_dataframe(fast, layer=name)
        b = pyogrio.read_dataframe(rows, layer=name)
        assert list(a.columns) == list(b.columns), name
        assert a.dtypes.equals(b.dtypes), name
        pd.testing.assert_frame_equal(pd.DataFrame(a.drop(columns="geometry")),
                                      pd.DataFrame(b.drop(columns="geometry")), obj=name)
        assert a.geometry.to_wkb().tolist() == b.geometry.to_wkb().tolist(), name
        assert pyogrio.read_info(fast, layer=name)["geometry_type"] == pyogrio.read_info(rows, layer=name)[
            "geometry_type"], name


def test_empty_layers_keep_schema(tmp_path, factions):
    path = write_geopackage(empty_layers(), factions, tmp_path / "control.gpkg")
    layers = dict(pyogrio.list_layers(path))
    assert layers["control"] == "MultiPolygon"
    info = pyogrio.read_info(path, layer="control")
    assert info["features"] == 0
    assert {"faction", "status", "valid_from", "valid_to"} <= set(info["fields"])


def test_gpkg_written_atomically_on_failure(tmp_path, factions, layers):
    path = tmp_path / "control.gpkg"
    path.write_bytes(b"previous")
    broken = synthetic_layers()
    broken.control = "not a frame"  # type: ignore[assignment]
    with pytest.raises(Exception):  # noqa: B017 - whatever fails, the old file stays
        write_geopackage(broken, factions, path)
    assert path.read_bytes() == b"previous"
    assert [p.name for p in tmp_path.iterdir()] == ["control.gpkg"]


# -- run.json -------------------------------------------------------------------------------
def test_run_json_is_deterministic_and_counts(tmp_path, layers):
    doc = Document("a.txt", "text", dt.date(2017, 11, 3), "manifest", "ab" * 32, path="seeds/a.txt")
    events = events_frame()
    a = write_run_json(tmp_path / "a.json", ["seeds"], [doc], Settings(), events, pd.DataFrame(), layers)
    b = write_run_json(tmp_path / "b.json", ["seeds"], [doc], Settings(), events, pd.DataFrame(), layers)
    assert a.read_bytes() == b.read_bytes()
    info = json.loads(a.read_text())
    assert info["documents"][0]["sha256"] == "ab" * 32
    assert info["counts"]["events_by_action"]["capture"] == 1
    assert info["counts"]["steps"] == 2
    assert info["parameters"]["projected_crs"] == "EPSG:22770"
    assert info["version"]


# -- QGIS project (structure; tests/test_qgis.py opens it in real QGIS) ---------------------
def test_gpkg_and_project_are_byte_identical_for_the_same_inputs(tmp_path, factions):
    from geo_control.export import write_qgis_project

    outputs = []
    for name in ("a", "b"):
        folder = tmp_path / name
        folder.mkdir()
        gpkg_path = write_geopackage(synthetic_layers(), factions, folder / "control.gpkg")
        (project,) = write_qgis_project(synthetic_layers(), factions, folder, [])
        outputs.append((gpkg_path.read_bytes(), project.read_bytes()))
    assert outputs[0] == outputs[1]


def test_project_references_layers_relatively_in_drawing_order(tmp_path, factions, layers):
    import xml.etree.ElementTree as ET

    from geo_control.basemap import load_basemap
    from geo_control.export import write_qgis_project
    from geo_control.settings import data_dir

    write_geopackage(layers, factions, tmp_path / "control.gpkg")
    paths = write_qgis_project(layers, factions, tmp_path, [], basemap=load_basemap(data_dir()))
    assert [p.name for p in paths] == ["control.qgs", "basemap.gpkg"]
    root = ET.parse(tmp_path / "control.qgs").getroot()
    sources = [n.get("source") for n in root.iter("layer-tree-layer")]
    assert sources[:6] == [f"./control.gpkg|layername={n}" for n in
                           ("places", "events", "advances", "frontlines", "changes", "control")]
    assert all(s.startswith("./") for s in sources)
    ts = root.find("ProjectTimeSettings")
    assert ts is not None and ts.get("timeStepUnit") == "wk"
    assert ts.findtext("TemporalRange/start") == "2017-10-30T00:00:00Z"
    assert ts.findtext("TemporalRange/end") == "2017-11-13T00:00:00Z"
    assert "OpenStreetMap" in (root.findtext("projectMetadata/rights") or "")
    base = dict(pyogrio.list_layers(tmp_path / "basemap.gpkg"))
    assert {"base_country", "base_governorates", "base_rivers"} <= set(base)

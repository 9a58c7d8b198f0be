"""geo-control export: other formats round-trip the layers of control.gpkg."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import pandas as pd
import pyogrio
import pytest
from click.testing import CliRunner

sys.path.insert(0, str(Path(__file__).parent))
from export_layers import synthetic_layers  # noqa: E402

from geo_control.cli import cli  # noqa: E402
from geo_control.errors import InputError, MissingInputError  # noqa: E402
from geo_control.export import LAYER_NAMES, export_layers, write_geopackage  # noqa: E402
from geo_control.export.formats import shapefile_names  # noqa: E402
from geo_control.factions import FactionRegistry  # noqa: E402


@pytest.fixture(scope="module")
def gpkg(tmp_path_factory):
    return write_geopackage(synthetic_layers(), FactionRegistry.default(),
                            tmp_path_factory.mktemp("src") / "control.gpkg")


def test_flatgeobuf_keeps_row_order_and_datetimes(gpkg, tmp_path):
    paths = export_layers(gpkg, "fgb", tmp_path)
    assert sorted(p.name for p in paths) == sorted(f"{n}.fgb" for n in LAYER_NAMES)
    for name in LAYER_NAMES:
        src = pyogrio.read_dataframe(gpkg, layer=name)
        out = pyogrio.read_dataframe(tmp_path / f"{name}.fgb")
        assert out["step"].tolist() == src["step"].tolist(), name
        assert out.geometry.geom_equals_exact(src.geometry, 1e-9).all(), name
    control = pyogrio.read_dataframe(tmp_path / "control.fgb")
    assert pd.api.types.is_datetime64_any_dtype(control["valid_from"])


def test_geojson_round_trip(gpkg, tmp_path):
    export_layers(gpkg, "geojson", tmp_path)
    src = pyogrio.read_dataframe(gpkg, layer="control")
    out = pyogrio.read_dataframe(tmp_path / "control.geojson")
    assert out["faction"].tolist() == src["faction"].tolist()
    assert out.crs.to_epsg() == 4326


def test_shapefile_dates_as_text_and_short_names_with_warnings(gpkg, tmp_path, caplog):
    with caplog.at_level(logging.WARNING, logger="geo_control"):
        export_layers(gpkg, "shp", tmp_path)
    events = pyogrio.read_dataframe(tmp_path / "events.shp")
    assert "uncertaint" in events.columns
    assert all(len(c) <= 10 for c in events.columns)
    assert events["valid_from"].iloc[0] == "2017-10-30T00:00:00Z"
    assert events["sentence"].iloc[2].endswith("«شرق».")  # UTF-8 survives dBASE
    text = caplog.text
    assert "ISO 8601" in text and "10 characters" in text


def test_csv_has_wkt(gpkg, tmp_path):
    export_layers(gpkg, "csv", tmp_path)
    df = pd.read_csv(tmp_path / "advances.csv")
    assert df["wkt"].iloc[0].startswith("LINESTRING")


def test_gpkg_copy_keeps_styles(gpkg, tmp_path):
    (path,) = export_layers(gpkg, "gpkg", tmp_path)
    assert path.read_bytes() == Path(gpkg).read_bytes()


def test_shapefile_names_are_unique_and_deterministic():
    cols = ["abcdefghijkl", "abcdefghijxx", "abcdefghijyy"]
    assert list(shapefile_names(cols).values()) == ["abcdefghij", "abcdefghi1", "abcdefghi2"]


def test_errors_are_typed(tmp_path, gpkg):
    with pytest.raises(MissingInputError):
        export_layers(tmp_path / "missing.gpkg", "fgb", tmp_path / "o")
    with pytest.raises(InputError):
        export_layers(gpkg, "kml", tmp_path / "o")
    bad = tmp_path / "bad.gpkg"
    bad.write_text("not a database")
    with pytest.raises(InputError):
        export_layers(bad, "fgb", tmp_path / "o")


def test_cli_export(gpkg, tmp_path):
    result = CliRunner().invoke(cli, ["export", str(gpkg), "--format", "fgb", "--out", str(tmp_path / "o")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "o" / "control.fgb").exists()


def test_shapefile_cuts_long_text_on_a_character_boundary(tmp_path, caplog):
    layers = synthetic_layers()
    layers.control["event_ids"] = [[f"ev-{i:016d}" for i in range(30)]] * len(layers.control)
    layers.events["sentence"] = "«شرق» " * 100
    src = write_geopackage(layers, FactionRegistry.default(), tmp_path / "control.gpkg")
    with caplog.at_level(logging.WARNING, logger="geo_control"):
        export_layers(src, "shp", tmp_path / "shp")
    events = pyogrio.read_dataframe(tmp_path / "shp" / "events.shp")
    assert 0 < len(events["sentence"].iloc[0].encode("utf-8")) <= 254
    assert "254 bytes" in caplog.text

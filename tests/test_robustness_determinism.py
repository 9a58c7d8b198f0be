"""Determinism: the same inputs give byte-identical tables and the same GeoPackage features.

The two reference runs are separate processes with different hash seeds, into different
folders (one of them already holding the user's files), so neither set order nor paths may leak.
"""

from __future__ import annotations

import pandas as pd
import pytest
from test_robustness_support import reference_runs

TABLES = ("events.csv", "events.geojson", "unresolved.csv", "stats.csv")


@pytest.fixture(scope="module")
def ref(tmp_path_factory):
    return reference_runs(tmp_path_factory.mktemp("robust_ref"))


@pytest.mark.parametrize("name", TABLES)
def test_tables_are_byte_identical(ref, name):
    a, b = (ref["first"] / name).read_bytes(), (ref["second"] / name).read_bytes()
    assert a == b, f"{name} differs between two runs on the same inputs"
    if name != "unresolved.csv":
        assert a.count(b"\n") > 1, f"{name} is empty: nothing was compared"


def _features(path, layer: str) -> pd.DataFrame:
    import pyogrio

    gdf = pyogrio.read_dataframe(path, layer=layer)
    df = pd.DataFrame(gdf.drop(columns="geometry", errors="ignore"))
    if "geometry" in gdf.columns:
        df["wkb"] = gdf.geometry.to_wkb(hex=True) if len(gdf) else pd.Series(dtype=str)
    return df.sort_values(list(df.columns)).reset_index(drop=True)


def test_geopackage_has_the_same_features(ref):
    import pyogrio

    a, b = ref["first"] / "control.gpkg", ref["second"] / "control.gpkg"
    layers_a = sorted(name for name, _ in pyogrio.list_layers(a))
    assert layers_a == sorted(name for name, _ in pyogrio.list_layers(b))
    for layer in layers_a:
        if layer == "layer_styles":
            continue
        fa, fb = _features(a, layer), _features(b, layer)
        pd.testing.assert_frame_equal(fa, fb, obj=f"layer {layer}")
    assert len(_features(a, "events")) > 0 and len(_features(a, "control")) > 0


def test_same_weekly_files(ref):
    for folder in ("maps", "heatmaps"):
        names_a = sorted(p.name for p in (ref["first"] / folder).iterdir())
        assert names_a and names_a == sorted(p.name for p in (ref["second"] / folder).iterdir())

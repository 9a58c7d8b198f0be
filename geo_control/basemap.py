"""Reference geography shipped in ``data/``: Syria, governorates, districts, neighbours, rivers, lakes.

Loaded once per run and passed to the model (clipping, rivers as lines) and the renderers.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pyogrio

from geo_control.crs import STORAGE_CRS
from geo_control.errors import MissingInputError


@dataclass
class Basemap:
    country: gpd.GeoDataFrame        # Syria outline, one row
    governorates: gpd.GeoDataFrame   # ADM1_EN, ADM1_AR, ADM1_PCODE
    districts: gpd.GeoDataFrame      # NAME_EN, PCODE, ADM1_EN ...
    neighbours: gpd.GeoDataFrame     # countries of the region
    rivers: gpd.GeoDataFrame         # detailed WDB II network (level), plus named NE rivers
    named_rivers: gpd.GeoDataFrame   # Natural Earth rivers with names (Euphrates, Tigris...)
    lakes: gpd.GeoDataFrame
    disputed: gpd.GeoDataFrame


def _read(path: Path) -> gpd.GeoDataFrame:
    if not path.exists():
        raise MissingInputError(f"{path}: reference data missing; restore data/ from the repository")
    gdf = pyogrio.read_dataframe(path)
    return gdf.set_crs(STORAGE_CRS) if gdf.crs is None else gdf.to_crs(STORAGE_CRS)


def load_basemap(data_dir: Path) -> Basemap:
    b, h = data_dir / "boundaries", data_dir / "hydro"
    return Basemap(
        country=_read(b / "syria_adm0_ocha.geojson"),
        governorates=_read(b / "syria_adm1_governorates_ocha.geojson"),
        districts=_read(b / "syria_adm2_districts_ocha2016.geojson"),
        neighbours=_read(b / "countries_osm2017_region.geojson"),
        rivers=_read(h / "gshhg_wdbii_rivers_region.geojson"),
        named_rivers=_read(h / "ne10m_rivers_lake_centerlines_region.geojson"),
        lakes=_read(h / "ne10m_lakes_region.geojson"),
        disputed=_read(b / "ne10m_disputed_areas_region.geojson"),
    )


#: WOF placetypes that make a settlement cell of the control model.
SETTLEMENT_PLACETYPES = ("locality", "neighbourhood")


def load_settlements(data_dir: Path, country: str = "SY") -> gpd.GeoDataFrame:
    """Settlements of ``country`` from the Who's On First gazetteer, as points in EPSG:4326.

    One row per distinct position (columns wof_id, name, gn_id, placetype), sorted by wof_id so
    the cells built from them are the same on every run. Deprecated records
    (``mz_is_current`` 0) are left out.
    """
    import pandas as pd

    path = data_dir / "gazetteer" / "wof_places_syria_region.tsv.gz"
    if not path.exists():
        raise MissingInputError(f"{path}: gazetteer missing; restore data/ from the repository")
    cols = ["wof_id", "placetype", "country", "name", "latitude", "longitude", "gn_id", "mz_is_current"]
    df = pd.read_csv(path, sep="\t", usecols=cols, dtype={"gn_id": "string", "name": "string"},
                     keep_default_na=False, na_values={"latitude": [""], "longitude": [""]})
    df = df[(df["country"] == country) & df["placetype"].isin(SETTLEMENT_PLACETYPES)]
    df = df[(df["mz_is_current"].astype(str) != "0") & df["latitude"].notna() & df["longitude"].notna()]
    df = df.sort_values("wof_id", kind="stable")
    # Two records at one position would give Voronoi a duplicate seed: keep the first by id.
    key = df["latitude"].round(5).astype(str) + "," + df["longitude"].round(5).astype(str)
    df = df[~key.duplicated()].reset_index(drop=True)
    return gpd.GeoDataFrame(
        df[["wof_id", "name", "gn_id", "placetype"]],
        geometry=gpd.points_from_xy(df["longitude"], df["latitude"]),
        crs=STORAGE_CRS,
    )

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

"""Copies of control.gpkg in other formats: GeoJSON, FlatGeobuf, Shapefile, CSV.

- FlatGeobuf is written without its spatial index, which would reorder the rows.
- Shapefile (dBASE) has no datetime type and 10-character field names: datetimes become ISO
  8601 text and names are shortened deterministically; both are logged as warnings.
- CSV carries the geometry as WKT in a ``wkt`` column.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import pandas as pd

from geo_control.errors import InputError, MissingInputError
from geo_control.export.gpkg import LAYER_NAMES
from geo_control.export.staging import staged_output

log = logging.getLogger(__name__)

#: format -> (OGR driver, file extension).
FORMATS = {
    "gpkg": ("GPKG", ".gpkg"),
    "geojson": ("GeoJSON", ".geojson"),
    "fgb": ("FlatGeobuf", ".fgb"),
    "shp": ("ESRI Shapefile", ".shp"),
    "csv": ("CSV", ".csv"),
}


#: dBASE text fields hold at most 254 bytes.
DBF_TEXT_BYTES = 254


def _cut_text(value):
    if not isinstance(value, str):
        return value
    raw = value.encode("utf-8")
    return raw[:DBF_TEXT_BYTES].decode("utf-8", errors="ignore") if len(raw) > DBF_TEXT_BYTES else value


def shapefile_names(columns: list[str], limit: int = 10) -> dict[str, str]:
    """Field names cut to ``limit`` characters, made unique with a numeric suffix, in order.

    >>> shapefile_names(["uncertainty_km", "valid_from", "valid_to", "from_place", "from_faction"])
    {'uncertainty_km': 'uncertaint', 'valid_from': 'valid_from', 'valid_to': 'valid_to', 'from_place': 'from_place', 'from_faction': 'from_facti'}
    >>> shapefile_names(["distance_km_a", "distance_km_b"])
    {'distance_km_a': 'distance_k', 'distance_km_b': 'distance_1'}
    """
    out: dict[str, str] = {}
    used: set[str] = set()
    for col in columns:
        name = col[:limit]
        n = 1
        while name.lower() in used:
            suffix = str(n)
            name = col[: limit - len(suffix)] + suffix
            n += 1
        used.add(name.lower())
        out[col] = name
    return out


def _layer_names(gpkg: Path) -> list[str]:
    import pyogrio

    names = [str(n) for n, _ in pyogrio.list_layers(gpkg)]
    ours = [n for n in LAYER_NAMES if n in names]
    return ours + [n for n in names if n not in ours and n != "layer_styles"]


def _for_shapefile(gdf, layer: str):
    gdf = gdf.copy()
    dated = [c for c in gdf.columns if c != gdf.geometry.name and pd.api.types.is_datetime64_any_dtype(gdf[c])]
    for c in dated:
        gdf[c] = gdf[c].map(lambda t: None if pd.isna(t) else t.strftime("%Y-%m-%dT%H:%M:%SZ"))
    if dated:
        log.warning("%s: Shapefile has no datetime type; %s written as ISO 8601 text (UTC)", layer, ", ".join(dated))
    cut = []
    for c in [c for c in gdf.columns if c != gdf.geometry.name]:
        if not (gdf[c].dtype == object or pd.api.types.is_string_dtype(gdf[c])):
            continue
        if gdf[c].map(lambda v: isinstance(v, str) and len(v.encode("utf-8")) > DBF_TEXT_BYTES).any():
            gdf[c] = gdf[c].map(_cut_text)
            cut.append(c)
    if cut:
        log.warning("%s: Shapefile text is limited to %d bytes; %s cut (the GeoPackage keeps them whole)",
                    layer, DBF_TEXT_BYTES, ", ".join(cut))
    names = shapefile_names([c for c in gdf.columns if c != gdf.geometry.name])
    renamed = {k: v for k, v in names.items() if k != v}
    if renamed:
        log.warning("%s: Shapefile field names are cut to 10 characters: %s", layer,
                    ", ".join(f"{k}->{v}" for k, v in renamed.items()))
        gdf = gdf.rename(columns=renamed)
    return gdf


def export_layers(gpkg: str | Path, fmt: str, out_dir: str | Path) -> list[Path]:
    """Write every layer of ``gpkg`` into ``out_dir`` as ``<layer><ext>`` in format ``fmt``.

    ``gpkg`` copies the GeoPackage (styles included). Files are staged and moved into place.
    Returns the paths written.
    """
    import pyogrio

    gpkg = Path(gpkg)
    if fmt not in FORMATS:
        raise InputError(f"format '{fmt}' is not supported; use one of {', '.join(FORMATS)}")
    if not gpkg.is_file():
        raise MissingInputError(f"{gpkg}: GeoPackage not found; give the control.gpkg written by 'geo-control run'")
    try:
        names = _layer_names(gpkg)
    except Exception as exc:  # GDAL's DataSourceError and friends
        raise InputError(f"{gpkg}: cannot be read as a GeoPackage ({exc}); give a control.gpkg") from None
    driver, ext = FORMATS[fmt]
    out = Path(out_dir)
    written: list[str] = []
    with staged_output(out) as stage:
        if fmt == "gpkg":
            shutil.copyfile(gpkg, stage / gpkg.name)
            written.append(gpkg.name)
        else:
            for layer in names:
                gdf = pyogrio.read_dataframe(gpkg, layer=layer)
                options: dict = {}
                if fmt == "fgb":
                    options["SPATIAL_INDEX"] = "NO"  # keep row order
                elif fmt == "shp":
                    gdf = _for_shapefile(gdf, layer)
                    options["ENCODING"] = "UTF-8"
                elif fmt == "csv":
                    options["GEOMETRY"] = "AS_WKT"
                    options["GEOMETRY_NAME"] = "wkt"
                elif fmt == "geojson":
                    options["RFC7946"] = "YES"
                target = stage / f"{layer}{ext}"
                pyogrio.write_dataframe(gdf, target, layer=layer, driver=driver, layer_options=options or None)
                written += sorted(p.name for p in stage.iterdir() if p.stem == layer)
                log.info("wrote %s (%d rows)", target.name, len(gdf))
    return [out / name for name in written]

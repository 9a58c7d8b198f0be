"""Reading the model's inputs: an events table and a baseline (starting) control map."""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

import geopandas as gpd
import pandas as pd

from geo_control.crs import STORAGE_CRS
from geo_control.errors import BaselineError, InputError, MissingInputError
from geo_control.records import EVENT_COLUMNS

log = logging.getLogger(__name__)

#: Columns a baseline's faction may come under, first found wins.
FACTION_COLUMNS = ("faction", "Faction", "FACTION", "controller", "control", "holder", "side")
_STATUSES = ("held", "contested", "besieged")
_REQUIRED = ("id", "date", "faction", "action", "lat", "lon", "modality")
_TEXT = ("id", "doc", "doc_date", "date", "date_precision", "actor", "faction", "action", "place", "place_id",
         "place_name", "from_place", "target", "modality", "sentence")


def read_events(path: str | Path) -> pd.DataFrame:
    """An ``events.csv`` or ``events.geojson`` (EVENT_COLUMNS) as a DataFrame in that column order.

    Missing optional columns are added empty; missing required ones raise ``InputError``.
    """
    path = Path(path)
    if not path.exists():
        raise MissingInputError(f"{path}: events file not found; give an events.csv or events.geojson")
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            # Every text column as text: a sentence or place written "00" or "1e5" is not a number.
            df = pd.read_csv(path, dtype={c: str for c in _TEXT}, keep_default_na=False,
                             na_values={c: [""] for c in ("lat", "lon", "precision", "uncertainty_km", "distance_km",
                                                          "bearing_deg", "confidence", "start", "end")})
        elif suffix in (".geojson", ".json", ".gpkg", ".fgb"):
            import pyogrio

            gdf = pyogrio.read_dataframe(path, layer="events" if suffix == ".gpkg" else None)
            df = pd.DataFrame(gdf.drop(columns="geometry", errors="ignore"))
            if ("lat" not in df or "lon" not in df) and "geometry" in gdf:
                df["lon"], df["lat"] = gdf.geometry.x, gdf.geometry.y
        else:
            raise InputError(f"{path}: not an events table; give events.csv or events.geojson (columns of DESIGN.md)")
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
        if isinstance(exc, InputError):
            raise
        raise InputError(f"{path}: cannot read the events table ({exc}); write it with geo-control extract/run") \
            from None
    except Exception as exc:  # pyogrio raises its own DataSourceError family
        if exc.__class__.__module__.startswith("pyogrio"):
            raise InputError(f"{path}: cannot read the events file ({exc}); give a valid GeoJSON") from None
        raise
    missing = [c for c in _REQUIRED if c not in df.columns]
    if missing:
        raise InputError(f"{path}: events table lacks column(s) {', '.join(missing)}; "
                         "use the events.csv written by geo-control run/extract")
    for c in EVENT_COLUMNS:
        if c not in df.columns:
            df[c] = pd.NA
    df = df[list(EVENT_COLUMNS)].copy()
    for c in ("lat", "lon", "precision", "uncertainty_km", "distance_km", "bearing_deg", "confidence"):
        df[c] = pd.to_numeric(df[c], errors="coerce")
    for c in _TEXT:
        df[c] = df[c].astype("string").fillna("").astype(str)
    bad = pd.to_datetime(df["date"].where(df["date"] != "", df["doc_date"]), errors="coerce", format="mixed").isna()
    if bad.any():
        row = int(bad.to_numpy().nonzero()[0][0])
        raise InputError(f"{path}: row {row + 1} has no usable date ({df['date'].iloc[row]!r}); "
                         "dates must be YYYY-MM-DD")
    return df


def read_baseline(path: str | Path, factions=None) -> gpd.GeoDataFrame:
    """A starting control map: polygons with a faction, in EPSG:4326 (columns faction, status).

    Accepts a GeoPackage or GeoJSON of polygons with a faction column, or a previous
    ``control.gpkg`` (its ``control`` layer; the latest step is used). ``factions`` (a
    FactionRegistry; default: the shipped one) resolves and checks the faction names.
    """
    path = Path(path)
    if not path.exists():
        raise BaselineError(f"{path}: baseline not found; give a GeoPackage or GeoJSON of control polygons")
    import pyogrio

    try:
        # GDAL's own warnings (a bad GeoPackage header...) would add lines to the one error line.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            layer = None
            if path.suffix.lower() == ".gpkg":
                names = [n for n, _ in pyogrio.list_layers(path)]
                layer = "control" if "control" in names else None
            gdf = pyogrio.read_dataframe(path, layer=layer)
    except Exception as exc:
        if exc.__class__.__module__.startswith("pyogrio"):
            raise BaselineError(f"{path}: cannot read the baseline ({exc}); give a GeoPackage or GeoJSON") from None
        raise
    if gdf.crs is None:
        raise BaselineError(f"{path}: baseline has no CRS; save it with one (e.g. EPSG:4326)")
    if "step" in gdf.columns and len(gdf):
        # A previous control.gpkg: continue from its last step.
        gdf = gdf[gdf["step"].astype(str) == sorted(gdf["step"].astype(str))[-1]]
    if factions is None:
        from geo_control.factions import FactionRegistry

        factions = FactionRegistry.default()
    return normalise_baseline(gdf.to_crs(STORAGE_CRS), factions, str(path))


def normalise_baseline(gdf: gpd.GeoDataFrame, factions, name: str) -> gpd.GeoDataFrame:
    """Baseline rows with canonical ``faction`` ids and a ``status``; polygons only."""
    if gdf.crs is None:
        raise BaselineError(f"{name}: baseline has no CRS; set one (e.g. EPSG:4326)")
    col = next((c for c in FACTION_COLUMNS if c in gdf.columns), None)
    if col is None:
        raise BaselineError(f"{name}: baseline has no faction column; add a 'faction' column with ids such as "
                            "government, isis, sdf")
    out = gdf.to_crs(STORAGE_CRS)
    out = out[out.geometry.notna() & ~out.geometry.is_empty]
    polygons = out.geom_type.isin(["Polygon", "MultiPolygon"])
    if len(out) and not polygons.any():
        kinds = ", ".join(sorted(set(out.geom_type)))
        raise BaselineError(f"{name}: baseline holds no polygons ({kinds}); give control areas as polygons")
    out = out[polygons]
    facs = []
    for value in out[col].astype(str):
        v = value.strip()
        if v == "contested" or v in factions.factions:
            facs.append(v)
            continue
        fid = factions.resolve(v)
        if fid is None:
            raise BaselineError(f"{name}: unknown faction '{v}' in column '{col}'; use one of "
                                f"{', '.join(factions.ids)} or add it with --factions")
        facs.append(fid)
    status = out["status"].astype(str) if "status" in out.columns else pd.Series("held", index=out.index)
    status = status.where(status.isin(_STATUSES), "held")
    res = gpd.GeoDataFrame({"faction": facs, "status": status.to_numpy()}, geometry=out.geometry.to_numpy(),
                           crs=STORAGE_CRS)
    return res[res["faction"] != "unknown"].reset_index(drop=True)

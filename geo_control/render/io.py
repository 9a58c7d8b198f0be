"""Reading a ``control.gpkg`` (written by export) back into ``Layers`` for ``geo-control render``."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import geopandas as gpd
import pandas as pd

from geo_control.crs import STORAGE_CRS
from geo_control.errors import InputError, MissingInputError
from geo_control.records import STATS_COLUMNS, Layers, Step

LAYER_NAMES = ("places", "events", "control", "frontlines", "advances", "changes")


def _empty() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"step": []}, geometry=[], crs=STORAGE_CRS)


def _iso_week(day: dt.date) -> str:
    iso = day.isocalendar()
    return f"{iso.year}-W{iso.week:02d}"


def _steps(frames: list[gpd.GeoDataFrame], events: gpd.GeoDataFrame) -> list[Step]:
    """Steps from the per-step layers' (step, valid_from, valid_to); else ISO weeks of the events.

    ``places`` is not among them: its rows span several steps.
    """
    found: dict[str, Step] = {}
    for gdf in frames:
        if not len(gdf) or not {"step", "valid_from", "valid_to"} <= set(gdf.columns):
            continue
        starts = pd.to_datetime(gdf["valid_from"], utc=True, errors="coerce")
        ends = pd.to_datetime(gdf["valid_to"], utc=True, errors="coerce")
        for label, s, e in zip(gdf["step"].astype(str), starts, ends, strict=True):
            if label and label not in found and pd.notna(s) and pd.notna(e):
                found[label] = Step(label, s.date(), e.date())
    if not found and len(events) and "date" in events:
        dates = pd.to_datetime(events["date"], errors="coerce", utc=True).dropna()
        for d in sorted({x.date() for x in dates}):
            monday = d - dt.timedelta(days=d.weekday())
            found.setdefault(_iso_week(monday), Step(_iso_week(monday), monday, monday + dt.timedelta(days=7)))
    return sorted(found.values(), key=lambda s: s.start)


def read_layers(path: str | Path) -> Layers:
    """Read the model layers of a GeoPackage; missing layers come back empty.

    Raises MissingInputError when the file does not exist and InputError when it holds none of
    the model layers.
    """
    import pyogrio

    path = Path(path)
    if not path.exists():
        raise MissingInputError(f"{path}: GeoPackage not found; give the control.gpkg written by run or build")
    try:
        available = {name for name, _ in pyogrio.list_layers(path)}
    except Exception as exc:  # pyogrio raises DataSourceError subclasses of its own
        raise InputError(f"{path}: not a readable GeoPackage ({exc}); give the control.gpkg of a run") from exc
    if not available & set(LAYER_NAMES):
        raise InputError(f"{path}: has none of the layers {', '.join(LAYER_NAMES)}; give the control.gpkg of a run")
    frames = {}
    for name in LAYER_NAMES:
        if name in available:
            gdf = pyogrio.read_dataframe(path, layer=name)
            gdf = gdf.set_crs(STORAGE_CRS) if gdf.crs is None else gdf.to_crs(STORAGE_CRS)
            frames[name] = gdf
        else:
            frames[name] = _empty()
    steps = _steps([frames[n] for n in ("control", "frontlines", "advances", "changes", "events")], frames["events"])
    control = frames["control"]
    if len(control) and {"step", "faction", "area_km2"} <= set(control.columns):
        by_step = {s.label: s for s in steps}
        stats = control.groupby(["step", "faction"], as_index=False)["area_km2"].sum()
        stats["valid_from"] = [pd.Timestamp(by_step[s].start, tz="UTC") if s in by_step else pd.NaT
                               for s in stats["step"]]
        stats["valid_to"] = [pd.Timestamp(by_step[s].end, tz="UTC") if s in by_step else pd.NaT for s in stats["step"]]
        stats = stats[list(STATS_COLUMNS)]
    else:
        stats = pd.DataFrame(columns=list(STATS_COLUMNS))
    return Layers(steps=steps, places=frames["places"], events=frames["events"], control=control,
                  frontlines=frames["frontlines"], advances=frames["advances"], changes=frames["changes"],
                  stats=stats)

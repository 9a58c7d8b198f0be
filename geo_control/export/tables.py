"""Plain tables: events.csv, events.geojson, unresolved.csv, stats.csv.

Written by hand (csv and json modules) rather than by pandas/GDAL so that the bytes depend on
the values only: floats are rounded to a fixed number of decimals and printed in Python's
shortest form, dates in ISO 8601, columns and properties in the contract's order.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import logging
import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from geo_control.records import EVENT_COLUMNS, STATS_COLUMNS, UNRESOLVED_COLUMNS

log = logging.getLogger(__name__)

#: Decimals kept for floats: 1e-6 degree is ~0.1 m, plenty for places; km and scores alike.
FLOAT_DECIMALS = 6


def plain(value: Any) -> Any:
    """A JSON-ready Python value: None for missing, rounded floats, ISO dates, lists for sequences.

    >>> plain(float("nan")), plain(1/3), plain(dt.date(2017, 11, 2)), plain(np.int64(4))
    (None, 0.333333, '2017-11-02', 4)
    """
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return None
        rounded = round(value, FLOAT_DECIMALS)
        return 0.0 if rounded == 0 else rounded  # no "-0.0"
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC)
            return value.replace(tzinfo=None).isoformat() + "Z"
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list | tuple | np.ndarray):
        return [plain(v) for v in value]
    if isinstance(value, str):
        return value
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return str(value)


def cell(value: Any) -> str:
    """The CSV text of a value: empty for missing, lists joined with ``;``.

    >>> cell(None), cell(2.5), cell(["ev-1", "ev-2"]), cell(True)
    ('', '2.5', 'ev-1;ev-2', 'true')
    """
    v = plain(value)
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, list):
        return ";".join(cell(x) for x in v)
    return str(v)


def _columns(df: pd.DataFrame, columns: Sequence[str], name: str) -> list[str]:
    missing = [c for c in columns if c not in df.columns]
    if missing and len(df):
        log.warning("%s: columns %s missing; written empty", name, ", ".join(missing))
    return list(columns)


def _rows(df: pd.DataFrame, columns: Sequence[str]):
    present = [c for c in columns if c in df.columns]
    records = df[present].to_dict("records") if len(df) else []
    for rec in records:
        yield [rec.get(c) for c in columns]


def write_csv(df: pd.DataFrame, columns: Sequence[str], path: Path) -> Path:
    """Write ``df[columns]`` as UTF-8 CSV with ``\\n`` line ends; missing columns stay empty."""
    cols = _columns(df, columns, path.name)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    with tmp.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        # csv quotes only the characters of its line terminator: a lone CR (a file name can hold
        # one) would be written bare and split the row for every reader, so such rows are quoted.
        quoted = csv.writer(f, lineterminator="\n", quoting=csv.QUOTE_ALL)
        writer.writerow(cols)
        for row in _rows(df, cols):
            cells = [cell(v) for v in row]
            (quoted if any("\r" in c for c in cells) else writer).writerow(cells)
    os.replace(tmp, path)
    return path


def events_feature_collection(events: pd.DataFrame) -> dict:
    """Events as a GeoJSON FeatureCollection: Point [lon, lat] (null when unknown), properties
    in EVENT_COLUMNS order."""
    cols = list(EVENT_COLUMNS)
    features = []
    for row in _rows(events, cols):
        props = {c: plain(v) for c, v in zip(cols, row, strict=True)}
        lat, lon = props.get("lat"), props.get("lon")
        geometry = (
            {"type": "Point", "coordinates": [lon, lat]}  # GeoJSON order is lon, lat
            if isinstance(lat, int | float) and isinstance(lon, int | float)
            else None
        )
        features.append({"type": "Feature", "id": props.get("id"), "geometry": geometry, "properties": props})
    return {"type": "FeatureCollection", "name": "events", "features": features}


def write_events_geojson(events: pd.DataFrame, path: Path) -> Path:
    """Write events.geojson (RFC 7946, WGS 84), one feature per line for readable diffs."""
    fc = events_feature_collection(events)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    with tmp.open("w", encoding="utf-8", newline="\n") as f:
        f.write('{"type": "FeatureCollection", "name": "events", "features": [')
        for i, feature in enumerate(fc["features"]):
            f.write("," if i else "")
            f.write("\n" + json.dumps(feature, ensure_ascii=False, allow_nan=False))
        f.write("\n]}\n")
    os.replace(tmp, path)
    return path


def write_tables(events: pd.DataFrame, unresolved: pd.DataFrame, stats: pd.DataFrame, dir: Path) -> list[Path]:
    """Write events.csv, events.geojson, unresolved.csv and stats.csv into ``dir``.

    The same inputs give byte-identical files. Returns the paths written.
    """
    out = Path(dir)
    out.mkdir(parents=True, exist_ok=True)
    events = events if events is not None else pd.DataFrame(columns=EVENT_COLUMNS)
    unresolved = unresolved if unresolved is not None else pd.DataFrame(columns=UNRESOLVED_COLUMNS)
    stats = stats if stats is not None else pd.DataFrame(columns=STATS_COLUMNS)
    return [
        write_csv(events, EVENT_COLUMNS, out / "events.csv"),
        write_events_geojson(events, out / "events.geojson"),
        write_csv(unresolved, UNRESOLVED_COLUMNS, out / "unresolved.csv"),
        write_csv(stats, STATS_COLUMNS, out / "stats.csv"),
    ]

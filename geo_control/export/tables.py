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
    return _cell_plain(plain(value))


def _columns(df: pd.DataFrame, columns: Sequence[str], name: str) -> list[str]:
    missing = [c for c in columns if c not in df.columns]
    if missing and len(df):
        log.warning("%s: columns %s missing; written empty", name, ", ".join(missing))
    return list(columns)


def _plain_column(series: pd.Series) -> list:
    """``plain`` of every value of a column, with fast paths for float, integer and text columns
    (the per-value call dominated writing 200,000 events)."""
    kind = series.dtype.kind if isinstance(series.dtype, np.dtype) else ""
    if kind == "f":
        out: list[float | None] = []
        for v in series.to_numpy().tolist():
            if math.isnan(v) or math.isinf(v):
                out.append(None)
            else:
                r = round(v, FLOAT_DECIMALS)
                out.append(0.0 if r == 0 else r)  # no "-0.0"
        return out
    if kind in "iub" and kind:
        return series.to_numpy().tolist()
    if kind == "M" or isinstance(series.dtype, pd.DatetimeTZDtype):
        return [plain(v) for v in series]
    return [v if type(v) is str else plain(v) for v in series.to_numpy(dtype=object)]


def _columns_plain(df: pd.DataFrame, columns: Sequence[str]) -> list[list]:
    """The ``plain`` values of ``columns`` column by column; missing columns are all None."""
    n = len(df)
    return [_plain_column(df[c]) if c in df.columns else [None] * n for c in columns]


def _rows(df: pd.DataFrame, columns: Sequence[str]):
    """Rows of ``plain`` values in ``columns`` order."""
    return zip(*_columns_plain(df, columns), strict=True) if len(df) else iter(())


def _cell_plain(v: Any) -> str:
    """``cell`` of a value already made ``plain``."""
    if type(v) is str:
        return v
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, list):
        return ";".join(cell(x) for x in v)
    return str(v)


def write_csv(df: pd.DataFrame, columns: Sequence[str], path: Path) -> Path:
    """Write ``df[columns]`` as UTF-8 CSV with ``\\n`` line ends; missing columns stay empty."""
    cols = _columns(df, columns, path.name)
    cells = [[_cell_plain(v) for v in col] for col in _columns_plain(df, cols)] if len(df) else []
    # csv quotes only the characters of its line terminator: a lone CR (a file name can hold
    # one) would be written bare and split the row for every reader, so such rows are quoted.
    with_cr = {i for col in cells for i, c in enumerate(col) if "\r" in c}
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    with tmp.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        quoted = csv.writer(f, lineterminator="\n", quoting=csv.QUOTE_ALL)
        writer.writerow(cols)
        for i, row in enumerate(zip(*cells, strict=True)):
            (quoted if i in with_cr else writer).writerow(row)
    os.replace(tmp, path)
    return path


def _event_features(events: pd.DataFrame):
    """Events as GeoJSON features: Point [lon, lat] (null when unknown), properties in
    EVENT_COLUMNS order."""
    cols = list(EVENT_COLUMNS)
    for row in _rows(events, cols):
        props = dict(zip(cols, row, strict=True))
        lat, lon = props.get("lat"), props.get("lon")
        geometry = (
            {"type": "Point", "coordinates": [lon, lat]}  # GeoJSON order is lon, lat
            if isinstance(lat, int | float) and isinstance(lon, int | float)
            else None
        )
        yield {"type": "Feature", "id": props.get("id"), "geometry": geometry, "properties": props}


def events_feature_collection(events: pd.DataFrame) -> dict:
    """Events as a GeoJSON FeatureCollection: Point [lon, lat] (null when unknown), properties
    in EVENT_COLUMNS order."""
    return {"type": "FeatureCollection", "name": "events", "features": list(_event_features(events))}


def write_events_geojson(events: pd.DataFrame, path: Path) -> Path:
    """Write events.geojson (RFC 7946, WGS 84), one feature per line for readable diffs."""
    encode = json.JSONEncoder(ensure_ascii=False, allow_nan=False).encode  # what json.dumps does, made once
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    with tmp.open("w", encoding="utf-8", newline="\n") as f:
        f.write('{"type": "FeatureCollection", "name": "events", "features": [')
        for i, feature in enumerate(_event_features(events)):
            f.write(("," if i else "") + "\n" + encode(feature))
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

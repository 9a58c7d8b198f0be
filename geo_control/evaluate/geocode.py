"""Score the geocoder against a gold table: the share of queries placed within 1, 5 and 25 km.

The gold table is CSV with columns ``query,lat,lon`` and optionally ``context`` (a hint a
report would carry: ``Deir ez-Zor governorate``, ``west of Maadan``, ``near=LAT,LON``),
``source`` and ``note``.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

from geo_control.crs import distance_km
from geo_control.errors import InputError, MissingInputError
from geo_control.geocode.gazetteer import Gazetteer

THRESHOLDS_KM = (1.0, 5.0, 25.0)


@dataclass
class GoldRow:
    query: str
    lat: float
    lon: float
    context: str = ""
    note: str = ""


@dataclass
class GeocodeScore:
    """Result of an evaluation: shares within each threshold and every row's outcome."""

    n: int
    within: dict[float, float]
    rows: list[dict] = field(default_factory=list)

    def failures(self, km: float = 5.0) -> list[dict]:
        return [r for r in self.rows if r["error_km"] is None or r["error_km"] > km]


def read_gold(path: str | Path) -> list[GoldRow]:
    """Read a gold CSV; a malformed row raises InputError naming the file and row."""
    path = Path(path)
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            reader = csv.DictReader(fh)
            missing = {"query", "lat", "lon"} - set(reader.fieldnames or [])
            if missing:
                raise InputError(f"{path}: gold table lacks columns {', '.join(sorted(missing))}; expected query,lat,lon[,context]")
            rows = []
            for n, rec in enumerate(reader, start=2):
                try:
                    rows.append(GoldRow(rec["query"], float(rec["lat"]), float(rec["lon"]),
                                        (rec.get("context") or "").strip(), rec.get("note") or ""))
                except (TypeError, ValueError):
                    raise InputError(f"{path}: row {n}: lat/lon '{rec.get('lat')}','{rec.get('lon')}' are not numbers") from None
    except OSError as exc:
        raise MissingInputError(f"{path}: cannot read gold table ({exc.strerror}); check the path") from None
    return rows


def evaluate(gold: list[GoldRow], gazetteer: Gazetteer) -> GeocodeScore:
    """Geocode every gold query (with its context) and measure the distance to the truth."""
    out: list[dict] = []
    for row in gold:
        near = None
        context: tuple[str, ...] = ()
        if row.context.startswith("near="):
            try:
                la, lo = (float(v) for v in row.context[5:].split(","))
                near = (la, lo)
            except ValueError:
                context = (row.context,)
        elif row.context:
            context = (row.context,)
        cands = gazetteer.lookup(row.query, near=near, context=context)
        if cands:
            c = cands[0]
            err = distance_km(row.lon, row.lat, c.lon, c.lat)
            out.append({"query": row.query, "context": row.context, "name": c.name, "lat": c.lat, "lon": c.lon,
                        "place_id": c.place_id, "score": round(c.score, 3), "error_km": round(err, 2)})
        else:
            out.append({"query": row.query, "context": row.context, "name": None, "lat": None, "lon": None,
                        "place_id": None, "score": None, "error_km": None})
    n = len(out)
    errors = [float(r["error_km"]) for r in out if r["error_km"] is not None]
    within = {km: (sum(1 for e in errors if e <= km) / n if n else 0.0) for km in THRESHOLDS_KM}
    return GeocodeScore(n=n, within=within, rows=out)

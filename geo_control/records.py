"""The named value types that flow between stages, and the column schemas of every table.

paths -> ``Document`` (ingest) -> ``Statement`` (extract) -> events table (geocode, columns
``EVENT_COLUMNS``) -> ``Layers`` (model) -> files (render, export).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field

import geopandas as gpd
import pandas as pd

ACTIONS = ("capture", "advance", "hold", "siege", "contest", "withdraw", "attack")
#: Actions that move or confirm control; ``attack`` only feeds the fighting heatmap.
CONTROL_ACTIONS = ("capture", "advance", "hold", "siege", "contest", "withdraw")
MODALITIES = ("asserted", "claimed", "expected", "negated")
#: Only these modalities change control.
CONTROLLING_MODALITIES = ("asserted", "claimed")
DATE_PRECISIONS = ("day", "week", "month", "doc")

#: Event record, in this order, in events.csv / events.geojson / the events layer (DESIGN.md).
EVENT_COLUMNS = (
    "id",
    "doc",
    "doc_date",
    "date",
    "date_precision",
    "actor",
    "faction",
    "action",
    "place",
    "place_id",
    "place_name",
    "lat",
    "lon",
    "precision",
    "uncertainty_km",
    "from_place",
    "distance_km",
    "bearing_deg",
    "target",
    "modality",
    "confidence",
    "sentence",
    "start",
    "end",
)

UNRESOLVED_COLUMNS = ("doc", "doc_date", "date", "actor", "faction", "action", "place", "reason",
                      "candidates", "sentence", "start", "end")

STATS_COLUMNS = ("step", "valid_from", "valid_to", "faction", "area_km2")


@dataclass(frozen=True)
class Document:
    """One report, read and cleaned by ``ingest``.

    ``text`` is the cleaned body (debris, comments and boilerplate removed); character offsets
    in statements refer to it. ``date`` is the report date; ``date_source`` says where it came
    from: ``manifest``, ``text`` or ``option``.
    """

    name: str
    text: str
    date: dt.date
    date_source: str
    sha256: str
    source: str = ""
    title: str = ""
    path: str = ""


@dataclass(frozen=True)
class Statement:
    """One (statement, place mention) found by ``extract``; geocoding adds the position.

    ``place`` is the mention as written. ``relation`` says how the position relates to the
    place: ``""`` (the place itself), ``near``, ``part:<south|north|east|west|...>``,
    ``offset`` (use distance_km/bearing_deg from ``from_place``), ``between:<other place>``,
    ``bank:<west|east>``. ``context`` carries hints for disambiguation found in the
    document (governorates, countryside names), nearest first.
    """

    doc: str
    doc_date: dt.date
    date: dt.date
    date_precision: str
    actor: str
    faction: str
    action: str
    place: str
    modality: str
    confidence: float
    sentence: str
    start: int
    end: int
    from_place: str = ""
    distance_km: float | None = None
    bearing_deg: float | None = None
    target: str = ""
    relation: str = ""
    context: tuple[str, ...] = field(default_factory=tuple)


def event_id(doc: str, start: int, end: int, place: str, action: str) -> str:
    """A stable id: the same inputs give the same id.

    >>> event_id("a.txt", 10, 20, "Mayadin", "capture")
    'ev-5a8c61a0e0b1f3a4'
    """
    key = f"{doc}\x1f{start}\x1f{end}\x1f{place}\x1f{action}".encode()
    return "ev-" + hashlib.sha1(key).hexdigest()[:16]


@dataclass
class Step:
    """One time step of the model: an ISO week by default. ``end`` is exclusive."""

    label: str
    start: dt.date
    end: dt.date


@dataclass
class Layers:
    """What the model builds; every GeoDataFrame is in EPSG:4326.

    Dated layers carry ``step``, ``valid_from`` and ``valid_to`` (timezone-aware UTC
    datetimes, half-open [from, to)).

    - ``places``: one row per place (and part) per span of consecutive steps in one state:
      place_id, place_name, faction, status (held|contested|besieged), confidence (at the
      span's first step, its ``step``), event_ids, n_sentences, Point. ``valid_from`` and
      ``valid_to`` cover the whole span: select a step's places with ``covering``.
    - ``events``: the events table as points (EVENT_COLUMNS), plus valid_from/valid_to.
    - ``control``: one row per (step, faction, status): faction, status
      (held|contested|besieged), area_km2, confidence, event_ids, n_sentences, Polygon/MultiPolygon.
      Contested rows use faction ``contested`` and list the sides in ``factions``.
    - ``frontlines``: step, faction_a, faction_b, length_km, LineString/MultiLineString.
    - ``advances``: step, event_id, faction, from_place, target, distance_km, bearing_deg,
      date, LineString from start to the point reached.
    - ``changes``: step, faction, change (gain|loss), from_faction, to_faction, area_km2,
      Polygon/MultiPolygon.
    - ``stats``: a plain DataFrame with STATS_COLUMNS.
    """

    steps: list[Step]
    places: gpd.GeoDataFrame
    events: gpd.GeoDataFrame
    control: gpd.GeoDataFrame
    frontlines: gpd.GeoDataFrame
    advances: gpd.GeoDataFrame
    changes: gpd.GeoDataFrame
    stats: pd.DataFrame


def covering(gdf: pd.DataFrame, step: Step) -> pd.DataFrame:
    """The rows of a dated layer whose [valid_from, valid_to) covers ``step``.

    Most layers have one row per step, where this is ``step == step.label``; ``places`` has
    spans of several steps.
    """
    if not len(gdf) or "valid_from" not in gdf:
        return gdf.iloc[0:0]
    start = pd.Timestamp(step.start).tz_localize("UTC")
    end = pd.Timestamp(step.end).tz_localize("UTC")
    return gdf[(gdf["valid_from"] <= start) & (gdf["valid_to"] >= end)]

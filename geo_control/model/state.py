"""Control state per place over time: what each statement does to the place it names.

A capture hands the place to the capturer; a withdrawal hands it to the other side where one
is known (the current holder, or the faction the same report or nearby reports fight),
otherwise leaves it unknown; a siege keeps the holder and marks the place besieged by the
besieger; a contest makes it contested; a hold confirms. An advance gives the point reached
to the advancing faction with lower confidence and claims a corridor along its vector.
Only asserted and claimed statements change control; a claim that contradicts stronger
evidence makes the place contested instead of flipping it. State persists until contradicted;
confidence halves every ``half_life_days`` without new evidence.
"""

from __future__ import annotations

import datetime as dt
import functools
import heapq
import logging
import math
import re
from collections import Counter
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from geo_control.crs import destination, distance_km
from geo_control.records import CONTROL_ACTIONS, CONTROLLING_MODALITIES, Step

log = logging.getLogger(__name__)

#: Confidence factor of the point an advance reached, against a capture of it.
ADVANCE_FACTOR = 0.7
#: Confidence of a statement whose confidence is missing.
DEFAULT_CONFIDENCE = 0.8
#: How far (km) and how long (days) to look for the other side when the report names none.
NEARBY_KM, NEARBY_DAYS = 60.0, 30

_DIRS = {
    "north": 0.0, "northeast": 45.0, "east": 90.0, "southeast": 135.0,
    "south": 180.0, "southwest": 225.0, "west": 270.0, "northwest": 315.0,
}
_PART = re.compile(
    r"\b(?P<dir>(?:north|south)(?:[- ]?(?:east|west))?|east|west)(?:ern)?\s+"
    r"(?:parts?|half|halves|sides?|sections?|sectors?|neighbou?rhoods?|districts?|quarters?|outskirts|"
    r"edges?|portions?|areas?|suburbs?|countryside|bank)\s+of\s+(?:the\s+)?"
    r"(?:(?:city|town|village|neighbou?rhood|district)\s+of\s+)?$",
    re.IGNORECASE,
)
_HALF = re.compile(r"\b(?:half|parts?|some|most)\s+of\s+(?:the\s+)?(?:(?:city|town|village)\s+of\s+)?$",
                   re.IGNORECASE)


@dataclass(frozen=True)
class Evidence:
    """The state of a place (or of one part of it) after the latest statement about it.

    ``faction`` None means the holder is unknown: the place is no longer painted, and its
    ground no longer shows older evidence or the baseline.
    """

    faction: str | None
    status: str                      # held | contested | besieged
    date: dt.date
    confidence: float
    event_ids: tuple[str, ...]
    sentences: frozenset = frozenset()
    sides: tuple[str, ...] = ()      # contested: the factions fighting for it
    besieger: str = ""

    def at(self, day: dt.date, half_life: float) -> float:
        """Confidence on ``day``, decayed since the last evidence."""
        age = max(0, (day - self.date).days)
        return self.confidence * 0.5 ** (age / half_life) if half_life > 0 else self.confidence

    @property
    def label(self) -> tuple[str, str] | None:
        if self.faction is None:
            return None
        return ("contested", "contested") if self.status == "contested" else (self.faction, self.status)


@dataclass
class SiteInfo:
    """A place that statements give a state to: a gazetteer place, or a derived point."""

    key: str
    place_id: str
    place_name: str
    lon: float
    lat: float
    cell: int = -1                   # the settlement cell holding it (-1: outside the country)


@dataclass
class Corridor:
    """The ground an advance claims: a band along its vector (geometry built by ``areas``)."""

    event_id: str
    faction: str
    date: dt.date
    confidence: float
    start: tuple[float, float]       # lon, lat
    end: tuple[float, float]
    sentences: frozenset = frozenset()
    cells: Any = None                # indices of the cells its band claims (``corridor_cells``)


@dataclass
class Timeline:
    """Everything ``areas`` and ``build`` need: sites, per-step states, corridors, advances."""

    sites: dict[str, SiteInfo]
    #: per step: key -> (whole evidence or None, ((bearing or nan, part evidence), ...))
    states: list[dict[str, tuple[Evidence | None, tuple[tuple[float, Evidence], ...]]]]
    corridors: list[Corridor]
    #: per step: indices into ``corridors`` that are active (dated before the step ends)
    active_corridors: list[list[int]]
    advances: list[dict] = field(default_factory=list)


@functools.lru_cache(maxsize=65536)
def _name_pattern(place: str) -> re.Pattern:
    # re's own cache holds 512 patterns: with thousands of place names it compiled one per call.
    return re.compile(re.escape(place), re.IGNORECASE)


def part_of(place: str, sentence: str) -> float | None:
    """Bearing of the part of a place a statement is about, NaN for an undirected part, or None.

    >>> part_of("Hamidiyah", "liberated the southern part of Hamidiyah neighborhood")
    180.0
    >>> part_of("Mayadin", "ISIS holds half of Mayadin")
    nan
    >>> part_of("Mayadin", "the army captured Mayadin") is None
    True
    """
    place = str(place or "").strip()
    text = str(sentence or "")
    windows = []
    if place:
        for found in _name_pattern(place).finditer(text):
            windows.append(text[max(0, found.start() - 80):found.start()])
    # The geocoder may keep the qualifier in the mention itself ("southern part of Hamidiyah").
    head = re.split(r"\bof\b", place, maxsplit=1, flags=re.IGNORECASE)
    if len(head) == 2:
        windows.append(head[0] + "of ")
    for window in windows:
        m = _PART.search(window)
        if m:
            key = re.sub(r"[- ]", "", m.group("dir").lower())
            return _DIRS.get(key)
        if _HALF.search(window):
            return math.nan
    return None


def _num(value) -> float | None:
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(out) else out


def _date(value, fallback) -> dt.date | None:
    for v in (value, fallback):
        if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NaT:
            continue
        if isinstance(v, dt.datetime):
            return v.date()
        if isinstance(v, dt.date):
            return v
        try:
            return dt.date.fromisoformat(str(v)[:10])
        except ValueError:
            continue
    return None


def prepare_events(events: pd.DataFrame) -> pd.DataFrame:
    """Events with a parsed ``day``, numeric fields, and a deterministic order (day, id)."""
    df = events.copy()
    df["day"] = [_date(d, dd) for d, dd in zip(df["date"], df["doc_date"], strict=True)]
    df = df[df["day"].notna()]
    for col in ("lat", "lon", "distance_km", "bearing_deg", "confidence", "precision", "uncertainty_km"):
        df[col] = pd.to_numeric(df[col], errors="coerce")
    for col in ("id", "doc", "faction", "action", "place", "place_id", "place_name", "from_place", "target",
                "modality", "sentence"):
        df[col] = df[col].fillna("").astype(str)
    df["start"] = pd.to_numeric(df["start"], errors="coerce").fillna(-1).astype(int)
    return df.sort_values(["day", "id"], kind="stable").reset_index(drop=True)


def _plain(df: pd.DataFrame) -> pd.DataFrame:
    """The frame with object columns: itertuples over pandas' string arrays fetches each value
    through Python-level indexing (5 million calls at 200,000 events)."""
    return df.astype(object)


class _OtherSide:
    """Who a faction fights at a place: the other factions named at that place, then the nearest
    ones in the same report, then the report's most named other faction, then nearby reports."""

    def __init__(self, df: pd.DataFrame):
        self.by_doc: dict[str, Counter] = {}
        for doc, fac in zip(df["doc"], df["faction"], strict=True):
            if fac and fac != "unknown":
                self.by_doc.setdefault(doc, Counter())[fac] += 1
        ok = df["lat"].notna() & df["lon"].notna() & (df["faction"] != "") & (df["faction"] != "unknown")
        day = np.array([d.toordinal() for d in df.loc[ok, "day"]], dtype=np.int64)
        # Sorted by day, so the events within NEARBY_DAYS of a question are one slice; and by
        # report, so a report's own events are one lookup: a question costs the events near it
        # in time or in its report, not all of them (quadratic at 200,000 events).
        order = np.argsort(day, kind="stable")
        self.day = day[order]
        self.lat = df.loc[ok, "lat"].to_numpy(float)[order]
        self.lon = df.loc[ok, "lon"].to_numpy(float)[order]
        self.fac = df.loc[ok, "faction"].to_numpy(object)[order]
        doc_of = df.loc[ok, "doc"].to_numpy(object)[order]
        self.doc_rows: dict[str, np.ndarray] = {}
        if len(doc_of):
            codes, uniques = pd.factorize(doc_of)
            by_code = np.argsort(codes, kind="stable")
            bounds = np.searchsorted(codes[by_code], np.arange(len(uniques) + 1))
            self.doc_rows = {str(u): by_code[bounds[k]:bounds[k + 1]] for k, u in enumerate(uniques)}

    def _km(self, rows: np.ndarray | slice, lon: float, lat: float) -> np.ndarray:
        # Equirectangular distance is enough to find neighbours within tens of km.
        dx = (self.lon[rows] - lon) * 111.32 * math.cos(math.radians(lat))
        dy = (self.lat[rows] - lat) * 110.57
        return np.hypot(dx, dy)

    def __call__(self, faction: str, doc: str, lon: float, lat: float, day: dt.date) -> str | None:
        located = len(self.lat) > 0 and not math.isnan(lat)
        if located:
            d = day.toordinal()
            window = slice(int(np.searchsorted(self.day, d - NEARBY_DAYS, side="left")),
                           int(np.searchsorted(self.day, d + NEARBY_DAYS, side="right")))
            fac_w = self.fac[window]
            km_w = self._km(window, lon, lat)
            other_w = fac_w != faction
            here = other_w & (km_w < 1.0)
            if here.any():
                return _most_common(fac_w[here])
            rows = self.doc_rows.get(doc)
            if rows is not None and len(rows):
                fac_d = self.fac[rows]
                km_d = self._km(rows, lon, lat)
                same_doc = (fac_d != faction) & (km_d <= NEARBY_KM)
                if same_doc.any():
                    k = np.flatnonzero(same_doc)
                    return str(fac_d[k[np.lexsort((fac_d[k].astype(str), km_d[k]))[0]]])
        counts = {f: n for f, n in self.by_doc.get(doc, Counter()).items() if f != faction}
        if counts:
            return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[0][0]
        if located:
            near = other_w & (km_w <= NEARBY_KM)
            if near.any():
                return _most_common(fac_w[near])
        return None


def _most_common(values) -> str:
    return sorted(Counter(values.tolist()).items(), key=lambda kv: (-kv[1], kv[0]))[0][0]


def live_states(state: dict, day: dt.date, half_life: float, min_confidence: float) -> dict:
    """The states still believed on ``day``: evidence decayed below ``min_confidence`` is stale.

    Control persists until contradicted, but not for ever: a pocket last reported a year ago
    must not be drawn as if it were this week's news. Stale places show the baseline (or nothing).
    """
    if min_confidence <= 0:
        return state
    out = {}
    for key, (whole, parts) in state.items():
        if whole is not None and whole.at(day, half_life) < min_confidence:
            whole = None
        parts = [(b, ev) for b, ev in parts if ev.at(day, half_life) >= min_confidence]
        if whole is not None or parts:
            out[key] = (whole, parts)
    return out


def _stale_from(ev: Evidence, half_life: float, min_confidence: float) -> int:
    """The first day (ordinal) on which ``ev`` is stale (decayed below ``min_confidence``).

    Found in closed form, then settled with the very expression of ``Evidence.at`` so it
    agrees with ``live_states`` to the day whatever the rounding.
    """
    conf, first = ev.confidence, ev.date.toordinal()
    if conf < min_confidence:
        return first
    if half_life <= 0:
        return _NEVER
    age = max(0, int(half_life * math.log2(conf / min_confidence))) if conf > 0 else 0
    while age > 0 and conf * 0.5 ** (age / half_life) < min_confidence:
        age -= 1
    while conf * 0.5 ** ((age + 1) / half_life) >= min_confidence and first + age < _NEVER:
        age += 1
    return min(first + age + 1, _NEVER)


#: A day after every date: evidence that never goes stale.
_NEVER = dt.date.max.toordinal()


class LiveStates:
    """``live_states`` of the steps in order, each worked out from the one before.

    A step's state shares most entries with the last step's (only the places a statement
    touched get a new one), and an entry's live part changes only on the days one of its
    pieces of evidence goes stale. So each step looks only at the entries that are new since
    the last call or that reached such a day; the others keep their live part. The result is
    the same dict ``live_states`` gives (tested); ``changed`` holds the keys whose live part
    may differ from the last call's. A call out of order starts again from nothing.
    """

    def __init__(self, tl: Timeline, half_life: float, min_confidence: float):
        self.tl, self.half_life, self.min_confidence = tl, half_life, min_confidence
        self._t: int | None = None
        self._day = dt.date.min
        self._state: dict = {}
        self._live: dict[str, tuple] = {}
        self._stale: list[tuple[int, str]] = []     # heap of (first stale day, key)
        self._next: dict[str, int] = {}              # key -> its entry in the heap that counts
        self._result: dict = {}
        self.changed: set[str] = set()

    def _project(self, key: str, entry: tuple, d: int) -> None:
        whole, parts = entry
        hl, mc = self.half_life, self.min_confidence
        soon = []
        if whole is not None:
            stale = _stale_from(whole, hl, mc)
            if stale <= d:
                whole = None
            else:
                soon.append(stale)
        kept = []
        for b, ev in parts:
            stale = _stale_from(ev, hl, mc)
            if stale > d:
                kept.append((b, ev))
                soon.append(stale)
        if whole is not None or kept:
            self._live[key] = (whole, kept)
            nxt = min(soon)
            if self._next.get(key) != nxt:
                self._next[key] = nxt
                heapq.heappush(self._stale, (nxt, key))
        else:
            self._live.pop(key, None)
            self._next.pop(key, None)

    def __call__(self, t: int, day: dt.date) -> dict:
        state = self.tl.states[t]
        if self.min_confidence <= 0:
            self.changed = set(state)
            return state
        if t == self._t and day == self._day:
            self.changed = set()
            return self._result
        d = day.toordinal()
        if self._t is None or t != self._t + 1 or day < self._day:
            self._live, self._stale, self._state, self._next = {}, [], {}, {}
        old = self._state
        changed = {k for k, e in state.items() if old.get(k) is not e}
        changed.update(k for k in old if k not in state)
        while self._stale and self._stale[0][0] <= d:
            stale, k = heapq.heappop(self._stale)
            if self._next.get(k) == stale:  # else an entry left from before the key changed
                changed.add(k)
        for k in changed:
            entry = state.get(k)
            if entry is None:
                self._live.pop(k, None)
                self._next.pop(k, None)
            else:
                self._project(k, entry, d)
        self._t, self._day, self._state, self.changed = t, day, state, changed
        live = self._live
        self._result = {k: live[k] for k in state if k in live}
        return self._result


def _combine(old: Evidence, new: Evidence, half_life: float) -> Evidence:
    """The same state said again: confidence adds up (noisy-or), sources accumulate."""
    conf = 1.0 - (1.0 - old.at(new.date, half_life)) * (1.0 - new.confidence)
    return replace(new, confidence=conf, event_ids=tuple(dict.fromkeys(old.event_ids + new.event_ids)),
                   sentences=old.sentences | new.sentences,
                   sides=tuple(sorted(set(old.sides) | set(new.sides))),
                   besieger=new.besieger or old.besieger)


def apply(current: Evidence | None, faction: str, action: str, weight: float, claimed: bool, day: dt.date,
          eid: str, sentences: frozenset, other, half_life: float) -> Evidence | None:
    """The new state of a place (or part) after one statement; ``other()`` finds the other side."""
    holder = current.faction if current is not None else None
    base: dict[str, Any] = dict(date=day, confidence=weight, event_ids=(eid,), sentences=sentences)
    if action in ("capture", "advance"):
        new = Evidence(faction, "held", **base)
    elif action == "hold":
        if current is not None and holder == faction and current.status == "besieged":
            return _combine(current, replace(current, **base), half_life)
        new = Evidence(faction, "held", **base)
    elif action == "withdraw":
        if current is not None and current.status == "contested":
            rest = [s for s in current.sides if s != faction]
            side = rest[0] if rest else other()
        elif holder is not None and holder != faction:
            side = holder
        else:
            side = other()
        new = Evidence(side, "held", **base)
    elif action == "siege":
        if holder is not None and holder != faction and current is not None and current.status != "contested":
            side = holder
        elif current is not None and current.status == "contested":
            rest = [s for s in current.sides if s != faction]
            side = rest[0] if rest else other()
        else:
            side = other()
        new = Evidence(side, "besieged", besieger=faction, **base)
    elif action == "contest":
        sides = {faction}
        if current is not None and current.status == "contested":
            sides |= set(current.sides)
        elif holder is not None:
            sides.add(holder)
        else:
            opp = other()
            if opp:
                sides.add(opp)
        new = Evidence(faction, "contested", sides=tuple(sorted(sides)), **base)
    else:
        return current
    if current is None or current.faction is None:
        return new
    if new.faction == current.faction and new.status == current.status:
        return _combine(current, new, half_life)
    if claimed and new.faction is not None and current.at(day, half_life) > weight:
        # A weaker claim against stronger evidence: both sides' word stands, the place is contested.
        sides = {s for s in (current.faction, new.faction) if s} | set(current.sides) | set(new.sides)
        return Evidence(new.faction, "contested", day, weight, tuple(dict.fromkeys(current.event_ids + (eid,))),
                        current.sentences | sentences, tuple(sorted(sides)))
    return new


def timeline(events: pd.DataFrame, steps: list[Step], settings, cells, prepared: pd.DataFrame | None = None,
             corridor_memo: dict | None = None) -> Timeline:
    """Run every controlling statement through the places it names, step by step.

    ``prepared`` is ``prepare_events(events)`` when the caller has it already.
    ``corridor_memo`` maps an advance's (start, end) to the cells its band claims, for these
    cells and settings: paths found there are not worked out again, and the paths of this
    run are left in it (``build`` keeps it with the step store for the next run).
    """
    from geo_control.model.cells import corridor_cells, project

    df = prepare_events(events) if prepared is None else prepared
    other_side = _OtherSide(df)
    half = float(settings.half_life_days)
    ctrl = (df["action"].isin(CONTROL_ACTIONS) & df["modality"].isin(CONTROLLING_MODALITIES)
            & df["lat"].notna() & df["lon"].notna() & (df["faction"] != "") & (df["faction"] != "unknown"))
    # An area centroid (a governorate, "the countryside") says nothing about a settlement's ground.
    ctrl &= df["precision"].fillna(1) < 3
    sites: dict[str, SiteInfo] = {}
    keys_by_cell: dict[int, list[str]] = {}  # a corridor looks up the places in the cells it claims
    by_position: dict[str, str] = {}
    places_by_name: dict[str, tuple[float, float]] = {}
    located = df[df["lat"].notna() & df["lon"].notna() & (df["precision"] == 1)]
    for row in _plain(located[["place", "place_name", "lon", "lat"]]).itertuples(index=False):
        for name in (row.place, row.place_name):
            if name:
                places_by_name.setdefault(name.lower(), (row.lon, row.lat))

    def site_for(row) -> tuple[str, float | None]:
        part = part_of(row.place, row.sentence)
        offset = bool(row.from_place) and (row.distance_km or 0) > 0 and part is None
        if row.place_id and not offset:
            key = f"id:{row.place_id}"
        else:
            key = f"pt:{row.lat:.4f},{row.lon:.4f}"
        if key not in sites:
            lon, lat = row.lon, row.lat
            if part is not None and row.place_name.lower() in places_by_name:
                lon, lat = places_by_name[row.place_name.lower()]
            pos = f"{lat:.4f},{lon:.4f}"
            if pos in by_position:
                # Two ids (or an id and a derived point) at one spot are one place on the map.
                return by_position[pos], part
            by_position[pos] = key
            x, y = project([lon], [lat], cells.crs)
            sites[key] = SiteInfo(key, row.place_id, row.place_name or row.place, float(lon), float(lat),
                                  int(cells.cell_of(x, y)[0]))
            keys_by_cell.setdefault(sites[key].cell, []).append(key)
        return key, part

    whole: dict[str, Evidence | None] = {}
    parts: dict[str, dict[float, Evidence]] = {}
    corridors: list[Corridor] = []
    advances: list[dict] = []
    states: list[dict] = []
    active: list[list[int]] = []
    paths: dict[tuple, np.ndarray] = {}
    memo = corridor_memo if corridor_memo is not None else {}
    entry: dict[str, tuple] = {}     # each place's state as of the last step
    dirty: set[str] = set()          # places whose state may have changed since
    order: list[str] | None = []     # entry's keys, sorted (None: new keys came)
    rows = _plain(df[ctrl])
    it = rows.itertuples(index=False)
    pending = next(it, None)
    for step in steps:
        while pending is not None and pending.day < step.end:
            row = pending
            pending = next(it, None)
            claimed = row.modality == "claimed"
            conf = row.confidence if not math.isnan(row.confidence) else DEFAULT_CONFIDENCE
            weight = conf * (settings.claim_weight if claimed else 1.0)
            if row.action == "advance":
                weight *= ADVANCE_FACTOR
            key, part = site_for(row)
            sents = frozenset({(row.doc, row.sentence)})

            def other(row=row):
                return other_side(row.faction, row.doc, row.lon, row.lat, row.day)

            if part is None:
                new = apply(whole.get(key), row.faction, row.action, weight, claimed, row.day, row.id, sents,
                            other, half)
                dirty.add(key)
                whole[key] = new
                parts.pop(key, None)  # a statement about the whole place overrides its parts
            else:
                cur = parts.get(key, {}).get(part) if not math.isnan(part) else None
                if cur is None:
                    cur = whole.get(key)
                new = apply(cur, row.faction, row.action, weight, claimed, row.day, row.id, sents, other, half)
                if new is not None and math.isnan(part) and new.status == "held" and row.action != "hold":
                    # "half of X": split between the newcomer and whoever held it: contested.
                    sides = tuple(sorted({s for s in (new.faction, cur.faction if cur else None) if s}))
                    new = replace(new, status="contested", sides=sides)
                dirty.add(key)
                if new is not None and math.isnan(part):
                    whole[key] = new
                else:
                    parts.setdefault(key, {})[float(part)] = new  # type: ignore[assignment]
            if row.action == "advance":
                start = _advance_start(row, places_by_name)
                if start is not None:
                    corridor = Corridor(row.id, row.faction, row.day, weight, start, (row.lon, row.lat), sents)
                    # Reports repeat the same advance: its band and cells are worked out once.
                    path = (corridor.start, corridor.end)
                    if path not in paths:
                        known = memo.get(path)
                        if known is None:
                            band, line = corridor_geometry(corridor, settings)
                            known = corridor_cells(cells, band, line)
                        paths[path] = known
                    corridor.cells = paths[path]
                    corridors.append(corridor)
                    dirty.update(_claim_corridor(corridor, key, whole, parts, keys_by_cell))
                advances.append(dict(
                    event_id=row.id, faction=row.faction, from_place=row.from_place, target=row.target,
                    distance_km=row.distance_km, bearing_deg=row.bearing_deg, day=row.day, start=start,
                    end=(row.lon, row.lat), confidence=weight,
                ))
        # Only the places statements touched this step get a new entry; the others keep theirs.
        for k in dirty:
            if k not in entry:
                order = None
            entry[k] = (whole.get(k), tuple(sorted(parts.get(k, {}).items(), key=lambda kv: kv[1].date)))
        dirty.clear()
        if order is None:
            order = sorted(entry)
        states.append({k: entry[k] for k in order})
        active.append([i for i, c in enumerate(corridors) if c.date < step.end])
    if corridor_memo is not None:
        corridor_memo.clear()
        corridor_memo.update(paths)  # only this run's paths: the memo stays the size of a run
    return Timeline(sites, states, corridors, active, advances)


def corridor_geometry(corridor: Corridor, settings):
    """The band of ``advance_corridor_km`` on each side of the advance and its path, projected."""
    import shapely

    from geo_control.model.cells import GRID, QUAD_SEGS, project

    x, y = project([corridor.start[0], corridor.end[0]], [corridor.start[1], corridor.end[1]],
                   settings.projected_crs)
    line = shapely.LineString(np.column_stack([x, y]))
    band = shapely.buffer(line, settings.advance_corridor_km * 1000.0, quad_segs=QUAD_SEGS)
    return shapely.set_precision(band, GRID), line


def _advance_start(row, places_by_name) -> tuple[float, float] | None:
    """Where an advance started: back along its bearing, or the named start place."""
    if row.distance_km is not None and not math.isnan(row.distance_km) and row.distance_km > 0 \
            and row.bearing_deg is not None and not math.isnan(row.bearing_deg):
        return destination(row.lon, row.lat, (row.bearing_deg + 180.0) % 360.0, row.distance_km)
    start = places_by_name.get(row.from_place.lower()) if row.from_place else None
    if start is not None and distance_km(start[0], start[1], row.lon, row.lat) > 0.05:
        return start
    return None


def _claim_corridor(corridor: Corridor, reached: str, whole, parts, keys_by_cell: dict[int, list[str]]) -> list[str]:
    """Places on an advance's path with older evidence pass to the advancing faction.

    A place is on the path when its own cell is one of the cells the corridor claims; the
    painter uses the same cells, so the place and its ground agree.
    """
    changed = []
    for c in corridor.cells.tolist():
        for key in keys_by_cell.get(c, ()):
            ev = whole.get(key)
            if key == reached or ev is None or ev.date >= corridor.date or ev.faction == corridor.faction:
                continue
            whole[key] = Evidence(corridor.faction, "held", corridor.date, corridor.confidence,
                                  (corridor.event_id,), corridor.sentences)
            parts.pop(key, None)
            changed.append(key)
    return changed

"""From extracted statements to placed events: choose the place, derive the position.

For each statement the place mention is looked up with context: the statement's hints
(governorates, countryside names), the places named in the same sentence and document,
and the place a relation refers to ("west of Maadan"). The chosen place's point is then
moved as the relation says (offset, near, part, between, bank) geodesically, with a
precision (1 the place itself, 2 derived, 3 area centroid) and an uncertainty radius.
Every mention ends up in ``events`` or in ``unresolved``; none is dropped.
"""

from __future__ import annotations

import gc
import logging
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from geo_control.crs import destination, distance_km
from geo_control.geocode.gazetteer import AREA_FEATURES, Anchors, Candidate, Gazetteer
from geo_control.records import EVENT_COLUMNS, UNRESOLVED_COLUMNS, Statement, event_id

log = logging.getLogger(__name__)

#: Below this score a best candidate is not trusted: the mention goes to unresolved.csv.
MIN_SCORE = 0.55
#: Default distance (km) for "west of X" without a number.
DEFAULT_OFFSET_KM = 5.0

BEARINGS = {
    "north": 0.0, "northeast": 45.0, "east": 90.0, "southeast": 135.0, "south": 180.0,
    "southwest": 225.0, "west": 270.0, "northwest": 315.0,
    "north-east": 45.0, "south-east": 135.0, "south-west": 225.0, "north-west": 315.0,
    "northern": 0.0, "eastern": 90.0, "southern": 180.0, "western": 270.0,
    "northeastern": 45.0, "southeastern": 135.0, "southwestern": 225.0, "northwestern": 315.0,
    "center": -1.0, "centre": -1.0, "central": -1.0,
}



@dataclass
class _Mentions:
    """Places named in a text, as (lat, lon, weight, place_id) anchors for disambiguation."""

    places: list[tuple[Candidate, float, str]]

    def anchors(self, weight: float) -> list[tuple[float, float, float, str, str]]:
        # each place once: a report that repeats "Rastan" five times is not five times surer
        best: dict[str, tuple[float, float, float, str, str]] = {}
        for c, w, key in self.places:
            if c.place_id not in best or best[c.place_id][2] < weight * w:
                best[c.place_id] = (c.lat, c.lon, weight * w, c.place_id, key)
        return list(best.values())


_ROAD_NAME = r"[A-Z][\w'`’]*(?:[ -](?:(?:al|el|ez|ad|as|ash|ar|az|an)[ -])?[A-Z][\w'`’]*){0,2}"
#: "the Raqqa-Deir ez-Zor highway", "the Hama-Rastan road", "the Hasakah - Deir ez-Zor road"
_ROAD = re.compile(rf"\b{_ROAD_NAME}\s*[-–/]\s*{_ROAD_NAME}\s+(?:highway|road|motorway|route)\b")


def _bearing_of(word: str) -> float | None:
    return BEARINGS.get(word.strip().lower())


def _radius_km(c: Candidate) -> float:
    """How far a place extends from its point (for 'the southern part of X')."""
    if c.feature in ("district",):
        return 0.6
    return max(0.5, min(6.0, c.uncertainty_km))


class _Resolver:
    """One document's context: its places, its sentences' places and roads, computed once."""

    def __init__(self, gaz: Gazetteer, doc_text: str):
        self.gaz = gaz
        self.doc = _Mentions(gaz.mentions(doc_text, limit=200)) if doc_text else _Mentions([])
        self._doc_anchors = Anchors(self.doc.anchors(0.25))
        self._sentences: dict[str, Anchors] = {}
        self._roads: dict[str, list[tuple]] = {}
        self._resolved: dict[tuple, list[Candidate]] = {}

    def roads(self, text: str) -> list[tuple]:
        """Points along the roads a sentence names ("along the Raqqa-Deir ez-Zor highway")."""
        if text not in self._roads:
            points: list[tuple] = []
            for m in _ROAD.finditer(text or ""):
                points += [a for a in self.gaz._context_anchors(m.group(0))[1] if len(a) < 4 or not a[3]]
            self._roads[text] = points
        return self._roads[text]

    def sentence(self, text: str) -> Anchors:
        """The anchors of a sentence: its roads and its places (weight 1), then the document's (0.25)."""
        if text not in self._sentences:
            own = self.roads(text) + _Mentions(self.gaz.mentions(text, limit=30)).anchors(1.0)
            self._sentences[text] = Anchors.with_base(own, self._doc_anchors)
        return self._sentences[text]

    def resolve(self, name: str, st: Statement, extra: Sequence[tuple] = ()) -> list[Candidate]:
        # statements of one sentence often share a place and its context: looked up once
        key = (name, tuple(st.context), st.sentence, tuple(extra))
        hit = self._resolved.get(key)
        if hit is None:
            anchors = list(extra) + self.sentence(st.sentence) if extra else self.sentence(st.sentence)
            # the statement's hints are gathered across the document by the extractor; the
            # sentence's own places are closer evidence
            hit = self._resolved[key] = self.gaz.lookup(name, context=st.context, all=True, anchors=anchors,
                                                        context_weight=0.5, limit=5)
        return list(hit)


def _row(st: Statement, **kw) -> dict:
    base = {
        "id": event_id(st.doc, st.start, st.end, st.place or st.from_place, st.action),
        "doc": st.doc, "doc_date": st.doc_date.isoformat(), "date": st.date.isoformat(),
        "date_precision": st.date_precision, "actor": st.actor, "faction": st.faction, "action": st.action,
        "place": st.place, "place_id": "", "place_name": "", "lat": math.nan, "lon": math.nan,
        "precision": 1, "uncertainty_km": math.nan, "from_place": st.from_place,
        "distance_km": st.distance_km if st.distance_km is not None else math.nan,
        "bearing_deg": st.bearing_deg if st.bearing_deg is not None else math.nan,
        "target": st.target, "modality": st.modality, "confidence": st.confidence,
        "sentence": st.sentence, "start": st.start, "end": st.end,
    }
    base.update(kw)
    return base


def _unresolved(st: Statement, reason: str, cands: Sequence[Candidate]) -> dict:
    text = "; ".join(f"{c.name} ({c.lat:.4f},{c.lon:.4f}) {c.governorate} {c.score:.2f}" for c in cands[:3])
    return {
        "doc": st.doc, "doc_date": st.doc_date.isoformat(), "date": st.date.isoformat(), "actor": st.actor,
        "faction": st.faction, "action": st.action, "place": st.place or st.from_place, "reason": reason,
        "candidates": text, "sentence": st.sentence, "start": st.start, "end": st.end,
    }


def _euphrates_side(gaz: Gazetteer, lat: float, lon: float, side: str) -> tuple[float, float, float] | None:
    """A point ~1.5 km onto the ``side`` bank of the Euphrates nearest (lat, lon): (lat, lon, km to river)."""
    best = None
    for line in gaz.euphrates:
        arr = np.asarray(line)
        d = (arr[:, 0] - lon) ** 2 * math.cos(math.radians(lat)) ** 2 + (arr[:, 1] - lat) ** 2
        j = int(np.argmin(d))
        if best is None or d[j] < best[0]:
            best = (float(d[j]), arr, j)
    if best is None:
        return None
    _, arr, j = best
    a, b = arr[max(0, j - 1)], arr[min(len(arr) - 1, j + 1)]
    # river direction (downstream order unknown): take the normal pointing to the named side
    dx, dy = (b[0] - a[0]) * math.cos(math.radians(lat)), b[1] - a[1]
    normals = ((-dy, dx), (dy, -dx))
    want = {"west": (-1, 0), "east": (1, 0), "north": (0, 1), "south": (0, -1)}.get(side)
    if want is None:
        return None
    nx, ny = max(normals, key=lambda n: n[0] * want[0] + n[1] * want[1])
    bearing = (math.degrees(math.atan2(nx, ny)) + 360) % 360
    rlon, rlat = float(arr[j][0]), float(arr[j][1])
    plon, plat = destination(rlon, rlat, bearing, 1.5)
    return plat, plon, distance_km(lon, lat, rlon, rlat)


#: River names: "the western bank of the Euphrates" names no place by itself.
RIVERS = frozenset(("euphrates", "furat", "firat", "khabur", "khabour", "orontes", "asi", "balikh",
                    "tigris", "dijla", "sajur", "queiq", "yarmouk river"))


def _without_generic(name: str) -> str:
    """The name without the common nouns of a site in it ("Hama Central Prison" -> "hama")."""
    from geo_control.geocode.normalize import FEATURE_WORDS, normalise
    from geo_control.geocode.stopwords import GENERIC

    extra = {"prison", "hospital", "stadium", "university", "airport", "bridge", "dam", "military",
             "national", "central", "general", "city", "town", "village", "district", "neighbourhood",
             "neighborhood", "square", "roundabout", "factory", "silos", "base"}
    words = normalise(name, reorder=False).split()
    kept = [w for w in words if w not in GENERIC and w not in extra and w not in FEATURE_WORDS]
    return " ".join(kept)


def _same(a: str, b: str) -> bool:
    from geo_control.geocode.normalize import normalise, skeleton

    return bool(a) and bool(b) and skeleton(normalise(a)) == skeleton(normalise(b))


def _place_statement(st: Statement, res: _Resolver) -> tuple[dict | None, dict | None]:
    from geo_control.geocode.normalize import normalise

    gaz = res.gaz
    relation = (st.relation or "").strip().lower()
    place = st.place
    from_place = st.from_place
    # "18km southwest of Mayadin": the extractor may give Mayadin as both place and from_place
    if relation == "offset" and _same(place, from_place):
        place = ""
    if place and normalise(place).removeprefix("river ").removesuffix(" river") in RIVERS:
        if not from_place:
            return None, _unresolved(st, "names a river, not a place; give a place on its bank", [])
        place = ""
    has_offset = st.distance_km is not None and st.bearing_deg is not None
    anchor_cands: list[Candidate] = []
    anchor_pts: list[tuple] = []
    # where the relation alone puts the place ("30km south of Homs", "west of Hajin"):
    # (lat, lon, uncertainty, anchor), the fallback when the place itself is missing or far
    derived: tuple[float, float, float, Candidate] | None = None
    if from_place and not _same(place, from_place):
        anchor_cands = res.resolve(from_place, st)
        if anchor_cands and anchor_cands[0].score >= MIN_SCORE:
            a = anchor_cands[0]
            if place and st.bearing_deg is not None:
                dlat, dlon, dunc = _offset(a, float(st.bearing_deg), st.distance_km)
                derived = (dlat, dlon, dunc, a)
            if place and has_offset and derived is not None:
                # "a factory in Hisyah 30km south of Homs": the place is expected about there
                anchor_pts.append((derived[0], derived[1], 3.0, a.place_id))
            else:
                anchor_pts.append((a.lat, a.lon, 2.0, a.place_id))
    elif from_place and not place:
        anchor_cands = res.resolve(from_place, st)
    between = relation.split(":", 1)[1].strip() if relation.startswith("between:") else ""
    other: list[Candidate] = []
    if between:
        other = res.resolve(between, st)
        if other and other[0].score >= MIN_SCORE:
            anchor_pts.append((other[0].lat, other[0].lon, 1.5, other[0].place_id))

    if place:
        cands = res.resolve(place, st, extra=anchor_pts)
        inside = False
        if not cands or cands[0].score < MIN_SCORE:
            # "Hama Central Prison", "the Raqqa stadium": a site the gazetteer lacks inside a
            # place it has; placed at the place, derived (precision 2)
            head = _without_generic(place)
            if head and head != normalise(place, reorder=False):
                inner = res.resolve(head, st, extra=anchor_pts)
                if inner and inner[0].score >= MIN_SCORE:
                    cands, inside = inner, True
        if derived is not None and (not cands or cands[0].score < MIN_SCORE or _far_from(cands[0], derived, st)):
            # "Hisyah Industrial Area 30km south of Homs city": the gazetteer lacks the place,
            # or has one of that name elsewhere; the relation still says where it is
            dlat, dlon, dunc, a = derived
            return _row(st, place_id=a.place_id, place_name=a.name, lat=round(dlat, 6), lon=round(dlon, 6),
                        precision=2, uncertainty_km=round(dunc, 2)), None
        if not cands:
            return None, _unresolved(st, "no gazetteer name matches", gaz.suggest(place))
        best = cands[0]
        if best.score < MIN_SCORE:
            return None, _unresolved(st, f"best match scores {best.score:.2f} < {MIN_SCORE}", cands)
        lat, lon, unc = best.lat, best.lon, best.uncertainty_km
        precision = 3 if best.feature in AREA_FEATURES else 1
        if inside:
            precision, unc = max(precision, 2), unc + 1.0
        conf = st.confidence
        # a close second that lies far away: the choice is a guess; say so in the confidence
        if len(cands) > 1 and cands[1].score > best.score - 0.02 and \
                distance_km(best.lon, best.lat, cands[1].lon, cands[1].lat) > 25:
            conf = round(conf * 0.7, 3)
            log.info("%s: %r ambiguous between %s and %s", st.doc, place, best.name, cands[1].name)
        if relation == "near":
            # "within 10 km of X": the distance is the radius; plain "near X" a few km
            unc = max(unc, st.distance_km) if st.distance_km else unc + 5.0
            precision = max(precision, 2)
        elif relation.startswith("part:"):
            side = relation.split(":", 1)[1]
            brg = _bearing_of(side)
            r = _radius_km(best)
            if brg is not None and brg >= 0:
                lon, lat = destination(lon, lat, brg, r * 0.5)
            precision, unc = max(precision, 2), max(r * 0.6, 0.5)
        elif between and other and other[0].score >= MIN_SCORE:
            o = other[0]
            d = distance_km(best.lon, best.lat, o.lon, o.lat)
            az, _, _ = gaz_geod_inv(best.lon, best.lat, o.lon, o.lat)
            lon, lat = destination(best.lon, best.lat, az, d / 2)
            precision, unc = 2, max(1.0, d / 2)
        elif relation.startswith("bank:"):
            moved = _euphrates_side(gaz, lat, lon, relation.split(":", 1)[1])
            if moved is not None and moved[2] < 15:
                lat, lon = moved[0], moved[1]
            precision, unc = max(precision, 2), unc + 2.0
        return _row(st, place_id=best.place_id, place_name=best.name, lat=round(lat, 6), lon=round(lon, 6),
                    precision=precision, uncertainty_km=round(unc, 2), confidence=conf), None

    # No place of its own: the position is derived from from_place (and a relation).
    anchor_name = from_place or st.place
    if not anchor_name:
        return None, _unresolved(st, "statement names no place", [])
    if not anchor_cands:
        anchor_cands = res.resolve(anchor_name, st)
    if not anchor_cands:
        return None, _unresolved(st, "from_place matches no gazetteer name", gaz.suggest(anchor_name))
    a = anchor_cands[0]
    if a.score < MIN_SCORE:
        return None, _unresolved(st, f"from_place best match scores {a.score:.2f} < {MIN_SCORE}", anchor_cands)
    lat, lon, unc = a.lat, a.lon, a.uncertainty_km
    dist = st.distance_km
    if st.bearing_deg is not None:
        # "18km southwest of Mayadin"; "pushed west of Maadan" (no distance: a few km that way)
        lat, lon, unc = _offset(a, float(st.bearing_deg), dist)
    elif dist is not None:
        # "within 10 km of X": the distance is the radius
        unc = max(unc, dist) if relation == "near" else unc + dist
    else:
        unc = unc + 5.0
    if relation.startswith("bank:"):
        moved = _euphrates_side(gaz, lat, lon, relation.split(":", 1)[1])
        if moved is not None and moved[2] < 15:
            lat, lon = moved[0], moved[1]
    return _row(st, place_id=a.place_id, place_name=a.name, lat=round(lat, 6), lon=round(lon, 6),
                precision=2, uncertainty_km=round(unc, 2)), None


def _offset(a: Candidate, bearing: float, dist: float | None) -> tuple[float, float, float]:
    """(lat, lon, uncertainty km) of the point ``dist`` km from ``a`` towards ``bearing``.

    Without a distance ("pushed west of X") the point is DEFAULT_OFFSET_KM away and the radius
    grows by as much again: the force is somewhere on that side, not at a known distance.
    """
    d = dist if dist is not None else DEFAULT_OFFSET_KM
    lon, lat = destination(a.lon, a.lat, bearing, float(d))
    # a compass word is +-22.5 degrees: lateral error grows with distance
    unc = a.uncertainty_km + max(1.5, d * math.tan(math.radians(22.5))) + (0 if dist is not None else DEFAULT_OFFSET_KM)
    return lat, lon, unc


def _far_from(c: Candidate, derived: tuple[float, float, float, Candidate], st: Statement) -> bool:
    """Is a found place too far from where the relation puts it (more than twice the distance)?"""
    if st.distance_km is None:
        return False  # "Bahrah west of Hajin": no distance to hold the place to
    limit = max(2.0 * float(st.distance_km), derived[2])
    return distance_km(c.lon, c.lat, derived[1], derived[0]) > limit


def gaz_geod_inv(lon1: float, lat1: float, lon2: float, lat2: float):
    from geo_control.crs import GEOD

    return GEOD.inv(lon1, lat1, lon2, lat2)


_EMPTY_UNRESOLVED = pd.DataFrame([], columns=list(UNRESOLVED_COLUMNS))


def locate(statements: Sequence[Statement], gazetteer: Gazetteer, doc_text: str = "") -> tuple[pd.DataFrame, pd.DataFrame]:
    """Geocode statements: (events with EVENT_COLUMNS, unresolved with UNRESOLVED_COLUMNS).

    Every statement yields exactly one row in one of the two tables.
    """
    # the gazetteer and its memos are ~10^6 long-lived objects that the cyclic GC would rescan
    # over and over while a document's small, acyclic rows are made (~10 % of the time)
    gc_was_on = gc.isenabled()
    gc.disable()
    try:
        res = _Resolver(gazetteer, doc_text)
        events, unresolved = [], []
        for st in statements:
            try:
                ev, un = _place_statement(st, res)
            except (ValueError, ArithmeticError) as exc:  # one bad statement is data, not a crash
                log.warning("%s: cannot place %r: %s", st.doc, st.place, exc)
                ev, un = None, _unresolved(st, f"error while placing: {exc}", [])
            if ev is not None:
                events.append(ev)
            if un is not None:
                unresolved.append(un)
        ev_df = pd.DataFrame(events, columns=list(EVENT_COLUMNS))
        if not ev_df.empty:
            ev_df["precision"] = ev_df["precision"].astype(int)
        # most documents place every mention: an empty table is copied, not built (0.2 ms each)
        un_df = pd.DataFrame(unresolved, columns=list(UNRESOLVED_COLUMNS)) if unresolved else _EMPTY_UNRESOLVED.copy()
    finally:
        if gc_was_on:
            gc.enable()
    return ev_df, un_df

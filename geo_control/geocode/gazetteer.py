"""The gazetteer: places, a skeleton-keyed name index, and ranked lookups.

``Gazetteer.load(data_dir)`` builds the index from ``data/gazetteer`` once and caches it as a
pickle keyed by the data files' checksums and the build version (``$GEO_CONTROL_CACHE`` or
``~/.cache/geo_control``), so later loads take a fraction of a second.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from rapidfuzz import fuzz, process

from geo_control.crs import GEOD, destination
from geo_control.diskcache import cache_home, load_pickle, save_pickle
from geo_control.geocode.build import (
    BUILD_VERSION,
    Place,
    alias_entry,
    build_index,
    build_places,
    read_place_table,
    source_files,
)
from geo_control.geocode.normalize import (
    _DOUBLE,
    _FINAL_H,
    _FOLDS,
    _VOWELS,
    ARTICLES,
    ENGLISH_ADJECTIVES,
    FEATURE_WORDS,
    arabic_key,
    ascii_fold,
    folded,
    has_arabic,
    normalise,
    skeleton,
    split_feature,
)
from geo_control.geocode.stopwords import GENERIC, STOPWORDS

log = logging.getLogger(__name__)

#: Extra spellings of the governorates reports use (OCHA names and Arabic come from the data).
GOVERNORATE_ALIASES = {
    "Deir-ez-Zor": ["Deir ez-Zor", "Deir Ezzor", "Dayr az Zawr", "Deir al-Zour", "Deir Ez Zor", "Deir Zor", "Deir"],
    "Ar-Raqqa": ["Raqqa", "Raqqah", "Rakka"],
    "Al-Hasakeh": ["Hasakah", "Hasaka", "Hassakeh", "Hasakeh", "Hassakah", "Hasakah"],
    "Aleppo": ["Halab"],
    "Idleb": ["Idlib"],
    "Lattakia": ["Latakia", "Lattakiya", "Ladhiqiyah"],
    "Tartous": ["Tartus"],
    "Hama": ["Hamah", "Hamat"],
    "Homs": ["Hims"],
    "Rural Damascus": ["Rif Dimashq", "Reef Damascus", "Rif Damascus", "Damascus countryside"],
    "Damascus": ["Dimashq"],
    "Dar'a": ["Daraa", "Deraa", "Dera'a", "Dara"],
    "As-Sweida": ["Suwayda", "Sweida", "Suwaida", "Suweida"],
    "Quneitra": ["Qunaytirah", "Kuneitra"],
}

#: Features whose point stands for an area: a mention resolved to one is precision 3.
AREA_FEATURES = ("region", "county", "countryside", "area")
#: Features that are sites rather than settlements: a bare name ("Tabqa") prefers the settlement.
SITE_FEATURES = ("oilfield", "station", "airbase", "crossing", "camp", "dam", "bridge", "industrial", "military")
_LOCALITY_HINTS = ("locality", "")
#: Features a hint also fits: "Abu Kamal district" may be the county, "Deir ez-Zor countryside"
#: the governorate.
_HINT_ALSO = {"district": ("county",), "countryside": ("region", "county", "area"), "region": ("area",)}
#: Weight of a place's prior (size, rank, curated) against name similarity (0.7) and context.
PRIOR_WEIGHT = 0.3
#: Weight of an explicit position hint (``near=``, ``--near``) as a context anchor.
NEAR_WEIGHT = 2.0
#: An explicit position hint is the user's word: besides anchoring like a place named nearby,
#: it pulls on a provincial scale (km), so a same-named place 100 km away beats one 400 km away.
NEAR_PULL, NEAR_SCALE_KM = 0.3, 200.0
_DIRECTIONS = {
    "north": 0.0, "northern": 0.0, "northeast": 45.0, "northeastern": 45.0, "east": 90.0, "eastern": 90.0,
    "southeast": 135.0, "southeastern": 135.0, "south": 180.0, "southern": 180.0, "southwest": 225.0,
    "southwestern": 225.0, "west": 270.0, "western": 270.0, "northwest": 315.0, "northwestern": 315.0,
}
#: Name similarity by kind of alias: own name, alternate name, name borrowed from a neighbour.
_KIND_SIM = {1: 1.0, 0: 0.98, -1: 0.8}
_TOKEN = re.compile(r"[^\s\-–—,;:()/]+(?:-(?=[a-z]))?")


@dataclass(frozen=True)
class Candidate:
    """A gazetteer place that may be what a name means, with its score (0..1, higher is better)."""

    name: str
    lat: float
    lon: float
    place_id: str
    feature: str
    score: float
    governorate: str = ""
    district: str = ""
    country: str = "SY"
    population: int = 0
    uncertainty_km: float = 1.0
    source: str = ""
    match: float = 0.0
    index: int = -1

    def to_dict(self) -> dict:
        return {
            "name": self.name, "lat": round(self.lat, 6), "lon": round(self.lon, 6), "place_id": self.place_id,
            "feature": self.feature, "score": round(self.score, 3), "governorate": self.governorate,
            "district": self.district, "country": self.country,
        }


def _better(sim: float, hint: str, current: tuple[float, str] | None) -> bool:
    """Does an alias match better than the current best? At equal similarity a plain name
    ("Jobar") beats one that needed its feature word stripped ("Jobar district")."""
    if current is None:
        return True
    return (sim, not hint) > (current[0], not current[1])


_LEADING_DIRECTION = re.compile(
    r"^\s*(?:the\s+)?(?:north|south|east|west|northern|southern|eastern|western|north-?east(?:ern)?|"
    r"north-?west(?:ern)?|south-?east(?:ern)?|south-?west(?:ern)?|central|greater|rural|outer)\s+",
    re.IGNORECASE,
)


_GLUED = re.compile(r"^(?:al|el)(?=[bcdfghjklmnpqrstvwxyz])")


#: Words that make a phrase's key more than its words' skeletons joined (a leading "the" or
#: direction, "village of", an English adjective moved to the end, a feature word removed):
#: phrases with them take the exact path in ``_may_name_exactly``.
_SPECIAL_WORDS = frozenset(
    {w for phrase in FEATURE_WORDS for w in phrase.split()}
    | set(ENGLISH_ADJECTIVES)
    | set("the of village villages town towns city cities hamlet area region outskirts vicinity suburb suburbs "
          "neighbourhood neighbourhoods neighborhood neighborhoods district countryside north south east west "
          "northern southern eastern western northeast northeastern northwest northwestern southeast "
          "southeastern southwest southwestern central greater rural outer".split())
)


@lru_cache(maxsize=100_000)
def _word_pieces(token: str) -> tuple[tuple[str, str], ...]:
    """The ASCII words of a raw token, each with its skeleton folds applied (vowels still in)."""
    out = []
    for word in ascii_fold(token).split():
        piece = _FINAL_H.sub("", word)
        for a, b in _FOLDS:
            piece = piece.replace(a, b)
        out.append((word, piece))
    return tuple(out)


def _fast_key(parts: Sequence[str]) -> str | None:
    """``skeleton(split_feature(normalise(" ".join(parts)))[0])`` from per-token pieces, or None
    when a word could make the two differ (see ``_SPECIAL_WORDS``; a glued article)."""
    pieces = []
    for token in parts:
        for word, piece in _word_pieces(token):
            if word in ARTICLES:
                continue
            if word in _SPECIAL_WORDS or (len(word) >= 5 and _GLUED.match(word)):
                return None
            pieces.append(piece)
    consonants = _DOUBLE.sub(r"\1", _VOWELS.sub("", "".join(pieces)))
    return consonants or None


def _split_qualifiers(name: str) -> tuple[str, tuple[str, ...]]:
    """"Hajin (Deir ez-Zor)" / "Bahrah, Hama" -> the name and its qualifiers as context."""
    quals: list[str] = []
    m = re.match(r"^\s*([^()]+?)\s*\(([^()]*)\)\s*(.*)$", name)
    if m and m.group(1).strip():
        name = m.group(1) + (" " + m.group(3) if m.group(3) else "")
        quals.append(m.group(2))
    if "," in name:
        head, *rest = [part.strip() for part in name.split(",")]
        if head:
            name = head
            quals += [r for r in rest if r]
    return name.strip(), tuple(q.strip() for q in quals if q.strip())


def _query_key(name: str) -> str:
    """The index key a name is looked up under (feature words dropped)."""
    if has_arabic(name):
        return "ar:" + arabic_key(name).replace(" ", "")
    return skeleton(split_feature(normalise(name))[0])


def _checksum(paths: Iterable[Path]) -> str:
    h = hashlib.sha256(BUILD_VERSION.encode())
    # the code that builds the index is part of the key: a changed rule rebuilds the cache
    here = Path(__file__).resolve().parent
    for module in ("build.py", "normalize.py"):
        h.update((here / module).read_bytes())
    for p in paths:
        h.update(p.name.encode())
        h.update(hashlib.sha256(p.read_bytes()).digest())
    return h.hexdigest()[:20]


def _haversine_km(lat1, lon1, lat2, lon2):
    """Great-circle distance (km), vectorised; ranking only (reported distances are geodesic)."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dphi = p2 - p1
    dlmb = np.radians(np.asarray(lon2) - np.asarray(lon1))
    a = np.sin(dphi / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dlmb / 2) ** 2
    return 6371.0 * 2 * np.arcsin(np.sqrt(np.minimum(1.0, a)))


class Anchors(list):
    """Context anchors (lat, lon, weight[, place_id[, name key]]) with their arrays built once.

    A plain list works wherever anchors are taken; this one saves rebuilding the arrays when
    the same anchors (a sentence's and its document's places) serve many lookups.
    """

    _arrays: tuple | None = None
    _base: Anchors | None = None
    _own: int = 0

    @classmethod
    def with_base(cls, items: Sequence[tuple], base: Anchors) -> Anchors:
        """``items`` followed by ``base``, reusing the arrays of ``base`` (a document's places)."""
        out = cls(list(items) + base)
        out._base = base
        out._own = len(items)
        return out

    def arrays(self) -> tuple[np.ndarray, ...]:
        """See ``_anchor_arrays``."""
        if self._arrays is None:
            if self._base is None:
                self._arrays = _anchor_arrays(self)
            else:
                own = _anchor_arrays(self[:self._own])
                self._arrays = tuple(np.concatenate(c) for c in zip(own, self._base.arrays(), strict=True))
        return self._arrays


def _pid_code(place_id: str) -> int:
    """An integer for a place id, compared in arrays (str hashes are never -1: -1 means none)."""
    return hash(place_id) if place_id else -1


def _anchor_arrays(anchors: Sequence[tuple]) -> tuple[np.ndarray, ...]:
    """(lat, lon in radians; cos lat; weight; place id code; name key) of anchors, for ``_support``."""
    a = np.array([(x[0], x[1], x[2]) for x in anchors], dtype=float).reshape(-1, 3)
    pid = np.array([_pid_code(x[3]) if len(x) > 3 else -1 for x in anchors], dtype=np.int64)
    key = np.array([x[4] if len(x) > 4 else None for x in anchors], dtype=object)
    lat = np.radians(a[:, 0])
    return lat, np.radians(a[:, 1]), np.cos(lat), a[:, 2], pid, key


class Gazetteer:
    """Syrian places and their names, with lookups that survive transliteration.

    Build with ``Gazetteer.load(data_dir, overrides=None)``.
    """

    def __init__(self, places: list[Place], euphrates: list, governorates: list[tuple[str, str]],
                 overrides: Sequence[Place] = ()):
        self.places = list(places)
        self.euphrates = euphrates
        self.index = build_index(self.places)
        self._add_overrides(overrides)
        self._finish(governorates)

    def _add_overrides(self, overrides: Sequence[Place]) -> None:
        """An override wins: the names it claims stop finding any other place."""
        if not overrides:
            return
        claimed = {e[0] for o in overrides for a in o.aliases if (e := alias_entry(a))}
        for key in claimed:
            self.index[key] = [entry for entry in self.index.get(key, []) if entry[0] < 0]
        for o in overrides:
            o.prior = 1.0
            i = len(self.places)
            self.places.append(o)
            seen = set()
            for a in o.aliases:
                e = alias_entry(a)
                if e and (e[0], e[1]) not in seen:
                    seen.add((e[0], e[1]))
                    self.index.setdefault(e[0], []).append((i, e[1], e[2], 1))

    def _finish(self, governorates: list[tuple[str, str]]) -> None:
        self.lat = np.array([p.lat for p in self.places])
        self.lon = np.array([p.lon for p in self.places])
        self.keys = list(self.index)
        self._deletes: dict[str, list[str]] | None = None
        self.governorates = [g for g, _ in governorates]
        self._gov_keys: dict[str, str] = {}
        for name, arabic in governorates:
            for alias in [name, arabic, *GOVERNORATE_ALIASES.get(name, [])]:
                key = ("ar:" + arabic_key(alias).replace(" ", "")) if has_arabic(alias) else skeleton(normalise(alias))
                self._gov_keys.setdefault(key, name)
        # governorate centroids (mean of their localities) for hints like "Homs countryside"
        self.gov_centre: dict[str, tuple[float, float]] = {}
        govs = np.array([p.governorate if p.feature not in AREA_FEATURES else "" for p in self.places])
        for g in self.governorates:
            mask = govs == g
            if mask.any():
                self.gov_centre[g] = (float(self.lat[mask].mean()), float(self.lon[mask].mean()))
        self._refresh_arrays()

    #: Per-name memos and lazily built structures: rebuilt on demand, never pickled.
    _TRANSIENT = ("_raw_memo", "_ctx_cache", "_mention_memo", "_suggest_memo", "_arabic_keys", "_prep_memo",
                  "_keys_by_len")

    def _refresh_arrays(self) -> None:
        """Per-place columns as arrays: a lookup scores its candidates without touching Place objects."""
        ps = self.places
        self.lat = np.array([p.lat for p in ps], dtype=float)
        self.lon = np.array([p.lon for p in ps], dtype=float)
        self._lat_r, self._lon_r = np.radians(self.lat), np.radians(self.lon)
        self._cos_lat = np.cos(self._lat_r)
        self._prior = np.array([p.prior for p in ps], dtype=float)
        self._feature = [p.feature for p in ps]
        self._gov = [p.governorate for p in ps]
        self._set_pid_codes()
        # an area's label point lies wherever: context near it says little
        self._ctx_scale = np.array([0.3 if p.feature in AREA_FEATURES else 1.0 for p in ps])
        for name in self._TRANSIENT:
            self.__dict__.pop(name, None)

    def _set_pid_codes(self) -> None:
        self._pid_codes = np.array([_pid_code(p.place_id) for p in self.places], dtype=np.int64)

    def __getstate__(self) -> dict:
        # worker processes get the index, not the memos of the parent's documents
        state = {k: v for k, v in self.__dict__.items() if k not in self._TRANSIENT}
        state["_deletes"] = None
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._set_pid_codes()  # str hashes differ from process to process

    # ----------------------------------------------------------------------------------------
    @classmethod
    def load(cls, data_dir: str | Path, overrides: str | Path | None = None) -> Gazetteer:
        """Load (or build once and cache) the gazetteer of ``data_dir``; ``overrides`` wins.

        Raises ``GazetteerError`` when a data file or the overrides file is malformed.
        """
        data_dir = Path(data_dir)
        files = source_files(data_dir)
        cache = cache_home() / f"gazetteer-{_checksum(files)}.pickle"
        state = load_pickle(cache, "gazetteer")
        if state is None:
            places, euphrates, governorates = build_places(data_dir)
            gaz = cls(places, euphrates, governorates)
            # aliases live on in the index; dropping them from the places halves the cache
            slim = [dataclasses.replace(p, aliases=[]) for p in gaz.places]
            state = {"places": slim, "euphrates": euphrates, "governorates": governorates,
                     "index": gaz.index}
            save_pickle(cache, state, "gazetteer", stale_glob="gazetteer-*.pickle")
            if not overrides:
                return gaz
        gaz = cls.__new__(cls)
        gaz.places = state["places"]
        gaz.euphrates = state["euphrates"]
        gaz.index = state["index"]
        extra = read_place_table(Path(overrides), "overrides", None, "override") if overrides else []
        gaz._add_overrides(extra)
        gaz._finish(state["governorates"])
        gaz._assign_admin(extra)
        if extra:
            gaz._refresh_arrays()
        return gaz

    def _assign_admin(self, extra: Sequence[Place]) -> None:
        """Overrides get the governorate/district of the nearest gazetteer locality."""
        n_base = len(self.places) - len(extra)
        base = np.array([k < n_base and p.feature not in AREA_FEATURES for k, p in enumerate(self.places)])
        for p in extra:
            if p.governorate:
                continue
            d = _haversine_km(p.lat, p.lon, self.lat, self.lon)
            d = np.where(base, d, np.inf)
            j = int(np.argmin(d))
            if d[j] < 30:
                p.governorate = self.places[j].governorate
                p.district = self.places[j].district
            else:
                p.governorate = p.country

    # ----------------------------------------------------------------------------------------
    def governorate_of(self, text: str) -> str | None:
        """The governorate a hint names ("Deir ez-Zor governorate", "eastern Homs countryside")."""
        norm = normalise(text, reorder=False)
        for word in ("governorate", "province", "countryside", "province of", "rural", "eastern", "western",
                     "northern", "southern", "north", "south", "east", "west", "northeastern", "northwestern",
                     "southeastern", "southwestern", "central", "desert", "badia"):
            norm = (" " + norm + " ").replace(f" {word} ", " ").strip()
        if not norm:
            return None
        key = ("ar:" + arabic_key(text).replace(" ", "")) if has_arabic(text) else skeleton(norm)
        return self._gov_keys.get(key)

    def mentions(self, text: str, min_score: float = 0.7, limit: int = 50) -> list[tuple[Candidate, float, str]]:
        """Places named in a phrase or text, with a weight: (candidate, 1.0) for a clear name.

        Capitalised names, longest match first: "along the Raqqa-Deir ez-Zor highway" gives
        Raqqa and Deir ez-Zor. An ambiguous name (two good places far apart) gives both, each
        with weight 0.5: either may be meant, and both say something about the area.
        """
        tokens = _TOKEN.findall(text or "")
        # a name starts with a capital (or is Arabic script); flagged once per token
        caps = [w[:1].isupper() or (not w.isascii() and has_arabic(w)) for w in tokens]
        memo = self.__dict__.setdefault("_mention_memo", {})
        out: list[tuple[Candidate, float, str]] = []
        i = 0
        n_tokens = len(tokens)
        while i < n_tokens and len(out) < limit:
            if not caps[i] or tokens[i].lower().strip("'’-") in STOPWORDS:
                i += 1
                continue
            taken = 0
            for n in range(min(5, n_tokens - i), 0, -1):
                if n > 1 and not caps[i + n - 1]:
                    continue
                phrase = " ".join(tokens[i:i + n])
                if len(phrase) < 3:
                    continue
                found = memo.get((phrase, min_score), False)
                if found is False:
                    found = self._mention(phrase, min_score, tokens[i:i + n])
                if found is None:
                    continue
                out += found
                taken = n
                break
            i += taken or 1
        return out

    def _mention(self, phrase: str, min_score: float,
                 parts: Sequence[str] = ()) -> tuple[tuple[Candidate, float, str], ...] | None:
        """The place(s) a capitalised phrase names, without context; memoised across documents.

        Reports repeat their names and their capitalised words: each phrase is looked up once.
        """
        memo = self.__dict__.setdefault("_mention_memo", {})
        hit = memo.get((phrase, min_score), False)
        if hit is not False:
            return hit  # type: ignore[return-value]
        if len(memo) > 200_000:
            memo.clear()
        result: tuple[tuple[Candidate, float, str], ...] | None = None
        if self._may_name_exactly(phrase, parts):
            cands = [c for c in self.lookup(phrase, all=True, limit=4) if c.feature not in ("region", "county")][:2]
            if cands and cands[0].match >= 0.9 and cands[0].score >= min_score:
                best = cands[0]
                key = _query_key(phrase)
                if len(cands) > 1 and cands[1].score > best.score - 0.03 and \
                        _haversine_km(best.lat, best.lon, cands[1].lat, cands[1].lon) > 50:
                    result = ((best, 0.5, key), (cands[1], 0.5, key))
                else:
                    result = ((best, 1.0, key),)
        memo[(phrase, min_score)] = result
        return result

    def _may_name_exactly(self, phrase: str, parts: Sequence[str] = ()) -> bool:
        """Can a lookup of ``phrase`` match a name with similarity >= 0.9? (A cheap filter.)

        Only an index key equal to the phrase's (or to the phrase's without a glued article or a
        leading direction word) gives such a match; one-edit neighbours score 0.8 at most.
        """
        if has_arabic(phrase):
            return True
        if parts:
            # most capitalised phrases of a report are no name: decided from cached word pieces
            key = _fast_key(parts)
            if key is not None:
                return key in self.index
        for variant in (phrase, _LEADING_DIRECTION.sub("", phrase)):
            if not variant.strip():
                continue
            stripped = split_feature(normalise(variant))[0]
            if skeleton(stripped) in self.index:
                return True
            unglued = " ".join(_GLUED.sub("", t) if len(t) >= 5 else t for t in stripped.split())
            if unglued != stripped and skeleton(unglued) in self.index:
                return True
        return False

    def places_in(self, text: str, min_score: float = 0.7, limit: int = 50) -> list[Candidate]:
        """Places clearly named in a phrase or text (see ``mentions``); ambiguous names left out."""
        return [c for c, w, _k in self.mentions(text, min_score, limit) if w >= 1.0]

    def _context_anchors(self, text: str) -> tuple[tuple[str, ...], list[tuple]]:
        """(governorates, anchors (lat, lon, weight, place_id, key)) a context hint names; cached.

        "Deir ez-Zor governorate" -> the governorate; "Deir Ezzor" -> the governorate and the
        city; "eastern Homs countryside" -> Homs governorate and a point ~35 km east of Homs city;
        "west of Maadan" / "Hajin pocket" -> Maadan / Hajin.
        """
        cache = self.__dict__.setdefault("_ctx_cache", {})
        if text not in cache:
            if len(cache) > 10_000:
                cache.clear()
            cache[text] = self._context_anchors_uncached(text)
        return cache[text]

    def _context_anchors_uncached(self, text: str) -> tuple[tuple[str, ...], list[tuple]]:
        out: list[tuple] = []
        gov = self.governorate_of(text)
        govs = (gov,) if gov else ()
        words = set(normalise(text, reorder=False).split())
        direction = next((_DIRECTIONS[w] for w in words if w in _DIRECTIONS), None)
        rural = bool(words & {"countryside", "rural", "desert", "badia", "outskirts", "suburbs"})
        if gov and words & {"governorate", "province"} and not rural:
            # "Deir ez-Zor governorate" is the whole governorate, not the city
            return govs, out
        weighted = self.mentions(text)
        found = [c for c, w, _k in weighted if w >= 1.0]
        if len(found) >= 2 and words & {"highway", "road", "motorway", "route", "between"}:
            # "along the Raqqa-Deir ez-Zor highway": points along the line between the places
            for a, b in zip(found, found[1:], strict=False):
                d = _haversine_km(a.lat, a.lon, b.lat, b.lon)
                az = float(GEOD.inv(a.lon, a.lat, b.lon, b.lat)[0])
                for k in range(1, max(2, int(d // 20))):
                    lon, lat = destination(a.lon, a.lat, az, d * k / max(2, int(d // 20)))
                    out.append((lat, lon, 1.0))
        for c, w, key in weighted:
            if rural and direction is not None:
                # "the eastern Homs countryside": somewhere east of the city, not the city
                lon, lat = destination(c.lon, c.lat, direction, 35.0)
                out.append((lat, lon, 0.5 * w, "", key))
            elif rural:
                # "Hama countryside": around the city, within a day's drive
                out.append((c.lat, c.lon, 0.75 * w, "", key))
            else:
                out.append((c.lat, c.lon, 1.5 * w, c.place_id, key))
        return govs, out

    def _raw(self, name: str) -> tuple[str, str, list[tuple[int, float, str]], bool]:
        """(ranking form, feature hint, [(place, name similarity 0..1, alias hint)], exact); memoised.

        Reports repeat their names: the name-matching half of a lookup is done once per name.
        """
        memo = self.__dict__.setdefault("_raw_memo", {})
        hit = memo.get(name)
        if hit is None:
            if len(memo) > 50_000:
                memo.clear()
            hit = memo[name] = self._raw_uncached(name)
        return hit

    def _raw_uncached(self, name: str) -> tuple[str, str, list[tuple[int, float, str]], bool]:
        if has_arabic(name):
            key = arabic_key(name)
            akey = "ar:" + key.replace(" ", "")
            hits = self.index.get(akey, [])
            if hits:
                return key, "", [(i, _KIND_SIM[kind], h) for i, _f, h, kind in hits], True
            # a letter more or less (a long vowel written or not, a hamza seat): near Arabic keys
            if len(akey) < 6:
                return key, "", [], False
            arabic_keys = self.__dict__.get("_arabic_keys")
            if arabic_keys is None:
                arabic_keys = self.__dict__["_arabic_keys"] = [k for k in self.keys if k.startswith("ar:")]
            near: dict[int, tuple[float, str]] = {}
            for other, score, _ in process.extract(akey, arabic_keys, scorer=fuzz.ratio, score_cutoff=85, limit=10):
                for i, _f, h, kind in self.index[other]:
                    sim = 0.8 * (0.3 + 0.7 * score / 100.0) * _KIND_SIM[kind]
                    if _better(sim, h, near.get(i)):
                        near[i] = (sim, h)
            return key, "", [(i, s_, h) for i, (s_, h) in near.items()], False
        norm = normalise(name)
        stripped, hint = split_feature(norm)
        key = skeleton(stripped)
        form = folded(stripped)
        if not key:
            return form, hint, [], False
        best: dict[int, tuple[float, str]] = {}
        for i, alias_form, alias_hint, kind in self.index.get(key, []):
            r = fuzz.ratio(form, alias_form) / 100.0
            sim = 0.3 + 0.7 * r - (1.0 - _KIND_SIM[kind])
            if r < 0.7:
                # same consonants, different word (Busarityah / Basrit): no better than a near miss
                sim *= 0.8
            if _better(sim, alias_hint, best.get(i)):
                best[i] = (sim, alias_hint)
        exact = bool(best)
        if not exact:
            # a glued article ("Alsukhnah", "Qasr Elbreij", "Bijan Elbab")
            unglued = " ".join(_GLUED.sub("", t) if len(t) >= 5 else t for t in stripped.split())
            if unglued != stripped:
                ukey, uform = skeleton(unglued), folded(unglued)
                for i, alias_form, alias_hint, kind in self.index.get(ukey, []):
                    sim = 0.95 * (0.3 + 0.7 * fuzz.ratio(uform, alias_form) / 100.0 - (1.0 - _KIND_SIM[kind]))
                    if _better(sim, alias_hint, best.get(i)):
                        best[i] = (sim, alias_hint)
        for other in self.near_keys(key):
            for i, alias_form, alias_hint, kind in self.index[other]:
                if kind < 0:
                    continue
                r = fuzz.ratio(form, alias_form) / 100.0
                if r < 0.7:
                    continue
                # letters and consonant skeletons both: "Busarityah" is nearer Busayrah (b-s-r)
                # than Busaytin (b-s-t-n) although its letters say otherwise
                kr = fuzz.ratio(key, other) / 100.0
                sim = 0.8 * (0.3 + 0.7 * (0.5 * r + 0.5 * kr))
                if _better(sim, alias_hint, best.get(i)):
                    best[i] = (sim, alias_hint)
        return form, hint, [(i, s, h) for i, (s, h) in best.items()], exact

    @property
    def deletes(self) -> dict[str, list[str]]:
        """One-edit neighbours of every key (SymSpell-style: "bsrt" finds "bsr"), built on first use."""
        if self._deletes is None:
            deletes: dict[str, list[str]] = {}
            for key in self.keys:
                if len(key) >= 3 and not key.startswith("ar:"):
                    for j in range(len(key)):
                        deletes.setdefault(key[:j] + key[j + 1:], []).append(key)
            self._deletes = deletes
        return self._deletes

    def near_keys(self, key: str) -> set[str]:
        """Index keys one consonant edit from ``key`` (keys of 4+ consonants only)."""
        if len(key) < 4:
            return set()
        out: set[str] = set(self.deletes.get(key, ()))
        for j in range(len(key)):
            d = key[:j] + key[j + 1:]
            if d in self.index:
                out.add(d)
            out.update(self.deletes.get(d, ()))
        out.discard(key)
        return out

    def lookup(
        self,
        name: str,
        near: tuple[float, float] | None = None,
        context: Sequence[str] = (),
        all: bool = False,
        anchors: Sequence[tuple] = (),
        context_weight: float = 1.0,
        limit: int | None = None,
    ) -> list[Candidate]:
        """Candidates for ``name``, best first; one unless ``all``. Empty when nothing matches.

        ``near`` (lat, lon) prefers places close to it; ``context`` holds hints such as
        governorate or countryside names; ``anchors`` are (lat, lon, weight) of places
        mentioned nearby in the text (optional 4th and 5th items, a place_id and a name key,
        keep a place and a name from supporting themselves); ``context_weight`` scales what
        the ``context`` hints count for; ``limit`` caps the candidates returned with ``all``.

        >>> # gaz.lookup("Deir Ezzor")[0].name -> 'Deir ez-Zor'
        """
        prep = self._prepare(name, tuple(context), context_weight)
        if prep is None:
            return []
        idx, sims, base, gov_ctx, ctx_from_hints, near_hints, qkey = prep
        nears = ([near] if near is not None else []) + near_hints
        extra: list[tuple] = [(la, lo, NEAR_WEIGHT) for la, lo in nears]
        extra += ctx_from_hints
        parts = [anchors.arrays() if isinstance(anchors, Anchors) else _anchor_arrays(anchors) if anchors else None,
                 _anchor_arrays(extra) if extra else None]
        parts = [q for q in parts if q is not None and len(q[0])]
        ctx = gov_ctx
        if parts:
            alat, alon, acos, aw, apid, akey = (np.concatenate(cols) if len(parts) > 1 else cols[0]
                                                for cols in zip(*parts, strict=True))
            # a mention of this very name says nothing about which place it is
            keep = akey != qkey
            if not keep.all():
                alat, alon, acos, aw, apid = alat[keep], alon[keep], acos[keep], aw[keep], apid[keep]
            if len(aw):
                ctx = ctx + 0.3 * (1 - np.exp(-self._support(alat, alon, acos, aw, apid, idx)))
        if nears:
            d = np.min([_haversine_km(la, lo, self.lat[idx], self.lon[idx]) for la, lo in nears], axis=0)
            ctx = ctx + NEAR_PULL * np.exp(-d / NEAR_SCALE_KM)
        # an area's label point lies wherever: context near it says little
        ctx = ctx * self._ctx_scale[idx]
        score = base + ctx
        order = np.lexsort((idx, -score))
        cap = (limit or len(order)) if all else 1
        out = []
        seen: set[str] = set()
        for k in order:
            p = self.places[idx[k]]
            if p.place_id in seen:
                continue
            seen.add(p.place_id)
            out.append(Candidate(
                name=p.name, lat=p.lat, lon=p.lon, place_id=p.place_id, feature=p.feature,
                score=float(min(1.0, max(0.0, score[k]))), governorate=p.governorate, district=p.district,
                country=p.country, population=p.population, uncertainty_km=p.uncertainty_km,
                source=p.source, match=float(sims[k]), index=int(idx[k]),
            ))
            if len(out) >= cap:
                break
        return out

    def _prepare(self, name: str, context: tuple[str, ...], context_weight: float) -> tuple | None:
        """The part of a lookup that depends only on the name and its hints; memoised.

        (candidate indices, name similarities, score before place context, governorate
        context, anchors the hints name, ``near=`` points among the hints, the name's key), or
        None when nothing matches.
        """
        memo = self.__dict__.setdefault("_prep_memo", {})
        key = (name, context, context_weight)
        hit = memo.get(key, False)
        if hit is not False:
            return hit  # type: ignore[return-value]
        if len(memo) > 50_000:
            memo.clear()
        hit = memo[key] = self._prepare_uncached(name, context, context_weight)
        return hit

    def _prepare_uncached(self, name: str, context: tuple[str, ...], context_weight: float) -> tuple | None:
        name, qualifiers = _split_qualifiers(name)
        context = (*qualifiers, *context)
        words = normalise(name, reorder=False).split()
        if words and not any(w not in GENERIC and w not in FEATURE_WORDS for w in words):
            return None
        form, hint, raw, _exact = self._raw(name)
        if not raw or max(s for _, s, _ in raw) < 0.85:
            # "eastern Deir ez-Zor", "northern Hama": the place the direction qualifies
            bare = _LEADING_DIRECTION.sub("", name)
            if bare != name and bare.strip():
                alt = self._raw(bare)
                best_alt = max((s for _, s, _ in alt[2]), default=0.0)
                if best_alt >= 0.9 and (not raw or best_alt > max(s for _, s, _ in raw)):
                    name, (_form, hint, raw, _exact) = bare, alt
        if not raw:
            return None
        govs: dict[str, float] = {}
        ctx_places: list[tuple] = []
        nears: list[tuple[float, float]] = []
        for rank, item in enumerate(context):
            # hints come nearest first: the farther down the list, the less a hint says
            weight = context_weight / (1 + rank)
            hint_text = (item or "").strip()
            if not hint_text:
                continue
            if hint_text.startswith("near="):
                try:
                    la, lo = (float(v) for v in hint_text[5:].split(","))
                    nears.append((la, lo))
                except ValueError:
                    pass
                continue
            if not hint:
                # a context that is only a feature word ("village", "airbase") says what kind of place
                _rest, word_hint = split_feature(normalise(hint_text))
                if word_hint and not _rest.strip() or normalise(hint_text) in FEATURE_WORDS:
                    hint = FEATURE_WORDS.get(normalise(hint_text), word_hint)
                    continue
            found_govs, found = self._context_anchors(hint_text)
            for g in found_govs:
                govs[g] = max(govs.get(g, 0.0), weight)
            ctx_places += [(a[0], a[1], a[2] * weight, *a[3:]) for a in found]
        idx = np.fromiter((i for i, _, _ in raw), dtype=np.intp, count=len(raw))
        sims = np.fromiter((s_ for _, s_, _ in raw), dtype=float, count=len(raw))
        priors = self._prior[idx]
        feat_adj = np.zeros(len(idx))
        features = self._feature
        for k, (i, _s, alias_hint) in enumerate(raw):
            feature = features[i]
            if hint and hint not in _LOCALITY_HINTS:
                # the query says what kind of place it is ("... airbase", "... governorate")
                if feature == hint or alias_hint == hint or feature in _HINT_ALSO.get(hint, ()):
                    feat_adj[k] += 0.15
                else:
                    feat_adj[k] -= 0.15
            elif hint in ("locality",) and feature in SITE_FEATURES:
                # "Tiyas village" is the village, not Tiyas airbase
                feat_adj[k] -= 0.25
            elif not hint and alias_hint and alias_hint not in _LOCALITY_HINTS:
                # "Tabqa" alone is the town; the dam is "Tabqa dam", the airport "Deir ez-Zor airport"
                feat_adj[k] -= 0.15
        gov_ctx = np.zeros(len(idx))
        if govs:
            gov = self._gov
            gov_ctx += np.array([0.2 * govs.get(gov[i], 0.0) for i in idx])
        # the prior ranks places whose names match well; it must not lift a big city over a
        # better-matching village ("Salma" is not Salamiyah)
        base = 0.7 * sims + PRIOR_WEIGHT * priors * sims**4 + feat_adj
        return idx, sims, base, gov_ctx, ctx_places, nears, _query_key(name)

    def _support(self, alat: np.ndarray, alon: np.ndarray, acos: np.ndarray, aw: np.ndarray, apid: np.ndarray,
                 idx: np.ndarray) -> np.ndarray:
        """How much the anchors (radians) back each candidate: one array operation for all pairs."""
        lat, lon = self._lat_r[idx], self._lon_r[idx]
        # haversine (km), as _haversine_km, with the places' radians and cosines precomputed
        h = np.sin((lat[None, :] - alat[:, None]) / 2) ** 2 + \
            acos[:, None] * self._cos_lat[idx][None, :] * np.sin((lon[None, :] - alon[:, None]) / 2) ** 2
        d = 6371.0 * 2 * np.arcsin(np.sqrt(np.minimum(1.0, h)))
        # two scales: the region (50 km) and the neighbourhood (6 km)
        contrib = aw[:, None] * (0.7 * np.exp(-d / 50.0) + 0.3 * np.exp(-d / 6.0))
        # a place never supports itself
        contrib[apid[:, None] == self._pid_codes[idx][None, :]] = 0.0
        return contrib.sum(axis=0)

    def suggest(self, name: str, limit: int = 5) -> list[Candidate]:
        """The closest names for a mention nothing matched (for unresolved.csv); memoised."""
        memo = self.__dict__.setdefault("_suggest_memo", {})
        if (name, limit) not in memo:
            if len(memo) > 10_000:
                memo.clear()
            memo[(name, limit)] = self._suggest_uncached(name, limit)
        return list(memo[(name, limit)])

    def _suggest_uncached(self, name: str, limit: int) -> list[Candidate]:
        words = normalise(name, reorder=False).split()
        if not any(w not in GENERIC and w not in FEATURE_WORDS for w in words):
            return []  # "the central park area": nothing to suggest
        stripped, _hint = split_feature(normalise(name))
        key = skeleton(stripped) if not has_arabic(name) else ""
        form = folded(stripped)
        out: list[Candidate] = []
        if not key:
            return out
        seen: set[int] = set()
        for other, kscore in self._nearest_keys(key, limit * 3):
            for i, alias_form, _h, _p in self.index[other]:
                if i in seen:
                    continue
                seen.add(i)
                p = self.places[i]
                s = 0.5 * kscore / 100 + 0.5 * fuzz.ratio(form, alias_form) / 100
                out.append(Candidate(p.name, p.lat, p.lon, p.place_id, p.feature, s, p.governorate,
                                     p.district, p.country, p.population, p.uncertainty_km, p.source, s, i))
        out.sort(key=lambda c: (-c.score, c.place_id))
        return out[:limit]

    def _nearest_keys(self, key: str, k: int) -> list[tuple[str, float]]:
        """The ``k`` index keys most like ``key`` (fuzz.ratio), best first, ties in index order.

        The same answer as ``process.extract`` over every key, but keys of a length whose best
        possible ratio (2 min(a, b) / (a + b)) cannot reach the k-th score found are skipped.
        """
        by_len = self.__dict__.get("_keys_by_len")
        if by_len is None:
            groups: dict[int, tuple[list[int], list[str]]] = {}
            for j, other in enumerate(self.keys):
                g = groups.setdefault(len(other), ([], []))
                g[0].append(j)
                g[1].append(other)
            by_len = self.__dict__["_keys_by_len"] = groups
        n = len(key)
        bound = {m: 200.0 * min(n, m) / (n + m) for m in by_len}
        found: list[tuple[float, int, str]] = []
        for m in sorted(by_len, key=lambda m: (-bound[m], m)):
            if len(found) >= k and found[k - 1][0] > bound[m]:
                break
            positions, keys = by_len[m]
            # a key below the k-th score found cannot enter (one equal to it may, by index)
            cutoff = found[k - 1][0] if len(found) >= k else 0
            for other, score, j in process.extract(key, keys, scorer=fuzz.ratio, limit=k, score_cutoff=cutoff):
                found.append((score, positions[j], other))
            found.sort(key=lambda t: (-t[0], t[1]))
            del found[k:]
        return [(other, score) for score, _j, other in found]

    def __len__(self) -> int:
        return len(self.places)

    def place(self, index: int) -> Place:
        return self.places[index]

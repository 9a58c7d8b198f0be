"""Areas from places: which source (place state, advance corridor, baseline) paints each cell.

Per step, every cell of the settlement coverage gets at most one source: the place with
evidence inside it (several places in one cell split it by their own Voronoi cells), else the
nearest place with evidence within the settlement reach. Partial statements split a place's
ground by a line across it. Advance corridors then paint over ground whose evidence is older
than the advance. Ground that no evidence touches shows the baseline, if one was given.
A step is thus a label per plain cell plus explicit pieces for the few split cells, which
makes dissolving (coverage union) and comparing steps cheap.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely
from scipy.spatial import cKDTree

from geo_control.model.cells import GRID, Cells, project
from geo_control.model.state import Evidence, LiveStates, Timeline

#: Sources of a step: index -> Source. Cell arrays hold these indices; -1 is no source.
NONE = -1
#: A split line stops this far short of the place, so the place stays on its own side.
PART_OFFSET_M = 150.0


@dataclass(frozen=True)
class Source:
    """What paints some ground at one step."""

    label: tuple[str, str] | None          # (faction, status); None erases (holder unknown)
    date: dt.date
    confidence: float                      # at ``date``; ``Painting.confidence`` decays it
    event_ids: tuple[str, ...] = ()
    sentences: frozenset = frozenset()
    sides: tuple[str, ...] = ()
    besieger: str = ""
    kind: str = "place"                    # place | corridor | baseline
    key: str = ""                          # site key, corridor event id or baseline label

    @property
    def faction(self) -> str:
        return "" if self.label is None else self.label[0]


@dataclass
class Painting:
    """One step: a source per plain cell, explicit (geometry, source) pieces for split cells."""

    sources: list[Source]
    cell_src: np.ndarray
    special: dict[int, list[tuple[Any, int]]] = field(default_factory=dict)
    day: dt.date = dt.date.min          # the day confidences are evaluated on
    half_life: float = 0.0

    def confidence(self, i: int) -> float:
        """Confidence of source ``i`` on ``day``: halved every ``half_life`` days since its evidence."""
        src = self.sources[i]
        if src.kind == "baseline" or self.half_life <= 0:
            return src.confidence
        return src.confidence * 0.5 ** (max(0, (self.day - src.date).days) / self.half_life)


@dataclass
class Baseline:
    """A starting map cut to the cells: a source per whole cell, pieces for cut cells."""

    sources: list[Source]
    cell_src: np.ndarray
    special: dict[int, list[tuple[Any, int]]]


def baseline_cells(polys_by_label: dict[tuple[str, str], Any], cells: Cells) -> Baseline:
    """Cut baseline polygons (projected, by (faction, status)) to the cells."""
    n = len(cells.geoms)
    cell_src = np.full(n, NONE, dtype=np.int64)
    special: dict[int, list] = {}
    sources: list[Source] = []
    for label in sorted(polys_by_label):
        geom = polys_by_label[label]
        idx = len(sources)
        sources.append(Source(label, dt.date.min, 1.0, kind="baseline", key=f"{label[0]}/{label[1]}",
                              sides=()))
        shapely.prepare(geom)
        cand = cells.tree.query(geom, predicate="intersects")
        cand = np.sort(cand)
        whole = shapely.contains_properly(geom, cells.geoms[cand])
        for c in cand[whole].tolist():
            cell_src[c] = idx
        cut = cand[~whole]
        if len(cut):
            pieces = shapely.intersection(cells.geoms[cut], geom, grid_size=GRID)
            for c, piece in zip(cut.tolist(), pieces, strict=True):
                piece = _polygonal(piece)
                if piece.is_empty or piece.area < 1.0:
                    continue
                if abs(piece.area - cells.geoms[c].area) < 1.0:
                    cell_src[c] = idx
                else:
                    special.setdefault(c, []).append((piece, idx))
    # A cell cut into pieces by two labels keeps only pieces; a whole cell and a piece cannot mix.
    for c in list(special):
        if cell_src[c] != NONE:
            special[c].append((cells.geoms[c], int(cell_src[c])))
            cell_src[c] = NONE
    return Baseline(sources, cell_src, special)


_EMPTY = shapely.Polygon()


def _polygonal(geom):
    if geom is None or geom.is_empty:
        return _EMPTY
    if geom.geom_type in ("Polygon", "MultiPolygon"):
        return geom
    polys = [p for p in shapely.get_parts(geom) if p.geom_type == "Polygon" and p.area > 0]
    return shapely.union_all(polys) if polys else _EMPTY


class Painter:
    """Paints every step of a timeline onto the cells, caching split cells."""

    def __init__(self, cells: Cells, timeline: Timeline, settings, baseline: Baseline | None = None):
        self.cells = cells
        self.tl = timeline
        self.settings = settings
        self.half_life = float(settings.half_life_days)
        self.min_confidence = float(settings.min_confidence)
        # Steps are mostly painted in order: each one's live state from the last one's.
        self.live = LiveStates(timeline, self.half_life, self.min_confidence)
        self.baseline = baseline
        keys = sorted(timeline.sites)
        lon = np.array([timeline.sites[k].lon for k in keys], float)
        lat = np.array([timeline.sites[k].lat for k in keys], float)
        x, y = project(lon, lat, cells.crs)
        self.xy = {k: (float(a), float(b)) for k, a, b in zip(keys, x, y, strict=True)}
        self.own = {k: timeline.sites[k].cell for k in keys}
        self._split_cache: dict[tuple, list] = {}
        self._src_cache: dict[int, tuple[Evidence, Source]] = {}
        self._corridor_src: dict[int, Source] = {}

    def paint(self, t: int, day: dt.date) -> Painting:
        """The painting of step ``t``, with confidences evaluated on ``day``."""
        cells = self.cells
        state = self.live(t, day)
        n = len(cells.geoms)
        sources: list[Source] = []
        cell_src = np.full(n, NONE, dtype=np.int64)
        # Date (ordinal) of the evidence painting each cell: newer corridors win over older ground.
        cell_date = np.full(n, -1, dtype=np.int64)
        special: dict[int, list[tuple[Any, int]]] = {}
        if self.baseline is not None:
            sources.extend(self.baseline.sources)
            cell_src[:] = self.baseline.cell_src
            special.update({c: list(p) for c, p in self.baseline.special.items()})
        keys = list(state)
        site_src: dict[str, tuple[int | None, list[tuple[float, int]]]] = {}
        site_date = np.zeros(len(keys), dtype=np.int64)
        for i, key in enumerate(keys):
            whole, parts = state[key]
            w = None
            if whole is not None:
                w = len(sources)
                sources.append(self._source(whole, key))
            plist = []
            for bearing, ev in parts:
                plist.append((bearing, len(sources)))
                sources.append(self._source(ev, key))
            site_src[key] = (w, plist)
            site_date[i] = max([sources[j].date for j in ([w] if w is not None else []) + [j for _, j in plist]]
                               ).toordinal()
        if keys:
            pts = np.array([self.xy[k] for k in keys])
            tree = cKDTree(pts)
            dist, nearest = tree.query(cells.xy, k=1, distance_upper_bound=cells.reach_m)
            assigned = np.where(np.isfinite(dist), nearest, -1)
            own_by_cell: dict[int, list[int]] = {}
            for i, k in enumerate(keys):
                c = self.own[k]
                if c >= 0:
                    own_by_cell.setdefault(c, []).append(i)
            for c, members in own_by_cell.items():
                assigned[c] = members[0] if len(members) == 1 else -2
            whole_src = np.array([NONE if site_src[k][0] is None else site_src[k][0] for k in keys], dtype=np.int64)
            has_parts = np.array([bool(site_src[k][1]) for k in keys], dtype=bool)
            hit = assigned >= 0
            plain = np.zeros(n, dtype=bool)
            plain[hit] = ~has_parts[assigned[hit]]
            cell_src[plain] = whole_src[assigned[plain]]
            cell_date[hit] = site_date[assigned[hit]]
            if special:
                for c in np.flatnonzero(hit).tolist():
                    special.pop(c, None)
            for c in np.flatnonzero(hit & ~plain).tolist():
                key = keys[assigned[c]]
                w, plist = site_src[key]
                cell_src[c] = NONE
                special[c] = self._split_parts(c, cells.geoms[c], key, w, plist)
            for c, members in own_by_cell.items():
                if len(members) < 2:
                    continue
                special.pop(c, None)
                cell_src[c] = NONE
                cell_date[c] = int(site_date[members].max())
                special[c] = self._split_sites(c, [keys[i] for i in members], site_src)
        for i in self.tl.active_corridors[t]:
            cor = self.tl.corridors[i]
            if cor.confidence * 0.5 ** (max(0, (day - cor.date).days) / self.half_life) < self.min_confidence:
                continue  # a stale advance claims nothing any more
            when = cor.date.toordinal()
            claim = cor.cells[cell_date[cor.cells] < when]
            if not len(claim):
                continue
            src = len(sources)
            if i not in self._corridor_src:
                self._corridor_src[i] = Source((cor.faction, "held"), cor.date, cor.confidence, (cor.event_id,),
                                               cor.sentences, kind="corridor", key=cor.event_id)
            sources.append(self._corridor_src[i])
            cell_src[claim] = src
            cell_date[claim] = when
            for c in claim.tolist():
                special.pop(c, None)
        # Erasing sources (holder unknown) hide the baseline but paint nothing.
        erase = [i for i, s in enumerate(sources) if s.label is None]
        if erase:
            cell_src[np.isin(cell_src, erase)] = NONE
            gone = set(erase)
            for c in list(special):
                special[c] = [(g, s) for g, s in special[c] if s not in gone]
        for c in list(special):
            pieces = [(g, s) for g, s in special[c] if not g.is_empty and g.area > 1.0]
            if not pieces:
                del special[c]
            elif len(pieces) == 1 and abs(pieces[0][0].area - cells.geoms[c].area) < 1.0:
                cell_src[c] = pieces[0][1]
                del special[c]
            else:
                special[c] = pieces
        return Painting(sources, cell_src, special, day, self.half_life)

    def _source(self, ev: Evidence, key: str) -> Source:
        """The source of a place's evidence; evidence objects persist across steps, so do sources."""
        hit = self._src_cache.get(id(ev))
        if hit is None or hit[0] is not ev:
            hit = (ev, Source(ev.label, ev.date, ev.confidence, ev.event_ids, ev.sentences, ev.sides, ev.besieger,
                              "place", key))
            self._src_cache[id(ev)] = hit
        return hit[1]

    def _split_parts(self, c: int, geom, key: str, whole: int | None, plist):
        """A place's ground split by the parts statements name (south half to one side...)."""
        cache_key = ("parts", c, key, tuple(b for b, _ in plist))
        if cache_key not in self._split_cache:
            self._split_cache[cache_key] = self._halves(geom, key, [b for b, _ in plist])
        rest, *pieces = self._split_cache[cache_key]
        out = [(p, s) for p, (_, s) in zip(pieces, plist, strict=True)]
        if whole is not None:
            out.append((rest, whole))
        return out

    def _halves(self, geom, key: str, bearings: list[float]) -> list:
        """[rest, part1, part2...]: later parts override earlier ones where they overlap."""
        x, y = self.xy[key]
        rest = geom
        pieces: list = []
        for bearing in bearings:
            half = _half_plane(x, y, bearing, geom)
            pieces = [_polygonal(shapely.difference(p, half, grid_size=GRID)) for p in pieces]
            pieces.append(_polygonal(shapely.intersection(geom, half, grid_size=GRID)))
            rest = _polygonal(shapely.difference(rest, half, grid_size=GRID))
        return [rest, *pieces]

    def _split_sites(self, c: int, members: list[str], site_src):
        """A cell holding several places: each gets its own Voronoi piece of it."""
        geom = self.cells.geoms[c]
        cache_key = ("sites", c, tuple(members))
        if cache_key not in self._split_cache:
            pts = shapely.multipoints([self.xy[k] for k in members])
            try:
                vor = shapely.get_parts(shapely.voronoi_polygons(pts, extend_to=geom, ordered=True))
            except shapely.errors.GEOSException:
                vor = np.array([], dtype=object)
            if len(vor) != len(members):  # coincident points: fall back to the first place
                vor = np.array([geom] + [shapely.Polygon()] * (len(members) - 1), dtype=object)
            self._split_cache[cache_key] = [_polygonal(shapely.intersection(v, geom, grid_size=GRID))
                                            for v in vor]
        out: list = []
        for key, piece in zip(members, self._split_cache[cache_key], strict=True):
            w, plist = site_src[key]
            if piece.is_empty:
                continue
            if plist:
                ck = ("piece", c, tuple(members), key, tuple(b for b, _ in plist))
                if ck not in self._split_cache:
                    self._split_cache[ck] = self._halves(piece, key, [b for b, _ in plist])
                rest, *parts = self._split_cache[ck]
                out.extend((p, s) for p, (_, s) in zip(parts, plist, strict=True))
                if w is not None:
                    out.append((rest, w))
            elif w is not None:
                out.append((piece, w))
        return out


def _half_plane(x: float, y: float, bearing: float, geom):
    """The side of a line across (x, y) that faces ``bearing`` (degrees clockwise from north)."""
    if math.isnan(bearing) or geom.is_empty or not (math.isfinite(x) and math.isfinite(y)):
        # A cell can be empty (a settlement whose cell the country outline cut away): no side.
        return shapely.Polygon()
    x0, y0, x1, y1 = geom.bounds
    size = 4 * max(x1 - x0, y1 - y0, 1000.0)
    ux, uy = math.sin(math.radians(bearing)), math.cos(math.radians(bearing))
    px, py = -uy, ux  # along the split line
    cx, cy = x + ux * PART_OFFSET_M, y + uy * PART_OFFSET_M
    return shapely.Polygon([
        (cx + px * size, cy + py * size),
        (cx + px * size + ux * size, cy + py * size + uy * size),
        (cx - px * size + ux * size, cy - py * size + uy * size),
        (cx - px * size, cy - py * size),
    ])

"""Settlement cells: the ground a settlement's control reaches, built once per data folder.

Voronoi cells of the gazetteer's Syrian localities, each limited to ``settlement_reach_km``
around its settlement and clipped to the country, in the projected CRS. Where a major river
(Euphrates and the other big ones) runs through a cell, the part on the far bank goes to the
nearest settlement on that bank, so two factions facing each other across the river meet on
the river. Coordinates are snapped to a 1 m grid so that cells share exactly the same edge
vertices and unions of them never overlap.
"""

from __future__ import annotations

import logging
import pickle
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import shapely
from scipy.spatial import cKDTree

from geo_control.crs import STORAGE_CRS, transformer
from geo_control.diskcache import cache_home, load_pickle, save_pickle

log = logging.getLogger(__name__)

#: Snap grid of every model geometry, in projected metres.
GRID = 1.0
#: Snap grid of model geometry in lon/lat (about 0.1 mm), for robust overlays in EPSG:4326.
GRID_DEG = 1e-9
#: Circle resolution of reach discs and corridors (segments per quarter circle).
QUAD_SEGS = 6
#: River levels of the WDB II network that act as lines between factions (1-3: main rivers).
RIVER_MAX_LEVEL = 3


@dataclass
class Cells:
    """Settlement cells in the projected CRS; arrays are aligned by cell index."""

    crs: str
    reach_m: float
    xy: np.ndarray               # (n, 2) settlement positions
    names: np.ndarray            # settlement names
    geoms: np.ndarray            # shapely polygons (may be empty)
    tree: shapely.STRtree        # over geoms
    kdtree: cKDTree              # over xy
    country: shapely.Geometry    # country outline (projected, snapped)
    n_settlements: int           # cells [0, n) are settlements' cells, the rest open ground
    rivers: shapely.Geometry     # main rivers (projected), or empty

    def cell_of(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Index of the cell holding each point, or -1."""
        out = np.full(len(x), -1, dtype=np.int64)
        if len(x) == 0:
            return out
        pts = shapely.points(x, y)
        pi, ci = self.tree.query(pts, predicate="within")
        # A point on a shared edge falls in two cells: keep the lowest index, deterministically.
        for p, c in sorted(zip(pi.tolist(), ci.tolist(), strict=True), reverse=True):
            out[p] = c
        return out


_CACHE: dict[tuple, Cells] = {}


def project(lon, lat, crs: str) -> tuple[np.ndarray, np.ndarray]:
    """Lon/lat arrays to projected x/y arrays (always lon/lat order)."""
    x, y = transformer(STORAGE_CRS, crs).transform(np.asarray(lon, float), np.asarray(lat, float))
    return np.asarray(x, float), np.asarray(y, float)


def to_storage(geoms, crs: str):
    """Projected shapely geometries to EPSG:4326 (lon/lat)."""
    tr = transformer(crs, STORAGE_CRS)

    def fn(coords):
        x, y = tr.transform(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])

    return shapely.transform(geoms, fn)


def to_projected(geoms, crs: str):
    tr = transformer(STORAGE_CRS, crs)

    def fn(coords):
        x, y = tr.transform(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])

    return shapely.transform(geoms, fn)


def load_cells(basemap, data_dir: Path, crs: str, reach_km: float) -> Cells:
    """The settlement cells for a data folder and settings: built once, cached in the process
    and on disk (``$GEO_CONTROL_CACHE``, default ``~/.cache/geo_control``)."""
    key = (str(Path(data_dir).resolve()), crs, float(reach_km), id(basemap.country))
    if key not in _CACHE:
        _CACHE.clear()
        _CACHE[key] = _load_or_build(basemap, Path(data_dir), crs, reach_km)
    return _CACHE[key]


#: Bump when the cell construction changes in a way the code checksum would not show.
CELLS_VERSION = "1"
_DATA_FILES = ("gazetteer/wof_places_syria_region.tsv.gz", "boundaries/syria_adm0_ocha.geojson",
               "hydro/gshhg_wdbii_rivers_region.geojson", "hydro/ne10m_rivers_lake_centerlines_region.geojson")


def _cache_path(data_dir: Path, crs: str, reach_km: float) -> Path | None:
    import hashlib

    h = hashlib.sha256(f"{CELLS_VERSION}|{crs}|{reach_km!r}".encode())
    h.update(Path(__file__).read_bytes())
    for name in _DATA_FILES:
        path = data_dir / name
        if not path.exists():
            return None
        h.update(name.encode())
        h.update(hashlib.sha256(path.read_bytes()).digest())
    return cache_home() / f"cells-{h.hexdigest()[:20]}.pickle"


def cells_key(settings) -> str:
    """What the cells are built from (code, data, CRS, reach), as a string key."""
    path = _cache_path(settings.resolved_data_dir(), settings.projected_crs, settings.settlement_reach_km)
    return path.name if path is not None else f"uncached|{settings.projected_crs}|{settings.settlement_reach_km!r}"


def _load_or_build(basemap, data_dir: Path, crs: str, reach_km: float) -> Cells:
    path = _cache_path(data_dir, crs, reach_km)
    state = load_pickle(path, "settlement cells") if path is not None else None
    if state is None:
        built = build_cells(basemap, data_dir, crs, reach_km)
        state = {"reach_m": built.reach_m, "xy": built.xy, "names": built.names, "geoms": built.geoms,
                 "country": built.country, "n_settlements": built.n_settlements, "rivers": built.rivers,
                 "g4326": storage_cells(built), "mended": mended_cells(built), "areas": cell_areas_km2(built),
                 "edges": shared_edges_4326(built)}
        if path is not None:
            save_pickle(path, state, "settlement cells", stale_glob="cells-*.pickle")
        # What the cache gives back: geometries built with set_precision carry their grid, which
        # a pickle drops, and GEOS overlays snap to the inputs' grid; without this round trip
        # a first run placed some part labels a metre away from every later run's.
        state = pickle.loads(pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL))
    # Built or read, the cells are assembled from the same state (their search trees built the
    # same way), so a first run and the runs that read the cache give the same layers.
    cells = Cells(crs, state["reach_m"], state["xy"], state["names"], state["geoms"],
                  shapely.STRtree(state["geoms"]), cKDTree(state["xy"]), state["country"],
                  state["n_settlements"], state["rivers"])
    cells._g4326, cells._mended = state["g4326"], state["mended"]  # type: ignore[attr-defined]
    cells._areas, cells._edges = state["areas"], state["edges"]  # type: ignore[attr-defined]
    return cells


def _main_rivers(basemap, crs: str):
    parts = []
    riv = basemap.rivers
    if "level" in riv.columns:
        parts.extend(riv.geometry[riv["level"].astype(float) <= RIVER_MAX_LEVEL])
    named = basemap.named_rivers
    if "name" in named.columns:
        names = named["name"].astype(str).str.lower()
        parts.extend(named.geometry[names.isin(["euphrates", "firat", "al furat"])])
    if not parts:
        return shapely.GeometryCollection()
    lines = shapely.get_parts(shapely.boundary(np.array([p for p in parts if p.geom_type.endswith("Polygon")]))) \
        if any(p.geom_type.endswith("Polygon") for p in parts) else np.array([], dtype=object)
    lines = list(lines) + [p for p in parts if "Line" in p.geom_type]
    merged = shapely.union_all(to_projected(np.array(lines, dtype=object), crs))
    return shapely.set_precision(merged, GRID)


def build_cells(basemap, data_dir: Path, crs: str, reach_km: float) -> Cells:
    from geo_control.basemap import load_settlements

    settlements = load_settlements(Path(data_dir))
    x, y = project(settlements.geometry.x.to_numpy(), settlements.geometry.y.to_numpy(), crs)
    reach = reach_km * 1000.0
    country = shapely.union_all(to_projected(basemap.country.geometry.to_numpy(), crs))
    country = shapely.set_precision(shapely.make_valid(country), GRID)
    pts = shapely.points(x, y)
    vor = shapely.voronoi_polygons(shapely.multipoints(pts), extend_to=shapely.envelope(country).buffer(reach),
                                   ordered=True)
    cells = shapely.get_parts(vor)
    cells = shapely.intersection(cells, shapely.buffer(pts, reach, quad_segs=QUAD_SEGS))
    shapely.prepare(country)
    inside = shapely.contains_properly(country, cells)
    cells[~inside] = shapely.intersection(cells[~inside], country)
    rivers = _main_rivers(basemap, crs)
    if not rivers.is_empty:
        cells = _split_by_rivers(cells, pts, rivers, reach)
    cells = shapely.set_precision(cells, GRID)
    cells = np.array([_polygonal(shapely.make_valid(c)) if not c.is_valid else c for c in cells], dtype=object)
    n_settlements = len(cells)
    cells = np.array([_polygonal(c) for c in shapely.coverage_clean(cells)], dtype=object)
    # Ground beyond every settlement's reach (desert, steppe) gets cells of its own on a grid
    # of the same spacing, so evidence there (an oil field, a pumping station) has ground too.
    desert, dxy = _desert_cells(country, shapely.coverage_union_all(cells), reach)
    cells = np.concatenate([cells, desert])
    x, y = np.concatenate([x, dxy[:, 0]]), np.concatenate([y, dxy[:, 1]])
    # A clean coverage (shared edges with identical vertices) lets coverage_union dissolve
    # thousands of cells in milliseconds and guarantees that unions of disjoint sets never overlap.
    cells = shapely.coverage_clean(cells)
    cells = np.array([_polygonal(c) for c in cells], dtype=object)
    log.info("built %d settlement cells and %d open-ground cells (reach %.1f km)", n_settlements,
             len(cells) - n_settlements, reach_km)
    names = np.concatenate([settlements["name"].to_numpy(dtype=object), np.full(len(desert), "", dtype=object)])
    return Cells(crs, reach, np.column_stack([x, y]), names, cells, shapely.STRtree(cells),
                 cKDTree(np.column_stack([x, y])), country, n_settlements, rivers)


def _desert_cells(country, covered, spacing: float) -> tuple[np.ndarray, np.ndarray]:
    """Voronoi cells of a hexagonal grid over the country's ground that no settlement reaches."""
    free = _polygonal(shapely.difference(country, covered, grid_size=GRID))
    if free.is_empty:
        return np.array([], dtype=object), np.zeros((0, 2))
    x0, y0, x1, y1 = free.bounds
    rows = []
    for r, yy in enumerate(np.arange(y0, y1 + spacing, spacing * 0.866)):
        xx = np.arange(x0 + (spacing / 2 if r % 2 else 0.0), x1 + spacing, spacing)
        rows.append(np.column_stack([xx, np.full(len(xx), yy)]))
    grid = np.vstack(rows)
    shapely.prepare(free)
    pts = shapely.points(grid)
    pts = pts[shapely.intersects(free, pts)]
    if len(pts) < 2:
        return np.array([free], dtype=object), np.array([[free.representative_point().x,
                                                          free.representative_point().y]])
    vor = shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(pts), extend_to=free.envelope,
                                                     ordered=True))
    inside = shapely.contains_properly(free, vor)
    vor[~inside] = shapely.intersection(vor[~inside], free, grid_size=GRID)
    vor = np.array([_polygonal(v) for v in vor], dtype=object)
    vor = vor[~shapely.is_empty(vor) & (shapely.area(vor) > 1.0)]
    rp = shapely.point_on_surface(vor)
    return vor, np.column_stack([shapely.get_x(rp), shapely.get_y(rp)])


def _polygonal(geom):
    """Only the polygon parts of a geometry (intersections can leave lines and points)."""
    if geom is None or geom.is_empty:
        return shapely.Polygon()
    if geom.geom_type in ("Polygon", "MultiPolygon"):
        return geom
    polys = [p for p in shapely.get_parts(geom) if p.geom_type in ("Polygon", "MultiPolygon") and p.area > 0]
    return shapely.union_all(polys) if polys else shapely.Polygon()


def _split_by_rivers(cells: np.ndarray, pts: np.ndarray, rivers, reach: float) -> np.ndarray:
    """Give the far-bank part of each river-crossing cell to the nearest settlement on that bank."""
    from shapely.ops import split

    river_parts = shapely.get_parts(rivers)
    river_tree = shapely.STRtree(river_parts)
    ci, _ = river_tree.query(cells, predicate="intersects")
    crossing = np.unique(ci)
    if len(crossing) == 0:
        return cells
    xy = np.column_stack([shapely.get_x(pts), shapely.get_y(pts)])
    kd = cKDTree(xy)
    extra: dict[int, list] = {}
    cells = cells.copy()
    for i in crossing.tolist():
        blade = shapely.union_all(river_parts[river_tree.query(cells[i], predicate="intersects")])
        try:
            parts = [g for poly in shapely.get_parts(cells[i]) for g in split(poly, blade).geoms]
        except (ValueError, shapely.errors.GEOSException):
            continue
        pieces = [p for p in parts if p.area > 1.0]
        if len(pieces) <= 1:
            continue
        dist = shapely.distance(np.array(pieces, dtype=object), pts[i])
        own = int(np.argmin(dist))
        # The pieces on the settlement's own bank stay; the others look for a settlement there.
        keep = [pieces[own]]
        for k, piece in enumerate(pieces):
            if k == own:
                continue
            rp = piece.representative_point()
            seg = shapely.LineString([(xy[i, 0], xy[i, 1]), (rp.x, rp.y)])
            if not river_tree.query(seg, predicate="intersects").size:
                keep.append(piece)  # a meander: same bank after all
                continue
            _, nbrs = kd.query([rp.x, rp.y], k=min(8, len(xy)))
            target = -1
            for j in np.atleast_1d(nbrs).tolist():
                if j == i:
                    continue
                seg = shapely.LineString([(xy[j, 0], xy[j, 1]), (rp.x, rp.y)])
                if seg.length <= reach and not river_tree.query(seg, predicate="intersects").size:
                    target = j
                    break
            if target >= 0:
                extra.setdefault(target, []).append(piece)
            # No settlement on that bank within reach: the far bank stays unclaimed.
        cells[i] = shapely.union_all(keep)
    for j, pieces in extra.items():
        cells[j] = shapely.union_all([cells[j], *pieces])
    return cells


def storage_cells(cells: Cells) -> np.ndarray:
    """Every cell in EPSG:4326, as a clean coverage, computed once.

    Mapping to lon/lat bends long straight edges; where one cell has a vertex on an edge its
    neighbour lacks, the two would overlap by a sliver. Cleaning the coverage again in lon/lat
    removes those slivers, so unions of disjoint cell sets never overlap.
    """
    if getattr(cells, "_g4326", None) is None:
        g = to_storage(cells.geoms, cells.crs)
        bad = ~shapely.is_valid(g)
        g[bad] = [_polygonal(shapely.make_valid(x)) for x in g[bad]]
        g = np.array([_polygonal(x) for x in shapely.coverage_clean(g)], dtype=object)
        cells._mended = ~shapely.is_valid(g)  # type: ignore[attr-defined]
        g[cells._mended] = [_polygonal(shapely.make_valid(x)) for x in g[cells._mended]]  # type: ignore[attr-defined]
        cells._g4326 = g  # type: ignore[attr-defined]
    return cells._g4326  # type: ignore[attr-defined]


def mended_cells(cells: Cells) -> np.ndarray:
    """Cells whose lon/lat outline is still invalid after cleaning (repaired; not exactly noded)."""
    storage_cells(cells)
    return cells._mended  # type: ignore[attr-defined]


def cell_areas_km2(cells: Cells) -> np.ndarray:
    """Geodesic area of every cell, computed once."""
    if getattr(cells, "_areas", None) is None:
        from geo_control.crs import area_km2

        cells._areas = np.array([area_km2(g) for g in storage_cells(cells)])  # type: ignore[attr-defined]
    return cells._areas  # type: ignore[attr-defined]


@dataclass
class Edges:
    """Boundary segments shared by two cells (a clean coverage repeats them exactly)."""

    a: np.ndarray        # cell on one side
    b: np.ndarray        # cell on the other side
    coords: np.ndarray   # (n, 2, 2) segment end points
    mid: np.ndarray      # (n, 2) midpoints


def shared_edges_4326(cells: Cells) -> Edges:
    """Every segment two lon/lat cells share, found by matching segment coordinates, computed once."""
    if getattr(cells, "_edges", None) is not None:
        return cells._edges  # type: ignore[attr-defined]
    polys, cell_idx = shapely.get_parts(storage_cells(cells), return_index=True)
    rings, ring_poly = shapely.get_rings(polys, return_index=True)
    coords, ring_idx = shapely.get_coordinates(rings, return_index=True)
    same = ring_idx[1:] == ring_idx[:-1]
    start, end = coords[:-1][same], coords[1:][same]
    owner = cell_idx[ring_poly[ring_idx[:-1][same]]]
    # Canonical orientation so both cells' copies of a segment compare equal.
    swap = (start[:, 0] > end[:, 0]) | ((start[:, 0] == end[:, 0]) & (start[:, 1] > end[:, 1]))
    p = np.where(swap[:, None], end, start)
    q = np.where(swap[:, None], start, end)
    key = np.column_stack([p, q])
    order = np.lexsort((owner, key[:, 3], key[:, 2], key[:, 1], key[:, 0]))
    key, owner = key[order], owner[order]
    dup = np.all(key[1:] == key[:-1], axis=1) & (owner[1:] != owner[:-1])
    first = np.flatnonzero(dup)
    seg = key[first]
    edges = Edges(owner[first], owner[first + 1], seg.reshape(-1, 2, 2), (seg[:, :2] + seg[:, 2:]) / 2.0)
    cells._edges = edges  # type: ignore[attr-defined]
    return edges


def corridor_cells(cells: Cells, band, line) -> np.ndarray:
    """Cells an advance claims: those its path crosses and those its band mostly covers."""
    crossed = cells.tree.query(line, predicate="intersects")
    cand = cells.tree.query(band, predicate="intersects")
    cand = np.setdiff1d(cand, crossed)
    if len(cand):
        # Only compared with one half: the floating-point overlay is exact enough and several
        # times faster than snap-rounding (9,000 advances at 10,000 reports).
        try:
            inter = shapely.intersection(cells.geoms[cand], band)
        except shapely.errors.GEOSException:
            inter = shapely.intersection(cells.geoms[cand], band, grid_size=GRID)
        share = shapely.area(inter) / np.maximum(shapely.area(cells.geoms[cand]), 1.0)
        cand = cand[share >= 0.5]
    return np.unique(np.concatenate([crossed, cand])).astype(np.int64)

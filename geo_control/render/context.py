"""What every renderer shares: the extent, base layers and model layers in the projected CRS.

Built once per ``render_all`` call (and inherited by the map workers), so each weekly map only
selects rows; reprojecting and simplifying the base geography is done here once.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely.geometry import box

from geo_control.crs import STORAGE_CRS
from geo_control.errors import InputError
from geo_control.records import CONTROLLING_MODALITIES, Layers, Step

log = logging.getLogger(__name__)

#: Share of the fitted extent added on each side, and the smallest extent (metres).
FIT_PADDING = 0.12
MIN_EXTENT_M = 60_000.0
#: Map axes height/width ratios allowed: the extent grows to fit within them.
MIN_ASPECT, MAX_ASPECT = 0.62, 1.15
#: Actions whose events feed the fighting heatmap (``attack`` covers clashes and strikes).
FIGHTING_ACTIONS = ("attack", "contest")


@dataclass
class Base:
    """Base geography clipped to the view and simplified for drawing, projected."""

    syria: gpd.GeoDataFrame
    governorates: gpd.GeoDataFrame
    neighbours: gpd.GeoDataFrame
    rivers: gpd.GeoDataFrame
    named_rivers: gpd.GeoDataFrame
    lakes: gpd.GeoDataFrame
    cities: gpd.GeoDataFrame  # name, rank, geometry (reference labels)
    locator_syria: gpd.GeoDataFrame
    locator_neighbours: gpd.GeoDataFrame
    #: Unclipped (country + 250 km) governorates, rivers and lakes for the pannable HTML map.
    wide_governorates: gpd.GeoDataFrame
    wide_rivers: gpd.GeoDataFrame
    wide_lakes: gpd.GeoDataFrame


@dataclass
class RenderContext:
    """Everything a step map needs, in ``crs`` (projected)."""

    crs: str
    extent: tuple[float, float, float, float]  # xmin, ymin, xmax, ymax in crs units (m)
    steps: list[Step]
    base: Base
    control: gpd.GeoDataFrame
    frontlines: gpd.GeoDataFrame
    advances: gpd.GeoDataFrame
    events: gpd.GeoDataFrame  # with a ``step`` column assigned from the event date
    places: gpd.GeoDataFrame
    changes: gpd.GeoDataFrame
    colours: dict[str, str]
    labels: dict[str, str]
    region_name: str = ""
    region_shape: Any = None  # the governorate of --region (projected), to veil what lies outside
    heat: dict[str, np.ndarray] = field(default_factory=dict)  # step label -> density grid
    heat_transform: Any = None  # affine.Affine of the heat grids
    heat_max: float = 0.0
    #: layer name -> step label -> row positions in view (built once by ``static.step_index``).
    by_step: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)


def present(geoms) -> np.ndarray:
    """True where a geometry is neither missing nor empty (without geopandas' notna warning)."""
    import shapely

    arr = np.asarray(geoms.values if hasattr(geoms, "values") else geoms, dtype=object)
    return ~(shapely.is_missing(arr) | shapely.is_empty(arr))


def _skeleton(name: str) -> str:
    """A consonant skeleton for fuzzy governorate names (Deir-ez-Zor = Dayr az Zawr = Deir Ezzor)."""
    from unidecode import unidecode

    s = unidecode(str(name)).lower()
    s = re.sub(r"\b(governorate|province|muhafazat|gov)\b", " ", s)
    s = re.sub(r"\b(al|el|ad|ar|as|ash|az|an|at|ad-|ez|es|er)\b", " ", s)
    s = s.replace("ou", "u").replace("w", "u").replace("y", "i").replace("q", "k").replace("ee", "i")
    s = re.sub(r"[^a-z]", "", s)
    s = re.sub(r"(.)\1+", r"\1", s)
    return re.sub(r"[aeiou]", "", s)


def find_governorate(name: str, governorates: gpd.GeoDataFrame) -> int:
    """The row position of the governorate best matching ``name`` (English or Arabic, fuzzy).

    Raises InputError naming the known governorates when nothing is close.
    """
    from rapidfuzz import fuzz

    names = [str(n) for n in governorates["ADM1_EN"]]
    arabic = [str(n) for n in governorates.get("ADM1_AR", pd.Series([""] * len(names)))]
    query = name.strip()
    for i, (en, ar) in enumerate(zip(names, arabic, strict=True)):
        if query.lower() == en.lower() or query == ar:
            return i
    target = _skeleton(query)
    scores = [max(fuzz.ratio(target, _skeleton(en)), fuzz.ratio(query.lower(), en.lower())) for en in names]
    best = int(np.argmax(scores))
    if scores[best] < 70:
        raise InputError(f"--region '{name}': no governorate of that name; use one of {', '.join(names)}")
    return best


def _fit_aspect(extent: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
    xmin, ymin, xmax, ymax = extent
    w, h = xmax - xmin, ymax - ymin
    if w < MIN_EXTENT_M:
        xmin, xmax = (xmin + xmax) / 2 - MIN_EXTENT_M / 2, (xmin + xmax) / 2 + MIN_EXTENT_M / 2
        w = MIN_EXTENT_M
    if h < MIN_EXTENT_M:
        ymin, ymax = (ymin + ymax) / 2 - MIN_EXTENT_M / 2, (ymin + ymax) / 2 + MIN_EXTENT_M / 2
        h = MIN_EXTENT_M
    if h / w > MAX_ASPECT:
        grow = h / MAX_ASPECT - w
        xmin, xmax = xmin - grow / 2, xmax + grow / 2
    elif h / w < MIN_ASPECT:
        grow = w * MIN_ASPECT - h
        ymin, ymax = ymin - grow / 2, ymax + grow / 2
    return (xmin, ymin, xmax, ymax)


def map_extent(layers: Layers, basemap, settings,
               projected: dict[str, gpd.GeoDataFrame] | None = None) -> tuple[tuple[float, float, float, float], str]:
    """The extent of every map of the series, in the projected CRS, and a name for it.

    ``settings.bbox`` (degrees) wins, then ``settings.region`` (a governorate, fuzzy), else the
    events and control areas with padding, else the whole country. ``projected`` holds the
    events, control and advances already in the projected CRS (``build_context`` projects them
    once for drawing: projecting the control areas is most of its time).
    """
    crs = settings.projected_crs
    if settings.bbox:
        w, s, e, n = settings.bbox
        geom = gpd.GeoSeries([box(w, s, e, n).segmentize(0.05)], crs=STORAGE_CRS).to_crs(crs)
        return _fit_aspect(tuple(geom.total_bounds)), ""
    if settings.region:
        row = find_governorate(settings.region, basemap.governorates)
        gov = basemap.governorates.iloc[[row]].to_crs(crs)
        xmin, ymin, xmax, ymax = gov.total_bounds
        pad = 0.06 * max(xmax - xmin, ymax - ymin)
        return _fit_aspect((xmin - pad, ymin - pad, xmax + pad, ymax + pad)), str(gov["ADM1_EN"].iloc[0])
    parts = []
    for name in ("events", "control", "advances"):
        gdf = projected[name] if projected is not None else getattr(layers, name)
        if gdf is not None and len(gdf):
            geoms = gdf.geometry[present(gdf.geometry)]
            if len(geoms):
                parts.append(geoms if projected is not None else geoms.to_crs(crs))
    if parts:
        bounds = np.array([p.total_bounds for p in parts])
        xmin, ymin = bounds[:, 0].min(), bounds[:, 1].min()
        xmax, ymax = bounds[:, 2].max(), bounds[:, 3].max()
        if np.all(np.isfinite([xmin, ymin, xmax, ymax])):
            pad = FIT_PADDING * max(xmax - xmin, ymax - ymin, MIN_EXTENT_M)
            return _fit_aspect((xmin - pad, ymin - pad, xmax + pad, ymax + pad)), ""
    xmin, ymin, xmax, ymax = basemap.country.to_crs(crs).total_bounds
    pad = 0.03 * (xmax - xmin)
    return _fit_aspect((xmin - pad, ymin - pad, xmax + pad, ymax + pad)), "Syria"


def _clip(gdf: gpd.GeoDataFrame, crs: str, view, tolerance: float) -> gpd.GeoDataFrame:
    """Project, clip to the (padded) view and simplify to about a pixel."""
    if gdf is None or not len(gdf):
        return gpd.GeoDataFrame(geometry=[], crs=crs)
    out = gdf.to_crs(crs)
    out = out[present(out.geometry)]
    out = out[out.intersects(view)].copy()
    if not len(out):
        return out
    out["geometry"] = out.geometry.intersection(view).simplify(tolerance, preserve_topology=True)
    return out[~out.geometry.is_empty]


def _cities(data_dir, crs: str, view, syria, width_m: float) -> gpd.GeoDataFrame:
    """Reference towns to orient the reader, by population: fewer as the view widens.

    Syrian towns from GeoNames (population known); abroad only regional centres.
    """
    path = data_dir / "gazetteer" / "geonames_cities500_syria_region.tsv.gz"
    empty = gpd.GeoDataFrame({"name": [], "rank": [], "pop": [], "abroad": [], "major": []}, geometry=[], crs=crs)
    if not path.exists():
        return empty
    df = pd.read_csv(path, sep="\t", usecols=["name", "asciiname", "latitude", "longitude", "feature_code",
                                              "country_code", "population"], dtype={"population": "float64"},
                     keep_default_na=False, na_values={"population": [""]})
    df = df[df["population"].fillna(0) > 0]
    # ~120k people on a country map, ~5k on a governorate map, ~1.5k closer in.
    floor = 120_000 if width_m > 500_000 else (30_000 if width_m > 300_000 else (5_000 if width_m > 150_000 else 1_500))
    home = (df["country_code"] == "SY") & (df["population"] >= floor)
    abroad = (df["country_code"] != "SY") & (df["population"] >= max(floor * 8, 300_000))
    df = df[home | abroad]
    # GeoNames writes ayn as a backtick (I`zaz); an apostrophe reads better on a map.
    names = [(a if a else n).replace("`", "'") for a, n in zip(df["asciiname"], df["name"], strict=True)]
    gdf = gpd.GeoDataFrame({"name": names, "pop": df["population"].to_numpy(),
                            "abroad": (df["country_code"] != "SY").to_numpy()},
                           geometry=gpd.points_from_xy(df["longitude"], df["latitude"]), crs=STORAGE_CRS).to_crs(crs)
    gdf = gdf[gdf.within(view)]
    if not len(gdf):
        return empty
    gdf["rank"] = -np.log10(gdf["pop"].clip(lower=1))
    # Cities that anchor the reader: the few largest for the view, at home.
    gdf["major"] = ~gdf["abroad"] & (gdf["pop"] >= max(100_000, floor * 8))
    return gdf.sort_values("rank").reset_index(drop=True)


def _assign_steps(events: gpd.GeoDataFrame, steps: list[Step]) -> pd.Series:
    """The step label of each event, from its date (falling back to valid_from)."""
    if not len(events):
        return pd.Series([], dtype=object)
    dates = pd.to_datetime(events["date"] if "date" in events else None, errors="coerce", utc=True)
    if "valid_from" in events:
        dates = dates.fillna(pd.to_datetime(events["valid_from"], errors="coerce", utc=True))
    labels = pd.Series([None] * len(events), index=events.index, dtype=object)
    for st in steps:
        lo = pd.Timestamp(st.start, tz="UTC")
        hi = pd.Timestamp(st.end, tz="UTC")
        labels[(dates >= lo) & (dates < hi)] = st.label
    return labels


def build_context(layers: Layers, basemap, settings, factions) -> RenderContext:
    """Project and prepare every layer once for all the maps of a series."""
    crs = settings.projected_crs

    def proj(gdf):
        if gdf is None or not len(gdf):
            return gpd.GeoDataFrame({"step": []}, geometry=[], crs=crs)
        return gdf[present(gdf.geometry)].to_crs(crs)

    # Each dated layer projected once, for the extent and for drawing.
    projected = {name: proj(getattr(layers, name))
                 for name in ("events", "control", "frontlines", "advances", "places", "changes")}
    extent, region_name = map_extent(layers, basemap, settings, projected)
    xmin, ymin, xmax, ymax = extent
    width = xmax - xmin
    # Half a pixel of the widest map: finer detail is invisible and slows drawing.
    tol = width / max(settings.map_width_px, 400) * 0.6
    view = box(xmin - width * 0.05, ymin - width * 0.05, xmax + width * 0.05, ymax + width * 0.05)
    country = basemap.country.to_crs(crs)
    neighbours = basemap.neighbours
    if "ISO_A3" in neighbours:
        neighbours = neighbours[neighbours["ISO_A3"] != "SYR"]
    rivers = basemap.rivers
    if "level" in rivers:
        # WDB II levels 1-4 are the permanent and major rivers; the rest clutters a country map.
        keep = rivers["level"].astype(int) <= (4 if width > 300_000 else 6)
        rivers = rivers[keep]
    loc_view = box(*country.buffer(250_000).total_bounds)
    loc_tol = 2_000.0
    base = Base(
        syria=_clip(country, crs, view, tol),
        governorates=_clip(basemap.governorates, crs, view, tol),
        neighbours=_clip(neighbours, crs, view, tol),
        rivers=_clip(rivers, crs, view, tol),
        named_rivers=_clip(basemap.named_rivers, crs, view, tol),
        lakes=_clip(basemap.lakes, crs, view, tol),
        cities=_cities(settings.resolved_data_dir(), crs, box(*extent), country.geometry.union_all(), width),
        locator_syria=_clip(country, crs, loc_view, loc_tol),
        locator_neighbours=_clip(neighbours, crs, loc_view, loc_tol),
        wide_governorates=_clip(basemap.governorates, crs, loc_view, 300.0),
        wide_rivers=_clip(basemap.rivers[basemap.rivers["level"].astype(int) <= 4]
                          if "level" in basemap.rivers else basemap.rivers, crs, loc_view, 300.0),
        wide_lakes=_clip(basemap.lakes, crs, loc_view, 300.0),
    )

    events = projected["events"]
    if len(events) and "modality" in events:
        # Plans, conditions and denials did not happen: a faction-coloured marker at "Atareb
        # remains outside of government control" would say the government holds it.
        events = events[events["modality"].isin(CONTROLLING_MODALITIES)]
    if len(events):
        events = events.copy()
        events["step"] = _assign_steps(events, layers.steps).values
    factions_ids = list(factions.factions)
    return RenderContext(
        crs=crs, extent=extent, steps=list(layers.steps), base=base,
        control=projected["control"], frontlines=projected["frontlines"], advances=projected["advances"],
        events=events, places=projected["places"], changes=projected["changes"],
        colours={f: factions.colour(f) for f in factions_ids},
        labels={f: factions.label(f) for f in factions_ids},
        region_name=region_name,
        region_shape=(basemap.governorates.to_crs(crs).geometry.iloc[find_governorate(settings.region,
                                                                                       basemap.governorates)]
                      if settings.region and not settings.bbox else None),
    )

"""Fighting heatmaps: Gaussian kernel density of clashes, strikes and contests per step.

The density is events per km² (each event weighs its confidence), computed on a regular grid
over the map extent in the projected CRS: events are binned to cells and smoothed with a
Gaussian of ``settings.heatmap_bandwidth_km``. Cells farther than two bandwidths outside Syria
are nodata. Written as GeoTIFF with overviews.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from geo_control.render.context import FIGHTING_ACTIONS, RenderContext, present

log = logging.getLogger(__name__)

NODATA = -9999.0


def grid_spec(extent: tuple[float, float, float, float], cell_m: float) -> tuple[Any, int, int]:
    """(affine transform, width, height) of a grid of ``cell_m`` cells snapped over ``extent``."""
    from rasterio.transform import Affine

    xmin, ymin, xmax, ymax = extent
    x0 = math.floor(xmin / cell_m) * cell_m
    y1 = math.ceil(ymax / cell_m) * cell_m
    nx = int(math.ceil((xmax - x0) / cell_m))
    ny = int(math.ceil((y1 - ymin) / cell_m))
    return Affine(cell_m, 0.0, x0, 0.0, -cell_m, y1), nx, ny


def density(xs: np.ndarray, ys: np.ndarray, weights: np.ndarray, transform, nx: int, ny: int,
            bandwidth_m: float) -> np.ndarray:
    """Kernel density (per km²) of points on the grid; row 0 is the north edge."""
    from scipy.ndimage import gaussian_filter

    cell = transform.a
    grid = np.zeros((ny, nx), dtype=np.float64)
    if len(xs):
        cols = np.floor((xs - transform.c) / cell).astype(int)
        rows = np.floor((transform.f - ys) / cell).astype(int)
        inside = (cols >= 0) & (cols < nx) & (rows >= 0) & (rows < ny)
        np.add.at(grid, (rows[inside], cols[inside]), weights[inside])
        # The kernel is normalised to sum 1, so each event keeps its weight; /cell area -> per km².
        grid = gaussian_filter(grid, sigma=bandwidth_m / cell, mode="constant", truncate=4.0)
    return grid / ((cell / 1000.0) ** 2)


def compute(ctx: RenderContext, settings, country) -> None:
    """Fill ``ctx.heat`` (step label -> masked density grid) and ``ctx.heat_transform``."""
    from rasterio.features import geometry_mask

    cell = settings.heatmap_cell_km * 1000.0
    bandwidth = settings.heatmap_bandwidth_km * 1000.0
    transform, nx, ny = grid_spec(ctx.extent, cell)
    area = country.to_crs(ctx.crs).buffer(2 * bandwidth)
    outside = geometry_mask(list(area.geometry), out_shape=(ny, nx), transform=transform)
    ev = ctx.events
    if len(ev):
        ev = ev[ev["action"].isin(FIGHTING_ACTIONS).to_numpy() & present(ev.geometry)]
    # Coordinates, weights and each step's rows found once: a pass per step over every event
    # would grow with steps x events.
    all_x = ev.geometry.x.to_numpy() if len(ev) else np.array([])
    all_y = ev.geometry.y.to_numpy() if len(ev) else np.array([])
    all_w = (ev["confidence"].astype(float).fillna(1.0).clip(0.05, 1.0).to_numpy()
             if len(ev) and "confidence" in ev else np.ones(len(all_x)))
    rows = pd.Series(np.arange(len(ev))).groupby(ev["step"].to_numpy(), sort=False).indices if len(ev) else {}
    peak = 0.0
    for st in ctx.steps:
        sel = rows.get(st.label, np.array([], dtype=np.int64))
        grid = density(all_x[sel], all_y[sel], all_w[sel], transform, nx, ny, bandwidth)
        grid[outside] = NODATA
        ctx.heat[st.label] = grid.astype(np.float32)
        peak = max(peak, float(grid[~outside].max()) if (~outside).any() else 0.0)
    ctx.heat_transform = transform
    ctx.heat_max = scale_top(peak)


#: Steps of the heat scale's top: a factor of √2 apart.
SCALE_STEP = math.sqrt(2.0)


def scale_top(peak: float) -> float:
    """The top of the heat colour scale: the series' peak rounded up to a power of √2.

    Every weekly map colours its heat against this value so weeks compare. Rounded, it stays
    the same when a new week is busier than the last peak by less than the step, so the
    earlier maps (whose keys include it) are reused instead of all redrawn (``mapcache``).

    >>> scale_top(1.0), scale_top(1.3) == math.sqrt(2), round(scale_top(1.5), 6)
    (1.0, True, 2.0)
    >>> scale_top(0.0)
    0.0
    """
    if not peak > 0 or not math.isfinite(peak):
        return 0.0
    k = math.ceil(round(math.log(peak, SCALE_STEP), 9))
    return float(SCALE_STEP ** k)


def write_geotiff(path: Path, grid: np.ndarray, transform, crs: str, tags: dict) -> Path:
    """Write one density grid as a compressed float32 GeoTIFF with nodata and overviews."""
    import rasterio
    from rasterio.enums import Resampling

    path.parent.mkdir(parents=True, exist_ok=True)
    ny, nx = grid.shape
    profile = {
        "driver": "GTiff", "width": nx, "height": ny, "count": 1, "dtype": "float32",
        "crs": crs, "transform": transform, "nodata": NODATA, "compress": "deflate", "predictor": 3,
    }
    factors = [f for f in (2, 4, 8, 16) if min(nx, ny) // f >= 8] or [2]
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(grid.astype(np.float32), 1)
        dst.update_tags(**{k: str(v) for k, v in tags.items()})
        dst.set_band_description(1, "fighting density (events per km2)")
        dst.build_overviews(factors, Resampling.average)
        dst.update_tags(ns="rio_overview", resampling="average")
    return path


def heatmap_qml(peak: float) -> str:
    """A QGIS style for the heatmap GeoTIFFs: the maps' colour ramp, transparent at zero.

    QGIS loads ``<name>.qml`` beside a raster as its default style; the ramp runs to the
    top of the series' scale (``scale_top``) so weeks compare.
    """
    from geo_control import style

    peak = peak if peak > 0 else 1.0
    stops = style.HEATMAP_STOPS
    items = [f'<item alpha="0" value="0" label="0" color="{stops[0]}"/>']
    for i, colour in enumerate(stops):
        value = peak * (style.HEATMAP_FLOOR + (1 - style.HEATMAP_FLOOR) * i / (len(stops) - 1))
        alpha = int(255 * style.HEATMAP_MAX_ALPHA * min(1.0, 0.45 + i / (len(stops) - 1)))
        items.append(f'<item alpha="{alpha}" value="{value:.6g}" label="{value:.3g}" color="{colour}"/>')
    return (
        "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n"
        '<qgis version="3.22.0" styleCategories="AllStyleCategories">\n <pipe>\n'
        f'  <rasterrenderer type="singlebandpseudocolor" band="1" opacity="1" alphaBand="-1" '
        f'classificationMin="0" classificationMax="{peak:.6g}" nodataColor="">\n'
        "   <rasterTransparency/>\n   <rastershader>\n"
        f'    <colorrampshader colorRampType="INTERPOLATED" classificationMode="1" clip="0" '
        f'minimumValue="0" maximumValue="{peak:.6g}">\n     '
        + "\n     ".join(items)
        + "\n    </colorrampshader>\n   </rastershader>\n  </rasterrenderer>\n </pipe>\n</qgis>\n"
    )


def write_all(ctx: RenderContext, settings, out_dir: Path) -> list[Path]:
    """``heatmaps/<step>.tif`` (and its QGIS ``.qml`` style) for every step."""
    paths: list[Path] = []
    qml = heatmap_qml(ctx.heat_max)
    for st in ctx.steps:
        tags = {
            "step": st.label, "valid_from": st.start.isoformat(), "valid_to": st.end.isoformat(),
            "units": "events per km2", "bandwidth_km": settings.heatmap_bandwidth_km,
            "actions": ",".join(FIGHTING_ACTIONS), "software": "geo_control",
        }
        tif = write_geotiff(out_dir / "heatmaps" / f"{st.label}.tif", ctx.heat[st.label],
                            ctx.heat_transform, ctx.crs, tags)
        tif.with_suffix(".qml").write_text(qml, encoding="utf-8")
        paths += [tif, tif.with_suffix(".qml")]
    return paths

"""Render: weekly maps (PNG), fighting heatmaps (GeoTIFF), interactive map.html, GIF/MP4, stats.png.

``render_all`` prepares every layer once in the projected CRS (``context``), computes the
heatmaps, then draws the weekly maps on two worker processes (fork: they inherit the prepared
context) in step order, and assembles the animation from frames the workers return.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np

from geo_control.forkpool import can_fork, fork_pool

log = logging.getLogger(__name__)

__all__ = ["render_all", "read_layers"]

#: Worker processes for the weekly maps (the machines have two cores).
WORKERS = 2

# Set in the parent before forking; the workers read it (no pickling of GeoDataFrames).
_JOB: dict = {}


def _shrink(rgb: np.ndarray, width: int) -> np.ndarray:
    """An RGB array resized to ``width`` pixels wide (Lanczos)."""
    from PIL import Image

    img = Image.fromarray(rgb)
    if img.width != width:
        img = img.resize((width, round(img.height * width / img.width)), Image.Resampling.LANCZOS)
    return np.asarray(img)


def _downscale(fig, width: int) -> np.ndarray:
    """The figure's last rendering as an RGB array ``width`` pixels wide."""
    return _shrink(np.asarray(fig.canvas.buffer_rgba())[:, :, :3], width)


def _png_frame(data: bytes, width: int) -> np.ndarray:
    """The GIF frame of a saved map PNG: the same pixels as ``_downscale`` of the figure that wrote it."""
    import io

    from PIL import Image

    with Image.open(io.BytesIO(data)) as img:
        rgba = np.asarray(img.convert("RGBA"))
    return _shrink(np.ascontiguousarray(rgba[:, :, :3]), width)


def _legend_patch(ctx, settings, store=None, key: str = "") -> tuple[tuple[int, int, int, int], np.ndarray]:
    """The side panel with the series' legend, as pixels of a GIF frame: (box, pixels).

    GIF frames are the weekly maps downscaled, with this patch pasted over their panel, so the
    animation's legend is fixed while each PNG's legend lists only what that week shows.
    With ``store``, the patch is reused from an earlier run under ``key``.
    """
    import io

    from geo_control.render.static import draw_step

    if store is not None:
        hit = store.get(key, ("box", "pixels"))
        if hit is not None:
            box = tuple(int(v) for v in hit["box"].decode().split(","))
            return (box[0], box[1], box[2], box[3]), np.load(io.BytesIO(hit["pixels"]), allow_pickle=False)
    drawn = draw_step(ctx, 0, settings, legend="series")
    drawn.fig.canvas.draw()
    frame = _downscale(drawn.fig, settings.gif_width_px)
    scale = frame.shape[1] / drawn.fig.canvas.get_width_height()[0]
    bb = drawn.panel.get_window_extent()
    height = frame.shape[0]
    x0, x1 = int(bb.x0 * scale), int(np.ceil(bb.x1 * scale))
    y0, y1 = int(height - bb.y1 * scale), int(np.ceil(height - bb.y0 * scale))
    patch = frame[y0:y1, x0:x1].copy()
    if store is not None:
        buf = io.BytesIO()
        np.save(buf, patch, allow_pickle=False)
        store.put(key, {"box": f"{x0},{y0},{x1},{y1}".encode(), "pixels": buf.getvalue()})
    return (x0, y0, x1, y1), patch


def _with_legend(frame: np.ndarray) -> np.ndarray:
    (x0, y0, x1, y1), patch = _JOB["legend_patch"]
    if frame.shape[0] >= y1 and frame.shape[1] >= x1:
        frame[y0:y1, x0:x1] = patch
    return frame


def _render_one(index: int) -> tuple[str, np.ndarray, bool]:
    """Step ``index``'s map: save its PNG (+ formats) and return (path, GIF frame, reused?).

    With a map store, a map whose key is stored is copied from it (its frame rebuilt from the
    PNG); a map drawn here is added to it.
    """
    from geo_control.render.static import draw_step

    ctx, settings, maps_dir, formats = _JOB["ctx"], _JOB["settings"], _JOB["maps_dir"], _JOB["formats"]
    store, keys = _JOB.get("store"), _JOB.get("keys") or []
    st = ctx.steps[index]
    path = maps_dir / f"{st.label}.png"
    names = ("png", *formats)
    if store is not None:
        hit = store.get(keys[index], names)
        if hit is not None:
            for fmt in names:
                (maps_dir / f"{st.label}.{fmt}").write_bytes(hit[fmt])
            return str(path), _with_legend(_png_frame(hit["png"], settings.gif_width_px).copy()), True
    drawn = draw_step(ctx, index, settings, legend="step")
    drawn.fig.savefig(path, dpi=drawn.fig.dpi, pil_kwargs={"compress_level": 4})
    frame = _with_legend(_downscale(drawn.fig, settings.gif_width_px).copy())
    if formats:
        import matplotlib

        # Fixed SVG id salt and no PDF creation date: the same inputs give the same files.
        with matplotlib.rc_context({"svg.hashsalt": "geo_control"}):
            for fmt in formats:
                meta = {"CreationDate": None} if fmt == "pdf" else {"Date": None} if fmt == "svg" else {}
                drawn.fig.savefig(maps_dir / f"{st.label}.{fmt}", format=fmt, metadata=meta)
    if store is not None:
        store.put(keys[index], {fmt: (maps_dir / f"{st.label}.{fmt}").read_bytes() for fmt in names})
    return str(path), frame, False


def step_context(ctx, index: int) -> tuple[object, dict]:
    """Step ``index``'s share of ``ctx`` for a Dask worker: (series shell, step part).

    The shell holds what every map shares (base layers, extent, colours, heat normalisation)
    and is sent to each worker once; the part holds only the step's rows in view and its heat
    grid. ``dataclasses.replace(shell, **part)`` is a context whose map 0 is step ``index``'s.
    """
    import dataclasses

    from geo_control.render.static import STEP_LAYERS, step_index

    index_by = step_index(ctx)
    st = ctx.steps[index]
    empty = np.empty(0, dtype=np.intp)
    part: dict = {name: getattr(ctx, name).iloc[index_by[name].get(st.label, empty)] for name in STEP_LAYERS}
    grid = ctx.heat.get(st.label)
    part.update(steps=[st], heat={st.label: grid} if grid is not None else {}, by_step={})
    shell = dataclasses.replace(ctx, steps=[], heat={}, by_step={},
                                **{name: getattr(ctx, name).iloc[0:0] for name in STEP_LAYERS})
    return shell, part


def draw_files(shell, part: dict, settings, formats: tuple[str, ...] = ()) -> dict[str, bytes]:
    """The files of one step map (``png`` and ``formats``) as bytes: the task a Dask worker runs.

    Same bytes as the maps the local workers write (tested).
    """
    import dataclasses
    import io

    import matplotlib

    from geo_control.render import static

    ctx = dataclasses.replace(shell, **part)
    drawn = static.draw_step(ctx, 0, settings, legend="step")
    files = {}
    buf = io.BytesIO()
    drawn.fig.savefig(buf, format="png", dpi=drawn.fig.dpi, pil_kwargs={"compress_level": 4})
    files["png"] = buf.getvalue()
    with matplotlib.rc_context({"svg.hashsalt": "geo_control"}):
        for fmt in formats:
            buf = io.BytesIO()
            meta = {"CreationDate": None} if fmt == "pdf" else {"Date": None} if fmt == "svg" else {}
            drawn.fig.savefig(buf, format=fmt, metadata=meta)
            files[fmt] = buf.getvalue()
    return files


def _render_on_cluster(client, ctx, settings, maps_dir: Path, formats: tuple[str, ...], store, keys,
                       progress: Callable[[str, int, int], None]) -> tuple[list[Path], list[np.ndarray], int]:
    """The maps of every step, drawn on a Dask cluster (reused ones copied here), in step order."""
    from distributed import as_completed

    n = len(ctx.steps)
    names = ("png", *formats)
    files: list[dict[str, bytes] | None] = [None] * n
    if store is not None:
        for i in range(n):
            files[i] = store.get(keys[i], names)
    reused = sum(f is not None for f in files)
    done = reused
    progress("maps", done, n)
    todo = [i for i in range(n) if files[i] is None]
    if todo:
        shell = client.scatter(step_context(ctx, todo[0])[0], broadcast=True, hash=False)
        futures = {client.submit(draw_files, shell, step_context(ctx, i)[1], settings, formats, pure=False): i
                   for i in todo}
        for future in as_completed(futures):
            i = futures[future]
            files[i] = future.result()
            future.release()
            if store is not None:
                store.put(keys[i], files[i])
            done += 1
            progress("maps", done, n)
    paths: list[Path] = []
    frames: list[np.ndarray] = []
    for st, entry in zip(ctx.steps, files, strict=True):
        assert entry is not None
        for fmt in names:
            (maps_dir / f"{st.label}.{fmt}").write_bytes(entry[fmt])
        paths.append(maps_dir / f"{st.label}.png")
        # The frame from the PNG: the same pixels as from the figure (tested).
        frames.append(_with_legend(_png_frame(entry["png"], settings.gif_width_px).copy()))
    return paths, frames, reused


def render_maps(ctx, settings, out_dir: Path, progress: Callable[[str, int, int], None],
                formats: tuple[str, ...] = (), reuse: bool = False, client=None,
                scheduler: str | None = None) -> tuple[list[Path], list[np.ndarray]]:
    """Every weekly map (PNG, plus ``formats`` like svg/pdf) and the GIF frames, in step order.

    ``reuse`` copies the maps whose inputs did not change since an earlier run from the map
    cache (``mapcache``) instead of drawing them; the files are the same either way. With a
    Dask ``client`` (or a ``scheduler``, ``local`` or ``tcp://host:port``, connected here only
    when some map must be drawn) the maps to draw are spread over its workers (same files),
    else over two local processes.
    """
    from geo_control.render.static import series_items, step_index

    maps_dir = out_dir / "maps"
    maps_dir.mkdir(parents=True, exist_ok=True)
    step_index(ctx)  # once, before the workers fork
    store, keys, patch_key = None, None, ""
    if reuse:
        from geo_control.render.mapcache import MapStore, global_key, step_keys

        store = MapStore()
        series = global_key(ctx, settings)
        keys = step_keys(ctx, series)
        patch_key = hashlib.blake2b(f"legend|{series}|{keys[0] if keys else ''}|{series_items(ctx)!r}".encode(),
                                    digest_size=20).hexdigest()
    _JOB.update(ctx=ctx, settings=settings, maps_dir=maps_dir, formats=formats, store=store, keys=keys,
                legend_patch=_legend_patch(ctx, settings, store, patch_key))
    n = len(ctx.steps)
    paths: list[Path] = []
    frames: list[np.ndarray] = []
    reused = 0
    workers = min(WORKERS, os.cpu_count() or 1, n)
    own_client = None
    if client is None and scheduler and not (store is not None and keys is not None
                                             and all(store.has(k) for k in keys)):
        from geo_control.parallel import connect

        client = own_client = connect(scheduler)
    try:
        if client is not None:
            paths, frames, reused = _render_on_cluster(client, ctx, settings, maps_dir, formats, store, keys,
                                                       progress)
        elif workers > 1 and can_fork():
            with fork_pool(workers) as pool:
                results = pool.imap(_render_one, range(n))
                for i, (p, frame, hit) in enumerate(results, 1):
                    paths.append(Path(p))
                    frames.append(frame)
                    reused += hit
                    progress("maps", i, n)
        else:
            for i in range(n):
                p, frame, hit = _render_one(i)
                paths.append(Path(p))
                frames.append(frame)
                reused += hit
                progress("maps", i + 1, n)
    finally:
        _JOB.clear()
        if own_client is not None:
            from geo_control.parallel import close

            close(own_client)
    if store is not None:
        removed = store.trim()
        log.info("weekly maps: %d reused, %d drawn (map cache %s; %d old entries removed)",
                 reused, n - reused, store.root, removed)
    return paths, frames


def render_all(layers, basemap, settings, factions, out_dir, progress=lambda stage, done, total: None,
               formats: tuple[str, ...] = (), reuse: bool = False, client=None,
               scheduler: str | None = None) -> list[Path]:
    """Write maps/<step>.png, heatmaps/<step>.tif, map.html, control.gif (+ .mp4), stats.png.

    Returns the paths written. ``formats`` adds vector copies of each weekly map (``svg``, ``pdf``).
    ``reuse`` takes weekly maps whose inputs did not change from the map cache of earlier runs
    (same files; ``run --no-cache`` turns it off). A Dask ``client``, or ``scheduler``
    (``local`` or ``tcp://host:port``), draws the weekly maps on its workers (same files).
    """
    from geo_control.render import heatmap
    from geo_control.render.animate import write_gif, write_mp4
    from geo_control.render.context import build_context
    from geo_control.render.interactive import write_html
    from geo_control.render.stats import write_stats_chart

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    ctx = build_context(layers, basemap, settings, factions)
    heatmap.compute(ctx, settings, basemap.country)
    files = heatmap.write_all(ctx, settings, out_dir)
    progress("heatmaps", len(files), len(files))
    written: list[Path] = []
    if ctx.steps:
        paths, frames = render_maps(ctx, settings, out_dir, progress, formats, reuse=reuse, client=client,
                                    scheduler=scheduler)
        written += paths
        written += [p.with_suffix(f".{fmt}") for p in paths for fmt in formats]
        written.append(write_gif(frames, out_dir / "control.gif", settings.gif_frame_ms))
        if settings.mp4:
            written.append(write_mp4(frames, out_dir / "control.mp4", settings.gif_frame_ms))
        progress("animation", 1, 1)
    written += files
    written.append(write_html(ctx, layers, settings, out_dir / "map.html"))
    progress("html", 1, 1)
    written.append(write_stats_chart(layers.stats, ctx.colours, ctx.labels, out_dir / "stats.png"))
    log.info("rendered %d steps into %s", len(ctx.steps), out_dir)
    return written


def read_layers(gpkg):
    """Read a control.gpkg back into Layers (see ``geo_control.render.io``)."""
    from geo_control.render.io import read_layers as _read

    return _read(gpkg)

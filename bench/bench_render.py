"""Benchmark of the renderer: 52 weekly maps + GIF (+ heatmaps, map.html, stats) for all of Syria.

Run: .venv/bin/python bench/bench_render.py [--weeks 52] [--model] [--out /tmp/bench_render]
By default the layers are synthetic (tests/render_synthetic.py: whole-country control areas, a
moving front, 15 events a week); ``--model`` builds them with geo_control.model.build from
bench_model's synthetic events instead (the build time is printed but not counted).
Prints the time of each render stage; the goal is maps + GIF under 60 s on two cores.

``--gpkg control.gpkg`` times the weekly maps + GIF of a real run's layers instead (e.g. the
1,000-report corpus's), in four passes on a private map cache: without reuse, reuse with an
empty cache, reuse with nothing changed (every map a hit), and reuse after one row of the
last week changed (one map drawn). CPU seconds include the map workers (local ones only:
with ``--scheduler`` the Dask workers' time is not counted, read the wall time).
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent / "tests")]

from geo_control.basemap import load_basemap  # noqa: E402
from geo_control.factions import FactionRegistry  # noqa: E402
from geo_control.render import render_all  # noqa: E402
from geo_control.settings import Settings, data_dir  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--weeks", type=int, default=52)
    ap.add_argument("--model", action="store_true", help="Build the layers with model.build from synthetic events.")
    ap.add_argument("--events", type=int, default=1500, help="Events for --model.")
    ap.add_argument("--out", default="/tmp/bench_render")
    ap.add_argument("--gpkg", help="Time maps + GIF with reuse on the layers of this control.gpkg.")
    ap.add_argument("--scheduler", help="With --gpkg: draw the maps on Dask (local or tcp://host:port).")
    args = ap.parse_args()
    if args.gpkg:
        reuse_passes(Path(args.gpkg), Path(args.out), args.scheduler)
        return

    basemap = load_basemap(data_dir())
    factions = FactionRegistry.default()
    settings = Settings()
    t0 = time.perf_counter()
    if args.model:
        from bench_model import synthetic_events

        from geo_control.model import build

        layers = build(synthetic_events(args.events, args.weeks), basemap, settings, factions)
    else:
        from render_synthetic import synthetic_layers

        layers = synthetic_layers(basemap, args.weeks)
    print(f"layers: {len(layers.steps)} steps, {len(layers.control)} control areas, {len(layers.events)} events "
          f"({time.perf_counter() - t0:.1f} s, not counted)")
    marks: dict[str, float] = {}
    start = time.perf_counter()

    def progress(stage: str, done: int, total: int) -> None:
        if done == total:
            marks[stage] = time.perf_counter() - start

    files = render_all(layers, basemap, settings, factions, Path(args.out), progress=progress)
    total = time.perf_counter() - start
    load = os.getloadavg()[0]
    cpu = sum(resource.getrusage(who).ru_utime + resource.getrusage(who).ru_stime
              for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    print(f"heatmaps done at {marks.get('heatmaps', 0):.1f} s, maps at {marks.get('maps', 0):.1f} s, "
          f"GIF at {marks.get('animation', 0):.1f} s, map.html at {marks.get('html', 0):.1f} s")
    gif = Path(args.out) / "control.gif"
    print(f"maps + GIF: {marks.get('animation', total):.1f} s; everything: {total:.1f} s; {len(files)} files; "
          f"GIF {gif.stat().st_size / 1e6:.1f} MB")
    # Other processes on a shared machine stretch wall time; CPU seconds do not depend on them.
    print(f"CPU time (this process + workers, incl. building layers): {cpu:.1f} s; cpus {os.cpu_count()}, "
          f"load avg {load:.1f}")


def _cpu() -> float:
    return sum(resource.getrusage(who).ru_utime + resource.getrusage(who).ru_stime
               for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))


def reuse_passes(gpkg: Path, out: Path, args_scheduler: str | None = None) -> None:
    """Maps + GIF of ``gpkg``'s layers: no reuse, cold reuse, all hits, last week changed."""
    import logging
    import tempfile

    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    logging.getLogger("geo_control.render").setLevel(logging.INFO)  # the reused/drawn counts
    cache = tempfile.mkdtemp(prefix="bench_render_cache_")
    os.environ["GEO_CONTROL_CACHE"] = cache
    try:
        _passes(gpkg, out, args_scheduler)
    finally:
        import shutil

        shutil.rmtree(cache, ignore_errors=True)


def _passes(gpkg: Path, out: Path, scheduler: str | None) -> None:
    import dataclasses

    from geo_control.render import heatmap, read_layers, render_maps
    from geo_control.render.animate import write_gif
    from geo_control.render.context import build_context

    basemap = load_basemap(data_dir())
    factions = FactionRegistry.default()
    settings = Settings()
    layers = read_layers(gpkg)
    # "Last week changed": one more report in the last week, a town held (no fighting, so the
    # series' heat normalisation stays), at the place of an earlier such event.
    import pandas as pd

    last = layers.steps[-1]
    ev = layers.events
    new = ev[(ev["action"] == "hold") & (ev["modality"] == "asserted")].iloc[[0]].copy()
    new["id"], new["doc"], new["date"] = "ev-bench-new", "bench_new.txt", last.start.isoformat()
    new["valid_from"] = pd.Timestamp(last.start, tz="UTC")
    new["valid_to"] = pd.Timestamp(last.start, tz="UTC") + pd.Timedelta(days=1)
    changed = dataclasses.replace(layers, events=pd.concat([ev, new], ignore_index=True))
    print(f"{gpkg}: {len(layers.steps)} steps, {len(layers.events)} events, {len(layers.places)} place rows, "
          f"{len(layers.control)} control areas, {len(layers.changes)} changes")
    for name, lay, reuse in (("no reuse", layers, False), ("reuse, empty cache", layers, True),
                             ("reuse, nothing changed", layers, True),
                             ("reuse, last week changed", changed, True)):
        c0 = _cpu()
        ctx = build_context(lay, basemap, settings, factions)
        heatmap.compute(ctx, settings, basemap.country)
        c1, w1 = _cpu(), time.perf_counter()
        slug = name.replace(", ", "-").replace(" ", "_")
        paths, frames = render_maps(ctx, settings, out / slug, lambda *a: None, reuse=reuse, scheduler=scheduler)
        c2 = _cpu()
        write_gif(frames, out / f"{slug}.gif", settings.gif_frame_ms)
        c3, w3 = _cpu(), time.perf_counter()
        print(f"{name:26s} context+heat {c1 - c0:5.1f} CPU s | maps {c2 - c1:6.1f} CPU s "
              f"({(c2 - c1) / len(paths):.2f} a map) | GIF {c3 - c2:4.1f} CPU s | maps+GIF {c3 - c1:6.1f} CPU s, "
              f"{w3 - w1:6.1f} s wall | load {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()

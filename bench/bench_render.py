"""Benchmark of the renderer: 52 weekly maps + GIF (+ heatmaps, map.html, stats) for all of Syria.

Run: .venv/bin/python bench/bench_render.py [--weeks 52] [--model] [--out /tmp/bench_render]
By default the layers are synthetic (tests/render_synthetic.py: whole-country control areas, a
moving front, 15 events a week); ``--model`` builds them with geo_control.model.build from
bench_model's synthetic events instead (the build time is printed but not counted).
Prints the time of each render stage; the goal is maps + GIF under 60 s on two cores.
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
    args = ap.parse_args()

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


if __name__ == "__main__":
    main()

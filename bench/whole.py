"""Run one ``geo-control`` command line with per-stage timers (what ``bench/run.py`` launches).

    python bench/whole.py --stages-json times.json [--profile prof.txt] -- run CORPUS --out DIR

The command runs exactly as from the shell (same CLI, same settings); the stage functions the
pipeline calls are wrapped with timers, and the seconds spent in each go to ``--stages-json``
with this process's peak memory. ``--profile`` writes a cProfile summary (top functions by
cumulative and by own time).
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import resource
import sys
import time
from collections import defaultdict

TIMES: dict[str, float] = defaultdict(float)
#: (stage, start, end) in wall-clock seconds: ``run.py`` finds the stage of the memory peak.
SPANS: list[tuple[str, float, float]] = []


def _timed(name: str, fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        t0 = time.perf_counter()
        w0 = time.time()
        try:
            return fn(*args, **kwargs)
        finally:
            spent = time.perf_counter() - t0
            TIMES[name] += spent
            SPANS.append((name, w0, time.time()))
            print(f"bench-stage: {name} {spent:.2f}s", file=sys.stderr, flush=True)

    return wrapper


class _StopAfterExtract(Exception):
    def __init__(self, n_events: int):
        self.n_events = n_events


def _keep_input_on_error(build):
    """Save the events a failing model build was given (bench/results/failed-build-events.pickle)."""

    @functools.wraps(build)
    def wrapper(events, *args, **kwargs):
        try:
            return build(events, *args, **kwargs)
        except Exception:
            import pickle
            from pathlib import Path

            path = Path(__file__).resolve().parent / "results" / "failed-build-events.pickle"
            path.parent.mkdir(exist_ok=True)
            path.write_bytes(pickle.dumps(events))
            print(f"bench: model.build failed; its input events are in {path}", file=sys.stderr)
            raise

    return wrapper


def instrument() -> None:
    """Wrap the stage functions ``pipeline.run`` calls (looked up at call time)."""
    import geo_control.export as export
    import geo_control.geocode as geocode
    import geo_control.ingest as ingest
    import geo_control.model as model
    import geo_control.pipeline as pipeline
    import geo_control.render as render

    extract_events = _timed("extract+geocode", pipeline.extract_events)
    if os.environ.get("BENCH_STOP_AFTER") == "extract":
        # Stage-only runs: everything up to the events table, then stop (no model, maps, files).
        def extract_then_stop(*args, **kwargs):
            events, _ = extract_events(*args, **kwargs)
            print(f"bench: {len(events)} events; stopping after extraction", file=sys.stderr, flush=True)
            raise _StopAfterExtract(len(events))

        pipeline.extract_events = extract_then_stop
    else:
        pipeline.extract_events = extract_events
    pipeline.load_basemap = _timed("basemap", pipeline.load_basemap)
    load = geocode.Gazetteer.load.__func__  # type: ignore[attr-defined]
    geocode.Gazetteer.load = classmethod(_timed("gazetteer", load))  # type: ignore[method-assign,assignment]
    ingest.iter_reports = _timed("ingest-scan", ingest.iter_reports)
    model.build = _timed("model", _keep_input_on_error(model.build))
    render.render_all = _timed("render", render.render_all)
    for name in ("write_tables", "write_geopackage", "write_qgis_project", "write_run_json"):
        if hasattr(export, name):
            setattr(export, name, _timed("export", getattr(export, name)))


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--stages-json", required=True)
    ap.add_argument("--profile")
    ap.add_argument("argv", nargs=argparse.REMAINDER)
    args = ap.parse_args()
    argv = [a for a in args.argv if a != "--"]
    t0 = time.perf_counter()
    instrument()
    from geo_control.cli import cli

    sys.argv = ["geo-control", *argv]
    status = 0
    profiler = None
    if args.profile:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    n_events = None
    try:
        cli.main(args=argv, standalone_mode=False)
    except SystemExit as exc:
        status = int(exc.code or 0)
    except _StopAfterExtract as stop:
        n_events = stop.n_events
    finally:
        if profiler is not None:
            profiler.disable()
            import io
            import pstats

            buf = io.StringIO()
            stats = pstats.Stats(profiler, stream=buf)
            stats.sort_stats("cumulative").print_stats(45)
            stats.sort_stats("tottime").print_stats(45)
            with open(args.profile, "w") as fh:
                fh.write(buf.getvalue())
    total = time.perf_counter() - t0
    self_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    with open(args.stages_json, "w") as fh:
        json.dump({"stages": dict(TIMES), "in_process_s": total, "maxrss_self_mb": self_kb / 1024,
                   "maxrss_children_mb": children_kb / 1024, "status": status,
                   "events": n_events, "spans": SPANS}, fh, indent=1)
    return status


if __name__ == "__main__":
    sys.exit(main())

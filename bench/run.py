"""Benchmarks of geo_control: the stage benchmarks found in bench/, then whole runs.

    make bench                                   # 1k, 10k, 50k reports; with and without Dask
    .venv/bin/python bench/run.py --sizes 1000   # a quick run
    .venv/bin/python bench/run.py --sizes 1000,10000 --schedulers none --no-stages

For each size a corpus is generated (``bench/corpus.py``, cached under the work folder), then
``geo-control run`` is timed from the command line in a fresh process:

- ``cold``: an empty document cache (the gazetteer's own index is prebuilt: it is built once
  per install, not per run);
- ``incremental``: the same cache after adding 10 new reports (this week's) to the inputs.

Wall time, peak memory (the sum of the resident memory of the process and its children,
sampled every 0.1 s, and the largest single process from getrusage), events, events/s and
words/s go to ``bench/results/whole-<date>.json`` and a markdown table on stdout.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
RESULTS = BENCH / "results"
STAGE_SCRIPTS = ("bench_extract.py", "bench_geocode.py", "bench_model.py", "bench_render.py")
ADDED = 10

sys.path.insert(0, str(BENCH))
import corpus as gen  # noqa: E402


def machine() -> dict:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return {"nproc": os.cpu_count(), "cpu": cpu, "ram_gb": round(mem_gb, 1),
            "python": platform.python_version(), "platform": platform.platform(),
            "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")}


class PeakMemory:
    """Peaks of the summed RSS and PSS of a process tree, sampled in a thread (needs psutil).

    Forked workers share their parent's pages until they write them: summed RSS counts those
    pages once per process, PSS (proportional set size) divides each shared page among the
    processes sharing it, so its sum is the memory the tree really takes.
    """

    def __init__(self, pid: int, interval: float = 0.25, pss_every: int = 4):
        self.pid, self.interval, self.peak, self.peak_pss = pid, interval, 0, 0
        self.peak_pss_at = 0.0  # wall-clock time of the PSS peak
        # PSS needs each process's smaps (expensive on a 5 GB process: sampled every 0.2 s it
        # took 14% of a core, measured on the 50k run); RSS is cheap. PSS every ``pss_every``-th sample.
        self.pss_every = pss_every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        try:
            import psutil
        except ImportError:
            return
        try:
            root = psutil.Process(self.pid)
        except psutil.Error:
            return
        tick = 0
        while not self._stop.is_set():
            try:
                procs = [root, *root.children(recursive=True)]
                with_pss = tick % self.pss_every == 0
                total = pss = 0
                for p in procs:
                    try:
                        if with_pss:
                            full = p.memory_full_info()
                            total += full.rss
                            pss += getattr(full, "pss", full.rss)
                        else:
                            total += p.memory_info().rss
                    except psutil.Error:
                        pass
                self.peak = max(self.peak, total)
                if with_pss and pss > self.peak_pss:
                    self.peak_pss, self.peak_pss_at = pss, time.time()
            except psutil.Error:
                return
            tick += 1
            self._stop.wait(self.interval)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def timed_run(argv: list[str], env: dict, stages_json: Path, log: Path, profile: Path | None = None) -> dict:
    """Run ``geo-control ARGV`` through bench/whole.py; wall time, memory, stage times."""
    cmd = [sys.executable, str(BENCH / "whole.py"), "--stages-json", str(stages_json)]
    if profile:
        cmd += ["--profile", str(profile)]
    cmd += ["--", *argv]
    load0 = os.getloadavg()[0]
    t0 = time.perf_counter()
    with open(log, "w") as fh:
        proc = subprocess.Popen(cmd, env=env, stdout=fh, stderr=subprocess.STDOUT, cwd=ROOT)
        with PeakMemory(proc.pid) as peak:
            _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - t0
    info = json.loads(stages_json.read_text()) if stages_json.exists() else {}
    # CPU seconds of the run and every process it waited for (workers, render pool): unlike
    # wall time they do not stretch when other jobs share the machine.
    cpu = usage.ru_utime + usage.ru_stime
    return {"wall_s": round(wall, 2), "stage_events": info.get("events"), "cpu_s": round(cpu, 1), "peak_tree_mb": round(peak.peak / 2**20, 1),
            "peak_pss_mb": round(peak.peak_pss / 2**20, 1),
            "peak_pss_stage": (next((name for name, a, b in info.get("spans", []) if a <= peak.peak_pss_at <= b),
                                    "between stages") if peak.peak_pss else ""),
            "load_avg": round((load0 + os.getloadavg()[0]) / 2, 1),
            "maxrss_mb": round(max(usage.ru_maxrss / 1024, info.get("maxrss_children_mb", 0)), 1),
            "status": proc.returncode, "stages": {k: round(v, 2) for k, v in info.get("stages", {}).items()},
            "log": str(log)}


def count_events(out: Path) -> int:
    import pandas as pd

    try:
        return len(pd.read_csv(out / "events.csv", usecols=["id"]))
    except (OSError, ValueError):
        return 0


def corpus_for(n: int, work: Path, seed: int) -> Path:
    folder = work / f"corpus-{n}"
    meta = folder / "corpus.json"
    if meta.exists():
        m = json.loads(meta.read_text())
        if (m.get("version"), m.get("n"), m.get("seed"), m.get("extra")) == (gen.VERSION, n, seed, 0):
            return folder
    shutil.rmtree(folder, ignore_errors=True)
    t0 = time.perf_counter()
    gen.generate(folder, n, seed)
    print(f"bench: generated {n} reports in {time.perf_counter() - t0:.1f}s -> {folder}", file=sys.stderr)
    return folder


def prewarm_gazetteer(env: dict) -> float:
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", "from geo_control.geocode import Gazetteer; "
                    "from geo_control.settings import data_dir; Gazetteer.load(data_dir())"],
                   env=env, check=True, cwd=ROOT)
    return time.perf_counter() - t0


def snapshot(work: Path, source: str) -> dict:
    """Copy the package into the work folder; every run of the benchmark imports that copy.

    Others may edit the working tree while a long benchmark runs: the runs must all measure
    one version of the code (and the cache, keyed by the code, must stay valid between the
    cold and the incremental run). ``source`` is ``head`` (the last commit) or ``tree`` (the
    working tree as it is now).
    """
    def git(*a: str) -> str:
        return subprocess.run(["git", *a], capture_output=True, text=True, cwd=ROOT).stdout.strip()

    dest = work / "snapshot"
    shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir(parents=True)
    if source == "head":
        archive = subprocess.run(["git", "archive", "HEAD", "geo_control"], capture_output=True, check=True,
                                 cwd=ROOT).stdout
        subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)
        dirty = False
    else:
        shutil.copytree(ROOT / "geo_control", dest / "geo_control",
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        dirty = bool(git("status", "--porcelain", "--", "geo_control"))
    return {"path": str(dest), "commit": git("rev-parse", "--short", "HEAD"), "dirty": dirty}


def base_env(snap: dict | None) -> dict:
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    if snap:
        env["PYTHONPATH"] = snap["path"] + os.pathsep + env.get("PYTHONPATH", "")
        env["GEO_CONTROL_DATA"] = env.get("GEO_CONTROL_DATA", str(ROOT / "data"))
    return env


def whole(sizes: list[int], schedulers: list[str], work: Path, seed: int, incremental: bool,
          profile: bool, snap: dict | None, save=lambda rows: None, stop_after: str | None = None) -> list[dict]:
    rows: list[dict] = []
    for n in sizes:
        folder = corpus_for(n, work, seed)
        words = json.loads((folder / "corpus.json").read_text())["words"]
        week = work / f"week-{n}"
        shutil.rmtree(week, ignore_errors=True)
        # A scratch copy of the corpus metadata so the added reports never touch the corpus.
        scratch = work / f"meta-{n}"
        scratch.mkdir(parents=True, exist_ok=True)
        shutil.copy(folder / "corpus.json", scratch / "corpus.json")
        gen.add_reports(scratch, ADDED, into=week)
        for sched in schedulers:
            tag = f"{n}-{sched}"
            cache = work / f"cache-{tag}"
            shutil.rmtree(cache, ignore_errors=True)
            env = {**base_env(snap), "GEO_CONTROL_CACHE": str(cache)}
            if stop_after:
                env["BENCH_STOP_AFTER"] = stop_after
            gaz_s = prewarm_gazetteer(env)
            modes = [("cold", [str(folder)])]
            if incremental:
                modes.append(("incremental", [str(folder), str(week)]))
            for mode, inputs in modes:
                out = work / f"out-{tag}-{mode}"
                shutil.rmtree(out, ignore_errors=True)
                argv = ["run", *inputs, "--out", str(out), "--no-progress"]
                if sched != "none":
                    argv += ["--scheduler", sched]
                prof = RESULTS / f"profile-{tag}-{mode}.txt" if profile and mode == "cold" else None
                print(f"bench: {n} reports, scheduler {sched}, {mode} ...", file=sys.stderr, flush=True)
                r = timed_run(argv, env, work / f"stages-{tag}-{mode}.json", work / f"log-{tag}-{mode}.txt", prof)
                n_reports = n + (ADDED if mode == "incremental" else 0)
                events = r["stage_events"] if stop_after else count_events(out)
                r.update({"reports": n_reports, "words": words, "scheduler": sched,
                          "mode": f"{mode} ({stop_after} only)" if stop_after else mode,
                          "events": events or 0, "gazetteer_prebuild_s": round(gaz_s, 1)})
                r["events_per_s"] = round(r["events"] / r["wall_s"], 1) if r["wall_s"] else 0
                r["words_per_s"] = round(words / r["wall_s"]) if mode == "cold" and r["wall_s"] else None
                rows.append(r)
                save(rows)
                print(f"bench:   {r['wall_s']}s, {r['peak_tree_mb']} MB, {r['events']} events, "
                      f"exit {r['status']}", file=sys.stderr, flush=True)
                if r["status"] != 0:
                    print(Path(r["log"]).read_text()[-2000:], file=sys.stderr)
    return rows


def stage_benchmarks(timeout: int, env: dict) -> list[dict]:
    rows = []
    for name in STAGE_SCRIPTS:
        script = BENCH / name
        if not script.exists():
            rows.append({"script": name, "status": "absent"})
            continue
        print(f"bench: {name} ...", file=sys.stderr, flush=True)
        t0 = time.perf_counter()
        try:
            proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                                  timeout=timeout, cwd=ROOT, env=env)
            status, out = proc.returncode, proc.stdout + proc.stderr
        except subprocess.TimeoutExpired as exc:
            status, out = "timeout", f"{exc}"
        rows.append({"script": name, "status": status, "wall_s": round(time.perf_counter() - t0, 1),
                     "output": out[-4000:]})
    return rows


def markdown(rows: list[dict]) -> str:
    """The runs as a markdown table (``python bench/run.py --table results.json`` reprints one)."""
    lines = ["| reports | words | scheduler | run | wall s | CPU s | load | peak MB (tree RSS) | peak MB (PSS) "
             "| PSS peak in | events | events/s "
             "| words/s | extract+geocode s | model s | render s | export s |",
             "| ---: | ---: | --- | --- | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: "
             "| ---: | ---: |"]
    for r in rows:
        s = r["stages"]
        lines.append(
            f"| {r['reports']:,} | {r['words']:,} | {'dask local' if r['scheduler'] == 'local' else 'none'} "
            f"| {r['mode']} | {r['wall_s']:.1f} | {r.get('cpu_s', 0):.0f} | {r.get('load_avg', 0):.1f} "
            f"| {r['peak_tree_mb']:,.0f} | {r.get('peak_pss_mb', 0):,.0f} | {r.get('peak_pss_stage', '')} "
            f"| {r['events']:,} "
            f"| {r['events_per_s']:,.0f} | {format(r['words_per_s'], ',') if r['words_per_s'] else ''} "
            f"| {s.get('extract+geocode', 0):.1f} | {s.get('model', 0):.1f} | {s.get('render', 0):.1f} "
            f"| {s.get('export', 0):.1f} |"
            + ("" if r["status"] == 0 else f" exit {r['status']}")
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="geo_control benchmarks")
    ap.add_argument("--sizes", default="1000,10000,50000", help="comma-separated report counts")
    ap.add_argument("--schedulers", default="none,local", help="'none' (single process) and/or 'local' (Dask)")
    ap.add_argument("--no-incremental", action="store_true", help="only cold runs")
    ap.add_argument("--no-stages", action="store_true", help="skip the stage benchmarks (bench/bench_*.py)")
    ap.add_argument("--stage-timeout", type=int, default=1200, help="seconds per stage benchmark")
    ap.add_argument("--profile", action="store_true", help="cProfile the cold runs into bench/results/")
    ap.add_argument("--work", default=str(RESULTS / "work"), help="corpora, caches and outputs")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--code", choices=("head", "tree", "live"), default="head",
                    help="code to measure: a copy of the last commit (default), a copy of the working "
                         "tree, or the live working tree")
    ap.add_argument("--stop-after", choices=("extract",),
                    help="stage-only runs: stop once the events table is built (no model, maps, files)")
    ap.add_argument("--table", metavar="RESULTS_JSON", help="only print the table of a results file")
    args = ap.parse_args(argv)
    if args.table:
        print(markdown(json.loads(Path(args.table).read_text())["whole"]))
        return 0

    sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s]
    schedulers = [s.strip() for s in args.schedulers.split(",") if s.strip()]
    if "local" in schedulers:
        try:
            import distributed  # noqa: F401
        except ImportError:
            print("bench: dask not installed (pip install -e .[dask]); skipping --schedulers local",
                  file=sys.stderr)
            schedulers = [s for s in schedulers if s != "local"]
    RESULTS.mkdir(parents=True, exist_ok=True)
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)

    snap = None if args.code == "live" else snapshot(work, args.code)
    result = {"machine": machine(), "command": " ".join(["bench/run.py", *(argv or sys.argv[1:])]),
              "code": snap}
    if not args.no_stages:
        result["stage_benchmarks"] = stage_benchmarks(args.stage_timeout, base_env(snap))
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    path = RESULTS / f"whole-{stamp}.json"

    def save(rows: list[dict]) -> None:
        # After every run, so a long benchmark that is stopped still leaves its figures.
        path.write_text(json.dumps({**result, "whole": rows}, indent=1))

    result["whole"] = whole(sizes, schedulers, work, args.seed, not args.no_incremental, args.profile, snap,
                            save, args.stop_after)
    save(result["whole"])
    m = result["machine"]
    print(f"\n{m['date']}: {m['nproc']} cores ({m['cpu']}), {m['ram_gb']} GB RAM, Python {m['python']}")
    if snap:
        print(f"code: {snap['commit']}{' + uncommitted changes' if snap['dirty'] else ''}")
    print()
    for s in result.get("stage_benchmarks", []):
        print(f"- {s['script']}: {s['status']}" + (f" ({s['wall_s']}s)" if "wall_s" in s else ""))
        if s.get("output"):
            print("  " + "\n  ".join(s["output"].strip().splitlines()[-12:]))
    print()
    print(markdown(result["whole"]))
    print(f"\nresults: {path}")
    return 0 if all(r["status"] == 0 for r in result["whole"]) else 1


if __name__ == "__main__":
    sys.exit(main())

"""Benchmark of extraction (and geocoding) on a generated corpus of >= 150,000 words.

Run: .venv/bin/python bench/bench_extract.py [--words 150000] [--corpus DIR] [--jobs 2]

The corpus comes from bench/corpus.py (report-style texts built from the gold sentences and
the seeds with other places, actors and dates). Figures printed:

1. in process, one core: ingest, extraction alone, geocoding (``locate``) alone, in words/s;
2. from the command line, the whole process (start-up, imports, gazetteer load, reading,
   extraction, geocoding, JSON lines written to /dev/null): ``geo-control extract CORPUS
   --format jsonl`` with and without ``--no-geocode``, and with ``--jobs``.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent / "geo-control"


def make_corpus(words: int, out: Path) -> Path:
    sys.path.insert(0, str(ROOT / "bench"))
    import corpus  # bench/corpus.py

    n = max(1, words // 450)
    while True:
        corpus.main(["--n", str(n), "--out", str(out)])
        total = sum(len(p.read_text(encoding="utf-8").split()) for p in out.glob("*.txt"))
        if total >= words:
            return out
        n = int(n * words / max(total, 1)) + 5


def in_process(folder: Path, geocode: bool) -> dict[str, float]:
    from geo_control.extract import extract
    from geo_control.factions import FactionRegistry
    from geo_control.ingest import read_reports

    t0 = time.perf_counter()
    docs = read_reports([folder])
    t1 = time.perf_counter()
    factions = FactionRegistry.default()
    c1 = time.process_time()
    statements = [extract(d, factions) for d in docs]
    c2 = time.process_time()
    t2 = time.perf_counter()
    words = sum(len(d.text.split()) for d in docs)
    out = {"documents": len(docs), "words": words, "statements": sum(map(len, statements)),
           "ingest_s": t1 - t0, "extract_s": t2 - t1, "extract_cpu_s": c2 - c1}
    if geocode:
        try:
            from geo_control.geocode import Gazetteer, locate
            from geo_control.settings import data_dir
        except ImportError:
            return out
        t3 = time.perf_counter()
        gazetteer = Gazetteer.load(data_dir())
        t4 = time.perf_counter()
        c4 = time.process_time()
        events = 0
        for doc, sts in zip(docs, statements, strict=True):
            table, _ = locate(sts, gazetteer, doc_text=doc.text)
            events += len(table)
        t5 = time.perf_counter()
        out.update(gazetteer_load_s=t4 - t3, locate_s=t5 - t4, locate_cpu_s=time.process_time() - c4, events=events)
    return out


def command_line(folder: Path, args: list[str]) -> tuple[float, float, int]:
    """Wall seconds, CPU seconds (user + system, all processes) and events of one command."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run([str(BIN), "-q", "extract", str(folder), "--format", "jsonl", *args],
                          capture_output=True, check=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, proc.stdout.count(b"\n")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--words", type=int, default=150_000)
    ap.add_argument("--corpus", type=Path, help="use this corpus folder (made if missing)")
    ap.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1))
    ap.add_argument("--no-geocode", action="store_true", help="skip the geocoding figures")
    opts = ap.parse_args(argv)
    tmp = None
    folder = opts.corpus
    if folder is None:
        tmp = tempfile.TemporaryDirectory(prefix="geo-control-bench-")
        folder = Path(tmp.name) / "corpus"
    if not any(folder.glob("*.txt")):
        folder.mkdir(parents=True, exist_ok=True)
        make_corpus(opts.words, folder)
    r = in_process(folder, geocode=not opts.no_geocode)
    w = r["words"]
    print(f"corpus: {r['documents']} reports, {w:,} words ({folder})")
    print(f"in process, 1 core: ingest {r['ingest_s']:.2f} s ({w / r['ingest_s']:,.0f} words/s); "
          f"extract {r['extract_s']:.2f} s wall ({w / r['extract_s']:,.0f} words/s), {r['extract_cpu_s']:.2f} s CPU "
          f"({w / r['extract_cpu_s']:,.0f} words per CPU-second, {r['statements']:,} statements)")
    if "locate_s" in r:
        print(f"in process, 1 core: gazetteer load {r['gazetteer_load_s']:.2f} s; locate {r['locate_s']:.2f} s wall, "
              f"{r['locate_cpu_s']:.2f} s CPU ({w / r['locate_cpu_s']:,.0f} words per CPU-second, {r['events']:,} events)")
    runs = [("extract only, 1 job", ["--no-geocode", "--jobs", "1"]),
            (f"extract only, {opts.jobs} jobs", ["--no-geocode", "--jobs", str(opts.jobs)])]
    if not opts.no_geocode:
        runs += [("extract + geocode, 1 job", ["--jobs", "1"]),
                 (f"extract + geocode, {opts.jobs} jobs", ["--jobs", str(opts.jobs)])]
    print(f"load average before the command-line runs: {os.getloadavg()[0]:.1f} (2 cores: above 2 slows wall times)")
    for label, args in runs:
        seconds, cpu, lines = command_line(folder, args)
        print(f"command line, {label}: {seconds:.2f} s wall = {w / seconds:,.0f} words/s; {cpu:.2f} s CPU "
              f"= {w / cpu:,.0f} words per CPU-second ({lines:,} events)")
    if tmp is not None:
        tmp.cleanup()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

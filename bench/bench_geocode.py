"""Benchmark of the geocoder: gazetteer cold build, warm load, 100,000 lookups, and locate.

Run: .venv/bin/python bench/bench_geocode.py [--lookups 100000] [--corpus DIR] [--words 150000]
The cold build uses a fresh temporary cache; the warm load reads the index that build wrote.
Lookups cycle through the gold spellings (tests/gold/geocode.csv) with their contexts, plus
misspellings made by dropping or doubling a letter, so they exercise the near-miss path too.
``locate`` runs on the statements extracted from a report corpus (bench/corpus.py makes one of
``--words`` words unless ``--corpus`` names a folder): once on a freshly loaded gazetteer (every
phrase and name new, as in a fresh process) and once more with its per-name memos warm; CPU
seconds (the machine is shared: wall seconds stretch with the load, CPU seconds much less).
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import tempfile
import time
from pathlib import Path

from geo_control.settings import data_dir

GOLD = Path(__file__).resolve().parent.parent / "tests" / "gold" / "geocode.csv"


def queries(n: int, seed: int = 3) -> list[tuple[str, tuple[str, ...]]]:
    rng = random.Random(seed)
    base: list[tuple[str, tuple[str, ...]]] = []
    if GOLD.exists():
        with GOLD.open(encoding="utf-8") as fh:
            for rec in csv.DictReader(fh):
                ctx = rec.get("context") or ""
                base.append((rec["query"], (ctx,) if ctx and not ctx.startswith("near=") else ()))
    if not base:
        base = [("Deir Ezzor", ()), ("al-Bukamal", ()), ("Bahrah", ("Hajin pocket",))]
    out = []
    for i in range(n):
        name, ctx = base[i % len(base)]
        if i % 3 == 1 and len(name) > 4:  # a misspelling: drop or double one letter
            j = rng.randrange(1, len(name) - 1)
            name = name[:j] + name[j + 1:] if rng.random() < 0.5 else name[:j] + name[j] + name[j:]
        out.append((name, ctx))
    return out


def bench_locate(gaz, corpus: Path | None, words: int) -> None:
    """locate over a corpus's statements: CPU seconds and words per CPU-second, cold and warm."""
    import sys

    from geo_control.extract import extract
    from geo_control.factions import FactionRegistry
    from geo_control.geocode import Gazetteer, locate
    from geo_control.ingest import read_reports

    tmp = None
    if corpus is None or not any(corpus.glob("*.txt")):
        if corpus is None:
            tmp = tempfile.TemporaryDirectory(prefix="geo-control-bench-")
            corpus = Path(tmp.name) / "corpus"
        corpus.mkdir(parents=True, exist_ok=True)
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from bench_extract import make_corpus

        make_corpus(words, corpus)
    docs = read_reports([corpus])
    factions = FactionRegistry.default()
    statements = [extract(d, factions) for d in docs]
    n_words = sum(len(d.text.split()) for d in docs)
    n_statements = sum(map(len, statements))
    gaz = Gazetteer.load(data_dir())  # fresh object: no memos from the lookups above
    for label in ("first pass, every name new", "second pass, memos warm"):
        c0, t0 = time.process_time(), time.perf_counter()
        events = sum(len(locate(sts, gaz, doc_text=d.text)[0]) for d, sts in zip(docs, statements, strict=True))
        cpu, wall = time.process_time() - c0, time.perf_counter() - t0
        print(f"locate, {label}: {len(docs)} reports, {n_words:,} words, {n_statements:,} statements -> "
              f"{events:,} events: {cpu:.2f} s CPU ({n_words / cpu:,.0f} words per CPU-second), {wall:.2f} s wall")
    if tmp is not None:
        tmp.cleanup()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lookups", type=int, default=100_000)
    ap.add_argument("--corpus", type=Path, help="report folder for the locate figures (made if missing)")
    ap.add_argument("--words", type=int, default=150_000, help="size of the generated corpus")
    ap.add_argument("--no-locate", action="store_true", help="skip the locate figures")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as cache:
        os.environ["GEO_CONTROL_CACHE"] = cache
        t0 = time.perf_counter()
        from geo_control.geocode import Gazetteer

        t_import = time.perf_counter() - t0
        t0 = time.perf_counter()
        Gazetteer.load(data_dir())
        cold = time.perf_counter() - t0
        warm_times = []
        for _ in range(3):
            t0 = time.perf_counter()
            gaz = Gazetteer.load(data_dir())
            warm_times.append(time.perf_counter() - t0)
        warm = min(warm_times)
        print(f"gazetteer: {len(gaz)} places, {len(gaz.index)} name keys")
        print(f"import geo_control.geocode: {t_import:.2f} s")
        print(f"cold build (no cache): {cold:.2f} s")
        print(f"warm load (cached index): {warm:.3f} s (best of 3)")

        qs = queries(args.lookups)
        t0, c0 = time.perf_counter(), time.process_time()
        found = 0
        for name, ctx in qs:
            if gaz.lookup(name, context=ctx):
                found += 1
        dt_, cpu = time.perf_counter() - t0, time.process_time() - c0
        print(f"{len(qs):,} lookups (1/3 misspelt, contexts as in the gold): {dt_:.1f} s wall, {cpu:.1f} s CPU, "
              f"{len(qs) / cpu:,.0f} lookups per CPU-second, {found / len(qs):.1%} found something")

        plain = [(n, ()) for n, _ in qs]
        t0, c0 = time.perf_counter(), time.process_time()
        for name, _ in plain:
            gaz.lookup(name)
        dt_, cpu = time.perf_counter() - t0, time.process_time() - c0
        print(f"{len(plain):,} lookups without context: {dt_:.1f} s wall, {cpu:.1f} s CPU, "
              f"{len(plain) / cpu:,.0f} lookups per CPU-second")

        # every name new to the gazetteer object: the per-name memos cleared each time
        n_cold = min(len(qs), 20_000)
        t0, c0 = time.perf_counter(), time.process_time()
        for name, ctx in qs[:n_cold]:
            for memo in ("_raw_memo", "_prep_memo"):
                gaz.__dict__.pop(memo, None)
            gaz.lookup(name, context=ctx)
        dt_, cpu = time.perf_counter() - t0, time.process_time() - c0
        print(f"{n_cold:,} lookups of names never seen before: {dt_:.1f} s wall, {cpu:.1f} s CPU, "
              f"{n_cold / cpu:,.0f} lookups per CPU-second")
        if not args.no_locate:
            bench_locate(gaz, args.corpus, args.words)


if __name__ == "__main__":
    main()

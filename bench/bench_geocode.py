"""Benchmark of the geocoder: gazetteer cold build, warm load, and 100,000 lookups.

Run: .venv/bin/python bench/bench_geocode.py [--lookups 100000]
The cold build uses a fresh temporary cache; the warm load reads the index that build wrote.
Lookups cycle through the gold spellings (tests/gold/geocode.csv) with their contexts, plus
misspellings made by dropping or doubling a letter, so they exercise the near-miss path too.
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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lookups", type=int, default=100_000)
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
        t0 = time.perf_counter()
        found = 0
        for name, ctx in qs:
            if gaz.lookup(name, context=ctx):
                found += 1
        dt_ = time.perf_counter() - t0
        print(f"{len(qs):,} lookups (1/3 misspelt, contexts as in the gold): {dt_:.1f} s, "
              f"{len(qs) / dt_:,.0f} lookups/s, {found / len(qs):.1%} found something")

        plain = [(n, ()) for n, _ in qs]
        t0 = time.perf_counter()
        for name, _ in plain:
            gaz.lookup(name)
        dt_ = time.perf_counter() - t0
        print(f"{len(plain):,} lookups without context: {dt_:.1f} s, {len(plain) / dt_:,.0f} lookups/s")

        # every name new to the gazetteer object: the name-matching memo cleared each time
        n_cold = min(len(qs), 20_000)
        t0 = time.perf_counter()
        for name, ctx in qs[:n_cold]:
            gaz.__dict__.pop("_raw_memo", None)
            gaz.lookup(name, context=ctx)
        dt_ = time.perf_counter() - t0
        print(f"{n_cold:,} lookups of names never seen before: {dt_:.1f} s, {n_cold / dt_:,.0f} lookups/s")


if __name__ == "__main__":
    main()

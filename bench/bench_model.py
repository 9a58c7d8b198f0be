"""Benchmark of the control model: 3,000 events over 104 weekly steps across Syria.

Run: .venv/bin/python bench/bench_model.py [--events 3000] [--weeks 104]
Prints the time of a first build in the process (settlement cells read from the disk cache,
or built if there is none: set GEO_CONTROL_CACHE to an empty folder to time that) and of a
second one (cells already in memory).
The events are synthetic but shaped like reporting: factions hold regions, fronts move, and
each week brings captures, holds, sieges, contests, withdrawals, advances and attacks at
real settlements.
"""

from __future__ import annotations

import argparse
import datetime as dt
import time

import numpy as np
import pandas as pd

from geo_control.basemap import load_basemap, load_settlements
from geo_control.factions import FactionRegistry
from geo_control.records import EVENT_COLUMNS
from geo_control.settings import Settings, data_dir

#: (faction, lon, lat) of each faction's centre of gravity.
CENTRES = [("government", 36.6, 34.0), ("isis", 40.2, 34.8), ("sdf", 40.5, 36.5), ("opposition", 36.5, 35.8),
           ("hts", 36.7, 35.9), ("turkey", 37.5, 36.5)]
ACTIONS = ["capture"] * 5 + ["hold"] * 3 + ["advance"] * 2 + ["siege", "contest", "withdraw"] + ["attack"] * 3


def synthetic_events(n: int, weeks: int, seed: int = 7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    s = load_settlements(data_dir())
    lon, lat = s.geometry.x.to_numpy(), s.geometry.y.to_numpy()
    names = s["name"].astype(str).to_numpy()
    ids = s["wof_id"].astype(str).to_numpy()
    centres = np.array([(c[1], c[2]) for c in CENTRES])
    start = dt.date(2017, 1, 2)
    rows = []
    for i in range(n):
        k = int(rng.integers(len(s)))
        week = int(rng.integers(weeks))
        # The nearest centre holds a place, but fronts move: a drift that shifts over time.
        d = np.hypot(centres[:, 0] - lon[k], centres[:, 1] - lat[k]) + rng.normal(0, 0.6, len(centres))
        d += np.sin(week / 15.0 + np.arange(len(centres))) * 0.4
        fac = CENTRES[int(np.argmin(d))][0]
        action = ACTIONS[int(rng.integers(len(ACTIONS)))]
        day = start + dt.timedelta(days=7 * week + int(rng.integers(7)))
        row = {c: "" for c in EVENT_COLUMNS}
        row.update(id=f"ev-{i:06d}", doc=f"report-{week:03d}-{i % 5}.txt", doc_date=day.isoformat(),
                   date=day.isoformat(), date_precision="day", actor=fac, faction=fac, action=action,
                   place=names[k], place_id=ids[k], place_name=names[k], lat=lat[k], lon=lon[k], precision=1,
                   uncertainty_km=1.0, modality="claimed" if rng.random() < 0.2 else "asserted",
                   confidence=round(float(rng.uniform(0.5, 0.95)), 2), sentence=f"{fac} {action} {names[k]}",
                   start=i, end=i + 10)
        if action == "advance":
            row.update(distance_km=round(float(rng.uniform(3, 20)), 1), bearing_deg=float(rng.integers(0, 360)),
                       from_place="somewhere", precision=2)
        rows.append(row)
    return pd.DataFrame(rows, columns=list(EVENT_COLUMNS))


def main() -> None:
    from geo_control.model import build
    from geo_control.model import cells as cells_mod

    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=3000)
    ap.add_argument("--weeks", type=int, default=104)
    args = ap.parse_args()
    events = synthetic_events(args.events, args.weeks)
    basemap = load_basemap(data_dir())
    settings, factions = Settings(), FactionRegistry.default()
    cells_mod._CACHE.clear()
    t0, c0 = time.perf_counter(), time.process_time()
    layers = build(events, basemap, settings, factions)
    cold, cold_cpu = time.perf_counter() - t0, time.process_time() - c0
    t0, c0 = time.perf_counter(), time.process_time()
    layers = build(events, basemap, settings, factions)
    warm, warm_cpu = time.perf_counter() - t0, time.process_time() - c0
    # CPU time is what the build costs; wall time also counts waiting for a busy machine.
    print(f"{len(events)} events, {len(layers.steps)} steps: cold {cold:.2f} s wall / {cold_cpu:.2f} s CPU "
          f"(cells from disk cache or built), warm {warm:.2f} s wall / {warm_cpu:.2f} s CPU (cells in memory)")
    print(f"control {len(layers.control)}, places {len(layers.places)}, frontlines {len(layers.frontlines)}, "
          f"advances {len(layers.advances)}, changes {len(layers.changes)}")


if __name__ == "__main__":
    main()

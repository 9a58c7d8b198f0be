"""Incremental runs (issue #8): re-running after adding this week's report reuses the earlier
reports' events, the model's unchanged weeks and the unchanged weekly maps, and writes the same
files as a cold run on every report with nothing cached."""

from __future__ import annotations

import csv
import logging
import shutil
from pathlib import Path

import pandas as pd
import pytest

from geo_control.pipeline import run

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
NEW = "002_6acae6d732d29d9a.txt"   # the newest seed report (November 2018): "this week's"


def _folder(dest: Path, names: list[str]) -> Path:
    dest.mkdir(parents=True)
    with open(SEEDS / "manifest.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    with open(dest / "manifest.csv", "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(r for r in rows if r["file"] in names)
    for name in names:
        shutil.copy(SEEDS / name, dest / name)
    return dest


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("incremental")
    earlier = sorted(p.name for p in SEEDS.glob("*.txt") if p.name != NEW)
    before = _folder(root / "reports", earlier)
    week = _folder(root / "this_week", [NEW])
    mp = pytest.MonkeyPatch()
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record):
            records.append(record)

    handler = Keep(level=logging.INFO)
    logger = logging.getLogger("geo_control")
    old_level = logger.level
    logger.setLevel(logging.INFO)
    logger.addHandler(handler)
    try:
        mp.setenv("GEO_CONTROL_CACHE", str(root / "cache"))
        run([before], root / "out-last-week")
        records.clear()
        run([before, week], root / "out-incremental")
        incremental_log = [r.getMessage() for r in records]
        mp.setenv("GEO_CONTROL_CACHE", str(root / "cold-cache"))
        run([before, week], root / "out-cold", cache=False)
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)
        mp.undo()
    return {"incremental": root / "out-incremental", "cold": root / "out-cold", "log": incremental_log}


def test_incremental_run_reuses_reports_and_weeks(runs):
    # (Maps are not reused here: the November 2018 report raises the series' fighting-density
    # maximum, which every week's heat colours are scaled to. tests/test_render*.py cover reuse.)
    log = "\n".join(runs["log"])
    assert "cache: 4 documents reused, 1 extracted" in log
    reused_steps = [m for m in runs["log"] if "steps reused from the last run" in m]
    assert reused_steps and not reused_steps[-1].startswith("model: 0 of")


@pytest.mark.parametrize("name", ["events.csv", "events.geojson", "unresolved.csv", "stats.csv", "map.html",
                                  "control.gif"])
def test_incremental_files_equal_a_cold_run(runs, name):
    assert (runs["incremental"] / name).read_bytes() == (runs["cold"] / name).read_bytes(), name


def test_incremental_weekly_maps_and_heatmaps_equal_a_cold_run(runs):
    for folder in ("maps", "heatmaps"):
        names = sorted(p.name for p in (runs["cold"] / folder).iterdir())
        assert names and names == sorted(p.name for p in (runs["incremental"] / folder).iterdir())
        for name in names:
            assert (runs["incremental"] / folder / name).read_bytes() == (runs["cold"] / folder / name).read_bytes(), \
                f"{folder}/{name}"


def test_incremental_geopackage_equals_a_cold_run(runs):
    import pyogrio

    a, b = runs["incremental"] / "control.gpkg", runs["cold"] / "control.gpkg"
    for layer in ("places", "events", "control", "frontlines", "advances", "changes"):
        fa, fb = pyogrio.read_dataframe(a, layer=layer), pyogrio.read_dataframe(b, layer=layer)
        pd.testing.assert_frame_equal(pd.DataFrame(fa.drop(columns="geometry")),
                                      pd.DataFrame(fb.drop(columns="geometry")), obj=layer)
        assert list(fa.geometry.to_wkb()) == list(fb.geometry.to_wkb()), layer

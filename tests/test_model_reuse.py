"""Reuse of unchanged steps across runs (geo_control.model.reuse): same layers as a cold build."""

from __future__ import annotations

import logging
import pickle

import pandas as pd
import pytest

from geo_control.crs import destination
from geo_control.model import build
from geo_control.records import EVENT_COLUMNS, Layers
from geo_control.settings import Settings

MAYADIN = (35.0188, 40.4526)
ABU_KAMAL = (34.4525, 40.9187)
DEIR = (35.3359, 40.1408)
QURIYAH = (34.9725, 40.5242)
SUKHNAH = (34.8867, 38.8733)
RAQQA = (35.9594, 39.0079)


@pytest.fixture(autouse=True)
def own_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("GEO_CONTROL_CACHE", str(tmp_path / "cache"))


def ev(i: int, date: str, faction: str, action: str, place: str, latlon, **kw) -> dict:
    row = {c: "" for c in EVENT_COLUMNS}
    row.update(id=f"ev-{i:04d}", doc=f"report-{date}.txt", doc_date=date, date=date, date_precision="day",
               actor=faction, faction=faction, action=action, place=place, place_id=kw.pop("place_id", place),
               place_name=place, lat=latlon[0], lon=latlon[1], precision=1, uncertainty_km=1.0,
               modality=kw.pop("modality", "asserted"), confidence=0.9,
               sentence=kw.pop("sentence", f"{faction} {action} {place}"), start=i * 10, end=i * 10 + 5)
    row.update(kw)
    return row


def campaign() -> list[dict]:
    """Eight weeks on the Euphrates: captures, a partial capture, a siege, an advance, a claim."""
    t2 = destination(MAYADIN[1], MAYADIN[0], 225, 18)
    return [
        ev(1, "2017-09-04", "isis", "hold", "Mayadin", MAYADIN),
        ev(2, "2017-09-05", "government", "hold", "Deir ez-Zor", DEIR),
        ev(3, "2017-09-12", "isis", "besiege", "Deir ez-Zor", DEIR),
        ev(4, "2017-09-20", "isis", "hold", "Abu Kamal", ABU_KAMAL),
        ev(5, "2017-10-03", "government", "capture", "Mayadin", MAYADIN,
           sentence="Government forces captured the southern part of Mayadin."),
        ev(6, "2017-10-10", "government", "capture", "Sukhnah", SUKHNAH),
        ev(7, "2017-10-17", "government", "advance", "T2 pumping station", (t2[1], t2[0]), place_id="",
           from_place="Mayadin", distance_km=18, bearing_deg=225, precision=2, target="T2 pumping station"),
        ev(8, "2017-10-24", "sdf", "capture", "Al Quriyah", QURIYAH, modality="claimed"),
    ]


def frame(rows) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=list(EVENT_COLUMNS))


def assert_same(a: Layers, b: Layers) -> None:
    assert [s.label for s in a.steps] == [s.label for s in b.steps]
    for name in ("places", "events", "control", "frontlines", "advances", "changes"):
        left, right = getattr(a, name), getattr(b, name)
        pd.testing.assert_frame_equal(left.drop(columns="geometry"), right.drop(columns="geometry"), obj=name)
        assert all((x is None and y is None) or x.equals_exact(y, 0)
                   for x, y in zip(left.geometry, right.geometry, strict=True)), name
    pd.testing.assert_frame_equal(a.stats, b.stats)


def reused(caplog) -> int:
    lines = [r.getMessage() for r in caplog.records if "steps reused" in r.getMessage()]
    return int(lines[-1].split()[1])


def test_rerun_with_this_weeks_reports_reuses_the_earlier_weeks(basemap, factions, caplog):
    caplog.set_level(logging.INFO, logger="geo_control.model.build")
    first = campaign()
    build(frame(first), basemap, Settings(), factions, reuse=True)
    assert reused(caplog) == 0
    added = first + [ev(9, "2017-10-31", "isis", "capture", "Mayadin", MAYADIN)]
    warm = build(frame(added), basemap, Settings(), factions, reuse=True)
    n_steps = len(warm.steps)
    # Every week before the new report is copied; the new week is built.
    assert reused(caplog) == n_steps - 1
    assert_same(warm, build(frame(added), basemap, Settings(), factions))
    # Nothing new: every step is copied, and the layers still equal a cold build.
    again = build(frame(added), basemap, Settings(), factions, reuse=True)
    assert reused(caplog) == n_steps
    assert_same(again, warm)


def test_an_older_report_rebuilds_from_its_week_on(basemap, factions, caplog):
    caplog.set_level(logging.INFO, logger="geo_control.model.build")
    build(frame(campaign()), basemap, Settings(), factions, reuse=True)
    # A late report about the second week changes that week and every later one.
    late = campaign() + [ev(9, "2017-09-13", "sdf", "capture", "Raqqa", RAQQA)]
    warm = build(frame(late), basemap, Settings(), factions, reuse=True)
    assert reused(caplog) == 1
    assert_same(warm, build(frame(late), basemap, Settings(), factions))


def test_other_settings_build_afresh(basemap, factions, caplog):
    caplog.set_level(logging.INFO, logger="geo_control.model.build")
    build(frame(campaign()), basemap, Settings(), factions, reuse=True)
    other = build(frame(campaign()), basemap, Settings(half_life_days=10), factions, reuse=True)
    assert reused(caplog) == 0
    assert_same(other, build(frame(campaign()), basemap, Settings(half_life_days=10), factions))


def test_a_damaged_store_is_ignored(basemap, factions, caplog, tmp_path):
    caplog.set_level(logging.INFO, logger="geo_control.model.build")
    cold = build(frame(campaign()), basemap, Settings(), factions, reuse=True)
    stores = list((tmp_path / "cache" / "model").glob("steps-*.pickle"))
    assert len(stores) == 1
    stores[0].write_bytes(pickle.dumps({"version": "1"})[:10])
    warm = build(frame(campaign()), basemap, Settings(), factions, reuse=True)
    assert reused(caplog) == 0
    assert_same(warm, cold)


def test_steps_built_on_worker_processes_are_the_same(basemap, factions, monkeypatch):
    import sys

    build_module = sys.modules["geo_control.model.build"]  # the module (the package exports the function)
    rows = campaign() + [ev(9, "2017-10-31", "isis", "capture", "Mayadin", MAYADIN)]
    single = build(frame(rows), basemap, Settings(), factions)
    monkeypatch.setattr(build_module._StepJob, "CHUNK", 2)  # several chunks for two workers
    assert_same(build(frame(rows), basemap, Settings(), factions, workers=2), single)


def test_advance_corridors_come_from_the_last_run(basemap, factions, monkeypatch):
    import geo_control.model.cells as cells_module

    first = build(frame(campaign()), basemap, Settings(), factions, reuse=True)
    assert len(first.advances) == 1
    calls = []
    real = cells_module.corridor_cells

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(cells_module, "corridor_cells", counting)
    warm = build(frame(campaign()), basemap, Settings(), factions, reuse=True)
    assert calls == []  # the advance's path was in the memo kept with the step store
    monkeypatch.setattr(cells_module, "corridor_cells", real)
    assert_same(warm, build(frame(campaign()), basemap, Settings(), factions))

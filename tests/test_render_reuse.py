"""Reuse of weekly maps across runs (render.mapcache): same files as a fresh draw, right invalidation."""

from __future__ import annotations

import dataclasses
import logging
import os
import pickle

import numpy as np
import pytest
from render_synthetic import synthetic_layers

import geo_control.render as render
from geo_control.factions import FactionRegistry
from geo_control.render import heatmap, mapcache, render_maps, static
from geo_control.render.context import build_context
from geo_control.settings import Settings

SETTINGS = Settings(map_width_px=700, gif_width_px=350)


@pytest.fixture(scope="module")
def layers(basemap):
    return synthetic_layers(basemap, 3)


def _context(layers, basemap, settings=SETTINGS):
    ctx = build_context(layers, basemap, settings, FactionRegistry.default())
    heatmap.compute(ctx, settings, basemap.country)
    return ctx


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """A private map cache, maps drawn in this process, and a count of the step maps drawn."""
    monkeypatch.setenv("GEO_CONTROL_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(render, "WORKERS", 1)
    drawn: list[int] = []
    real = static.draw_step

    def counting(ctx, index, settings, legend="step"):
        if legend == "step":
            drawn.append(index)
        return real(ctx, index, settings, legend=legend)

    monkeypatch.setattr(static, "draw_step", counting)
    return drawn


def _run(ctx, out, reuse=True, formats=(), settings=SETTINGS):
    paths, frames = render_maps(ctx, settings, out, lambda *a: None, formats, reuse=reuse)
    files = {p.name: p.read_bytes() for p in sorted((out / "maps").iterdir())}
    return files, frames


def _same(a, b):
    files_a, frames_a = a
    files_b, frames_b = b
    assert files_a == files_b
    assert len(frames_a) == len(frames_b)
    for fa, fb in zip(frames_a, frames_b, strict=True):
        assert fa.shape == fb.shape and np.array_equal(fa, fb)


def test_reused_maps_and_frames_are_identical_to_a_fresh_draw(layers, basemap, cache, tmp_path):
    ctx = _context(layers, basemap)
    fresh = _run(ctx, tmp_path / "fresh", reuse=False, formats=("svg",))
    assert cache == [0, 1, 2]
    assert not (tmp_path / "cache" / "maps").exists()  # reuse off: the cache is not touched
    cold = _run(ctx, tmp_path / "cold", formats=("svg",))
    assert cache[3:] == [0, 1, 2]
    warm = _run(_context(layers, basemap), tmp_path / "warm", formats=("svg",))
    assert cache[6:] == []  # nothing drawn: every map and its GIF frame came from the cache
    _same(fresh, cold)
    _same(fresh, warm)  # GIF frames rebuilt from the cached PNGs: pixel-identical


def test_a_changed_row_redraws_only_its_step(layers, basemap, cache, tmp_path):
    _run(_context(layers, basemap), tmp_path / "a")
    del cache[:]
    changed = dataclasses.replace(layers, places=layers.places.copy())
    last = changed.places.index[changed.places["step"] == layers.steps[-1].label][0]
    changed.places.loc[last, "place_name"] = "Somewhere Else"
    ctx = _context(changed, basemap)
    files, frames = _run(ctx, tmp_path / "b")
    assert cache == [2]
    del cache[:]
    _same((files, frames), _run(ctx, tmp_path / "c", reuse=False))


@pytest.mark.parametrize("change", ["settings", "colours", "heat"])
def test_series_wide_changes_redraw_every_map(layers, basemap, cache, tmp_path, change):
    ctx = _context(layers, basemap)
    _run(ctx, tmp_path / "a")
    del cache[:]
    settings = SETTINGS
    ctx = _context(layers, basemap)
    if change == "settings":
        settings = dataclasses.replace(SETTINGS, map_width_px=720)
        ctx = _context(layers, basemap, settings)
    elif change == "colours":
        ctx.colours = {**ctx.colours, "government": "#123456"}
    else:
        ctx.heat_max *= 2  # the heat normalisation of the series
    _run(ctx, tmp_path / "b", settings=settings)
    assert cache == [0, 1, 2]


def test_damaged_entries_are_ignored_and_redrawn(layers, basemap, cache, tmp_path):
    ctx = _context(layers, basemap)
    first = _run(ctx, tmp_path / "a")
    entries = sorted((tmp_path / "cache" / "maps").glob("??/*.pkl"))
    keys = mapcache.step_keys(ctx, mapcache.global_key(ctx, SETTINGS))
    by_key = {p.stem: p for p in entries}
    # One entry truncated, one with a flipped byte in its PNG (digest mismatch).
    by_key[keys[0]].write_bytes(by_key[keys[0]].read_bytes()[:100])
    entry = pickle.loads(by_key[keys[1]].read_bytes())
    png = bytearray(entry["files"]["png"])
    png[len(png) // 2] ^= 0xFF
    entry["files"]["png"] = bytes(png)
    by_key[keys[1]].write_bytes(pickle.dumps(entry))
    del cache[:]
    again = _run(ctx, tmp_path / "b")
    assert cache == [0, 1]
    _same(first, again)


def test_trim_keeps_the_entries_of_recent_runs(tmp_path):
    store = mapcache.MapStore(tmp_path)
    store.put("aa" + "0" * 38, {"png": b"old"})
    store.put("bb" + "0" * 38, {"png": b"new"})
    old = tmp_path / "aa" / ("aa" + "0" * 38 + ".pkl")
    os.utime(old, (store.started - 3600, store.started - 3600))
    for i in range(mapcache.KEEP_RUNS):
        later = mapcache.MapStore(tmp_path)
        later.started = store.started + i
        assert later.get("bb" + "0" * 38, ("png",)) == {"png": b"new"}  # used by every run
        later.trim()
    assert not old.exists()
    assert (tmp_path / "bb" / ("bb" + "0" * 38 + ".pkl")).exists()


def test_maps_drawn_on_a_dask_cluster_are_the_same_files(layers, basemap, cache, tmp_path, caplog):
    pytest.importorskip("distributed")
    from distributed import Client, LocalCluster

    ctx = _context(layers, basemap)
    local = _run(ctx, tmp_path / "local", reuse=False, formats=("svg",))
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
            Client(cluster) as client:
        paths, frames = render_maps(ctx, SETTINGS, tmp_path / "dask", lambda *a: None, ("svg",), reuse=True,
                                    client=client)
        _same(local, ({p.name: p.read_bytes() for p in sorted((tmp_path / "dask" / "maps").iterdir())}, frames))
        with caplog.at_level(logging.INFO, logger="geo_control.render"):
            again = render_maps(ctx, SETTINGS, tmp_path / "again", lambda *a: None, ("svg",), reuse=True,
                                client=client)
    assert "3 reused, 0 drawn" in caplog.text  # the cluster's maps went into the cache
    _same(local, ({p.name: p.read_bytes() for p in sorted((tmp_path / "again" / "maps").iterdir())}, again[1]))


def test_a_place_span_extended_by_a_week_keeps_the_earlier_weeks_keys(layers, basemap):
    # Places are spans of steps in one state: a span that now reaches one more week changes
    # that week's map only.
    def spanning(last: int):
        places = layers.places.iloc[[0]].copy()
        places["valid_to"] = layers.places["valid_to"].iloc[last]
        return dataclasses.replace(layers, places=places)

    short, long = _context(spanning(1), basemap), _context(spanning(2), basemap)
    assert [len(short.places.iloc[static.step_index(short)["places"].get(s.label, [])]) for s in short.steps] == [1, 1, 0]
    a = mapcache.step_keys(short, mapcache.global_key(short, SETTINGS))
    b = mapcache.step_keys(long, mapcache.global_key(long, SETTINGS))
    assert a[:2] == b[:2] and a[2] != b[2]


def test_no_cluster_is_started_when_every_map_is_reused(layers, basemap, cache, tmp_path, monkeypatch):
    import geo_control.parallel

    ctx = _context(layers, basemap)
    first = _run(ctx, tmp_path / "a")

    def refuse(scheduler):
        raise AssertionError("connected to a cluster although every map was in the cache")

    monkeypatch.setattr(geo_control.parallel, "connect", refuse)
    paths, frames = render_maps(ctx, SETTINGS, tmp_path / "b", lambda *a: None, reuse=True, scheduler="local")
    _same(first, ({p.name: p.read_bytes() for p in sorted((tmp_path / "b" / "maps").iterdir())}, frames))


def test_row_hashes_ignore_how_times_and_text_are_stored(layers):
    events = layers.events.copy()
    other = events.copy()
    other["valid_from"] = other["valid_from"].astype("datetime64[ms, UTC]")
    other["doc"] = other["doc"].astype(object)
    assert np.array_equal(mapcache.row_hashes(events), mapcache.row_hashes(other))
    assert mapcache._columns(events) == mapcache._columns(other)
    other.loc[other.index[0], "doc"] = "another.txt"
    assert not np.array_equal(mapcache.row_hashes(events), mapcache.row_hashes(other))


def test_heat_scale_top_is_the_peak_rounded_up_to_a_power_of_root_two():
    assert heatmap.scale_top(0.0) == 0.0
    assert heatmap.scale_top(float("nan")) == 0.0
    for peak in (1e-4, 0.013, 0.7, 1.0, 1.3, 2.0, 37.5, 1e5):
        top = heatmap.scale_top(peak)
        assert peak <= top < peak * np.sqrt(2) * (1 + 1e-9)
        k = np.log(top) / np.log(np.sqrt(2))
        assert abs(k - round(k)) < 1e-9
    assert heatmap.scale_top(1.0) == 1.0 and heatmap.scale_top(2.0) == pytest.approx(2.0)


def test_a_busier_week_within_the_scale_step_keeps_the_other_maps(layers, basemap, cache, tmp_path):
    """The maps' heat is scaled to ``scale_top(peak)``: a new peak under the next step keeps it."""
    ctx = _context(layers, basemap)
    top = ctx.heat_max
    _run(ctx, tmp_path / "a")
    del cache[:]
    ctx = _context(layers, basemap)
    last = ctx.steps[-1].label
    grid = ctx.heat[last]
    inside = grid != heatmap.NODATA
    # The last week gets busier: its peak rises to just under the current top of the scale.
    peak = float(max(g[g != heatmap.NODATA].max() for g in ctx.heat.values()))
    before = float(grid[inside].max())
    assert before > 0  # the synthetic last week has fighting
    grid[inside] = grid[inside] * np.float32(top * 0.999 / before)
    assert float(grid[inside].max()) > before
    assert heatmap.scale_top(max(peak, float(grid[inside].max()))) == top
    _run(ctx, tmp_path / "b")
    assert cache == [2]  # only the changed week is redrawn

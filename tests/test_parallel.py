"""Dask is optional and changes nothing: same tables as one process; never imported unasked."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from geo_control.factions import FactionRegistry
from geo_control.ingest import iter_reports
from geo_control.parallel import SchedulerError, connect
from geo_control.pipeline import extract_events
from geo_control.settings import data_dir

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """The seeds plus 24 generated reports (bench/corpus.py), as Documents."""
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        import corpus as gen
    finally:
        sys.path.pop(0)
    folder = gen.generate(tmp_path_factory.mktemp("corpus"), 24, seed=3)
    _, docs = iter_reports([SEEDS, folder])
    return list(docs)


@pytest.fixture(scope="module")
def resources():
    from geo_control.geocode import Gazetteer

    return FactionRegistry.load(data_dir()), Gazetteer.load(data_dir())


def test_iter_reports_reads_what_read_reports_reads():
    from geo_control.ingest import read_reports

    total, docs = iter_reports([SEEDS])
    assert total == 5
    assert list(docs) == read_reports([SEEDS])


def test_no_dask_import_without_a_scheduler(tmp_path):
    """The plain path (CLI module, pipeline, extraction of the seeds) never imports dask."""
    code = f"""
import json, sys
import geo_control.cli.run, geo_control.parallel, geo_control.pipeline as p
from geo_control.factions import FactionRegistry
from geo_control.geocode import Gazetteer
from geo_control.settings import data_dir
from geo_control.ingest import iter_reports
_, docs = iter_reports([{str(SEEDS)!r}])
events, _ = p.extract_events(docs, FactionRegistry.load(data_dir()), Gazetteer.load(data_dir()))
print(json.dumps([len(events), sorted(m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed'))]))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**__import__("os").environ, "GEO_CONTROL_CACHE": str(tmp_path)})
    n_events, dask_modules = json.loads(out.stdout.strip().splitlines()[-1])
    assert n_events > 0
    assert dask_modules == []


@pytest.mark.parametrize("bad", ["remote", "http://host:8786", "localhost:8786"])
def test_bad_scheduler_names_the_fix(bad):
    with pytest.raises(SchedulerError, match="'local' or the address"):
        connect(bad)


def test_local_cluster_gives_the_single_process_tables(corpus, resources, monkeypatch):
    pytest.importorskip("distributed", reason="dask[distributed] not installed (pip install -e .[dask])")
    # Small batches: many tasks finishing out of order on two workers.
    monkeypatch.setattr("geo_control.parallel.BATCH_SIZE", 3)
    from distributed import Client, LocalCluster

    factions, gazetteer = resources
    single = extract_events(corpus, factions, gazetteer)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
            Client(cluster) as client:
        spread = extract_events(iter(corpus), factions, gazetteer, client=client, total=len(corpus))
    assert len(single[0]) > 0
    for a, b in zip(single, spread, strict=True):
        pd.testing.assert_frame_equal(a, b)


def test_forked_processes_give_the_single_process_tables(corpus, resources, monkeypatch):
    # Small batches: several rounds of documents through the two processes.
    monkeypatch.setattr("geo_control.pipeline.FORK_BATCH", 5)
    factions, gazetteer = resources
    single = extract_events(corpus, factions, gazetteer)
    forked = extract_events(iter(corpus), factions, gazetteer, total=len(corpus), jobs=2)
    assert len(single[0]) > 0
    for a, b in zip(single, forked, strict=True):
        pd.testing.assert_frame_equal(a, b)


def test_cli_bad_scheduler_is_one_line(tmp_path):
    out = subprocess.run([sys.executable, "-m", "geo_control", "-q", "run", str(SEEDS), "--out",
                          str(tmp_path / "o"), "--scheduler", "remote", "--no-progress"],
                         capture_output=True, text=True,
                         env={**__import__("os").environ, "GEO_CONTROL_CACHE": str(tmp_path / "cache")})
    assert out.returncode == 2
    assert "Traceback" not in out.stderr
    assert "--scheduler 'remote'" in out.stderr and "tcp://" in out.stderr
    assert not (tmp_path / "o").exists(), "a bad --scheduler must fail before any output"

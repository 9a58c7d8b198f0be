"""The geocoder against the hand-made gold table: >= 95% of spellings placed within 5 km."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from geo_control.evaluate.geocode import evaluate, read_gold
from geo_control.geocode import Gazetteer
from geo_control.settings import data_dir

GOLD = Path(__file__).parent / "gold" / "geocode.csv"


@pytest.mark.skipif(not GOLD.exists(), reason="tests/gold/geocode.csv not written yet")
def test_gold_share_within_5km(tmp_path_factory):
    old = os.environ.get("GEO_CONTROL_CACHE")
    os.environ["GEO_CONTROL_CACHE"] = str(tmp_path_factory.mktemp("gazetteer-cache-gold"))
    try:
        gaz = Gazetteer.load(data_dir())
    finally:
        if old is None:
            os.environ.pop("GEO_CONTROL_CACHE", None)
        else:
            os.environ["GEO_CONTROL_CACHE"] = old
    rows = read_gold(GOLD)
    assert len(rows) >= 300
    score = evaluate(rows, gaz)
    failures = "\n".join(f"{r['query']} [{r['context']}] -> {r['name']} {r['error_km']} km"
                         for r in score.failures(5.0)[:40])
    assert score.within[5.0] >= 0.95, failures

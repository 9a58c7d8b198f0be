"""The incremental cache: keys, atomic entries, corrupt entries, and identical outputs."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import logging
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from geo_control import cache as cache_mod
from geo_control.cache import DocumentCache, cache_root, factions_digest, gazetteer_digest
from geo_control.factions import Faction, FactionRegistry
from geo_control.pipeline import extract_events
from geo_control.records import EVENT_COLUMNS, UNRESOLVED_COLUMNS, Document
from geo_control.settings import data_dir


def _doc(name: str = "a.txt", text: str = "Government forces captured Mayadin on Tuesday.",
         date: dt.date = dt.date(2017, 11, 2)) -> Document:
    sha = hashlib.sha256(text.encode()).hexdigest()
    return Document(name=name, text=text, date=date, date_source="manifest", sha256=sha)


def _tables(doc: Document) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Deterministic stand-in tables of the contract's schema, with mixed dtypes and NaNs."""
    n = len(doc.text.split())
    events = pd.DataFrame({c: [f"{c}-{doc.name}-{i}" for i in range(n % 3 + 1)] for c in EVENT_COLUMNS})
    events["lat"] = [35.0 + i / 7 for i in range(len(events))]
    events["distance_km"] = np.nan
    events["start"] = list(range(len(events)))
    unresolved = pd.DataFrame({c: [f"{c}-{doc.name}"] for c in UNRESOLVED_COLUMNS})
    return events, unresolved


@pytest.fixture
def doc_cache(tmp_path):
    return DocumentCache("ctx", root=tmp_path / "docs")


def test_put_then_get_returns_equal_tables(doc_cache):
    doc = _doc()
    events, unresolved = _tables(doc)
    assert doc_cache.get(doc) is None
    doc_cache.put(doc, events, unresolved)
    got = doc_cache.get(doc)
    assert got is not None
    pd.testing.assert_frame_equal(got[0], events)
    pd.testing.assert_frame_equal(got[1], unresolved)
    assert (doc_cache.hits, doc_cache.misses) == (1, 1)
    assert not list(doc_cache.root.rglob("*.tmp")), "temporary file left behind"


@pytest.mark.parametrize("change", [
    {"text": "Government forces captured Mayadin on Wednesday."},
    {"date": dt.date(2017, 11, 3)},
    {"name": "b.txt"},
    {"sha256": "0" * 64},
])
def test_key_changes_with_the_document(change):
    doc = _doc()
    c = DocumentCache("ctx")
    assert c.key(doc) != c.key(dataclasses.replace(doc, **change))


def test_key_changes_with_the_context():
    doc = _doc()
    assert DocumentCache("ctx-a").key(doc) != DocumentCache("ctx-b").key(doc)


def test_context_follows_factions_gazetteer_and_tool(tmp_path, monkeypatch):
    base = FactionRegistry.default()
    extra = FactionRegistry({**base.factions, "militia_x": Faction("militia_x", "X", "#123456", ("X Brigade",))})
    assert factions_digest(base) == factions_digest(FactionRegistry.default())
    assert factions_digest(base) != factions_digest(extra)

    data = data_dir()
    a = DocumentCache.for_run(data, base, root=tmp_path)
    assert a.context == DocumentCache.for_run(data, base, root=tmp_path).context
    assert a.context != DocumentCache.for_run(data, extra, root=tmp_path).context

    overrides = tmp_path / "overrides.csv"
    overrides.write_text("name,lat,lon\nPoint 42,35.1,40.2\n")
    assert gazetteer_digest(data) != gazetteer_digest(data, overrides)
    assert a.context != DocumentCache.for_run(data, base, overrides, root=tmp_path).context

    cache_mod.tool_version.cache_clear()
    monkeypatch.setattr(cache_mod.geo_control, "__version__", "99.0")
    try:
        assert a.context != DocumentCache.for_run(data, base, root=tmp_path).context
    finally:
        cache_mod.tool_version.cache_clear()


@pytest.mark.parametrize("garbage", [b"", b"not a pickle", b"\x80\x05\x95truncated"])
def test_corrupt_entry_is_ignored_and_rebuilt(doc_cache, garbage, caplog):
    doc = _doc()
    events, unresolved = _tables(doc)
    doc_cache.put(doc, events, unresolved)
    path = doc_cache._path(doc_cache.key(doc))
    path.write_bytes(garbage)
    with caplog.at_level(logging.WARNING, logger="geo_control.cache"):
        assert doc_cache.get(doc) is None
    assert "unreadable" in caplog.text
    assert not path.exists()
    doc_cache.put(doc, events, unresolved)
    pd.testing.assert_frame_equal(doc_cache.get(doc)[0], events)


def test_entry_of_another_key_or_schema_is_ignored(doc_cache):
    import pickle

    doc = _doc()
    events, unresolved = _tables(doc)
    path = doc_cache._path(doc_cache.key(doc))
    path.parent.mkdir(parents=True)
    path.write_bytes(pickle.dumps({"format": cache_mod.FORMAT, "key": "other", "events": events,
                                   "unresolved": unresolved}))
    assert doc_cache.get(doc) is None
    path.write_bytes(pickle.dumps({"format": cache_mod.FORMAT, "key": doc_cache.key(doc),
                                   "events": events.drop(columns=["id"]), "unresolved": unresolved}))
    assert doc_cache.get(doc) is None


def test_unwritable_cache_only_warns(tmp_path, caplog):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    c = DocumentCache("ctx", root=blocker)
    doc = _doc()
    with caplog.at_level(logging.WARNING, logger="geo_control.cache"):
        c.put(doc, *_tables(doc))
    assert "cannot write" in caplog.text
    assert c.get(doc) is None


def test_cache_root_follows_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("GEO_CONTROL_CACHE", str(tmp_path))
    assert cache_root() == tmp_path / "docs"
    monkeypatch.delenv("GEO_CONTROL_CACHE")
    assert cache_root().parts[-3:] == (".cache", "geo_control", "docs")


def test_extract_events_reuses_cached_documents(tmp_path, monkeypatch):
    """A warm run extracts only new documents and returns the same tables as a cold one."""
    calls: list[str] = []

    def fake_extract(doc, factions, gazetteer):
        calls.append(doc.name)
        return _tables(doc)

    monkeypatch.setattr("geo_control.parallel.extract_document", fake_extract)
    docs = [_doc(f"{i}.txt", "word " * (i + 1)) for i in range(6)]
    factions = FactionRegistry.default()
    plain = extract_events(docs, factions, None)
    assert len(calls) == 6

    c = DocumentCache("ctx", root=tmp_path)
    cold = extract_events(iter(docs[:4]), factions, None, cache=c)
    calls.clear()
    warm_cache = DocumentCache("ctx", root=tmp_path)
    warm = extract_events(docs, factions, None, cache=warm_cache)
    assert calls == ["4.txt", "5.txt"]
    assert (warm_cache.hits, warm_cache.misses) == (4, 2)
    for a, b in zip(plain, warm, strict=True):
        pd.testing.assert_frame_equal(a, b)
    pd.testing.assert_frame_equal(cold[0], plain[0].iloc[: len(cold[0])])


def test_warm_cache_gives_the_cold_tables_with_the_real_stages(tmp_path):
    """Seeds through the real extract and geocode: cold, cached and uncached runs agree."""
    from geo_control.geocode import Gazetteer
    from geo_control.ingest import iter_reports

    data = data_dir()
    factions, gazetteer = FactionRegistry.load(data), Gazetteer.load(data)
    docs = list(iter_reports([Path(__file__).resolve().parent.parent / "seeds"])[1])
    plain = extract_events(docs, factions, gazetteer)
    cold_cache = DocumentCache.for_run(data, factions, root=tmp_path)
    cold = extract_events(docs, factions, gazetteer, cache=cold_cache)
    warm_cache = DocumentCache.for_run(data, factions, root=tmp_path)
    warm = extract_events(docs, factions, gazetteer, cache=warm_cache)
    assert (cold_cache.misses, warm_cache.hits, warm_cache.misses) == (5, 5, 0)
    assert len(plain[0]) > 0
    for a, b, c in zip(plain, cold, warm, strict=True):
        pd.testing.assert_frame_equal(a, b)
        pd.testing.assert_frame_equal(a, c)

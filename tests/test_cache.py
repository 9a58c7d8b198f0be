"""The incremental cache: keys, packs, corrupt and interrupted packs, and identical tables."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import logging
import pickle
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from geo_control import cache as cache_mod
from geo_control.cache import Assembly, DocumentCache, cache_root, factions_digest, gazetteer_digest
from geo_control.errors import GeoControlError
from geo_control.factions import Faction, FactionRegistry
from geo_control.ingest import iter_reports, read_reports
from geo_control.pipeline import extract_events
from geo_control.records import EVENT_COLUMNS, UNRESOLVED_COLUMNS, Document
from geo_control.settings import data_dir

SEEDS = Path(__file__).resolve().parent.parent / "seeds"


def _doc(name: str = "a.txt", text: str = "Government forces captured Mayadin on Tuesday.",
         date: dt.date = dt.date(2017, 11, 2), date_source: str = "manifest") -> Document:
    sha = hashlib.sha256(text.encode()).hexdigest()
    return Document(name=name, text=text, date=date, date_source=date_source, sha256=sha)


def _tables(doc: Document) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Stand-in tables of the contract's schema whose dtypes vary from document to document
    as extraction's do: no events (all object), ints, floats, strings, all-None columns."""
    n = len(doc.text.split()) % 4
    if n == 0:
        events = pd.DataFrame([], columns=list(EVENT_COLUMNS))
    else:
        events = pd.DataFrame({c: [f"{c}-{doc.name}-{i}" for i in range(n)] for c in EVENT_COLUMNS})
        events["lat"] = [35.0 + i / 7 for i in range(n)]
        events["precision"] = list(range(n))
        events["distance_km"] = np.nan if n == 1 else [None] * n
        events["target"] = [None] * n if n == 2 else ["x"] * n
        events["start"] = list(range(n))
        # ints in some documents, floats in others: joined with an empty (object) table, the
        # ints must stay ints ("5", not "5.0" in events.csv)
        events["uncertainty_km"] = [5 * (i + 1) for i in range(n)] if len(doc.name) % 2 else [2.5] * n
    if n == 3:
        unresolved = pd.DataFrame({c: [f"{c}-{doc.name}"] for c in UNRESOLVED_COLUMNS})
        unresolved["start"] = [1]
    else:
        unresolved = pd.DataFrame([], columns=list(UNRESOLVED_COLUMNS))
    return events, unresolved


def _assert_same(a: tuple[pd.DataFrame, pd.DataFrame], b: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    for x, y in zip(a, b, strict=True):
        pd.testing.assert_frame_equal(x, y, check_exact=True)
        assert x.to_csv() == y.to_csv()


@pytest.fixture
def fake_extract(monkeypatch):
    """extract_document replaced by ``_tables``; returns the names it was called with."""
    calls: list[str] = []

    def fake(doc, factions, gazetteer):
        assert doc.text, "a document without text reached extraction"
        calls.append(doc.name)
        return _tables(doc)

    monkeypatch.setattr("geo_control.parallel.extract_document", fake)
    return calls


def _run(inputs, cache: DocumentCache | None, default_date: dt.date | None = None):
    """What pipeline.run does up to the events table: (events, unresolved, text-less documents)."""
    total, stream = iter_reports(inputs, default_date=default_date,
                                 known=cache.known if cache is not None else None)
    docs: list[Document] = []

    def reading():
        for d in stream:
            yield d
            docs.append(dataclasses.replace(d, text=""))

    events, unresolved = extract_events(reading(), FactionRegistry.default(), None, cache=cache, total=total)
    return events, unresolved, docs


# -- keys ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("change", [
    {"name": "b.txt"},
    {"sha256": "0" * 64},
    {"date": dt.date(2017, 11, 3)},  # a manifest date is part of the key
])
def test_key_changes_with_the_report_file(change):
    doc = _doc()
    c = DocumentCache("ctx")
    assert c.doc_key(doc) != c.doc_key(dataclasses.replace(doc, **change))


def test_key_of_a_report_dated_by_text_or_option_does_not_hold_the_date():
    """The text gives the date (same bytes, same date); --date is checked against the entry."""
    c = DocumentCache("ctx")
    doc = _doc(date_source="text")
    assert c.doc_key(doc) == c.key(doc.name, doc.sha256, None)
    assert c.doc_key(dataclasses.replace(doc, date_source="option")) == c.doc_key(doc)


def test_key_changes_with_the_context():
    doc = _doc()
    assert DocumentCache("ctx-a").doc_key(doc) != DocumentCache("ctx-b").doc_key(doc)


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


def test_tool_version_covers_ingest_and_the_readers():
    """Entries no longer hold the cleaned text: the code and libraries that make it are in the key."""
    assert "ingest" in cache_mod._EVENT_CODE
    assert {"beautifulsoup4", "pypdf", "pandas"} <= set(cache_mod._LIBRARIES)


# -- entries -------------------------------------------------------------------------------------


@pytest.fixture
def doc_cache(tmp_path):
    return DocumentCache("ctx", root=tmp_path / "docs")


def test_put_then_get_returns_equal_tables(doc_cache):
    docs = [_doc(f"{i}.txt", "word " * i) for i in range(1, 5)]
    assert doc_cache.get(docs[0]) is None
    for d in docs:
        doc_cache.put(d, *_tables(d))
    doc_cache.flush()
    for reread in (doc_cache, DocumentCache("ctx", root=doc_cache.root)):
        for d in docs:
            _assert_same(reread.get(d), _tables(d))
    assert len(list(doc_cache.root.glob("pack-*.pickle"))) == 1
    assert not list(doc_cache.root.glob(".*.tmp")), "temporary file left behind"


def test_known_gives_the_documents_metadata_without_the_text(doc_cache):
    doc = dataclasses.replace(_doc(text="Raqqa update\n\nForces advanced."), date_source="text")
    doc_cache.put(doc, *_tables(doc))
    doc_cache.flush()
    known = DocumentCache("ctx", root=doc_cache.root).known(doc.name, doc.sha256, None)
    assert (known.date, known.date_source, known.title) == (doc.date, "text", "Raqqa update")


def test_a_full_document_whose_text_differs_is_a_miss(doc_cache):
    doc = _doc()
    doc_cache.put(doc, *_tables(doc))
    doc_cache.flush()
    assert doc_cache.find(doc) is not None
    assert doc_cache.find(dataclasses.replace(doc, text="Other text entirely.")) is None
    assert doc_cache.find(dataclasses.replace(doc, text="")) is not None  # made by ingest from the entry


# -- reports through ingest: what reuses an entry and what does not ------------------------------


def _corpus(folder: Path, manifest: dict[str, str] | None = None, **texts: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in texts.items():
        (folder / f"{name}.txt").write_text(text)
    if manifest is not None:
        (folder / "manifest.csv").write_text("file,date,title\n" + "".join(
            f"{k},{v}\n" for k, v in manifest.items()))
    return folder


TEXTS = {
    "r1": "Report one\n\nGovernment forces captured Mayadin.",
    "r2": "Report two\n\n12 March 2017. Rebels advanced on Kafr Nabl, two villages north.",
    "r3": "Report three\n\nThe army held Palmyra and Qaryatayn after heavy fighting there.",
}


def test_reused_reports_give_the_documents_and_tables_of_a_fresh_read(tmp_path, fake_extract):
    folder = _corpus(tmp_path / "in", {"r1.txt": "2017-03-01"}, **TEXTS)
    fresh = _run([folder], None, default_date=dt.date(2017, 1, 1))
    c = DocumentCache("ctx", root=tmp_path / "cache")
    cold = _run([folder], c, default_date=dt.date(2017, 1, 1))
    fake_extract.clear()
    warm_cache = DocumentCache("ctx", root=tmp_path / "cache")
    warm = _run([folder], warm_cache, default_date=dt.date(2017, 1, 1))
    assert fake_extract == [] and warm_cache.hits == 3
    assert [d.date_source for d in fresh[2]] == ["manifest", "text", "option"]
    for run in (cold, warm):
        _assert_same(fresh[:2], run[:2])
        assert run[2] == fresh[2]  # name, date, source, checksum, title, path: what run.json shows


@pytest.mark.parametrize(("change", "reread"), [
    ("bytes of r2", ["r2.txt"]),
    ("manifest date of r1", ["r1.txt"]),
    ("manifest date given to r2", ["r2.txt"]),
    ("--date", ["r3.txt"]),  # only the report dated by --date
    ("rename r3", ["r3b.txt"]),
    ("manifest title of r1", []),  # metadata only: taken from the manifest, rows reused
])
def test_what_decides_a_reports_events_is_in_its_key(tmp_path, fake_extract, change, reread):
    folder = _corpus(tmp_path / "in", {"r1.txt": "2017-03-01"}, **TEXTS)
    root = tmp_path / "cache"
    default = dt.date(2017, 1, 1)
    _run([folder], DocumentCache("ctx", root=root), default_date=default)
    if change == "bytes of r2":
        (folder / "r2.txt").write_text(TEXTS["r2"] + " Later the army withdrew.")
    elif change == "manifest date of r1":
        (folder / "manifest.csv").write_text("file,date\nr1.txt,2017-03-02\n")
    elif change == "manifest date given to r2":
        (folder / "manifest.csv").write_text("file,date\nr1.txt,2017-03-01\nr2.txt,2017-02-01\n")
    elif change == "--date":
        default = dt.date(2017, 1, 8)
    elif change == "rename r3":
        (folder / "r3.txt").rename(folder / "r3b.txt")
    elif change == "manifest title of r1":
        (folder / "manifest.csv").write_text("file,date,title\nr1.txt,2017-03-01,A new title\n")
    fake_extract.clear()
    warm = _run([folder], DocumentCache("ctx", root=root), default_date=default)
    assert fake_extract == reread
    _assert_same(warm[:2], _run([folder], None, default_date=default)[:2])
    assert warm[2] == [dataclasses.replace(d, text="") for d in read_reports([folder], default)]


def test_a_report_reused_after_date_was_dropped_still_needs_a_date(tmp_path, fake_extract):
    """A report dated by --date, re-run without --date: read again, and stops the run as before."""
    from geo_control.errors import ReportDateError

    folder = _corpus(tmp_path / "in", None, r1=TEXTS["r1"])
    root = tmp_path / "cache"
    _run([folder], DocumentCache("ctx", root=root), default_date=dt.date(2017, 1, 1))
    with pytest.raises(ReportDateError):
        _run([folder], DocumentCache("ctx", root=root))


def test_a_textless_document_the_cache_does_not_hold_is_an_error(doc_cache, fake_extract):
    with pytest.raises(GeoControlError, match="no entry"):
        extract_events([dataclasses.replace(_doc(), text="")], FactionRegistry.default(), None, cache=doc_cache)


# -- tables: cold, cached, partly cached ----------------------------------------------------------


def test_assembly_gives_the_concat_of_the_documents_tables():
    """Any mix of per-document dtypes (empty tables are all object) joins as pd.concat does."""
    rng = np.random.default_rng(3)
    for _trial in range(30):
        docs = [_doc(f"{i}.txt", "w " * int(rng.integers(0, 12))) for i in range(int(rng.integers(1, 9)))]
        tables = [_tables(d) for d in docs]
        expected = (pd.concat([t[0] for t in tables], ignore_index=True),
                    pd.concat([t[1] for t in tables], ignore_index=True))
        rows = Assembly()
        for i in rng.permutation(len(docs)):  # results arrive in any order (dask)
            rows.add_fresh(int(i), docs[i], *tables[i])
        _assert_same(rows.tables(), expected)


def test_extract_events_cold_cached_and_partly_cached_agree(tmp_path, fake_extract, monkeypatch):
    monkeypatch.setattr(cache_mod, "CHUNK", 3)  # several packs and blocks
    docs = [_doc(f"{i}.txt", "word " * (i + 1)) for i in range(11)]
    factions = FactionRegistry.default()
    plain = extract_events(docs, factions, None)
    assert len(fake_extract) == 11

    cold = extract_events(iter(docs[2:9]), factions, None, cache=DocumentCache("ctx", root=tmp_path))
    _assert_same(cold, extract_events(docs[2:9], factions, None))
    fake_extract.clear()
    warm_cache = DocumentCache("ctx", root=tmp_path)
    partly = extract_events(docs, factions, None, cache=warm_cache)
    assert fake_extract == ["0.txt", "1.txt", "9.txt", "10.txt"]
    assert (warm_cache.hits, warm_cache.misses) == (7, 4)
    _assert_same(plain, partly)
    fake_extract.clear()
    full = extract_events(docs, factions, None, cache=DocumentCache("ctx", root=tmp_path))
    assert fake_extract == []
    _assert_same(plain, full)
    subset = extract_events(docs[5:7], factions, None, cache=DocumentCache("ctx", root=tmp_path))
    _assert_same(subset, extract_events(docs[5:7], factions, None))


def test_cached_rows_keep_each_documents_own_dtypes(tmp_path, fake_extract):
    """Rows cached next to other documents' (ints beside floats) come back as their own dtype."""
    ints, floats, empty = _doc("i.txt", "w w"), _doc("fl.txt", "w w"), _doc("e.txt", "w w w w")
    assert _tables(ints)[0]["uncertainty_km"].dtype == np.int64
    assert _tables(floats)[0]["uncertainty_km"].dtype == np.float64 and _tables(empty)[0].empty
    factions = FactionRegistry.default()
    extract_events([ints, floats], factions, None, cache=DocumentCache("ctx", root=tmp_path))
    extract_events([empty], factions, None, cache=DocumentCache("ctx", root=tmp_path))
    for run in ([ints, empty], [ints], [ints, floats], [floats, empty, ints]):
        got = extract_events(run, factions, None, cache=DocumentCache("ctx", root=tmp_path))
        _assert_same(got, extract_events(run, factions, None))


def test_warm_cache_gives_the_cold_tables_with_the_real_stages(tmp_path):
    """Seeds through the real ingest, extract and geocode: uncached, cold and warm runs agree."""
    from geo_control.geocode import Gazetteer

    data = data_dir()
    factions, gazetteer = FactionRegistry.load(data), Gazetteer.load(data)

    def run(c):
        total, stream = iter_reports([SEEDS], known=c.known if c is not None else None)
        docs = list(stream)
        return extract_events(docs, factions, gazetteer, cache=c), [dataclasses.replace(d, text="") for d in docs]

    plain = run(None)
    cold_cache = DocumentCache.for_run(data, factions, root=tmp_path)
    cold = run(cold_cache)
    warm_cache = DocumentCache.for_run(data, factions, root=tmp_path)
    warm = run(warm_cache)
    assert (cold_cache.misses, warm_cache.hits, warm_cache.misses) == (5, 5, 0)
    assert len(plain[0][0]) > 0
    for other in (cold, warm):
        _assert_same(plain[0], other[0])
        assert plain[1] == other[1]


def test_dask_with_a_partly_filled_cache_gives_the_single_process_tables(tmp_path, monkeypatch):
    """Fresh documents come back from the workers out of order, between cached ones."""
    pytest.importorskip("distributed", reason="dask[distributed] not installed (pip install -e .[dask])")
    from distributed import Client, LocalCluster

    from geo_control.geocode import Gazetteer

    monkeypatch.setattr("geo_control.parallel.BATCH_SIZE", 1)
    data = data_dir()
    factions, gazetteer = FactionRegistry.load(data), Gazetteer.load(data)
    docs = read_reports([SEEDS])
    single = extract_events(docs, factions, gazetteer)
    extract_events(docs[1:3], factions, gazetteer, cache=DocumentCache.for_run(data, factions, root=tmp_path))
    warm = DocumentCache.for_run(data, factions, root=tmp_path)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
            Client(cluster) as client:
        spread = extract_events(iter(docs), factions, gazetteer, cache=warm, client=client, total=len(docs))
    assert (warm.hits, warm.misses) == (2, 3)
    _assert_same(single, spread)
    again = DocumentCache.for_run(data, factions, root=tmp_path)
    _assert_same(single, extract_events(docs, factions, gazetteer, cache=again))
    assert (again.hits, again.misses) == (5, 0)


def test_run_gives_extraction_the_known_reports_without_their_text(tmp_path, monkeypatch):
    """pipeline.run passes the cache's lookup to ingest: a second run decodes nothing it has seen."""
    from geo_control import pipeline

    class Stop(Exception):
        pass

    seen: list[tuple[list[Document], tuple[pd.DataFrame, pd.DataFrame]]] = []
    real = pipeline.extract_events

    def spy(documents, *args, **kwargs):
        docs = list(documents)
        seen.append((docs, real(docs, *args, **kwargs)))
        raise Stop  # the model and maps are not this test's business

    monkeypatch.setenv("GEO_CONTROL_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(pipeline, "extract_events", spy)
    for _ in range(2):
        with pytest.raises(Stop):
            pipeline.run([SEEDS], tmp_path / "out")
    (cold_docs, cold), (warm_docs, warm) = seen
    assert all(d.text for d in cold_docs) and not any(d.text for d in warm_docs)
    assert [dataclasses.replace(d, text="") for d in cold_docs] == warm_docs
    _assert_same(cold, warm)


# -- packs: compaction, corrupt packs, interrupted writes ------------------------------------------


def test_packs_are_rewritten_as_one_when_they_pile_up(tmp_path, fake_extract, monkeypatch):
    monkeypatch.setattr(cache_mod, "CHUNK", 2)
    monkeypatch.setattr(cache_mod, "MAX_PACKS", 3)
    docs = [_doc(f"{i}.txt", "word " * (i + 1)) for i in range(9)]
    factions = FactionRegistry.default()
    extract_events(docs, factions, None, cache=DocumentCache("ctx", root=tmp_path))
    packs = list(tmp_path.glob("pack-*.pickle"))
    assert len(packs) == 1, "five packs of two documents were not rewritten as one"
    fake_extract.clear()
    again = extract_events(docs, factions, None, cache=DocumentCache("ctx", root=tmp_path))
    assert fake_extract == []
    _assert_same(again, extract_events(docs, factions, None))


def test_entries_of_documents_no_longer_given_are_dropped(tmp_path, fake_extract):
    many = [_doc(f"{i}.txt", "word " * (i + 1)) for i in range(cache_mod.CHUNK + 10)]
    factions = FactionRegistry.default()
    extract_events(many, factions, None, cache=DocumentCache("ctx", root=tmp_path))
    extract_events(many[:3], factions, None, cache=DocumentCache("ctx", root=tmp_path))
    c = DocumentCache("ctx", root=tmp_path)
    assert len(c.entries()) == 3


@pytest.mark.parametrize("garbage", [b"", b"not a pickle", b"\x80\x05\x95truncated",
                                     pickle.dumps({"format": cache_mod.FORMAT, "context": "ctx"}),
                                     pickle.dumps(["a", "list"])])
def test_corrupt_pack_is_ignored_and_rebuilt(tmp_path, garbage, caplog, fake_extract):
    docs = [_doc(f"{i}.txt", "word " * (i + 1)) for i in range(4)]
    factions = FactionRegistry.default()
    plain = extract_events(docs, factions, None)
    extract_events(docs, factions, None, cache=DocumentCache("ctx", root=tmp_path))
    [pack] = tmp_path.glob("pack-*.pickle")
    pack.write_bytes(garbage)
    fake_extract.clear()
    with caplog.at_level(logging.WARNING):
        rebuilt = extract_events(docs, factions, None, cache=DocumentCache("ctx", root=tmp_path))
    assert "rebuilding" in caplog.text
    assert len(fake_extract) == 4
    _assert_same(plain, rebuilt)
    assert not pack.exists()
    fake_extract.clear()
    _assert_same(plain, extract_events(docs, factions, None, cache=DocumentCache("ctx", root=tmp_path)))
    assert fake_extract == []


def test_a_run_stopped_midway_keeps_the_packs_it_wrote(tmp_path, fake_extract, monkeypatch):
    monkeypatch.setattr(cache_mod, "CHUNK", 2)
    docs = [_doc(f"{i}.txt", "word " * (i + 1)) for i in range(7)]
    factions = FactionRegistry.default()

    def stopped():
        for i, d in enumerate(docs):
            if i == 5:
                raise KeyboardInterrupt
            yield d

    with pytest.raises(KeyboardInterrupt):
        extract_events(stopped(), factions, None, cache=DocumentCache("ctx", root=tmp_path))
    fake_extract.clear()
    c = DocumentCache("ctx", root=tmp_path)
    again = extract_events(docs, factions, None, cache=c)
    assert fake_extract == ["4.txt", "5.txt", "6.txt"]
    _assert_same(again, extract_events(docs, factions, None))


def test_an_interrupted_pack_write_leaves_a_usable_cache(tmp_path, fake_extract, monkeypatch):
    docs = [_doc(f"{i}.txt", "word " * (i + 1)) for i in range(4)]
    factions = FactionRegistry.default()
    extract_events(docs[:2], factions, None, cache=DocumentCache("ctx", root=tmp_path))
    real_dump = pickle.dump

    def killed(obj, fh, *a, **k):
        fh.write(pickle.dumps(obj)[:100])  # part of the pack, then the process is stopped
        raise KeyboardInterrupt

    monkeypatch.setattr(pickle, "dump", killed)
    with pytest.raises(KeyboardInterrupt):
        extract_events(docs, factions, None, cache=DocumentCache("ctx", root=tmp_path))
    monkeypatch.setattr(pickle, "dump", real_dump)
    assert len(list(tmp_path.glob("pack-*.pickle"))) == 1
    assert not list(tmp_path.glob(".*.tmp"))
    fake_extract.clear()
    again = extract_events(docs, factions, None, cache=DocumentCache("ctx", root=tmp_path))
    assert fake_extract == ["2.txt", "3.txt"]
    _assert_same(again, extract_events(docs, factions, None))


def test_unwritable_cache_only_warns(tmp_path, caplog, fake_extract):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    docs = [_doc(f"{i}.txt", "word " * (i + 1)) for i in range(3)]
    factions = FactionRegistry.default()
    with caplog.at_level(logging.WARNING):
        got = extract_events(docs, factions, None, cache=DocumentCache("ctx", root=blocker))
    assert "cannot write" in caplog.text
    _assert_same(got, extract_events(docs, factions, None))


def test_prune_drops_old_contexts_and_format_1_entries(tmp_path):
    import os

    for n, ctx in enumerate(["c1", "c2", "c3", "c4", "c5"]):
        p = tmp_path / f"pack-{ctx}-{n:016x}-1.pickle"
        p.write_bytes(b"x")
        os.utime(p, (1000 + n, 1000 + n))
    legacy = tmp_path / "ab" / ("ab" + "0" * 62 + ".pickle")
    legacy.parent.mkdir()
    legacy.write_bytes(b"x")
    DocumentCache("c1", root=tmp_path).prune()
    left = sorted(p.name.split("-")[1] for p in tmp_path.glob("pack-*.pickle"))
    assert left == ["c1", "c3", "c4", "c5"]  # this run's context and the latest three
    assert not legacy.parent.exists()


def test_cache_root_follows_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("GEO_CONTROL_CACHE", str(tmp_path))
    assert cache_root() == tmp_path / "docs"
    monkeypatch.delenv("GEO_CONTROL_CACHE")
    assert cache_root().parts[-3:] == (".cache", "geo_control", "docs")

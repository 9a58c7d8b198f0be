"""``run``: every stage, from report files to the output folder. No click, no printing.

paths -> documents (ingest) -> statements (extract) -> events (geocode) -> layers (model)
-> maps, heatmaps, HTML, GIF (render) -> tables, GeoPackage, run.json (export).
Everything is written into a staging folder and moved into ``out`` at the end, so an
interrupted run leaves the previous outputs whole.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import logging
import os
from collections.abc import Callable, Iterable, Iterator, Sequence, Sized
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from geo_control.basemap import load_basemap
from geo_control.cache import DocumentCache
from geo_control.errors import GeoControlError
from geo_control.factions import FactionRegistry
from geo_control.forkpool import can_fork, fork_pool
from geo_control.records import Document, Layers
from geo_control.settings import Settings

log = logging.getLogger(__name__)

#: Progress callback: (stage, done, total). The CLI turns it into a bar or plain lines.
Progress = Callable[[str, int, int], None]


def _no_progress(stage: str, done: int, total: int) -> None:
    return None


@dataclass
class RunResult:
    documents: list[Document]
    events: pd.DataFrame
    unresolved: pd.DataFrame
    layers: Layers
    files: list[Path]


#: Documents handed to the local worker processes at a time.
FORK_BATCH = 64
# Set before the extraction workers fork; they read it (the gazetteer is not pickled to them).
_FORKED: dict = {}


def _extract_forked(doc: Document) -> tuple[pd.DataFrame, pd.DataFrame]:
    from geo_control.parallel import extract_document

    return extract_document(doc, _FORKED["factions"], _FORKED["gazetteer"])


def default_jobs() -> int:
    """Local worker processes when none are asked for: the two cores of the reference machine."""
    return max(1, min(2, os.cpu_count() or 1))


def extract_events(
    documents: Iterable[Document],
    factions: FactionRegistry,
    gazetteer,
    progress: Progress = _no_progress,
    *,
    cache: DocumentCache | None = None,
    client=None,
    total: int | None = None,
    jobs: int = 1,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Extract and geocode every document: the events table and the unresolved mentions.

    Documents are taken one at a time (``documents`` may be a generator). With ``cache``, a
    document seen before with the same tool, factions and gazetteer reuses its rows (a
    Document that ``ingest`` made from the cache comes without text); with a dask ``client``
    the others are spread over its workers, and with ``jobs`` > 1 over that many forked local
    processes. Rows come out in document order either way, with
    the dtypes of one ``pd.concat`` of the per-document tables, so the tables are the same as
    a plain single-process run.
    """
    from geo_control.cache import Assembly
    from geo_control.parallel import extract_document

    if total is None:
        total = len(documents) if isinstance(documents, Sized) else 0
    rows = Assembly(cache)

    def finish(i: int, doc: Document, tables: tuple[pd.DataFrame, pd.DataFrame]) -> None:
        rows.add_fresh(i, doc, *tables)
        progress("extract", len(rows), max(total, len(rows)))

    def misses() -> Iterator[tuple[int, Document]]:
        for i, doc in enumerate(documents):
            entry = cache.find(doc) if cache is not None else None
            if entry is not None:
                rows.add_cached(i, entry)
                progress("extract", len(rows), max(total, len(rows)))
            elif cache is not None and not doc.text:
                raise GeoControlError(f"{doc.name}: read without its text for the cache, but the "
                                      "cache has no entry for it; re-run with --no-cache")
            else:
                yield i, doc

    if client is None and jobs > 1 and can_fork():
        # Workers fork with the registry and gazetteer loaded; documents go to them in batches
        # read here, so the cache and the progress are only touched by this thread.
        _FORKED.update(factions=factions, gazetteer=gazetteer)
        try:
            with fork_pool(jobs) as pool:
                pending = misses()
                while batch := list(itertools.islice(pending, FORK_BATCH)):
                    for (i, doc), tables in zip(batch, pool.map(_extract_forked, [d for _, d in batch], chunksize=4),
                                                strict=True):
                        finish(i, doc, tables)
        finally:
            _FORKED.clear()
    elif client is None:
        for i, doc in misses():
            finish(i, doc, extract_document(doc, factions, gazetteer))
    else:
        from geo_control.parallel import map_documents

        map_documents(client, misses(), factions, gazetteer, lambda i, doc, tables: finish(i, doc, tables))
    if cache is not None:
        log.info("cache: %d documents reused, %d extracted", cache.hits, cache.misses)
    return rows.tables()


def run(
    inputs: Sequence[str | Path],
    out: str | Path,
    settings: Settings | None = None,
    default_date: dt.date | None = None,
    baseline: str | Path | None = None,
    progress: Progress = _no_progress,
    cache: bool = True,
    scheduler: str | None = None,
    jobs: int | None = None,
) -> RunResult:
    """Run every stage on ``inputs`` and write every output of DESIGN.md into ``out``.

    ``cache`` reuses the events of documents extracted by an earlier run (``geo_control.cache``)
    and the weekly maps whose inputs did not change (``geo_control.render.mapcache``);
    ``scheduler`` (``local`` or ``tcp://host:port``) spreads extraction and geocoding, and the
    weekly maps that must be drawn, over a Dask cluster (``geo_control.parallel``). Neither
    changes the outputs. ``jobs`` is the number of local processes for extraction (without a
    scheduler) and for the model's steps (default: two); 1 runs them in this process.
    """
    from geo_control.export import (
        staged_output,
        write_geopackage,
        write_qgis_project,
        write_run_json,
        write_tables,
    )
    from geo_control.geocode import Gazetteer
    from geo_control.ingest import iter_reports
    from geo_control.model import build, read_baseline
    from geo_control.render import render_all

    if scheduler:
        from geo_control.parallel import check_scheduler

        check_scheduler(scheduler)  # a bad value fails before any work
    settings = settings or Settings()
    jobs = default_jobs() if jobs is None else max(1, int(jobs))
    data = settings.resolved_data_dir()
    factions = FactionRegistry.load(data, settings.factions_file)
    baseline_gdf = read_baseline(baseline, factions) if baseline else None
    doc_cache = DocumentCache.for_run(data, factions, settings.overrides_file) if cache else None
    total, stream = iter_reports(inputs, default_date=default_date,
                                 known=doc_cache.known if doc_cache is not None else None)
    # Texts are dropped once extracted: only names, dates and checksums stay for run.json.
    documents: list[Document] = []

    def reading() -> Iterator[Document]:
        for doc in stream:
            yield doc
            documents.append(dataclasses.replace(doc, text=""))

    gazetteer = Gazetteer.load(data, overrides=settings.overrides_file)
    # An unwritable --out must fail now, not after every report has been read and mapped:
    # an empty staging round trip raises the same OutputError the final write would.
    with staged_output(Path(out)):
        pass
    client = None
    if scheduler:
        from geo_control.parallel import close, connect

        client = connect(scheduler)
    try:
        events, unresolved = extract_events(reading(), factions, gazetteer, progress,
                                            cache=doc_cache, client=client, total=total, jobs=jobs)
    finally:
        if client is not None:
            close(client)
    log.info("%d reports: %d events, %d unresolved mentions", len(documents), len(events), len(unresolved))
    basemap = load_basemap(data)
    layers = build(events, basemap, settings, factions, baseline=baseline_gdf, reuse=cache, workers=jobs)

    with staged_output(Path(out)) as stage:
        files = write_tables(events, unresolved, layers.stats, stage)
        files.append(write_geopackage(layers, factions, stage / "control.gpkg"))
        files += render_all(layers, basemap, settings, factions, stage, progress=progress, reuse=cache,
                            scheduler=scheduler)
        heatmaps = [f for f in files if f.suffix == ".tif"]
        files += [f for f in write_qgis_project(layers, factions, stage, heatmaps, basemap=basemap) if f not in files]
        files.append(
            write_run_json(stage / "run.json", inputs, documents, settings, events, unresolved, layers)
        )
    return RunResult(documents, events, unresolved, layers, [Path(out) / f.relative_to(stage) for f in files])

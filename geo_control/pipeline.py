"""``run``: every stage, from report files to the output folder. No click, no printing.

paths -> documents (ingest) -> statements (extract) -> events (geocode) -> layers (model)
-> maps, heatmaps, HTML, GIF (render) -> tables, GeoPackage, run.json (export).
Everything is written into a staging folder and moved into ``out`` at the end, so an
interrupted run leaves the previous outputs whole.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from geo_control.basemap import load_basemap
from geo_control.factions import FactionRegistry
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


def extract_events(
    documents: Sequence[Document],
    factions: FactionRegistry,
    gazetteer,
    progress: Progress = _no_progress,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Extract and geocode every document: the events table and the unresolved mentions."""
    from geo_control.extract import extract
    from geo_control.geocode import locate

    event_frames, unresolved_frames = [], []
    for i, doc in enumerate(documents, 1):
        statements = extract(doc, factions)
        events, unresolved = locate(statements, gazetteer, doc_text=doc.text)
        event_frames.append(events)
        unresolved_frames.append(unresolved)
        progress("extract", i, len(documents))
    from geo_control.records import EVENT_COLUMNS, UNRESOLVED_COLUMNS

    events = pd.concat(event_frames, ignore_index=True) if event_frames else pd.DataFrame(columns=EVENT_COLUMNS)
    unresolved = (
        pd.concat(unresolved_frames, ignore_index=True) if unresolved_frames else pd.DataFrame(columns=UNRESOLVED_COLUMNS)
    )
    return events, unresolved


def run(
    inputs: Sequence[str | Path],
    out: str | Path,
    settings: Settings | None = None,
    default_date: dt.date | None = None,
    baseline: str | Path | None = None,
    progress: Progress = _no_progress,
) -> RunResult:
    """Run every stage on ``inputs`` and write every output of DESIGN.md into ``out``."""
    from geo_control.export import staged_output, write_geopackage, write_run_json, write_tables
    from geo_control.geocode import Gazetteer
    from geo_control.ingest import read_reports
    from geo_control.model import build, read_baseline
    from geo_control.render import render_all

    settings = settings or Settings()
    data = settings.resolved_data_dir()
    factions = FactionRegistry.load(data, settings.factions_file)
    baseline_gdf = read_baseline(baseline) if baseline else None
    documents = read_reports(inputs, default_date=default_date)
    log.info("read %d reports", len(documents))
    gazetteer = Gazetteer.load(data, overrides=settings.overrides_file)
    events, unresolved = extract_events(documents, factions, gazetteer, progress)
    log.info("%d events, %d unresolved mentions", len(events), len(unresolved))
    basemap = load_basemap(data)
    layers = build(events, basemap, settings, factions, baseline=baseline_gdf)

    with staged_output(Path(out)) as stage:
        files = write_tables(events, unresolved, layers.stats, stage)
        files.append(write_geopackage(layers, factions, stage / "control.gpkg"))
        files += render_all(layers, basemap, settings, factions, stage, progress=progress)
        files.append(
            write_run_json(stage / "run.json", inputs, documents, settings, events, unresolved, layers)
        )
    return RunResult(documents, events, unresolved, layers, [Path(out) / f.relative_to(stage) for f in files])

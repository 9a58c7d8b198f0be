"""geo-control extract: the events found in reports, one per line, before or with geocoding."""

from __future__ import annotations

import csv
import json
import logging
import sys

import click

from geo_control.cli.common import date_option, input_paths

log = logging.getLogger(__name__)


def _rows(results, geocoded: bool):
    """Event rows (EVENT_COLUMNS) from [(statements, events table or None)] per document."""
    from geo_control.records import event_id

    for statements, table in results:
        if geocoded and table is not None:
            for rec in table.to_dict("records"):
                yield {k: (None if isinstance(v, float) and v != v else v) for k, v in rec.items()}
            continue
        for s in statements:
            yield {
                "id": event_id(s.doc, s.start, s.end, s.place, s.action), "doc": s.doc,
                "doc_date": s.doc_date.isoformat(), "date": s.date.isoformat(), "date_precision": s.date_precision,
                "actor": s.actor, "faction": s.faction, "action": s.action, "place": s.place, "place_id": None,
                "place_name": None, "lat": None, "lon": None, "precision": None, "uncertainty_km": None,
                "from_place": s.from_place, "distance_km": s.distance_km, "bearing_deg": s.bearing_deg,
                "target": s.target, "modality": s.modality, "confidence": s.confidence, "sentence": s.sentence,
                "start": s.start, "end": s.end,
            }


def _gazetteer():
    try:
        from geo_control.geocode import Gazetteer
        from geo_control.settings import data_dir

        return Gazetteer.load(data_dir())
    except (ImportError, AttributeError) as exc:
        log.warning("geocoding unavailable (%s); printing events without positions", exc)
        return None


@click.command("extract")
@input_paths
@click.option("--format", "fmt", type=click.Choice(["jsonl", "csv"]), default="jsonl", show_default=True,
              help="One JSON object per line, or CSV with a header.")
@date_option
@click.option("--factions", "factions_file", type=click.Path(), help="Extra faction registry (TOML).")
@click.option("--geocode/--no-geocode", default=True, show_default=True,
              help="Geocode each place (lat, lon, place_id) with the shipped gazetteer; --no-geocode leaves them empty.")
@click.option("--jobs", type=int, default=None, metavar="N",
              help="Worker processes (default: up to 2, the cores of the reference machine).")
@click.option("--relation", is_flag=True, help="Add relation and context fields (how a position relates to its place).")
def command(inputs, fmt, default_date, factions_file, geocode, jobs, relation):
    """Print the events found in report files or folders, one per line.

    Example: geo-control extract seeds --format jsonl
    """
    from geo_control.extract.batch import default_jobs, extract_all
    from geo_control.factions import FactionRegistry
    from geo_control.ingest import read_reports
    from geo_control.records import EVENT_COLUMNS

    jobs = jobs or default_jobs()
    factions = FactionRegistry.load(None, factions_file)
    documents = read_reports(inputs, default_date=default_date)
    gazetteer = _gazetteer() if geocode else None
    results = extract_all(documents, factions, jobs=jobs, gazetteer=gazetteer)
    columns = list(EVENT_COLUMNS) + (["relation", "context"] if relation else [])
    extra = {}
    if relation:
        for sts, _ in results:
            for s in sts:
                extra[(s.doc, s.start, s.end, s.place, s.action)] = {"relation": s.relation, "context": list(s.context)}
    out = sys.stdout
    writer = None
    if fmt == "csv":
        writer = csv.DictWriter(out, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
    n = 0
    for row in _rows(results, gazetteer is not None):
        if relation:
            row.update(extra.get((row["doc"], row["start"], row["end"], row["place"], row["action"]),
                                 {"relation": "", "context": []}))
        if writer is not None:
            if relation:
                row["context"] = "; ".join(row["context"])
            writer.writerow({k: ("" if row.get(k) is None else row.get(k)) for k in columns})
        else:
            out.write(json.dumps({k: row.get(k) for k in columns}, ensure_ascii=False, default=str) + "\n")
        n += 1
    log.info("%d events from %d reports", n, len(documents))

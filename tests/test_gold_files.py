"""Checks on the hand-annotated extraction gold (tests/gold/extract_*.jsonl).

The gold is data other tests and `geo-control eval extract` trust, so a malformed line
(bad JSON, a missing key, an action or faction outside DESIGN.md, a place not written in
the text) must fail here rather than silently skew precision and recall.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
GOLD = ROOT / "tests" / "gold"
SEEDS = GOLD / "extract_seeds.jsonl"
SENTENCES = GOLD / "extract_sentences.jsonl"

ACTIONS = {"capture", "advance", "hold", "siege", "contest", "withdraw", "attack"}
FACTIONS = {"government", "isis", "sdf", "hts", "opposition", "turkey", "iraq", "coalition", "israel", "unknown"}
MODALITIES = {"asserted", "claimed", "expected", "negated"}
PRECISIONS = {"day", "week", "month", "doc"}
EVENT_KEYS = {"action", "faction", "place", "actor", "date", "date_precision", "modality"}
OPTIONAL_KEYS = {"from_place", "distance_km", "bearing_deg", "target", "relation", "note"}
# "", near, offset, part:<side>, between:<place>, bank:<side>
RELATION = re.compile(r"^(|near|offset|part:[a-z]+|between:.+|bank:[a-z]+)$")


def _iso(value: Any) -> bool:
    try:
        dt.date.fromisoformat(value)
    except (TypeError, ValueError):
        return False
    return isinstance(value, str) and len(value) == 10


def check_record(record: Any, text: str) -> list[str]:
    """Return the problems of one gold document (empty when it is well formed)."""
    if not isinstance(record, dict):
        return ["record is not a JSON object"]
    problems: list[str] = []
    for key in ("doc", "doc_date", "events"):
        if key not in record:
            problems.append(f"missing key {key!r}")
    if problems:
        return problems
    if not _iso(record["doc_date"]):
        problems.append(f"doc_date {record['doc_date']!r} is not YYYY-MM-DD")
    if not isinstance(record["events"], list):
        return problems + ["events is not a list"]
    for n, event in enumerate(record["events"]):
        where = f"event {n}"
        if not isinstance(event, dict):
            problems.append(f"{where}: not an object")
            continue
        missing = EVENT_KEYS - event.keys()
        if missing:
            problems.append(f"{where}: missing {sorted(missing)}")
            continue
        unknown = event.keys() - EVENT_KEYS - OPTIONAL_KEYS
        if unknown:
            problems.append(f"{where}: unknown keys {sorted(unknown)}")
        for key, allowed in (("action", ACTIONS), ("faction", FACTIONS), ("modality", MODALITIES),
                             ("date_precision", PRECISIONS)):
            if event[key] not in allowed:
                problems.append(f"{where}: {key} {event[key]!r} not in {sorted(allowed)}")
        if not _iso(event["date"]):
            problems.append(f"{where}: date {event['date']!r} is not YYYY-MM-DD")
        elif event["date_precision"] == "doc" and event["date"] != record["doc_date"]:
            problems.append(f"{where}: precision 'doc' but date {event['date']} != doc_date")
        if not isinstance(event["place"], str) or not event["place"].strip():
            problems.append(f"{where}: empty place")
        for key in ("place", "from_place", "target", "actor"):
            value = event.get(key)
            if value and value not in text:
                problems.append(f"{where}: {key} {value!r} is not written in the text")
        if "distance_km" in event and not (isinstance(event["distance_km"], (int, float)) and event["distance_km"] > 0):
            problems.append(f"{where}: distance_km must be a positive number")
        if "bearing_deg" in event and not (isinstance(event["bearing_deg"], (int, float)) and 0 <= event["bearing_deg"] < 360):
            problems.append(f"{where}: bearing_deg must be in [0, 360)")
        if not RELATION.match(str(event.get("relation", ""))):
            problems.append(f"{where}: relation {event.get('relation')!r} not recognised")
    return problems


def _load(path: Path) -> list[tuple[int, Any]]:
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            rows.append((number, json.loads(line)))
        except json.JSONDecodeError as exc:  # the test reports it, with the line number
            pytest.fail(f"{path.name}:{number}: not valid JSON ({exc})")
    return rows


def test_seed_gold_is_well_formed() -> None:
    rows = _load(SEEDS)
    manifest = {row["file"]: row["date"] for row in csv.DictReader((ROOT / "seeds" / "manifest.csv").open())}
    assert {record["doc"] for _, record in rows} == set(manifest), "one gold line per seed report"
    for number, record in rows:
        assert record.get("path") == f"seeds/{record.get('doc')}", f"line {number}: path"
        assert record["doc_date"] == manifest[record["doc"]], f"line {number}: doc_date differs from manifest"
        text = (ROOT / record["path"]).read_text(encoding="utf-8")
        problems = check_record(record, text)
        assert not problems, f"{SEEDS.name}:{number}: " + "; ".join(problems)


def test_seed_gold_has_no_events_from_reader_comments() -> None:
    # The SouthFront report ends where its comment thread starts; gold places must come
    # from the article, so each one must be written before that point.
    for _, record in _load(SEEDS):
        if not record["doc"].startswith("004_"):
            continue
        text = (ROOT / record["path"]).read_text(encoding="utf-8")
        article = text.split("You can call me Al")[0]
        for event in record["events"]:
            assert event["place"] in article, event


def test_sentence_gold_is_well_formed() -> None:
    rows = _load(SENTENCES)
    assert len(rows) >= 80
    ids = [record.get("doc") for _, record in rows]
    assert len(ids) == len(set(ids)), "doc ids must be unique"
    for number, record in rows:
        assert isinstance(record.get("text"), str) and record["text"].strip(), f"line {number}: text"
        problems = check_record(record, record["text"])
        assert not problems, f"{SENTENCES.name}:{number}: " + "; ".join(problems)
    counted = {e["action"] for _, r in rows for e in r["events"] if e["modality"] in ("asserted", "claimed")}
    assert counted == ACTIONS, "every action is covered by a counted event"


@pytest.mark.parametrize(
    ("record", "text", "fragment"),
    [
        ({"doc": "x", "doc_date": "2017-11-02"}, "", "missing key 'events'"),
        ({"doc": "x", "doc_date": "2017-13-02", "events": []}, "", "doc_date"),
        ({"doc": "x", "doc_date": "2017-11-02", "events": [{"action": "capture"}]}, "", "missing"),
        ({"doc": "x", "doc_date": "2017-11-02", "events": [dict(action="take", faction="sdf", place="Tabqa", actor="SDF",
          date="2017-11-02", date_precision="day", modality="asserted")]}, "SDF took Tabqa", "action 'take'"),
        ({"doc": "x", "doc_date": "2017-11-02", "events": [dict(action="capture", faction="kurds", place="Tabqa", actor="SDF",
          date="2017-11-02", date_precision="day", modality="asserted")]}, "SDF took Tabqa", "faction 'kurds'"),
        ({"doc": "x", "doc_date": "2017-11-02", "events": [dict(action="capture", faction="sdf", place="Raqqa", actor="SDF",
          date="2017-11-02", date_precision="day", modality="asserted")]}, "SDF took Tabqa", "not written in the text"),
        ({"doc": "x", "doc_date": "2017-11-02", "events": [dict(action="capture", faction="sdf", place="Tabqa", actor="SDF",
          date="2017-11-01", date_precision="doc", modality="asserted")]}, "SDF took Tabqa", "precision 'doc'"),
        ({"doc": "x", "doc_date": "2017-11-02", "events": [dict(action="capture", faction="sdf", place="Tabqa", actor="SDF",
          date="2017-11-02", date_precision="day", modality="maybe")]}, "SDF took Tabqa", "modality 'maybe'"),
    ],
)
def test_check_record_rejects_malformed_gold(record: dict[str, Any], text: str, fragment: str) -> None:
    problems = check_record(record, text)
    assert any(fragment in p for p in problems), problems

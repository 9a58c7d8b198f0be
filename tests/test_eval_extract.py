"""evaluate.extract: matching rules, and the extractor's scores on the hand-annotated gold."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from geo_control.evaluate.extract import (
    GoldDoc,
    GoldEvent,
    Scores,
    evaluate,
    normalise_place,
    read_gold,
    score_document,
)
from geo_control.records import Statement

GOLD = Path(__file__).parent / "gold"
GOLD_FILES = [GOLD / "extract_seeds.jsonl", GOLD / "extract_sentences.jsonl"]
D = dt.date(2017, 11, 2)


@pytest.mark.parametrize(
    "a, b",
    [("Deir ez-Zor", "Deir Ezzor"), ("Deir-Ez-Zor", "Deir ez-Zor city"), ("al-Bukamal", "Al Bukamal"),
     ("Hajin pocket", "the Hajin"), ("Jubaliyah neighborhood", "Jubaliyah"), ("Eastern Ghouta", "Ghouta"),
     ("South Kashmah oil field", "South Kashmah"), ("Ma'adan", "Maadan"), ("Hanano housing district", "Hanano")],
)
def test_place_normalisation(a, b):
    assert normalise_place(a) == normalise_place(b)


@pytest.mark.parametrize("a, b", [("Raqqa", "Rastan"), ("al-Bab", "Bab al-Hawa"), ("Tal Abyad", "Tal Rifaat")])
def test_place_normalisation_keeps_places_apart(a, b):
    assert normalise_place(a) != normalise_place(b)


def _st(action="capture", faction="sdf", place="al-Akidat", date=D, modality="asserted", from_place=""):
    return Statement("d", D, date, "day", "", faction, action, place, modality, 0.9, "", 0, 1, from_place=from_place)


def _gold(*events):
    return GoldDoc("d", D, "", None, list(events))


def _ev(action="capture", faction="sdf", place="al-Akidat", date=D, precision="day", modality="asserted"):
    return GoldEvent(action, faction, place, date, precision, modality)


@pytest.mark.parametrize(
    "pred_date, precision, hit",
    [(D, "day", True), (D + dt.timedelta(days=1), "day", True), (D + dt.timedelta(days=2), "day", False),
     (D + dt.timedelta(days=6), "week", True), (D + dt.timedelta(days=9), "week", False),
     (dt.date(2017, 11, 29), "month", True), (dt.date(2017, 10, 31), "month", False),
     (D - dt.timedelta(days=7), "doc", True), (D - dt.timedelta(days=8), "doc", False)],
)
def test_date_tolerance(pred_date, precision, hit):
    scores = Scores()
    score_document(_gold(_ev(precision=precision)), [_st(date=pred_date)], scores)
    assert scores.overall.tp == (1 if hit else 0)


def test_counts_and_modality_filter():
    scores = Scores()
    gold = _gold(_ev(), _ev(place="al-Bakaara"), _ev(place="Hajin", modality="expected"))
    preds = [_st(), _st(place="Theeban"), _st(place="Hajin", modality="expected"), _st(faction="isis")]
    score_document(gold, preds, scores)
    assert (scores.overall.tp, scores.overall.fp, scores.overall.fn) == (1, 2, 1)
    assert scores.by_action["capture"].precision == pytest.approx(1 / 3)


def test_repeated_event_counts_once():
    scores = Scores()
    score_document(_gold(_ev()), [_st(), _st(date=D - dt.timedelta(days=5))], scores)
    assert (scores.overall.tp, scores.overall.fp) == (1, 0)


def test_offset_event_matches_on_from_place():
    scores = Scores()
    gold = _gold(GoldEvent("advance", "government", "Abu Dali", D, "day", "asserted", "Abu Dali"))
    score_document(gold, [_st(action="advance", faction="government", place="Sinjar", from_place="Abu Dali")], scores)
    assert scores.overall.tp == 1


def test_read_gold_errors(tmp_path):
    bad = tmp_path / "g.jsonl"
    bad.write_text(json.dumps({"doc": "x", "text": "t", "doc_date": "2017-13-01", "events": []}) + "\n")
    with pytest.raises(ValueError, match="YYYY-MM-DD"):
        read_gold([bad])
    bad.write_text("{not json\n")
    with pytest.raises(ValueError, match="JSON"):
        read_gold([bad])
    with pytest.raises(OSError, match="not found"):
        read_gold([tmp_path / "missing.jsonl"])


@pytest.mark.skipif(not all(p.is_file() for p in GOLD_FILES), reason="gold files not annotated yet (tests/gold/)")
@pytest.mark.parametrize("gold", GOLD_FILES, ids=lambda p: p.name)
def test_extractor_on_gold(gold):
    scores = evaluate([gold])
    misses = [(d, g.action, g.faction, g.place) for d, g in scores.misses]
    false = [(d, p.action, p.faction, p.place) for d, p in scores.false_positives]
    assert scores.overall.precision >= 0.9, false
    assert scores.overall.recall >= 0.9, misses


@pytest.mark.skipif(not all(p.is_file() for p in GOLD_FILES), reason="gold files not annotated yet (tests/gold/)")
def test_eval_extract_command():
    from geo_control.cli import cli

    result = CliRunner().invoke(cli, ["eval", "extract", *sum((["--gold", str(p)] for p in GOLD_FILES), [])])
    assert result.exit_code == 0, result.output
    overall = [line for line in result.output.splitlines() if line.startswith("overall")][0].split()
    assert float(overall[4]) >= 0.9 and float(overall[5]) >= 0.9

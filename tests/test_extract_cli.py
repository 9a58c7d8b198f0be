"""geo-control extract and eval extract from the command line."""

from __future__ import annotations

import csv
import io
import json

from click.testing import CliRunner

from geo_control.cli import cli
from geo_control.records import EVENT_COLUMNS


def invoke(*args):
    return CliRunner().invoke(cli, ["-q", *args])


def test_extract_jsonl_has_the_event_fields():
    res = invoke("extract", "seeds", "--format", "jsonl", "--no-geocode", "--jobs", "1")
    assert res.exit_code == 0, res.output
    rows = [json.loads(line) for line in res.output.splitlines() if line.startswith("{")]
    assert rows and all(list(r) == list(EVENT_COLUMNS) for r in rows)
    facts = {(r["action"], r["faction"], r["place"]) for r in rows}
    assert ("capture", "sdf", "al-Akidat") in facts and ("capture", "government", "al-Khamisiya") in facts
    assert all(r["lat"] is None for r in rows)
    assert len({r["id"] for r in rows}) == len(rows)


def test_extract_csv_and_relation_fields():
    res = invoke("extract", "seeds/004_1081c0406dd2c9e3.txt", "--format", "csv", "--no-geocode", "--relation")
    assert res.exit_code == 0, res.output
    rows = list(csv.DictReader(io.StringIO(res.output)))
    assert list(rows[0]) == [*EVENT_COLUMNS, "relation", "context"]
    assert any(r["place"].startswith("Hamidiyah") and r["relation"] == "part:south" for r in rows)


def test_extract_parallel_gives_the_same_events():
    one = invoke("extract", "seeds", "--no-geocode", "--jobs", "1").output
    two = invoke("extract", "seeds", "--no-geocode", "--jobs", "2").output
    assert one == two


def test_extract_needs_a_date(tmp_path):
    (tmp_path / "r.txt").write_text("The SDF captured Raqqa.", encoding="utf-8")
    res = CliRunner().invoke(cli, ["extract", str(tmp_path), "--no-geocode"], standalone_mode=False)
    assert "--date" in str(res.exception)
    res = invoke("extract", str(tmp_path), "--no-geocode", "--date", "2017-10-20")
    assert res.exit_code == 0
    (row,) = [json.loads(line) for line in res.output.splitlines() if line.startswith("{")]
    assert (row["faction"], row["place"], row["doc_date"]) == ("sdf", "Raqqa", "2017-10-20")

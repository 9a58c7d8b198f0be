"""ingest: reading, decoding, cleaning and dating reports."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging

import pytest

from geo_control.errors import InputError, ManifestError, MissingInputError, ReportDateError
from geo_control.ingest import clean_text, find_report_date, read_reports
from geo_control.ingest.clean import strip_debris

SEEDS = "seeds"


@pytest.fixture(scope="module")
def seed_docs():
    return {d.name: d for d in read_reports([SEEDS])}


def test_seeds_are_read_with_manifest_dates(seed_docs):
    assert len(seed_docs) == 5
    assert all(d.date_source == "manifest" for d in seed_docs.values())
    assert seed_docs["004_1081c0406dd2c9e3.txt"].date == dt.date(2017, 11, 2)
    assert seed_docs["004_1081c0406dd2c9e3.txt"].source == "SouthFront"


def test_sha256_is_of_the_raw_bytes(seed_docs):
    raw = open("seeds/002_6acae6d732d29d9a.txt", "rb").read()
    assert seed_docs["002_6acae6d732d29d9a.txt"].sha256 == hashlib.sha256(raw).hexdigest()


def test_reader_comments_are_dropped(seed_docs):
    text = seed_docs["004_1081c0406dd2c9e3.txt"].text
    assert "S-75 air defense system" in text
    for comment in ("You can call me Al", "Regards DZ", "Jens Holm", "sheeple", "ABORTION RIGHTS", "Ostap Bender"):
        assert comment not in text


def test_boilerplate_is_dropped(seed_docs):
    text = seed_docs["002_6acae6d732d29d9a.txt"].text
    assert "Leave A Reply" not in text and "email address" not in text
    assert "Developments continue underway in the governorate." in text


def test_pdf_debris_is_dropped(seed_docs):
    text = seed_docs["003_d69c65e8bcf7e30e.txt"].text
    assert "Tf" not in text and "(rm)87'" not in text
    assert text.rstrip().endswith("join ranks with the Syrian Arab Army to fight")


@pytest.mark.parametrize(
    "line, kept",
    [
        ("the Syrian Arab Army to fight I-0.2 (rm)87' ao Ha 0.2 (di'y) 0.2 (a Tf [(t) 0.2 () T8",
         "the Syrian Arab Army to fight"),
        ("0.2 0.2 (a) Tj [(x) 0.1 ()] TJ BT ET", ""),
        ("The SDF (QSD) captured the T2 pumping station on 12 (sic) November 2017.",
         "The SDF (QSD) captured the T2 pumping station on 12 (sic) November 2017."),
        ("Tu-22M3 bombers hit al-Bukamal; 72 brigade S-75 missiles.", "Tu-22M3 bombers hit al-Bukamal; 72 brigade S-75 missiles."),
    ],
)
def test_strip_debris(line, kept):
    assert strip_debris(line) == kept


def test_generic_comment_section_is_found():
    article = "\n\n".join(
        f"Paragraph {i}: government forces advanced near the town and shelled positions held by the group." for i in range(8)
    )
    comments = (
        "\n\nJohn Smith\n\nI think you are wrong!! Thanks for nothing?\n\nmaria77\n\nLOL you guys never learn. "
        "https://example.org\n\nAhmed Kareem\n\nWhy would I believe this? My cousin says otherwise!"
    )
    cleaned = clean_text(article + comments)
    assert "Paragraph 7" in cleaned
    assert "John Smith" not in cleaned and "LOL" not in cleaned


def test_headings_are_not_comments():
    text = "\n\n".join(["Report title", *[f"Section {i}\n\nThe army took village {i} from ISIS on Monday." for i in range(6)]])
    assert clean_text(text).count("The army took") == 6


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Weekly Conflict Summary September 7-13, 2017\n\nreporting week", dt.date(2017, 9, 13)),
        ("Syria War Report – November 2, 2017: Government Forces Clearing", dt.date(2017, 11, 2)),
        ("DEIR EZ-ZOR GOVERNORATE (NOVEMBER 25, 2018) – Islamic State", dt.date(2018, 11, 25)),
        ("Published 3 March 2019 by the monitor", dt.date(2019, 3, 3)),
        ("Updated 2018-06-01", dt.date(2018, 6, 1)),
        ("Weekly summary, November 28 - December 4, 2016", dt.date(2016, 12, 4)),
        ("No date here at all.", None),
    ],
)
def test_find_report_date(text, expected):
    assert find_report_date(text) == expected


def test_text_date_and_option(tmp_path):
    (tmp_path / "a.txt").write_text("Syria War Report – November 2, 2017\n\nThe SAA took Mayadin.", encoding="utf-8")
    (tmp_path / "b.md").write_text("# Undated\n\nThe SDF took Raqqa.", encoding="utf-8")
    with pytest.raises(ReportDateError, match="--date"):
        read_reports([tmp_path])
    docs = {d.name: d for d in read_reports([tmp_path], default_date=dt.date(2017, 10, 20))}
    assert (docs["a.txt"].date, docs["a.txt"].date_source) == (dt.date(2017, 11, 2), "text")
    assert (docs["b.md"].date, docs["b.md"].date_source) == (dt.date(2017, 10, 20), "option")


def test_manifest_wins_over_text(tmp_path):
    (tmp_path / "a.txt").write_text("Syria War Report – November 2, 2017\n\nThe SAA took Mayadin.", encoding="utf-8")
    (tmp_path / "manifest.csv").write_text("file,date,source\na.txt,2017-11-03,SouthFront\n", encoding="utf-8")
    (doc,) = read_reports([tmp_path])
    assert (doc.date, doc.date_source, doc.source) == (dt.date(2017, 11, 3), "manifest", "SouthFront")
    (doc,) = read_reports([tmp_path / "a.txt"])
    assert doc.date_source == "manifest"


def test_bad_manifest(tmp_path):
    (tmp_path / "a.txt").write_text("x", encoding="utf-8")
    (tmp_path / "manifest.csv").write_text("file,date\na.txt,03/11/2017\n", encoding="utf-8")
    with pytest.raises(ManifestError, match="YYYY-MM-DD"):
        read_reports([tmp_path])


@pytest.mark.parametrize(
    "raw",
    [
        "\ufeffThe SDF captured al-Busayrah on Monday.".encode(),
        "The SDF captured al-Busayrah on Monday – “quickly”.".encode("cp1252"),
        b"The SDF captured al-Busayrah on Monday.",
    ],
)
def test_encodings(tmp_path, raw):
    (tmp_path / "r.txt").write_bytes(raw)
    (doc,) = read_reports([tmp_path / "r.txt"], default_date=dt.date(2018, 1, 1))
    assert doc.text.startswith("The SDF captured al-Busayrah")


def test_empty_and_binary_files_are_skipped(tmp_path, caplog):
    caplog.set_level(logging.WARNING, logger="geo_control")  # a CLI test run earlier may have set -q
    (tmp_path / "empty.txt").write_bytes(b"")
    (tmp_path / "bin.txt").write_bytes(b"\x00\x01\x02binary\x00" * 50)
    (tmp_path / "ok.txt").write_text("The army took Sukhnah.", encoding="utf-8")
    docs = read_reports([tmp_path], default_date=dt.date(2017, 8, 16))
    assert [d.name for d in docs] == ["ok.txt"]
    assert "empty" in caplog.text and "binary" in caplog.text


def test_missing_and_empty_inputs(tmp_path):
    with pytest.raises(MissingInputError, match="no such file"):
        read_reports([tmp_path / "nope"])
    (tmp_path / "empty").mkdir()
    with pytest.raises(MissingInputError, match="no reports"):
        read_reports([tmp_path / "empty"])
    (tmp_path / "blank").mkdir()
    (tmp_path / "blank" / "a.txt").write_bytes(b"   \n")
    with pytest.raises(InputError, match="no readable report"):
        read_reports([tmp_path / "blank"])


def test_html(tmp_path):
    html = """<!doctype html><html><head><title>Syria War Report – November 2, 2017</title>
    <script>var x = 'captured Raqqa';</script></head><body><nav>Home | About</nav>
    <article><h1>Syria War Report – November 2, 2017</h1><p>The SDF seized the villages of al-Akidat and
    al-Bakaara.</p></article><div id="comments"><p>Jens Holm</p><p>I think ISIS took Mayadin!</p></div>
    <footer>Leave A Reply</footer></body></html>"""
    (tmp_path / "r.html").write_text(html, encoding="utf-8")
    (doc,) = read_reports([tmp_path / "r.html"])
    assert doc.date == dt.date(2017, 11, 2)
    assert "al-Akidat" in doc.text
    assert "Mayadin" not in doc.text and "var x" not in doc.text and "Home | About" not in doc.text


def test_pdf(tmp_path):
    pypdf = pytest.importorskip("pypdf")
    from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject

    writer = pypdf.PdfWriter()
    page = writer.add_blank_page(width=600, height=300)
    font = DictionaryObject({NameObject("/Type"): NameObject("/Font"), NameObject("/Subtype"): NameObject("/Type1"),
                             NameObject("/BaseFont"): NameObject("/Helvetica")})
    page[NameObject("/Resources")] = DictionaryObject(
        {NameObject("/Font"): DictionaryObject({NameObject("/F1"): writer._add_object(font)})})
    stream = DecodedStreamObject()
    stream.set_data(b"BT /F1 12 Tf 20 250 Td (Weekly Conflict Summary September 7-13, 2017) Tj 0 -20 Td "
                    b"(The SDF captured Shaddadi on September 9.) Tj ET")
    page[NameObject("/Contents")] = writer._add_object(stream)
    with open(tmp_path / "r.pdf", "wb") as fh:
        writer.write(fh)
    (doc,) = read_reports([tmp_path / "r.pdf"])
    assert doc.date == dt.date(2017, 9, 13)
    assert "captured Shaddadi" in doc.text


def test_html_metadata_date(tmp_path):
    html = """<html><head><meta property="article:published_time" content="2019-10-13T08:00:00+00:00">
    <title>Turkish-backed rebels push into Ras al-Ain</title></head><body><article><p>Turkish-backed rebels
    pushed into the town of Ras al-Ain on Saturday.</p></article></body></html>"""
    (tmp_path / "r.htm").write_text(html, encoding="utf-8")
    (doc,) = read_reports([tmp_path / "r.htm"])
    assert (doc.date, doc.date_source) == (dt.date(2019, 10, 13), "text")

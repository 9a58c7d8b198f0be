"""User mistakes end in one line naming the input and a non-zero exit; one bad report among good
ones is a warning and the others are still processed.

Every case goes through the command line as a subprocess (``python -m geo_control``), as a user
meets it. The invocations of a group run concurrently: each is mostly interpreter start-up.
"""

from __future__ import annotations

import json
import os
import warnings
import zipfile
from pathlib import Path

import pytest
from test_robustness_support import (
    GOOD_REPORT,
    cli_env,
    message_lines,
    no_dac_prefix,
    run_cli,
    run_many,
    write_reports,
)

NO_DAC = no_dac_prefix()


def _office(path: Path, member: str) -> Path:
    """A minimal Office Open XML file (a zip), as Word or Excel would save it."""
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr(member, "<doc>The SAA captured Mayadin.</doc>")
    return path


def _baselines(ws: Path) -> dict[str, Path]:
    import geopandas as gpd
    from shapely.geometry import Point, box

    out = ws / "baselines"
    out.mkdir()
    square = box(40.0, 34.5, 40.5, 35.0)
    with warnings.catch_warnings():  # "'crs' was not provided": that is the point
        warnings.simplefilter("ignore", UserWarning)
        gpd.GeoDataFrame({"faction": ["isis"]}, geometry=[square], crs=None).to_file(out / "nocrs.shp")
        gpd.GeoDataFrame({"faction": ["isis"]}, geometry=[square], crs=None).to_file(out / "nocrs.gpkg",
                                                                                     driver="GPKG")
    gpd.GeoDataFrame({"name": ["x"]}, geometry=[square], crs="EPSG:4326").to_file(out / "nocol.geojson")
    gpd.GeoDataFrame({"faction": ["isis", "government"]}, geometry=[Point(40.1, 34.7), Point(40.3, 34.9)],
                     crs="EPSG:4326").to_file(out / "points.geojson")
    gpd.GeoDataFrame({"faction": ["martians"]}, geometry=[square], crs="EPSG:4326").to_file(out / "unknown.geojson")
    (out / "broken.gpkg").write_bytes(b"SQLite format 3\x00" + os.urandom(2000))
    (out / "broken.geojson").write_text('{"type": "FeatureCollection", "features": [', encoding="utf-8")
    return {p.stem + p.suffix: p for p in out.iterdir()}


@pytest.fixture(scope="module")
def ws(tmp_path_factory) -> Path:
    """A workspace holding every bad input of this module, and good reports."""
    ws = tmp_path_factory.mktemp("robust_inputs")
    write_reports(ws / "good")
    (ws / "empty").mkdir()
    office = ws / "office"
    office.mkdir()
    _office(office / "report.docx", "word/document.xml")
    _office(office / "table.xlsx", "xl/workbook.xml")
    _office(ws / "report.docx", "word/document.xml")
    _office(ws / "table.xlsx", "xl/workbook.xml")
    nodate = ws / "nodate"
    nodate.mkdir()
    (nodate / "undated.txt").write_text("The Syrian Arab Army captured Mayadin from ISIS.\n", encoding="utf-8")
    for name, manifest in {
        "m_baddate": "file,date\na.txt,2017-13-45\n",
        "m_future": "file,date\na.txt,2071-11-02\n",
        "m_unknown": "file,date\na.txt,2017-11-02\nrepport.txt,2017-11-03\n",
        "m_column": "file,when\na.txt,2017-11-02\n",
        "m_nofile": "file,date\n,2017-11-02\n",
        "m_unreadable": "file,date\na.txt,2017-11-02\n",
    }.items():
        folder = ws / name
        folder.mkdir()
        (folder / "a.txt").write_text(GOOD_REPORT, encoding="utf-8")
        (folder / "manifest.csv").write_text(manifest, encoding="utf-8")
    (ws / "m_unreadable" / "manifest.csv").chmod(0)
    (ws / "locked.txt").write_text(GOOD_REPORT, encoding="utf-8")
    (ws / "locked.txt").chmod(0)
    (ws / "bad_syntax.toml").write_text("[martians\nlabel = 'x'\n", encoding="utf-8")
    (ws / "bad_colour.toml").write_text("[martians]\nlabel = 'Martians'\ncolour = 'green'\n", encoding="utf-8")
    (ws / "bad_aliases.toml").write_text("[martians]\ncolour = '#00ff00'\naliases = 'little green men'\n",
                                         encoding="utf-8")
    (ws / "bad_id.toml").write_text("['Martian Army']\ncolour = '#00ff00'\n", encoding="utf-8")
    _baselines(ws)
    os.mkfifo(ws / "pipe.txt")
    (ws / "bad_overrides.csv").write_text("name,lat,lon\nMy Village,north,40.1\n", encoding="utf-8")
    (ws / "bad_events.csv").write_text("id,doc,place\nev-1,a.txt,Mayadin\n", encoding="utf-8")
    (ws / "a_file").write_text("not a folder\n", encoding="utf-8")
    ro = ws / "readonly"
    ro.mkdir()
    ro.chmod(0o555)
    return ws


OUT = "OUT"  # replaced by a fresh output path per case

#: name -> (arguments, text the one line must contain, needs dropped file permissions)
MISTAKES: dict[str, tuple[list[str], str, bool]] = {
    "missing file": (["run", "nope.txt", "--out", OUT], "nope.txt", False),
    "unreadable file": (["run", "locked.txt", "--out", OUT], "locked.txt", True),
    "named pipe": (["run", "pipe.txt", "--out", OUT], "pipe.txt", False),
    "empty folder": (["run", "empty", "--out", OUT], "empty", False),
    "folder of office files": (["run", "office", "--out", OUT], "office", False),
    "docx named": (["run", "report.docx", "--out", OUT], "report.docx", False),
    "xlsx named": (["run", "table.xlsx", "--out", OUT], "table.xlsx", False),
    "docx with a good report": (["run", "good/a.txt", "report.docx", "--out", OUT], "report.docx", False),
    "no date and no --date": (["run", "nodate", "--out", OUT], "undated.txt", False),
    "bad --date": (["run", "nodate", "--out", OUT, "--date", "2017-11-31"], "2017-11-31", False),
    "manifest bad date": (["run", "m_baddate", "--out", OUT], "2017-13-45", False),
    "manifest date in the future": (["run", "m_future", "--out", OUT], "2071-11-02", False),
    "--date before 1900": (["run", "nodate", "--out", OUT, "--date", "1017-11-02"], "1017-11-02", False),
    "--from year typo": (["run", "good", "--out", OUT, "--from", "1017-11-01"], "--from", False),
    "manifest unknown file": (["run", "m_unknown", "--out", OUT], "repport.txt", False),
    "manifest missing column": (["run", "m_column", "--out", OUT], "manifest.csv", False),
    "manifest row without file": (["run", "m_nofile", "--out", OUT], "manifest.csv", False),
    "manifest unreadable": (["run", "m_unreadable", "--out", OUT], "manifest.csv", True),
    "factions missing": (["run", "good", "--out", OUT, "--factions", "nope.toml"], "nope.toml", False),
    "factions bad TOML": (["run", "good", "--out", OUT, "--factions", "bad_syntax.toml"], "bad_syntax.toml", False),
    "factions bad colour": (["run", "good", "--out", OUT, "--factions", "bad_colour.toml"], "green", False),
    "factions bad aliases": (["run", "good", "--out", OUT, "--factions", "bad_aliases.toml"], "aliases", False),
    "factions bad id": (["run", "good", "--out", OUT, "--factions", "bad_id.toml"], "Martian Army", False),
    "baseline missing": (["run", "good", "--out", OUT, "--baseline", "nope.gpkg"], "nope.gpkg", False),
    "baseline shapefile without CRS": (["run", "good", "--out", OUT, "--baseline", "baselines/nocrs.shp"],
                                       "nocrs.shp", False),
    "baseline gpkg without CRS": (["run", "good", "--out", OUT, "--baseline", "baselines/nocrs.gpkg"],
                                  "nocrs.gpkg", False),
    "baseline without faction column": (["run", "good", "--out", OUT, "--baseline", "baselines/nocol.geojson"],
                                        "nocol.geojson", False),
    "baseline of points": (["run", "good", "--out", OUT, "--baseline", "baselines/points.geojson"],
                           "points.geojson", False),
    "baseline unknown faction": (["run", "good", "--out", OUT, "--baseline", "baselines/unknown.geojson"],
                                 "martians", False),
    "baseline broken gpkg": (["run", "good", "--out", OUT, "--baseline", "baselines/broken.gpkg"],
                             "broken.gpkg", False),
    "baseline broken geojson": (["run", "good", "--out", OUT, "--baseline", "baselines/broken.geojson"],
                                "broken.geojson", False),
    "build baseline without CRS": (["build", "events.csv", "--out", "OUT.gpkg", "--baseline",
                                    "baselines/nocrs.shp"], "nocrs.shp", False),
    "out is a file": (["run", "good", "--out", "a_file"], "a_file", False),
    "out below a file": (["run", "good", "--out", "a_file/sub"], "a_file", False),
    "out in a read-only folder": (["run", "good", "--out", "readonly/out"], "readonly", True),
    "region and bbox": (["run", "good", "--out", OUT, "--region", "Homs", "--bbox", "36,34,38,35"], "--region",
                        False),
    "overrides missing": (["run", "good", "--out", OUT, "--overrides", "nope.csv"], "nope.csv", False),
    "overrides malformed": (["run", "good", "--out", OUT, "--overrides", "bad_overrides.csv"], "bad_overrides.csv",
                            False),
    "build events missing column": (["build", "bad_events.csv", "--out", "OUT.gpkg"], "bad_events.csv", False),
    "build events not a table": (["build", "report.docx", "--out", "OUT.gpkg"], "report.docx", False),
    "render not a GeoPackage": (["render", "a_file", "--out", OUT], "a_file", False),
    "animate empty folder": (["animate", "empty", "--out", "OUT.gif"], "empty", False),
    "export missing GeoPackage": (["export", "nope.gpkg", "--out", OUT], "nope.gpkg", False),
    "extract no date": (["extract", "nodate", "--format", "jsonl"], "undated.txt", False),
    "geocode missing --file": (["geocode", "--file", "nope.txt"], "nope.txt", False),
}


@pytest.fixture(scope="module")
def mistakes(ws) -> dict:
    """Every mistake run once, concurrently; name -> (completed process, output path)."""
    env = cli_env(ws)
    jobs, outs = {}, {}
    # build needs an events table: a valid one, so only the baseline is wrong.
    (ws / "events.csv").write_text(
        "id,doc,doc_date,date,date_precision,actor,faction,action,place,place_id,place_name,lat,lon,precision,"
        "uncertainty_km,from_place,distance_km,bearing_deg,target,modality,confidence,sentence,start,end\n"
        "ev-1,a.txt,2017-11-02,2017-11-01,day,SAA,government,capture,Mayadin,173480,Mayadin,35.02,40.45,1,1,"
        ",,,,asserted,0.9,The SAA captured Mayadin.,8,15\n", encoding="utf-8")
    for i, (name, (args, _needle, no_dac)) in enumerate(MISTAKES.items()):
        out = ws / f"out{i}"
        outs[name] = out
        args = [str(out) if a == OUT else (str(ws / f"out{i}{a[3:]}") if a in ("OUT.gpkg", "OUT.gif") else a)
                for a in args]
        if no_dac:
            if NO_DAC is None:
                continue
            jobs[name] = (args, NO_DAC)
        else:
            jobs[name] = (args, None)
    results = run_many(jobs, ws, env)
    return {name: (results.get(name), outs[name]) for name in MISTAKES}


@pytest.mark.parametrize("name", list(MISTAKES))
def test_mistake_ends_in_one_line_and_nonzero_exit(mistakes, name):
    res, out = mistakes[name]
    if res is None:
        pytest.skip("running as root without setpriv: cannot make a file unreadable to this process")
    args, needle, _ = MISTAKES[name]
    assert res.returncode != 0, f"{name}: exit 0\n{res.stderr}"
    assert "Traceback" not in res.stderr, res.stderr
    lines = message_lines(res.stderr)
    assert len(lines) == 1, f"{name}: expected one line, got:\n{res.stderr}"
    assert needle in lines[0], f"{name}: {needle!r} not named in {lines[0]!r}"
    assert not (out / "events.csv").exists()


# -- one bad report among good ones -------------------------------------------------------------------

BAD_REPORTS: dict[str, bytes] = {
    "binary.txt": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 8,
    "empty.txt": b"",
    "blank.md": b"  \n\n\t\r\n",
    "nul_in_text.txt": ("The SDF captured Raqqa." + "\x00" * 40).encode(),
}

#: readable reports in awkward encodings and shapes: name -> bytes
ODD_REPORTS: dict[str, bytes] = {
    "cp1252.txt": ("Syria War Report – November 2, 2017\n\nOn November 1, the Syrian Arab Army captured "
                   "the village of al-Bukamal from ISIS, “a major blow” to the group.\n").encode("cp1252"),
    "latin1.txt": ("Rapport: le 1er novembre, the Syrian Arab Army captured Tabni from ISIS. Café, "
                   "naïve: bientôt.\n").encode("latin-1"),
    "bom.txt": "\ufeffThe Syrian Arab Army captured Sukhnah from ISIS.\n".encode(),
    "mixed_eol.txt": b"The Syrian Arab Army captured Tadmur from ISIS.\r\nThe SDF captured\r\n"
                     b"Raqqa from ISIS.\nIsis attacked Hajin.\rThe SDF captured Tabqa from ISIS.\n",
    "arabic.txt": ("سيطر الجيش السوري على مدينة الميادين. "
                   "The Syrian Arab Army captured Maadan from ISIS (معدان).\n").encode(),
}


def _pdf(text: str) -> bytes:
    """A real one-page PDF holding ``text`` (matplotlib's PDF backend embeds extractable text)."""
    import io

    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    fig = Figure(figsize=(8, 2))
    fig.text(0.02, 0.5, text)
    buf = io.BytesIO()
    fig.savefig(buf, format="pdf")
    return buf.getvalue()


#: Damaged PDFs: pypdf raises PdfReadError for some, TypeError/NotImplementedError/... for others.
DAMAGED_PDFS = ("truncated.pdf", "bad_filter.pdf", "header_only.pdf")


@pytest.fixture(scope="module")
def mixed_folder(ws) -> Path:
    folder = ws / "mixed"
    folder.mkdir()
    pdf = _pdf("The SDF captured Raqqa from ISIS on 2 November 2017.")
    (folder / "report.pdf").write_bytes(pdf)
    (folder / "truncated.pdf").write_bytes(pdf[: len(pdf) // 2])
    (folder / "bad_filter.pdf").write_bytes(pdf.replace(b"/FlateDecode", b"/SlateDecode"))
    (folder / "header_only.pdf").write_bytes(b"%PDF-1.4\n" + bytes(range(256)) * 4)
    (folder / "good.txt").write_text(GOOD_REPORT, encoding="utf-8")
    for name, raw in BAD_REPORTS.items():
        (folder / name).write_bytes(raw)
    for name, raw in ODD_REPORTS.items():
        (folder / name).write_bytes(raw)
    # One line of 2 MB: a scraped page with no line breaks (5 MB measured by hand: linear).
    filler = "The committee said talks would resume after the holiday, according to a statement seen by reporters. "
    event = "Clashes were reported between ISIS and the Syrian Arab Army near Hajin. "
    (folder / "one_line.txt").write_text(event + filler * (2_000_000 // len(filler)) + event, encoding="utf-8")
    (folder / "locked.txt").write_text(GOOD_REPORT, encoding="utf-8")
    (folder / "locked.txt").chmod(0)
    (folder / "manifest.csv").write_text(
        "file,date\n" + "\n".join(f"{p.name},2017-11-02" for p in sorted(folder.iterdir()) if p.is_file()) + "\n",
        encoding="utf-8")
    # A subfolder that cannot be read, and a named pipe (reading it would block for ever).
    (folder / "locked_dir").mkdir()
    (folder / "locked_dir" / "inner.txt").write_text(GOOD_REPORT, encoding="utf-8")
    (folder / "locked_dir").chmod(0)
    os.mkfifo(folder / "pipe.txt")
    return folder


@pytest.fixture(scope="module")
def mixed_run(ws, mixed_folder):
    prefix = NO_DAC if NO_DAC is not None else []
    res = run_cli(["extract", str(mixed_folder), "--format", "jsonl"], ws, cli_env(ws), prefix=prefix, timeout=300)
    events = [json.loads(line) for line in res.stdout.splitlines() if line.strip()]
    return res, events


def test_bad_reports_do_not_stop_the_good_ones(mixed_run):
    res, events = mixed_run
    assert res.returncode == 0, res.stderr
    assert "Traceback" not in res.stderr
    docs = {e["doc"] for e in events}
    assert "good.txt" in docs
    assert not {"pipe.txt", "inner.txt"} & docs
    places = {(e["doc"], e["place"]) for e in events}
    assert ("good.txt", "al-Khamisiya") in places


@pytest.mark.parametrize("name", [*BAD_REPORTS, *DAMAGED_PDFS, "locked.txt", "locked_dir"])
def test_each_bad_report_is_a_warning_naming_it(mixed_run, name):
    res, events = mixed_run
    if name.startswith("locked") and NO_DAC is None:
        pytest.skip("running as root without setpriv: the file stays readable")
    warnings = [line for line in res.stderr.splitlines() if "WARNING" in line and name in line]
    assert len(warnings) == 1, f"{name}: no single warning naming it:\n{res.stderr}"
    assert name not in {e["doc"] for e in events}


@pytest.mark.parametrize("name", [*ODD_REPORTS, "report.pdf"])
def test_awkward_encodings_are_read(mixed_run, name):
    res, events = mixed_run
    mine = [e for e in events if e["doc"] == name]
    assert mine, f"{name}: no event read\n{res.stderr}"
    for e in mine:
        # Offsets point into the cleaned text; the sentence holds no undecoded bytes or stray CRs.
        assert "\ufffd" not in e["sentence"] and "\r" not in e["sentence"] and "\ufeff" not in e["sentence"]


def test_encodings_decode_to_the_right_characters(mixed_run):
    _, events = mixed_run
    cp = [e for e in events if e["doc"] == "cp1252.txt"]
    assert any("“a major blow”" in e["sentence"] or "al-Bukamal" in e["place"] for e in cp)
    bom = [e for e in events if e["doc"] == "bom.txt"]
    assert bom and bom[0]["start"] >= 0 and not bom[0]["sentence"].startswith("\ufeff")


def test_mixed_line_endings_are_one_text(mixed_run):
    _, events = mixed_run
    places = {e["place"] for e in events if e["doc"] == "mixed_eol.txt"}
    assert {"Tadmur", "Tabqa"} <= places, places


def test_enormous_line_is_read(mixed_run):
    """5 MB without a line break does not hang the reader or the extractor (timeout above)."""
    _, events = mixed_run
    assert any(e["doc"] == "one_line.txt" for e in events)


def test_long_line_extraction_is_roughly_linear():
    """Work grows with the text, not its square: 8x the text costs well under 30x the CPU time.

    A ratio of CPU times on the same machine, not an absolute duration.
    """
    import datetime as dt
    import time

    from geo_control.extract import extract
    from geo_control.factions import FactionRegistry
    from geo_control.ingest import clean_text
    from geo_control.records import Document

    factions = FactionRegistry.default()
    sentence = "Clashes were reported between ISIS and the Syrian Arab Army near Hajin and al-Bukamal. "
    blob = "x" * 1000 + " "

    def cost(n: int, unit: str) -> float:
        text = clean_text(unit * n)
        doc = Document(name="long.txt", text=text, date=dt.date(2017, 11, 2), date_source="option", sha256="0")
        t = time.process_time()
        extract(doc, factions)
        return time.process_time() - t

    for unit, n in ((sentence, 600), (blob, 60)):
        cost(n // 4, unit)  # warm-up: regex compilation, lazy tables
        small, large = cost(n, unit), cost(8 * n, unit)
        assert large < 30 * max(small, 0.01), f"{unit[:10]!r}: {small:.3f}s -> {large:.3f}s for 8x the text"


def test_an_earlier_output_folder_among_the_reports_is_not_read(tmp_path):
    """`run reports --out reports/out` twice: the first run's map.html is not a report the second
    time, nor is anything in a hidden folder (a staging folder, .git)."""
    from geo_control.ingest import read_reports

    write_reports(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    for name in ("run.json", "control.gpkg", "events.csv"):
        (out / name).write_text("{}", encoding="utf-8")
    (out / "map.html").write_text("<html><body><p>The SDF captured Raqqa on 2 November 2017.</p></body></html>",
                                  encoding="utf-8")
    hidden = tmp_path / ".geo-control-staging-1"
    hidden.mkdir()
    (hidden / "map.html").write_text("<html><body>The SDF captured Raqqa.</body></html>", encoding="utf-8")
    assert sorted(d.name for d in read_reports([tmp_path])) == ["a.txt", "b.txt"]

"""Untrusted text: markup in reports (and in their file names) never runs in map.html.

A report holding ``<script>``, ``onerror=``/``onload=`` attributes and ``javascript:`` URLs is
run through the whole pipeline; the page is opened in headless Chromium with every popup and
tooltip rendered, and must show the markup as text, not run it. A control page, in which the
same payloads are un-escaped, proves that the harness would see them run.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from test_robustness_support import HOSTILE_NAME, reference_runs

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
TITLE = "geo_control: territorial control"

#: Opens every popup and tooltip of the map (Leaflet renders their content with innerHTML), copies
#: every popup's content into one container (only one popup stays open at a time), then records
#: whether any payload ran.
HARNESS = """
<script>
setTimeout(function () {
  var map = Object.values(window).find(function (v) { return v instanceof L.Map; });
  var box = document.createElement('div');
  box.id = 'gc-test-popups';
  document.body.appendChild(box);
  var popups = 0, tooltips = 0;
  map.eachLayer(function (layer) {
    if (layer.getPopup && layer.getPopup()) {
      layer.openPopup();
      var div = document.createElement('div');
      div.className = 'gc-test-popup';
      div.innerHTML = layer.getPopup().getContent();
      box.appendChild(div);
      popups++;
    }
    if (layer.getTooltip && layer.getTooltip()) { layer.openTooltip(); tooltips++; }
  });
  document.documentElement.setAttribute('data-popups', popups);
  document.documentElement.setAttribute('data-tooltips', tooltips);
}, 1500);
setTimeout(function () {
  document.documentElement.setAttribute('data-pwned', String(window.__pwned));
  document.documentElement.setAttribute('data-title', document.title);
}, 3500);
</script>
"""


@pytest.fixture(scope="module")
def ref(tmp_path_factory):
    return reference_runs(tmp_path_factory.mktemp("robust_ref"))


@pytest.fixture(scope="module")
def page(ref) -> str:
    return (ref["first"] / "map.html").read_text(encoding="utf-8")


def _dump_dom(html: str) -> str:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "map.html"
        path.write_text(html.replace("</html>", HARNESS + "</html>"), encoding="utf-8")
        res = subprocess.run(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
             f"--user-data-dir={tmp}/profile", "--virtual-time-budget=5000", "--window-size=1200,900",
             "--dump-dom", path.as_uri()],
            capture_output=True, text=True, timeout=120)
    assert res.returncode == 0 and "<html" in res.stdout, res.stderr[-2000:]
    return res.stdout


def _attr(dom: str, name: str) -> str | None:
    m = re.search(rf'<html[^>]*\s{name}="([^"]*)"', dom)
    return m.group(1) if m else None


def _live_payloads(dom: str) -> list[str]:
    """Elements a payload would have created (text shown as text is serialised with &lt;)."""
    patterns = (r"<img[^>]*onerror", r"<svg[^>]*onload", r"<a[^>]*href=\"javascript:", r"<pwned",
                r"<script>window\.__pwned")
    return [p for p in patterns if re.search(p, dom, re.IGNORECASE)]


def test_payloads_reach_the_page_as_text(ref, page):
    """The hostile sentences and file name made it into the events shown on the map."""
    events = (ref["first"] / "events.csv").read_text(encoding="utf-8")
    assert "<script>window.__pwned" in events and "onerror=" in events
    assert HOSTILE_NAME in events
    # In the page source they sit only as escaped JSON: no raw '<' inside the data.
    assert "<script>window.__pwned" not in page and "<img src=x" not in page
    assert "onerror" in page


def test_page_title_and_static_text_are_not_report_text(page):
    assert f"<title>{TITLE}</title>" in page


@pytest.mark.chromium
@pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium is not installed (apt-get install chromium)")
def test_no_payload_runs_in_chromium(page):
    dom = _dump_dom(page)
    assert int(_attr(dom, "data-popups") or 0) >= 3, "the harness found no popups to open"
    assert _attr(dom, "data-pwned") == "undefined", "a payload ran"
    assert _attr(dom, "data-title") == TITLE
    assert not _live_payloads(dom), _live_payloads(dom)
    # The payloads are shown, as text, in the rendered popups.
    popups = dom[dom.index('id="gc-test-popups"'):]
    assert "&lt;script&gt;window.__pwned=1" in popups
    assert "&lt;img src=x onerror=" in popups


def _unescaped(page: str) -> str:
    """The page with report text no longer escaped: what a naive popup would hold."""
    for escaped, raw in (("\\u0026lt;", "\\u003c"), ("\\u0026gt;", "\\u003e"), ("\\u0026quot;", '\\"'),
                         ("\\u0026#x27;", "'"), ("\\u0026amp;", "\\u0026")):
        page = page.replace(escaped, raw)
    return page


@pytest.mark.chromium
@pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium is not installed (apt-get install chromium)")
def test_control_unescaped_payload_is_caught_by_the_harness(page):
    """Without the escaping the same page runs the payload: the test above can fail."""
    control = _unescaped(page)
    assert control != page
    dom = _dump_dom(control)
    assert _attr(dom, "data-pwned") == "1"
    assert _live_payloads(dom)



def test_qgis_project_and_styles_stay_well_formed_xml(ref):
    """Report text that reaches the QGIS project or the layer styles is escaped XML."""
    import sqlite3
    import xml.etree.ElementTree as ET

    project = ref["first"] / "control.qgs"
    if project.exists():
        ET.parse(project)
    with sqlite3.connect(ref["first"] / "control.gpkg") as db:
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if "layer_styles" not in tables:
            pytest.skip("control.gpkg carries no layer_styles")
        for (qml,) in db.execute("SELECT styleQML FROM layer_styles"):
            ET.fromstring(qml)


def test_hostile_text_is_kept_verbatim_in_the_data_outputs(ref):
    """Escaping is the page's job: run.json, events.geojson and the GeoPackage keep the text as written."""
    import json

    import pyogrio

    run = json.loads((ref["first"] / "run.json").read_text(encoding="utf-8"))
    assert HOSTILE_NAME in json.dumps(run, ensure_ascii=False)
    features = json.loads((ref["first"] / "events.geojson").read_text(encoding="utf-8"))["features"]
    sentences = {f["properties"]["sentence"] for f in features}
    assert any("<script>window.__pwned=1;document.title='PWNED'</script>" in s for s in sentences)
    events = pyogrio.read_dataframe(ref["first"] / "control.gpkg", layer="events")
    assert set(events["sentence"]) == sentences
    assert HOSTILE_NAME in set(events["doc"])

"""Shared helpers of the robustness tests (no tests here): the CLI as a subprocess, tiny reports.

Robustness runs are kept small (one or two short reports dated by a manifest, one week) so the
whole robustness suite stays fast; the seeds would mean dozens of weekly maps.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

#: A short report with a capture, an advance and clashes, all in one week of November 2017.
GOOD_REPORT = """Syria War Report – November 2, 2017

On November 1, the Syrian Arab Army captured the village of al-Khamisiya from ISIS.
Government forces advanced 10km south of Mayadin. Clashes between ISIS and the SDF were
reported near Hajin.
"""

#: A second report of the same week.
SECOND_REPORT = """The SDF captured the village of Hajin from ISIS on Thursday, after heavy clashes.
Government forces besieged Mayadin.
"""

ROOT = Path(__file__).resolve().parent.parent


def write_reports(folder: Path) -> Path:
    """Two good reports and their manifest in ``folder``; returns the folder."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "a.txt").write_text(GOOD_REPORT, encoding="utf-8")
    (folder / "b.txt").write_text(SECOND_REPORT, encoding="utf-8")
    (folder / "manifest.csv").write_text("file,date\na.txt,2017-11-02\nb.txt,2017-11-03\n", encoding="utf-8")
    return folder


def cli_env(tmp: Path) -> dict[str, str]:
    """Environment of a CLI subprocess: the user's caches (the gazetteer index is built once), no
    PROJ paths pointing at a system PROJ."""
    env = dict(os.environ)
    env.pop("PROJ_DATA", None)
    env.pop("PROJ_LIB", None)
    return env


def command(*args: str) -> list[str]:
    return [sys.executable, "-m", "geo_control", *args]


def no_dac_prefix() -> list[str] | None:
    """A prefix that runs a command as root without the power to read or write any file
    (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH dropped), so chmod 000 bites; None if impossible.

    Root ignores file permissions, so `chmod 000` alone proves nothing when tests run as root.
    """
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if not setpriv:
        return None
    return [setpriv, "--bounding-set=-dac_override,-dac_read_search"]


def run_cli(args: list[str], cwd: Path, env: dict[str, str], prefix: list[str] | None = None,
            timeout: float = 240) -> subprocess.CompletedProcess:
    return subprocess.run([*(prefix or []), *command(*args)], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=timeout)


def run_many(jobs: dict[str, tuple[list[str], list[str] | None]], cwd: Path, env: dict[str, str],
             workers: int = 4) -> dict[str, subprocess.CompletedProcess]:
    """Run several CLI invocations at once (each is mostly interpreter start-up)."""
    with ThreadPoolExecutor(workers) as pool:
        futures = {name: pool.submit(run_cli, args, cwd, env, prefix) for name, (args, prefix) in jobs.items()}
        return {name: f.result() for name, f in futures.items()}


def message_lines(stderr: str) -> list[str]:
    """stderr lines that speak to the user: not click's usage hint, not INFO/DEBUG logging."""
    out = []
    for line in stderr.splitlines():
        s = line.strip()
        if not s or s.startswith(("Usage:", "Try '")):
            continue
        if s.startswith(("geo-control: INFO:", "geo-control: DEBUG:")):
            continue
        out.append(s)
    return out


def copy_tree(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (relative path -> bytes)."""
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


# -- reference runs, shared by the atomic, determinism and hostile-HTML tests ----------------------

#: Report text is untrusted: markup and javascript: URLs in the sentences shown in popups.
HOSTILE_REPORT = """Syria War Report – November 2, 2017

On November 1, the Syrian Arab Army <script>window.__pwned=1;document.title='PWNED'</script> captured \
the village of al-Khamisiya from ISIS <img src=x onerror="window.__pwned=1;document.body.appendChild(\
document.createElement('pwned'))">.
Government forces <a href="javascript:window.__pwned=1">javascript:window.__pwned=1</a> advanced 10km \
south of Mayadin towards javascript:alert(1).
Clashes between ISIS and the SDF <svg onload="window.__pwned=1"></svg> were reported near Hajin \
"><img src=x onerror=window.__pwned=1>.
"""
#: A file name is report text too: it is shown as the event's source.
HOSTILE_NAME = "<img src=x onerror=window.__pwned=1>.txt"

#: Files of the user's that share the output folder and must survive every run.
USER_FILES = {"notes.txt": b"my notes\n", "analysis/draft.qgz": b"PK\x03\x04 not ours",
              ".hidden": b"x", "events.csv.bak": b"old copy\n"}

_REFERENCE: dict[str, Path] = {}


def _cli_run(inputs: Path, out: Path, seed: str, extra: tuple[str, ...] = ()) -> subprocess.Popen:
    env = cli_env(out.parent)
    env["PYTHONHASHSEED"] = seed  # two runs with different hash seeds: no set-order leaks
    return subprocess.Popen(command("run", str(inputs), "--out", str(out), "--no-progress", "--no-cache", *extra),
                            cwd=out.parent, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


#: A run whose render fails half-way, after the tables, the GeoPackage and the heatmaps are written:
#: the weekly maps cannot be drawn (a full disk, a font or codec bug).
FAILING_RUN = """
import sys
import geo_control.render as render

def boom(*args, **kwargs):
    raise OSError(28, "No space left on device")

render.render_maps = boom
sys.argv = ["geo-control", *sys.argv[1:]]
from geo_control.cli import main
main()
"""


def previous_outputs(folder: Path) -> Path:
    """A small set of earlier outputs, as an earlier run would have left them."""
    import geopandas as gpd
    from shapely.geometry import Point, box

    folder.mkdir(parents=True)
    (folder / "events.csv").write_text("id,doc\nev-0,old.txt\n", encoding="utf-8")
    (folder / "events.geojson").write_text('{"type": "FeatureCollection", "features": []}\n', encoding="utf-8")
    (folder / "map.html").write_text("<html><body>last week's map</body></html>\n", encoding="utf-8")
    (folder / "run.json").write_text('{"version": "old"}\n', encoding="utf-8")
    for sub, name in (("maps", "2017-W40.png"), ("heatmaps", "2017-W40.tif")):
        (folder / sub).mkdir()
        (folder / sub / name).write_bytes(os.urandom(4096))
    gpd.GeoDataFrame({"faction": ["isis"]}, geometry=[box(40, 34.5, 40.5, 35)], crs="EPSG:4326").to_file(
        folder / "control.gpkg", layer="control", driver="GPKG")
    gpd.GeoDataFrame({"id": ["ev-0"]}, geometry=[Point(40.2, 34.7)], crs="EPSG:4326").to_file(
        folder / "control.gpkg", layer="events", driver="GPKG")
    return folder


def reference_runs(root: Path) -> dict:
    """The runs every heavy robustness test compares against, made once per session, side by side:

    ``first``: the good reports and a hostile one (markup in sentences and in a file name) into
    an empty folder; ``second``: a copy of the same reports, in another folder, into a folder that
    already holds the user's files (``USER_FILES``), with another hash seed; ``failed``: a folder of earlier outputs into which
    a run that fails while rendering wrote (it must be unchanged; ``failed_before`` holds its
    files before). ``*_log`` keys hold each run's stderr, ``*_rc`` its exit status.
    """
    if _REFERENCE:
        return _REFERENCE
    reports = write_reports(root / "reports")
    (reports / "hostile.txt").write_text(HOSTILE_REPORT, encoding="utf-8")
    (reports / HOSTILE_NAME).write_text(HOSTILE_REPORT.replace("al-Khamisiya", "Tabni"), encoding="utf-8")
    second = root / "second"
    for rel, raw in USER_FILES.items():
        (second / rel).parent.mkdir(parents=True, exist_ok=True)
        (second / rel).write_bytes(raw)
    failed = previous_outputs(root / "failed")
    failed_before = snapshot(failed)
    env = cli_env(root)
    # The second run reads a copy of the reports elsewhere: paths must not leak into the tables.
    elsewhere = copy_tree(reports, root / "elsewhere" / "copy of reports")
    procs = {
        "first": _cli_run(reports, root / "first", "1"),
        "second": _cli_run(elsewhere, second, "2"),
        "failed": subprocess.Popen([sys.executable, "-c", FAILING_RUN, "run", str(reports), "--out", str(failed),
                                    "--no-progress", "--no-cache"], cwd=root, env=env, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, text=True),
    }
    ref: dict = {"reports": reports, "first": root / "first", "second": second, "failed": failed,
                 "failed_before": failed_before}
    for name, proc in procs.items():
        _, err = proc.communicate(timeout=600)
        ref[f"{name}_log"], ref[f"{name}_rc"] = err, proc.returncode
        if name != "failed" and proc.returncode != 0:
            raise AssertionError(f"reference run {name} failed:\n{err}")
    _REFERENCE.update(ref)
    return _REFERENCE

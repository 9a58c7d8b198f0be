"""The command line as users meet it: help with examples, one-line errors, exit codes."""

from __future__ import annotations

import subprocess
import sys

import pytest

from geo_control.cli import COMMANDS


def geo_control(*args, **kw):
    return subprocess.run([sys.executable, "-m", "geo_control", *args], capture_output=True, text=True,
                          timeout=300, **kw)


def test_top_level_help_lists_every_command():
    res = geo_control("--help")
    assert res.returncode == 0
    for name in COMMANDS:
        assert name in res.stdout


@pytest.mark.parametrize("name", list(COMMANDS))
def test_every_command_has_help_with_an_example(name):
    res = geo_control(name, "--help")
    assert res.returncode == 0, res.stderr
    assert "Example" in res.stdout


def test_help_does_not_import_heavy_libraries():
    code = ("import sys; from geo_control.cli import cli; "
            "import click.testing as t; t.CliRunner().invoke(cli, ['--help']); "
            "print(','.join(m for m in ('matplotlib', 'folium', 'geopandas', 'rasterio') if m in sys.modules))")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert res.stdout.strip() == "", res.stdout


@pytest.mark.parametrize(
    "args, needle",
    [
        (["run", "no/such/folder", "--out", "OUT"], "no/such/folder"),
        (["run", "seeds", "--out", "OUT", "--bbox", "1,2,3"], "--bbox"),
        (["run", "seeds", "--out", "OUT", "--bbox", "40,36,39,35"], "--bbox"),
        (["run", "seeds", "--out", "OUT", "--bbox", "1,2,3,4"], "outside the region"),
        (["run", "seeds", "--out", "OUT", "--region", "Homs", "--bbox", "36,34,38,35"], "--region"),
        (["run", "seeds", "--out", "OUT", "--from", "2017-13-01"], "--from"),
        (["run", "seeds", "--out", "OUT", "--date", "yesterday"], "YYYY-MM-DD"),
    ],
)
def test_user_mistakes_end_in_one_line_and_nonzero_exit(tmp_path, args, needle):
    args = [a.replace("OUT", str(tmp_path / "out")) for a in args]
    res = geo_control(*args)
    assert res.returncode != 0
    assert "Traceback" not in res.stderr
    lines = [line for line in res.stderr.splitlines() if line.strip() and not line.startswith(("Usage:", "Try "))]
    assert len(lines) == 1, res.stderr
    assert needle in lines[0]
    assert not (tmp_path / "out" / "events.csv").exists()

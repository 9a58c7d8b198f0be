"""Atomic outputs: a failed or killed run leaves the previous outputs whole; other files survive.

A laptop that sleeps, a Ctrl-C, an OOM kill or a full disk must never cost a user the maps of
their last good run.
"""

from __future__ import annotations

import csv
import io
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_robustness_support import (
    USER_FILES,
    cli_env,
    command,
    copy_tree,
    message_lines,
    reference_runs,
    snapshot,
)

from geo_control.records import EVENT_COLUMNS


@pytest.fixture(scope="module")
def ref(tmp_path_factory):
    return reference_runs(tmp_path_factory.mktemp("robust_ref"))


def assert_outputs_readable(out: Path, consistent: bool = True) -> None:
    """The outputs in ``out`` parse: events.csv, events.geojson, control.gpkg, the maps; with
    ``consistent``, the three tables hold the same events."""
    import json

    import pyogrio

    rows = list(csv.reader(io.StringIO((out / "events.csv").read_text(encoding="utf-8"))))
    assert rows[0] == list(EVENT_COLUMNS) and len(rows) > 1
    features = json.loads((out / "events.geojson").read_text(encoding="utf-8"))["features"]
    layers = {name for name, _ in pyogrio.list_layers(out / "control.gpkg")}
    assert {"events", "control"} <= layers
    gpkg_events = pyogrio.read_dataframe(out / "control.gpkg", layer="events")
    if consistent:
        assert len(features) == len(gpkg_events) == len(rows) - 1
    assert list((out / "maps").glob("*.png")) and list((out / "heatmaps").glob("*.tif"))
    assert (out / "map.html").read_text(encoding="utf-8").rstrip().endswith("</html>")


def test_reference_run_outputs_are_readable(ref):
    assert_outputs_readable(ref["first"])


def test_a_run_failing_mid_render_leaves_previous_outputs_byte_identical(ref):
    assert ref["failed_rc"] != 0, ref["failed_log"]
    # A system error is one line too, not a traceback.
    assert "Traceback" not in ref["failed_log"], ref["failed_log"]
    assert len(message_lines(ref["failed_log"])) == 1, ref["failed_log"]
    assert "No space left on device" in ref["failed_log"]
    assert snapshot(ref["failed"]) == ref["failed_before"]
    assert not [p for p in ref["failed"].iterdir() if p.name.startswith(".geo-control-")]


def test_out_into_a_folder_of_other_files_keeps_them(ref):
    second = ref["second"]
    for rel, raw in USER_FILES.items():
        assert (second / rel).read_bytes() == raw, rel
    assert_outputs_readable(second)
    assert not [p for p in second.iterdir() if p.name.startswith(".geo-control-")]


KILL_AFTER_S = (0.5, 2.0, 4.0, 6.5, 9.0)


#: Ctrl-C (SIGINT) after this many seconds.
INTERRUPT_AFTER_S = 5.0


def _default_sigint() -> None:
    # A test run started in the background by a non-interactive shell inherits SIGINT ignored,
    # and Python then never turns Ctrl-C into KeyboardInterrupt: give the run the default.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.fixture(scope="module")
def killed(ref, tmp_path_factory):
    """Runs over the previous outputs, SIGKILLed at several moments (and one Ctrl-C); they run
    side by side. t -> (output folder, finished before the signal, exit status, stderr)."""
    root = tmp_path_factory.mktemp("robust_kill")
    procs = []
    for t, sig in [*((t, signal.SIGKILL) for t in KILL_AFTER_S), (INTERRUPT_AFTER_S, signal.SIGINT)]:
        out = copy_tree(ref["first"], root / f"out_{sig.name}_{t}")
        # A different report set, so an output that changed would show it.
        proc = subprocess.Popen(command("run", str(ref["reports"] / "b.txt"), "--out", str(out), "--no-progress",
                                        "--no-cache", "--date", "2017-11-09"),
                                cwd=root, env=cli_env(root), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                text=True, preexec_fn=_default_sigint)
        procs.append((t, sig, time.monotonic(), proc, out))
    results = {}
    for t, sig, started, proc, out in sorted(procs, key=lambda p: p[0]):
        time.sleep(max(0.0, started + t - time.monotonic()))
        finished = proc.poll() is not None
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=120)
        results[(sig, t)] = (out, finished, proc.returncode, err)
    return results


@pytest.mark.parametrize("t", KILL_AFTER_S)
def test_a_run_killed_at_any_moment_leaves_previous_outputs_whole(ref, killed, t):
    out, finished, _, _ = killed[(signal.SIGKILL, t)]
    if finished:
        pytest.skip(f"the run finished before {t}s: nothing to interrupt")
    before = snapshot(ref["first"])
    after = {k: v for k, v in snapshot(out).items() if not k.startswith(".geo-control-")}
    # Every previous output is still there, and each file is whole: either untouched or, if the
    # kill came while files were moved into place, the new run's complete file.
    assert set(before) <= set(after) | {k for k in before if k.startswith(("maps/", "heatmaps/"))}
    assert_outputs_readable(out)


def test_ctrl_c_is_one_line_and_leaves_previous_outputs_byte_identical(ref, killed):
    out, finished, code, err = killed[(signal.SIGINT, INTERRUPT_AFTER_S)]
    if finished:
        pytest.skip(f"the run finished before {INTERRUPT_AFTER_S}s: nothing to interrupt")
    # 130, or killed by SIGINT itself when Python re-raises it at exit: a shell shows 130 for both.
    assert code in (130, -signal.SIGINT), err
    assert "Traceback" not in err, err
    assert [line for line in err.splitlines() if "interrupted" in line], err
    assert snapshot(out) == snapshot(ref["first"])  # no staging folder left either


# -- the moves themselves, killed between any two renames -------------------------------------------

KILL_AT_RENAME = """
import os, shutil, signal, sys
from pathlib import Path
from geo_control.export import staged_output

new, base, n = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
real_replace = os.replace


def move_and_die_at(k, out):
    # Move new into out, SIGKILLed just before the k-th rename (os.replace or exchange).
    from geo_control.export import staging

    calls = 0
    real_exchange = staging._exchange

    def counted(real):
        def call(*args):
            nonlocal calls
            calls += 1
            if calls == k:
                os.kill(os.getpid(), signal.SIGKILL)
            return real(*args)
        return call

    os.replace = counted(real_replace)
    staging._exchange = counted(real_exchange)
    with staged_output(out) as stage:
        shutil.copytree(new, stage, dirs_exist_ok=True)
    return calls


if n == 0:  # count the renames of a whole move over earlier outputs
    print(move_and_die_at(0, base / "k0"))
    sys.exit(0)
for k in range(1, n + 1):
    pid = os.fork()  # one child per kill point; the imports are paid once
    if pid == 0:
        move_and_die_at(k, base / f"k{k}")
        os._exit(0)
    _, status = os.waitpid(pid, 0)
    print(k, os.waitstatus_to_exitcode(status))
"""


@pytest.fixture(scope="module")
def new_version(ref, tmp_path_factory) -> Path:
    """The outputs of another run (the second reference run, without the user's files)."""
    new = tmp_path_factory.mktemp("robust_new")
    for rel, raw in snapshot(ref["second"]).items():
        if rel in USER_FILES:
            continue
        (new / rel).parent.mkdir(parents=True, exist_ok=True)
        (new / rel).write_bytes(raw)
    # A table that differs from the first run's, so a half-moved state can be told apart.
    lines = (new / "events.csv").read_bytes().splitlines(keepends=True)
    (new / "events.csv").write_bytes(b"".join(lines[:-1]))
    return new


@pytest.mark.skipif(not sys.platform.startswith("linux"),
                    reason="folders are swapped atomically with Linux renameat2; elsewhere in two renames")
def test_killed_between_any_two_renames_previous_outputs_stay_whole(ref, new_version, tmp_path):
    """SIGKILL at each os.replace of the final moves: every output file is whole (old or new),
    no output is missing, and the next run clears the leftovers."""
    from geo_control.export import staged_output

    script = [sys.executable, "-c", KILL_AT_RENAME, str(new_version), str(tmp_path)]
    copy_tree(ref["first"], tmp_path / "k0")
    res = subprocess.run([*script, "0"], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    n = int(res.stdout)
    assert n >= 5
    for k in range(1, n + 1):
        copy_tree(ref["first"], tmp_path / f"k{k}")
    res = subprocess.run([*script, str(n)], capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    codes = dict(line.split() for line in res.stdout.splitlines())
    before = snapshot(ref["first"])
    new = snapshot(new_version)
    for k in range(1, n + 1):
        out = tmp_path / f"k{k}"
        assert codes[str(k)] == str(-signal.SIGKILL)
        after = {r: v for r, v in snapshot(out).items() if not r.startswith(".geo-control-")}
        top = {r.split("/")[0] for r in after}
        missing = {r.split("/")[0] for r in before} - top
        assert not missing, f"killed at rename {k} of {n}: {sorted(missing)} gone from the output folder"
        for rel, raw in after.items():
            assert raw in (before.get(rel), new.get(rel)), f"killed at rename {k}: {rel} is neither old nor new"
        # Files are replaced one by one: between two renames the set mixes the two runs.
        assert_outputs_readable(out, consistent=False)
        # The next run removes what the killed one left behind.
        with staged_output(out):
            pass
        assert not [p for p in out.iterdir() if p.name.startswith(".geo-control-")]

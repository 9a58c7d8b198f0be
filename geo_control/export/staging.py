"""Atomic output: everything is written into a hidden staging folder, then moved into place.

An interrupted or failed run leaves the previous outputs whole; a successful one replaces
exactly the files and folders it produced, and nothing else in the output folder.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

from geo_control.errors import OutputError

log = logging.getLogger(__name__)

STAGING_PREFIX = ".geo-control-staging-"
_OLD_PREFIX = ".geo-control-old-"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by someone else
        return True
    return True


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def _clean_stale(out_dir: Path) -> None:
    """Remove staging/old folders left by runs that were killed (their process is gone)."""
    for entry in out_dir.iterdir():
        for prefix in (STAGING_PREFIX, _OLD_PREFIX):
            if entry.name.startswith(prefix):
                pid = entry.name[len(prefix):].split("-")[0]
                if pid.isdigit() and int(pid) != os.getpid() and not _pid_alive(int(pid)):
                    log.info("removing %s left by an interrupted run", entry)
                    _remove(entry)


def _move_into_place(item: Path, target: Path) -> None:
    """Move ``item`` to ``target``: files with one os.replace, folders by a swap."""
    if item.is_dir():
        old = None
        if target.exists() or target.is_symlink():
            old = target.with_name(f"{_OLD_PREFIX}{os.getpid()}-{target.name}")
            _remove(old)
            os.replace(target, old)
        try:
            os.replace(item, target)
        except OSError:
            if old is not None:  # put the previous folder back before failing
                os.replace(old, target)
            raise
        if old is not None:
            _remove(old)
    else:
        if target.is_dir() and not target.is_symlink():
            shutil.rmtree(target)
        os.replace(item, target)


@contextlib.contextmanager
def staged_output(out_dir: str | Path) -> Iterator[Path]:
    """Yield a staging folder inside ``out_dir``; on success move what it holds into ``out_dir``.

    Files are replaced one by one with ``os.replace`` (atomic on one file system); folders
    such as ``maps/`` are swapped whole, so a finished run never mixes weeks of two runs.
    On an exception the staging folder is removed and ``out_dir`` is left as it was.
    Files in ``out_dir`` that the run did not produce are never touched.

    Raises
    ------
    OutputError
        When ``out_dir`` cannot be created or written.
    """
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise OutputError(f"{out}: exists and is not a folder; give --out a folder path") from None
    except OSError as exc:
        raise OutputError(
            f"{out}: cannot create the output folder ({exc.strerror}); choose a writable --out folder"
        ) from None
    if not out.is_dir():
        raise OutputError(f"{out}: exists and is not a folder; give --out a folder path")
    stage = out / f"{STAGING_PREFIX}{os.getpid()}"
    try:
        _clean_stale(out)
        _remove(stage)
        stage.mkdir()
    except OSError as exc:
        raise OutputError(
            f"{out}: cannot write into the output folder ({exc.strerror}); "
            "fix its permissions or choose another --out folder"
        ) from None
    try:
        yield stage
    except BaseException:
        _remove(stage)
        raise
    try:
        # Sorted so the moves happen in the same order every time.
        for item in sorted(stage.iterdir()):
            _move_into_place(item, out / item.name)
    finally:
        _remove(stage)

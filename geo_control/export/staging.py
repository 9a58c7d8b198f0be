"""Atomic output: everything is written into a hidden staging folder, then moved into place.

An interrupted or failed run leaves the previous outputs whole; a successful one replaces
exactly the files and folders it produced, and nothing else in the output folder.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import logging
import os
import shutil
import sys
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
    """Remove staging/old folders left by runs that were killed (their process is gone).

    A previous folder set aside by a run killed before its replacement moved in is put back.
    """
    for entry in sorted(out_dir.iterdir()):
        for prefix in (STAGING_PREFIX, _OLD_PREFIX):
            if entry.name.startswith(prefix):
                pid, _, name = entry.name[len(prefix):].partition("-")
                if pid.isdigit() and int(pid) != os.getpid() and not _pid_alive(int(pid)):
                    if prefix == _OLD_PREFIX and name and not (out_dir / name).exists():
                        log.info("restoring %s set aside by an interrupted run", out_dir / name)
                        os.replace(entry, out_dir / name)
                        continue
                    log.info("removing %s left by an interrupted run", entry)
                    _remove(entry)


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one atomic step (Linux ``renameat2(RENAME_EXCHANGE)``).

    False where the system or file system cannot; the caller then swaps in two renames.
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    at_fdcwd, rename_exchange = -100, 2
    if renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP, errno.ENOTSUP):
        return False
    raise OSError(err, os.strerror(err), str(b))


def _move_into_place(item: Path, target: Path) -> None:
    """Move ``item`` to ``target``: files with one os.replace, folders by a swap."""
    if item.is_dir():
        # A killed run must never leave the output without the folder (maps/ between two renames).
        if target.is_dir() and not target.is_symlink() and _exchange(item, target):
            _remove(item)  # now the previous folder
            return
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

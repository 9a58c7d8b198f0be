"""``read_reports``: report files and folders -> cleaned, dated ``Document`` objects.

The only code that opens reports. Text is decoded (UTF-8 with or without BOM, else cp1252),
extracted from HTML (beautifulsoup4) or PDF (pypdf), then cleaned: PDF debris lines, reader
comment sections and web boilerplate are dropped, so no event can come from them. The report
date comes from ``manifest.csv`` (wins), else from the text, else ``default_date``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Protocol

from geo_control.errors import InputError, ManifestError, MissingInputError, ReportDateError
from geo_control.ingest.clean import clean_text
from geo_control.ingest.manifest import ManifestRow, read_manifest
from geo_control.ingest.readers import SUFFIXES, looks_binary, read_text
from geo_control.ingest.textdate import find_report_date
from geo_control.records import Document

__all__ = ["read_reports", "clean_text", "find_report_date", "SUFFIXES"]

log = logging.getLogger(__name__)


class KnownReport(Protocol):
    """What an earlier run learned from a report file's text (``geo_control.cache.Known``)."""

    @property
    def date(self) -> dt.date: ...
    @property
    def date_source(self) -> str: ...
    @property
    def title(self) -> str: ...  # the text's first line


#: ``known(file name, sha256 of its bytes, manifest date) -> KnownReport | None``: lets a
#: cache skip decoding and cleaning a report it has seen.
Known = Callable[[str, str, "dt.date | None"], "KnownReport | None"]


def _expand(paths: Sequence[str | Path]) -> list[tuple[Path, dict[str, ManifestRow]]]:
    """Every report file named or found in the folders named, with its folder's manifest."""
    if isinstance(paths, (str, Path)):
        paths = [paths]
    if not paths:
        raise InputError("no input given; name report files or folders, e.g. geo-control run seeds")
    found: list[tuple[Path, dict[str, ManifestRow]]] = []
    for raw in paths:
        path = Path(raw)
        if not path.exists():
            raise MissingInputError(f"{path}: no such file or folder; check the path")
        if path.is_dir():
            manifest = read_manifest(path / "manifest.csv") if (path / "manifest.csv").is_file() else {}
            everything = _walk(path)
            files = sorted(p for p in everything if p.suffix.lower() in SUFFIXES)
            if not files:
                raise MissingInputError(
                    f"{path}: folder holds no reports ({', '.join(SUFFIXES)}); add reports or name another folder"
                )
            present = {f.relative_to(path).as_posix() for f in everything} | {f.name for f in files}
            for name in manifest:
                if name not in present:
                    raise ManifestError(f"{path / 'manifest.csv'}: row '{name}' names no file in {path}; "
                                        "fix the file name or delete the row")
            for f in files:
                key = f.relative_to(path).as_posix()
                rows = {key: manifest[key]} if key in manifest else (
                    {key: manifest[f.name]} if f.name in manifest else {})
                found.append((f, {f.name: rows[key]} if rows else {}))
        else:
            _check_format(path)
            manifest = {}
            m = path.parent / "manifest.csv"
            if m.is_file():
                rows = read_manifest(m)
                if path.name in rows:
                    manifest = {path.name: rows[path.name]}
            found.append((path, manifest))
    return found


def _walk(folder: Path) -> list[Path]:
    """Every regular file under ``folder``; a subfolder that cannot be read is a warning, not a gap."""
    def warn(exc: OSError) -> None:
        log.warning("%s: cannot read the folder (%s); its reports are skipped", exc.filename, exc.strerror)

    found: list[Path] = []
    for dirpath, dirs, names in os.walk(folder, onerror=warn):
        here = Path(dirpath)
        if here != folder and {"run.json", "control.gpkg"} <= set(names):
            # An earlier run's --out inside the reports folder: its map.html is not a report.
            log.info("%s: outputs of an earlier run; not read as reports", here)
            dirs[:] = []
            continue
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))  # .git, a run's staging folder
        found.extend(here / name for name in names)
    return [p for p in found if p.is_file()]  # not FIFOs or sockets: reading them would block


def _check_format(path: Path) -> None:
    """A file named on the command line in a format no reader handles (.docx, .xlsx) stops the run."""
    if not path.is_file():
        raise InputError(f"{path}: not a regular file (a pipe or device); name report files or folders")
    if path.suffix.lower() in SUFFIXES:
        return
    try:
        with path.open("rb") as fh:
            head = fh.read(4096)
    except OSError:
        return  # read_report says why
    if looks_binary(head):
        raise InputError(f"{path}: {path.suffix or 'this'} files are not reports this tool reads; "
                         f"save it as text or PDF ({', '.join(SUFFIXES)})")


def read_report(path: Path, default_date: dt.date | None = None,
                manifest_row: ManifestRow | None = None, known: Known | None = None) -> Document | None:
    """One report as a Document, or None (with a warning) when it holds no readable text.

    With ``known``, a report file seen before (same name, bytes and manifest date) is not
    decoded: its Document comes without text (``text == ""``), the cache holds its rows.
    """
    try:
        raw = path.read_bytes()
    except OSError as exc:
        log.warning("%s: cannot read the report (%s); skipped", path, exc.strerror)
        return None
    sha = hashlib.sha256(raw).hexdigest()
    if known is not None:
        doc = _known_document(path, sha, default_date, manifest_row, known)
        if doc is not None:
            return doc
    text = read_text(path, raw)
    if text is None:
        return None
    text = clean_text(text)
    if not text.strip():
        log.warning("%s: no text left after cleaning; skipped", path)
        return None
    if manifest_row is not None and manifest_row.date is not None:
        date, source = manifest_row.date, "manifest"
    else:
        found = find_report_date(text)
        if found is not None:
            date, source = found, "text"
        elif default_date is not None:
            date, source = default_date, "option"
        else:
            raise ReportDateError(
                f"{path}: no report date in the text and none given; add a row '{path.name},YYYY-MM-DD' "
                f"to {path.parent / 'manifest.csv'} (header 'file,date') or pass --date YYYY-MM-DD"
            )
    return Document(
        name=path.name,
        text=text,
        date=date,
        date_source=source,
        sha256=sha,
        source=manifest_row.source if manifest_row else "",
        title=(manifest_row.title if manifest_row and manifest_row.title else first_line(text)),
        path=str(path),
    )


def _known_document(path: Path, sha: str, default_date: dt.date | None, manifest_row: ManifestRow | None,
                    known: Known) -> Document | None:
    """The text-less Document of a report file ``known`` has seen, dated as ``read_report`` would."""
    row_date = manifest_row.date if manifest_row is not None else None
    seen = known(path.name, sha, row_date)
    if seen is None:
        return None
    if row_date is not None:
        if (seen.date, seen.date_source) != (row_date, "manifest"):
            return None
    elif seen.date_source == "option":
        if seen.date != default_date:  # dated by --date, which changed: read it again
            return None
    elif seen.date_source != "text":
        return None
    return Document(
        name=path.name,
        text="",
        date=seen.date,
        date_source=seen.date_source,
        sha256=sha,
        source=manifest_row.source if manifest_row else "",
        title=(manifest_row.title if manifest_row and manifest_row.title else seen.title),
        path=str(path),
    )


def first_line(text: str) -> str:
    """A report's title when its manifest gives none: its first non-blank line."""
    for line in text.splitlines():
        line = line.strip(" #*\t")
        if line:
            return line[:200]
    return ""


def iter_reports(paths: Sequence[str | Path] | Iterable[str | Path],
                 default_date: dt.date | None = None, known: Known | None = None) -> tuple[int, Iterator[Document]]:
    """The number of report files under ``paths`` and an iterator over their Documents.

    For years of reporting the run reads, extracts and geocodes one document after another,
    so the texts are never all in memory together. Missing paths and empty folders raise at
    once (before any report is read); a report without a date raises when the iterator
    reaches it; unreadable files are skipped with a warning. ``known`` (a cache's lookup)
    spares decoding and cleaning the reports it has seen (see ``read_report``).
    """
    paths = [paths] if isinstance(paths, (str, Path)) else list(paths)
    expanded = _expand(paths)

    def documents() -> Iterator[Document]:
        n = 0
        for path, manifest in expanded:
            doc = read_report(path, default_date, manifest.get(path.name), known)
            if doc is not None:
                n += 1
                yield doc
        if not n:
            raise InputError(
                f"no readable report in {', '.join(str(p) for p in paths)}: every file was empty or binary; "
                "give text, Markdown, HTML or PDF reports"
            )

    return len(expanded), documents()


def read_reports(paths: Sequence[str | Path] | Iterable[str | Path],
                 default_date: dt.date | None = None) -> list[Document]:
    """Read report files and folders into Documents, in a stable order.

    Parameters
    ----------
    paths : files (.txt, .md, .html, .pdf) or folders of them; a folder may hold manifest.csv.
    default_date : the report date of reports dated neither by a manifest nor by their text.

    Raises
    ------
    MissingInputError : a path does not exist, or a folder holds no reports.
    ReportDateError : a report has no date anywhere and no ``default_date``.
    """
    return list(iter_reports(paths, default_date)[1])

"""Reports one at a time: ``ingest``'s reading, as a stream for long corpora.

``ingest.read_reports`` returns every document at once; for years of reporting the run reads,
extracts and geocodes one document after another instead, so the texts are never all in
memory together. Files, order, cleaning, dates and errors are exactly ``read_reports``'s: this
module only reuses ingest's functions.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from pathlib import Path

from geo_control.errors import InputError
from geo_control.records import Document


def iter_reports(paths: Sequence[str | Path],
                 default_date: dt.date | None = None) -> tuple[int, Iterator[Document]]:
    """The number of report files under ``paths`` and an iterator over their Documents.

    Missing paths and empty folders raise at once (before any report is read); a report
    without a date raises when the iterator reaches it; unreadable files are skipped with a
    warning, as in ``read_reports``.
    """
    from geo_control.ingest import _expand, read_report

    paths = [paths] if isinstance(paths, (str, Path)) else list(paths)
    expanded = _expand(paths)

    def documents() -> Iterator[Document]:
        n = 0
        for path, manifest in expanded:
            doc = read_report(path, default_date, manifest.get(path.name))
            if doc is not None:
                n += 1
                yield doc
        if not n:
            raise InputError(
                f"no readable report in {', '.join(str(p) for p in paths)}: every file was empty or "
                "binary; give text, Markdown, HTML or PDF reports"
            )

    return len(expanded), documents()

"""Extraction (and geocoding) of many documents, on several cores when asked.

Worker processes are forked after the faction registry and gazetteer are loaded, so they
share them instead of loading their own; results come back in document order.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence

from geo_control.factions import FactionRegistry
from geo_control.forkpool import can_fork, fork_pool
from geo_control.records import Document, Statement

log = logging.getLogger(__name__)

_SHARED: dict[str, object] = {}


def _one(doc: Document):
    from geo_control.extract import extract

    statements = extract(doc, _SHARED["factions"])  # type: ignore[arg-type]
    gazetteer = _SHARED.get("gazetteer")
    if gazetteer is None:
        return statements, None
    from geo_control.geocode import locate

    events, _ = locate(statements, gazetteer, doc_text=doc.text)  # type: ignore[arg-type]
    return statements, events


def extract_all(documents: Sequence[Document], factions: FactionRegistry, jobs: int = 1, gazetteer=None):
    """[(statements, events table or None)] per document, in order.

    ``jobs`` > 1 forks that many workers (where fork exists); ``gazetteer`` given, each
    document's statements are also geocoded with ``geocode.locate``.
    """
    _SHARED.update(factions=factions, gazetteer=gazetteer)
    try:
        jobs = max(1, min(jobs, len(documents)))
        if jobs == 1 or not can_fork() or len(documents) < 4:
            return [_one(d) for d in documents]
        chunk = max(1, len(documents) // (jobs * 8))
        with fork_pool(jobs) as pool:
            return pool.map(_one, documents, chunksize=chunk)
    finally:
        _SHARED.clear()


def default_jobs() -> int:
    return max(1, min(2, os.cpu_count() or 1))


__all__ = ["extract_all", "default_jobs", "Statement"]

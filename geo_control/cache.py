"""The incremental cache: each document's events and unresolved mentions, reused across runs.

Re-running after adding this week's reports extracts and geocodes only the new ones. An entry
is keyed by everything its rows depend on:

- the document: file checksum, a digest of the cleaned text, its name and report date;
- the tool: the package version and a digest of the source of the stages that produce events
  (``extract``, ``geocode``, ``records``, ``factions``, ``crs``), so an edited checkout never
  reuses stale rows;
- the faction registry's content (ids, labels, colours, aliases);
- the gazetteer data (``gazetteer/``, ``boundaries/``, ``hydro/`` of the data folder) and the
  overrides file.

Entries live in ``$GEO_CONTROL_CACHE/docs/`` (default ``~/.cache/geo_control/docs/``), never in
the repository, one pickle per document, written to a temporary name and moved into place.
An entry that cannot be read (truncated, foreign, wrong schema) is ignored and rebuilt.
The pickles are this user's own files; the folder must not be shared with untrusted users.
"""

from __future__ import annotations

import hashlib
import logging
import pickle
from functools import lru_cache
from pathlib import Path

import pandas as pd

import geo_control
from geo_control.diskcache import cache_home, save_pickle
from geo_control.factions import FactionRegistry
from geo_control.records import EVENT_COLUMNS, UNRESOLVED_COLUMNS, Document

log = logging.getLogger(__name__)

#: Bump when the entry layout changes.
FORMAT = 1
#: Sources whose code decides the events of a document.
_EVENT_CODE = ("extract", "geocode", "records.py", "factions.py", "crs.py")
#: Data folders the gazetteer is built from.
_GAZETTEER_DATA = ("gazetteer", "boundaries", "hydro")


def cache_root() -> Path:
    """``$GEO_CONTROL_CACHE/docs`` or ``~/.cache/geo_control/docs``."""
    return cache_home() / "docs"


def _hash_files(h, root: Path, paths) -> None:
    for p in sorted(paths):
        h.update(str(p.relative_to(root)).encode())
        h.update(b"\0")
        h.update(hashlib.sha256(p.read_bytes()).digest())


@lru_cache(maxsize=1)
def tool_version() -> str:
    """Package version plus a digest of the event-producing code."""
    pkg = Path(geo_control.__file__).resolve().parent
    h = hashlib.sha256(geo_control.__version__.encode())
    files = []
    for name in _EVENT_CODE:
        p = pkg / name
        files += sorted(p.rglob("*.py")) if p.is_dir() else ([p] if p.exists() else [])
    _hash_files(h, pkg, files)
    return f"{geo_control.__version__}+{h.hexdigest()[:16]}"


def factions_digest(factions: FactionRegistry) -> str:
    """Content hash of a faction registry (order-independent)."""
    h = hashlib.sha256()
    for fid in sorted(factions.factions):
        f = factions.factions[fid]
        h.update("\x1f".join((f.id, f.label, f.colour, *f.aliases)).encode())
        h.update(b"\x1e")
    return h.hexdigest()[:16]


def gazetteer_digest(data_dir: Path, overrides: str | Path | None = None) -> str:
    """Content hash of the gazetteer data of ``data_dir`` and the overrides file."""
    data_dir = Path(data_dir)
    h = hashlib.sha256()
    for sub in _GAZETTEER_DATA:
        folder = data_dir / sub
        if folder.is_dir():
            _hash_files(h, data_dir, [p for p in folder.rglob("*") if p.is_file()])
    if overrides:
        h.update(b"overrides\0")
        h.update(hashlib.sha256(Path(overrides).read_bytes()).digest())
    return h.hexdigest()[:16]


class DocumentCache:
    """Per-document events and unresolved mentions, keyed by document and run context.

    Parameters
    ----------
    context : str
        Digest of what every entry depends on besides the document (tool version, faction
        registry, gazetteer data); see ``DocumentCache.for_run``.
    root : Path, optional
        Folder of the entries; default ``cache_root()``.
    """

    def __init__(self, context: str, root: Path | None = None):
        self.context = context
        self.root = Path(root) if root else cache_root()
        self.hits = 0
        self.misses = 0

    @classmethod
    def for_run(cls, data_dir: Path, factions: FactionRegistry, overrides: str | Path | None = None,
                root: Path | None = None) -> DocumentCache:
        context = "\x1f".join((str(FORMAT), tool_version(), factions_digest(factions),
                               gazetteer_digest(data_dir, overrides)))
        return cls(hashlib.sha256(context.encode()).hexdigest()[:24], root)

    def key(self, doc: Document) -> str:
        h = hashlib.sha256()
        for part in (self.context, doc.sha256, doc.name, doc.date.isoformat()):
            h.update(part.encode())
            h.update(b"\x1f")
        h.update(hashlib.sha256(doc.text.encode("utf-8", "surrogatepass")).digest())
        return h.hexdigest()

    def _path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.pickle"

    def get(self, doc: Document) -> tuple[pd.DataFrame, pd.DataFrame] | None:
        """The cached (events, unresolved) of ``doc``, or None (missing or unreadable)."""
        key = self.key(doc)
        path = self._path(key)
        try:
            with open(path, "rb") as fh:
                entry = pickle.load(fh)
        except FileNotFoundError:
            self.misses += 1
            return None
        except Exception as exc:  # truncated, foreign or from another pandas: rebuild it
            log.warning("cache entry %s unreadable (%s); rebuilding it", path, exc)
            self._discard(path)
            self.misses += 1
            return None
        if (
            not isinstance(entry, dict) or entry.get("format") != FORMAT or entry.get("key") != key
            or tuple(getattr(entry.get("events"), "columns", ())) != EVENT_COLUMNS
            or tuple(getattr(entry.get("unresolved"), "columns", ())) != UNRESOLVED_COLUMNS
        ):
            log.warning("cache entry %s does not match %s; rebuilding it", path, doc.name)
            self._discard(path)
            self.misses += 1
            return None
        self.hits += 1
        return entry["events"], entry["unresolved"]

    def put(self, doc: Document, events: pd.DataFrame, unresolved: pd.DataFrame) -> None:
        """Store ``doc``'s rows atomically; a failure to write only costs the next run time."""
        key = self.key(doc)
        path = self._path(key)
        entry = {"format": FORMAT, "key": key, "doc": doc.name, "events": events, "unresolved": unresolved}
        save_pickle(path, entry, "document")

    @staticmethod
    def _discard(path: Path) -> None:
        try:
            path.unlink()
        except OSError:
            pass

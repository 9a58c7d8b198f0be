"""The incremental cache: each document's events and unresolved mentions, reused across runs.

Re-running after adding this week's reports extracts and geocodes only the new ones, and does
not even decode or clean the others. An entry is keyed by everything its rows depend on that
is known before a report is decoded:

- the report: the checksum of the file's bytes, its file name and the date its manifest row
  gives (none when the manifest gives none); a report dated by ``--date`` is reused only
  while ``--date`` stays the same (``ingest`` checks the entry's ``date_source``);
- the tool: the package version, a digest of the source of the stages that turn bytes into
  events (``ingest``, ``extract``, ``geocode``, ``records``, ``factions``, ``crs``) and the
  versions of the libraries that read reports and hold the tables, so an edited checkout
  never reuses stale rows;
- the faction registry's content (ids, labels, colours, aliases);
- the gazetteer data (``gazetteer/``, ``boundaries/``, ``hydro/`` of the data folder) and the
  overrides file.

An entry also keeps what the report's ``Document`` needs without its text (date, where the
date came from, the title its first line gives, a digest of the cleaned text), so a reused
report still appears in run.json with its name, date and checksum.

Entries live in pack files in ``$GEO_CONTROL_CACHE/docs/`` (default
``~/.cache/geo_control/docs/``), never in the repository. A pack holds many documents: one
events table and one unresolved table with each document's row range, so loading 10,000
entries is a few reads and joining them is one ``take``, not 10,000 ``concat``-ed frames.
Runs append a pack per ``CHUNK`` freshly extracted documents (an interrupted run keeps what
it finished); once there are more than ``MAX_PACKS`` packs the run's own entries are
rewritten as one pack and the others dropped (documents no longer given leave the cache).
Packs are written to a temporary name and moved into place; a pack that cannot be read
(truncated, foreign, wrong schema) is a warning, is deleted and its documents are rebuilt.
The packs are this user's own pickles; the folder must not be shared with untrusted users.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
import shutil
import time
from dataclasses import dataclass
from functools import lru_cache
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd

import geo_control
from geo_control.diskcache import cache_home, load_pickle, save_pickle
from geo_control.factions import FactionRegistry
from geo_control.records import EVENT_COLUMNS, UNRESOLVED_COLUMNS, Document

log = logging.getLogger(__name__)

#: Bump when the pack layout or the key changes.
FORMAT = 2
#: Sources whose code decides the events of a report file.
_EVENT_CODE = ("ingest", "extract", "geocode", "records.py", "factions.py", "crs.py")
#: Libraries whose versions decide the text of a report or the tables' dtypes.
_LIBRARIES = ("beautifulsoup4", "pypdf", "pandas", "numpy")
#: Data folders the gazetteer is built from.
_GAZETTEER_DATA = ("gazetteer", "boundaries", "hydro")
#: Freshly extracted documents per pack written during a run.
CHUNK = 1000
#: Packs of one context before a run rewrites its entries as one pack (also done when most
#: stored entries are of documents the run was not given).
MAX_PACKS = 16
#: Contexts (tool, factions, gazetteer) whose packs are kept; older ones are deleted.
KEEP_CONTEXTS = 3


def cache_root() -> Path:
    """``$GEO_CONTROL_CACHE/docs`` or ``~/.cache/geo_control/docs``."""
    return cache_home() / "docs"


def _hash_files(h, root: Path, paths) -> None:
    for p in sorted(paths):
        h.update(str(p.relative_to(root)).encode())
        h.update(b"\0")
        h.update(hashlib.sha256(p.read_bytes()).digest())


def _library_version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "-"


@lru_cache(maxsize=1)
def tool_version() -> str:
    """Package version plus a digest of the event-producing code and the libraries it reads with."""
    pkg = Path(geo_control.__file__).resolve().parent
    h = hashlib.sha256(geo_control.__version__.encode())
    files = []
    for name in _EVENT_CODE:
        p = pkg / name
        files += sorted(p.rglob("*.py")) if p.is_dir() else ([p] if p.exists() else [])
    _hash_files(h, pkg, files)
    for lib in _LIBRARIES:
        h.update(f"{lib}={_library_version(lib)}\0".encode())
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


def text_digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def manifest_date(doc: Document) -> dt.date | None:
    """The date ``doc``'s manifest row gave (the one part of its key a Document does not hold)."""
    return doc.date if doc.date_source == "manifest" else None


@dataclass(frozen=True)
class Known:
    """What the cache holds about a report besides its rows: enough to make its Document."""

    date: dt.date
    date_source: str
    title: str  # the first line of the cleaned text (a manifest title wins over it)
    text_sha: str


#: (events dtypes, unresolved dtypes) of one document's tables.
Signature = tuple[tuple, tuple]


@dataclass(eq=False)
class Block:
    """The rows of many documents: one events and one unresolved table."""

    events: pd.DataFrame
    unresolved: pd.DataFrame


@dataclass(frozen=True, eq=False)
class Entry:
    """One document's rows in a block: events[ev0:ev1], unresolved[un0:un1], and their dtypes."""

    key: str
    block: Block
    ev0: int
    ev1: int
    un0: int
    un1: int
    signature: Signature
    known: Known

    def tables(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        """The document's own (events, unresolved) frames, with the dtypes extraction gave them."""
        ev = self.block.events.iloc[self.ev0:self.ev1].reset_index(drop=True)
        un = self.block.unresolved.iloc[self.un0:self.un1].reset_index(drop=True)
        return _with_dtypes(ev, self.signature[0]), _with_dtypes(un, self.signature[1])


def signature(events: pd.DataFrame, unresolved: pd.DataFrame) -> Signature:
    return tuple(events.dtypes), tuple(unresolved.dtypes)


def _with_dtypes(frame: pd.DataFrame, dtypes) -> pd.DataFrame:
    for col, dtype in zip(frame.columns, dtypes, strict=True):
        if frame[col].dtype != dtype:
            frame[col] = frame[col].astype(dtype)
    return frame


def _join(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """``pd.concat`` of ``frames``, except that a column whose dtypes differ is kept as objects.

    concat turns ints beside floats into floats; a document's ints must stay ints for a later
    run that joins them with an object column (``5``, not ``5.0``, in events.csv), so a block
    keeps every value as its own document's dtype boxed it. ``_with_dtypes`` then gives each
    column the dtype of the run's documents.
    """
    if len(frames) == 1:
        return frames[0]
    joined = pd.concat(frames, ignore_index=True)
    kinds = set(map(tuple, (f.dtypes for f in frames)))
    if len(kinds) > 1:
        for j, (col, dtype) in enumerate(joined.dtypes.items()):
            if dtype != np.dtype(object) and len({k[j] for k in kinds}) > 1:
                joined[col] = np.concatenate([f[col].to_numpy(dtype=object) for f in frames])
    return joined


def _concat_dtypes(dtype_sets, columns) -> list:
    """The dtypes ``pd.concat`` gives frames of these dtypes (empty proxies: it decides on dtypes only)."""
    proxies = [pd.DataFrame({c: pd.Series([], dtype=d) for c, d in zip(columns, dtypes, strict=True)})
               for dtypes in dtype_sets]
    return list(pd.concat(proxies, ignore_index=True).dtypes)


class DocumentCache:
    """Per-document events and unresolved mentions, keyed by report file and run context.

    Parameters
    ----------
    context : str
        Digest of what every entry depends on besides the report (tool version, faction
        registry, gazetteer data); see ``DocumentCache.for_run``.
    root : Path, optional
        Folder of the packs; default ``cache_root()``.
    """

    def __init__(self, context: str, root: Path | None = None):
        self.context = context
        self.root = Path(root) if root else cache_root()
        self.hits = 0
        self.misses = 0
        self._entries: dict[str, Entry] | None = None
        self._packs: list[Path] = []  # packs of this context read or written by this process
        self._stored = 0  # entries in those packs
        self._pending: list[tuple[str, Known, pd.DataFrame, pd.DataFrame]] = []

    @classmethod
    def for_run(cls, data_dir: Path, factions: FactionRegistry, overrides: str | Path | None = None,
                root: Path | None = None) -> DocumentCache:
        context = "\x1f".join((str(FORMAT), tool_version(), factions_digest(factions),
                               gazetteer_digest(data_dir, overrides)))
        return cls(hashlib.sha256(context.encode()).hexdigest()[:24], root)

    # -- keys ---------------------------------------------------------------------------------

    def key(self, name: str, sha256: str, manifest_date: dt.date | None) -> str:
        """Key of a report file: its name, the checksum of its bytes and its manifest date."""
        h = hashlib.sha256()
        for part in (self.context, name, sha256, manifest_date.isoformat() if manifest_date else "-"):
            h.update(part.encode())
            h.update(b"\x1f")
        return h.hexdigest()

    def doc_key(self, doc: Document) -> str:
        return self.key(doc.name, doc.sha256, manifest_date(doc))

    # -- lookups ------------------------------------------------------------------------------

    def known(self, name: str, sha256: str, manifest_date: dt.date | None) -> Known | None:
        """What the cache knows of a report file, before it is decoded (``ingest`` asks)."""
        entry = self.entries().get(self.key(name, sha256, manifest_date))
        return entry.known if entry is not None else None

    def find(self, doc: Document) -> Entry | None:
        """``doc``'s entry, or None (counted as a miss) when it must be extracted."""
        entry = self.entries().get(self.doc_key(doc))
        if entry is not None and (
            entry.known.date != doc.date or entry.known.date_source != doc.date_source
            # a Document read in full (not made by ingest from this entry) must have its text
            or (doc.text and text_digest(doc.text) != entry.known.text_sha)
        ):
            entry = None
        if entry is None:
            self.misses += 1
        else:
            self.hits += 1
        return entry

    def get(self, doc: Document) -> tuple[pd.DataFrame, pd.DataFrame] | None:
        """The cached (events, unresolved) of ``doc``, or None."""
        entry = self.find(doc)
        return entry.tables() if entry is not None else None

    # -- writing ------------------------------------------------------------------------------

    def put(self, doc: Document, events: pd.DataFrame, unresolved: pd.DataFrame) -> None:
        """Keep ``doc``'s rows; they are written with the next pack (``flush``)."""
        self.add(doc, events, unresolved)
        if len(self._pending) >= CHUNK:
            self.flush()

    def add(self, doc: Document, events: pd.DataFrame, unresolved: pd.DataFrame) -> None:
        known = Known(doc.date, doc.date_source, _first_line(doc.text), text_digest(doc.text))
        self._pending.append((self.doc_key(doc), known, events, unresolved))

    @property
    def pending(self) -> int:
        return len(self._pending)

    def flush(self, block: Block | None = None) -> list[Entry]:
        """Write the pending documents as one pack; their entries (in the order they were added).

        ``block`` is the pending rows already joined (the caller needed them joined anyway).
        """
        if not self._pending:
            return []
        pending, self._pending = self._pending, []
        if block is None:
            block = Block(_join([p[2] for p in pending]), _join([p[3] for p in pending]))
        ev_off = np.cumsum([0] + [len(p[2]) for p in pending])
        un_off = np.cumsum([0] + [len(p[3]) for p in pending])
        entries = [Entry(key, block, int(ev_off[j]), int(ev_off[j + 1]), int(un_off[j]), int(un_off[j + 1]),
                         signature(ev, un), known)
                   for j, (key, known, ev, un) in enumerate(pending)]
        self._write(entries, block)
        return entries

    def finish(self, entries: list[Entry]) -> None:
        """End of a run: ``entries`` are its documents, in order, as rows of one block.

        When packs piled up, or most stored entries are of documents this run was not given,
        the run's entries are rewritten as one pack and the older packs deleted.
        """
        if len(self._packs) > MAX_PACKS or self._stored > 2 * len(entries) + CHUNK:
            old = list(self._packs)
            self._packs, self._stored = [], 0
            self._write(entries, entries[0].block)
            if self._packs:  # written: the older packs are superseded
                for path in old:
                    path.unlink(missing_ok=True)
                log.info("cache: %d packs rewritten as one (%d documents)", len(old), len(entries))
        self.prune()

    def _write(self, entries: list[Entry], block: Block) -> None:
        sigs: dict[Signature, int] = {}
        state = {
            "format": FORMAT,
            "context": self.context,
            "keys": [e.key for e in entries],
            "known": [(e.known.date.toordinal(), e.known.date_source, e.known.title, e.known.text_sha)
                      for e in entries],
            "rows": np.array([(e.ev0, e.ev1, e.un0, e.un1) for e in entries], dtype=np.int64).reshape(-1, 4),
            "sig": [sigs.setdefault(e.signature, len(sigs)) for e in entries],
            "signatures": list(sigs),
            "events": block.events,
            "unresolved": block.unresolved,
        }
        path = self.root / f"pack-{self.context}-{time.time_ns():016x}-{os.getpid()}.pickle"
        save_pickle(path, state, "document")
        if path.exists():
            self._packs.append(path)
            self._stored += len(entries)
        entries_map = self.entries()
        for e in entries:
            entries_map[e.key] = e

    # -- reading ------------------------------------------------------------------------------

    def entries(self) -> dict[str, Entry]:
        """Every entry of this context, read from its packs at the first call."""
        if self._entries is None:
            self._entries = {}
            try:
                packs = sorted(self.root.glob(f"pack-{self.context}-*.pickle"))
            except OSError as exc:  # an unreadable cache folder costs time, not the run
                log.warning("cannot read the document cache %s (%s); extracting every report", self.root, exc)
                packs = []
            for path in packs:
                self._load(path)
        return self._entries

    def _load(self, path: Path) -> None:
        assert self._entries is not None
        state = load_pickle(path, "document")
        try:
            entries = self._unpack(state)
        except (TypeError, KeyError, ValueError, AttributeError, IndexError) as exc:
            if state is not None:
                log.warning("document cache %s does not match this version (%s); rebuilding", path, exc)
            path.unlink(missing_ok=True)
            return
        self._packs.append(path)
        self._stored += len(entries)
        for e in entries:  # a later pack wins (the same rows anyway)
            self._entries[e.key] = e

    def _unpack(self, state) -> list[Entry]:
        if not isinstance(state, dict) or state.get("format") != FORMAT or state.get("context") != self.context:
            raise ValueError("not a pack of this version and context")
        events, unresolved = state["events"], state["unresolved"]
        if tuple(events.columns) != EVENT_COLUMNS or tuple(unresolved.columns) != UNRESOLVED_COLUMNS:
            raise ValueError("columns differ")
        keys, known, rows, sig, sigs = state["keys"], state["known"], state["rows"], state["sig"], state["signatures"]
        if not len(keys) == len(known) == len(rows) == len(sig):
            raise ValueError("index lengths differ")
        if len(rows) and (rows.min() < 0 or rows[:, 1].max() > len(events) or rows[:, 3].max() > len(unresolved)):
            raise ValueError("row ranges outside the tables")
        block = Block(events, unresolved)
        ordinal = dt.date.fromordinal
        return [Entry(k, block, int(r[0]), int(r[1]), int(r[2]), int(r[3]), sigs[s],
                      Known(ordinal(kn[0]), kn[1], kn[2], kn[3]))
                for k, kn, r, s in zip(keys, known, rows.tolist(), sig, strict=True)]

    # -- housekeeping -------------------------------------------------------------------------

    def prune(self) -> None:
        """Delete packs of all but the latest contexts, the per-document pickles of format 1 and
        temporary files of killed runs."""
        try:
            if not self.root.is_dir():
                return
            by_context: dict[str, float] = {}
            packs = list(self.root.glob("pack-*.pickle"))
            for p in packs:
                ctx = p.name.split("-")[1]
                by_context[ctx] = max(by_context.get(ctx, 0.0), p.stat().st_mtime)
            keep = {self.context, *sorted(by_context, key=by_context.__getitem__)[-KEEP_CONTEXTS:]}
            for p in packs:
                if p.name.split("-")[1] not in keep:
                    p.unlink(missing_ok=True)
            day_ago = time.time() - 86400
            for p in self.root.glob(".*.tmp"):
                if p.stat().st_mtime < day_ago:
                    p.unlink(missing_ok=True)
            for d in self.root.iterdir():  # format 1: docs/<2 hex>/<key>.pickle
                if d.is_dir() and len(d.name) == 2 and all(c in "0123456789abcdef" for c in d.name):
                    shutil.rmtree(d, ignore_errors=True)
        except OSError as exc:
            log.warning("cannot tidy the document cache %s (%s)", self.root, exc)


def _first_line(text: str) -> str:
    from geo_control.ingest import first_line

    return first_line(text)


class Assembly:
    """The events and unresolved tables of many documents, joined once, in document order.

    Documents come in any order, either fresh from extraction (``add_fresh``) or as cache
    entries (``add_cached``). Fresh tables are joined ``CHUNK`` at a time (and, with a cache,
    written as a pack); at the end every document's row range is taken from its block in one
    go, and each column gets the dtype ``pd.concat`` of the per-document frames would give.
    """

    def __init__(self, cache: DocumentCache | None = None):
        self.cache = cache
        self._rows: dict[int, Entry] = {}
        self._fresh: list[tuple[int, Document, pd.DataFrame, pd.DataFrame]] = []

    def __len__(self) -> int:
        return len(self._rows) + len(self._fresh)

    def add_cached(self, i: int, entry: Entry) -> None:
        self._rows[i] = entry

    def add_fresh(self, i: int, doc: Document, events: pd.DataFrame, unresolved: pd.DataFrame) -> None:
        self._fresh.append((i, doc, events, unresolved))
        if self.cache is not None:
            self.cache.add(doc, events, unresolved)
        if len(self._fresh) >= CHUNK:
            self._join_fresh()

    def _join_fresh(self) -> None:
        if not self._fresh:
            return
        fresh, self._fresh = self._fresh, []
        block = Block(_join([f[2] for f in fresh]), _join([f[3] for f in fresh]))
        if self.cache is not None and self.cache.pending == len(fresh):
            entries = self.cache.flush(block)
        else:
            ev_off = np.cumsum([0] + [len(f[2]) for f in fresh])
            un_off = np.cumsum([0] + [len(f[3]) for f in fresh])
            entries = [Entry("", block, int(ev_off[j]), int(ev_off[j + 1]), int(un_off[j]), int(un_off[j + 1]),
                             signature(ev, un), Known(doc.date, doc.date_source, "", ""))
                       for j, (_, doc, ev, un) in enumerate(fresh)]
        for (i, *_), entry in zip(fresh, entries, strict=True):
            self._rows[i] = entry

    def tables(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        """The (events, unresolved) tables of every document added, in document order."""
        self._join_fresh()
        if not self._rows:
            return pd.DataFrame(columns=EVENT_COLUMNS), pd.DataFrame(columns=UNRESOLVED_COLUMNS)
        ordered = [self._rows[i] for i in sorted(self._rows)]
        blocks: dict[int, Block] = {}
        for e in ordered:
            blocks.setdefault(id(e.block), e.block)
        # cached entries of one pack share their signature objects: dedupe by identity first
        # (hashing a signature hashes ~25 dtypes, in Python for pandas' string dtype)
        sigs = list(dict.fromkeys({id(e.signature): e.signature for e in ordered}.values()))
        events = _take([b.events for b in blocks.values()], blocks, ordered, 1)
        unresolved = _take([b.unresolved for b in blocks.values()], blocks, ordered, 2)
        if self.cache is not None:  # the rows before the run's dtypes: each document's own values
            self.cache.finish(_reindexed(ordered, Block(events, unresolved)))
        events = _with_dtypes(events.copy(deep=False), _concat_dtypes([s[0] for s in sigs], EVENT_COLUMNS))
        unresolved = _with_dtypes(unresolved.copy(deep=False),
                                  _concat_dtypes([s[1] for s in sigs], UNRESOLVED_COLUMNS))
        return events, unresolved


def _take(frames: list[pd.DataFrame], blocks: dict[int, Block], ordered: list[Entry], which: int) -> pd.DataFrame:
    """Rows of ``ordered``'s ranges (events: which=1, unresolved: 2) from the blocks' ``frames``."""
    base = {}
    n = 0
    for bid, frame in zip(blocks, frames, strict=True):
        base[bid] = n
        n += len(frame)
    if which == 1:
        lo = np.fromiter((base[id(e.block)] + e.ev0 for e in ordered), np.int64, len(ordered))
        hi = np.fromiter((base[id(e.block)] + e.ev1 for e in ordered), np.int64, len(ordered))
    else:
        lo = np.fromiter((base[id(e.block)] + e.un0 for e in ordered), np.int64, len(ordered))
        hi = np.fromiter((base[id(e.block)] + e.un1 for e in ordered), np.int64, len(ordered))
    lengths = hi - lo
    total = int(lengths.sum())
    # row j of the result is lo[d] + (j - start of d), for the document d it belongs to
    idx = np.repeat(lo - np.concatenate(([0], np.cumsum(lengths)[:-1])), lengths) + np.arange(total)
    joined = _join(frames)
    if total == len(joined) and (total == 0 or bool((np.diff(idx) == 1).all() and idx[0] == 0)):
        return joined.reset_index(drop=True)
    return joined.take(idx).reset_index(drop=True)


def _reindexed(ordered: list[Entry], joined: Block) -> list[Entry]:
    """``ordered``'s entries as rows of ``joined``, their tables joined in order (for ``finish``)."""
    out = []
    ev = un = 0
    for e in ordered:
        n_ev, n_un = e.ev1 - e.ev0, e.un1 - e.un0
        out.append(Entry(e.key, joined, ev, ev + n_ev, un, un + n_un, e.signature, e.known))
        ev += n_ev
        un += n_un
    return out

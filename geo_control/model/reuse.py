"""Reuse of the previous run's steps: a step whose inputs did not change is not built again.

A weekly re-run adds this week's reports; every earlier step sees the same places, evidence
and advances as before, so its areas, frontlines and changes are the same too. Each step is
keyed by a digest of exactly what ``Painter.paint`` and the layer builders read for it (the
step's dates, its live places with their positions and evidence, its live advance corridors)
under a key of everything global (model code, settings, data, cells, baseline). The outputs of
the steps of the last run live in one pickle per global key under ``cache_home()/model``;
a step whose digest is there is copied, every other step is built, so the layers are the
same as a cold build's (tested). The same pickle keeps the cells each advance's corridor
claims, so the timeline does not overlay the bands of the advances it has seen before.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import pickle
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from geo_control.diskcache import cache_home, load_pickle, save_pickle
from geo_control.model.state import Evidence, LiveStates, Timeline

log = logging.getLogger(__name__)

#: Bump when a step's outputs change in a way the code checksum would not show.
REUSE_VERSION = "1"
#: Step stores kept (one per global key: settings, data, code); older ones are removed.
KEEP_STORES = 4


@dataclass
class StepOutput:
    """What one step added to each layer (rows and geometries as ``build`` appends them)."""

    control_rows: list
    control_geoms: list
    stats_rows: list
    front_rows: list
    front_geoms: list
    part_points: dict          # points of split places' parts (the places layer's spans need them)


@dataclass
class StepStore:
    """Step outputs of the last run (read) and of this run (written on ``save``)."""

    path: Path | None
    old_steps: dict[bytes, StepOutput] = field(default_factory=dict)
    old_changes: dict[tuple[bytes, bytes], tuple[list, list]] = field(default_factory=dict)
    steps: dict[bytes, StepOutput] = field(default_factory=dict)
    changes: dict[tuple[bytes, bytes], tuple[list, list]] = field(default_factory=dict)
    #: advance path (start, end) -> cells its band claims: last run's, then this run's (``timeline``)
    corridors: dict = field(default_factory=dict)
    hits: int = 0

    @classmethod
    def open(cls, global_key: str | None) -> StepStore:
        """The store of ``global_key`` (None: no reuse, nothing written)."""
        if global_key is None:
            return cls(None)
        path = cache_home() / "model" / f"steps-{global_key}.pickle"
        state = load_pickle(path, "model steps")
        store = cls(path)
        if isinstance(state, dict) and state.get("version") == REUSE_VERSION:
            store.old_steps, store.old_changes = state["steps"], state["changes"]
            store.corridors = state.get("corridors", {})
        return store

    def get(self, digest: bytes) -> StepOutput | None:
        out = self.old_steps.get(digest)
        if out is not None:
            self.hits += 1
            self.steps[digest] = out
        return out

    def put(self, digest: bytes, out: StepOutput) -> None:
        self.steps[digest] = out

    def get_change(self, pair: tuple[bytes, bytes]) -> tuple[list, list] | None:
        out = self.old_changes.get(pair)
        if out is not None:
            self.changes[pair] = out
        return out

    def put_change(self, pair: tuple[bytes, bytes], rows: list, geoms: list) -> None:
        self.changes[pair] = (rows, geoms)

    def save(self) -> None:
        """Keep this run's steps for the next run (only these: the store stays the size of a run)."""
        if self.path is None:
            return
        save_pickle(self.path, {"version": REUSE_VERSION, "steps": self.steps, "changes": self.changes,
                                "corridors": self.corridors}, "model steps")
        stores = sorted(self.path.parent.glob("steps-*.pickle"), key=lambda p: p.stat().st_mtime, reverse=True)
        for old in stores[KEEP_STORES:]:
            old.unlink(missing_ok=True)


def global_key(settings, cells_key: str, baseline) -> str:
    """Digest of everything every step depends on: model code, settings, data and cells, baseline."""
    h = hashlib.sha256(REUSE_VERSION.encode())
    package = Path(__file__).resolve().parent
    for path in sorted(package.glob("*.py")) + [package.parent / "crs.py", package.parent / "records.py"]:
        h.update(path.name.encode())
        h.update(path.read_bytes())
    h.update(repr(sorted(dataclasses.asdict(settings).items())).encode())
    h.update(cells_key.encode())
    if baseline is not None:
        h.update(pickle.dumps((baseline.drop(columns="geometry").to_dict("list"), baseline.geometry.to_wkb().tolist())))
    return h.hexdigest()[:24]


class StepDigests:
    """The digest of each step's inputs: dates, live places (position, evidence), live corridors."""

    def __init__(self, tl: Timeline, half_life: float, min_confidence: float):
        self.tl, self.half_life, self.min_confidence = tl, half_life, min_confidence
        self._evidence: dict[int, tuple[Evidence, bytes]] = {}  # id -> (kept alive, digest)
        self._sites: dict[str, bytes] = {}
        self._corridors: dict[int, bytes] = {}
        self.live = LiveStates(tl, half_life, min_confidence)
        self._places: dict[str, bytes] = {}  # key -> digest input of its live state (until it changes)

    def evidence(self, ev: Evidence | None) -> bytes:
        if ev is None:
            return b"-"
        hit = self._evidence.get(id(ev))
        if hit is None or hit[0] is not ev:
            text = repr((ev.faction, ev.status, ev.date.isoformat(), ev.confidence, ev.event_ids,
                         sorted(ev.sentences), ev.sides, ev.besieger))
            hit = (ev, hashlib.sha1(text.encode()).digest())
            self._evidence[id(ev)] = hit
        return hit[1]

    def site(self, key: str) -> bytes:
        if key not in self._sites:
            info = self.tl.sites[key]
            self._sites[key] = repr((key, info.place_id, info.place_name, info.lon, info.lat, info.cell)).encode()
        return self._sites[key]

    def corridor(self, i: int) -> bytes:
        if i not in self._corridors:
            cor = self.tl.corridors[i]
            h = hashlib.sha1(repr((cor.event_id, cor.faction, cor.date.isoformat(), cor.confidence,
                                   sorted(cor.sentences))).encode())
            h.update(np.asarray(cor.cells, dtype=np.int64).tobytes())
            self._corridors[i] = h.digest()
        return self._corridors[i]

    def __call__(self, t: int, step, day) -> bytes:
        h = hashlib.sha1(repr((step.label, step.start.isoformat(), step.end.isoformat(), day.isoformat())).encode())
        state = self.live(t, day)
        places = self._places
        for key in self.live.changed:
            places.pop(key, None)
        chunks = []
        for key, (whole, parts) in state.items():
            chunk = places.get(key)
            if chunk is None:
                chunk = self.site(key) + self.evidence(whole) + b"".join(
                    repr(bearing).encode() + self.evidence(ev) for bearing, ev in parts)
                places[key] = chunk
            chunks.append(chunk)
        h.update(b"".join(chunks))
        h.update(b"|corridors|")
        for i in self.tl.active_corridors[t]:
            h.update(self.corridor(i))
        return h.digest()


"""Reuse of weekly maps across runs: a map whose inputs did not change is copied, not drawn.

Each map is keyed by a hash of everything ``static.draw_step`` reads for its step: the step's
rows of every dated layer in view (all columns and the geometry's WKB, in row order; for the
places layer, whose rows span several steps, not the columns saying which steps a row spans:
its membership in the step stands for them), its heat grid, and a key shared by the series
(extent, CRS, settings, colours and labels, base geography, heat normalisation, fonts,
library versions and the render code itself). Entries live under ``cache_home()/maps/`` as
one pickle per map (the PNG, and svg/pdf when asked, with a digest of each), written
atomically; an entry that does not load or whose digest does not match is ignored and
redrawn. Entries not used by the last ``KEEP_RUNS`` runs are removed."""

from __future__ import annotations

import hashlib
import logging
import os
import time
from pathlib import Path

import numpy as np
import pandas as pd

from geo_control.diskcache import cache_home, load_pickle, save_pickle

log = logging.getLogger(__name__)

#: Entries used by this many recent runs are kept; older ones are removed after each run.
KEEP_RUNS = 5
#: Bump when the entry layout changes.
FORMAT = 1
#: Settings that cannot change a weekly map's pixels (they act on the layers, which are hashed
#: row by row, or on other outputs). Every other setting, present or future, is in the key.
NOT_DRAWN = frozenset({"freq", "date_from", "date_to", "lookback_days", "half_life_days", "min_confidence",
                       "claim_weight", "settlement_reach_km", "advance_corridor_km", "gif_frame_ms", "mp4",
                       "factions_file", "overrides_file"})
#: Layers whose rows span several steps (``records.Layers``), and the columns that say which.
SPAN_LAYERS = ("places",)
SPAN_COLUMNS = ("step", "valid_from", "valid_to")
#: The code a map's pixels come from (relative to the geo_control package).
CODE = ("render/static.py", "render/context.py", "render/__init__.py", "render/mapcache.py", "style.py",
        "records.py", "crs.py")


def _digest(*parts: bytes) -> str:
    h = hashlib.blake2b(digest_size=20)
    for p in parts:
        h.update(len(p).to_bytes(8, "little"))
        h.update(p)
    return h.hexdigest()


def _normalised(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with representation-only differences removed: times in ns, text as objects.

    The same instants stored in ms or us (a GeoPackage read back, a concat) or the same text
    as ``str`` or ``object`` must give the same hashes.
    """
    out = {}
    for col in frame.columns:
        values = frame[col]
        if isinstance(values.dtype, pd.DatetimeTZDtype):
            values = values.dt.tz_convert("UTC").astype("datetime64[ns, UTC]")
        elif pd.api.types.is_datetime64_dtype(values.dtype):
            values = values.astype("datetime64[ns]")
        elif pd.api.types.is_string_dtype(values.dtype):
            values = values.astype(object)
        out[col] = values
    return pd.DataFrame(out, index=frame.index)


def _columns(frame: pd.DataFrame) -> bytes:
    return repr([(str(c), str(t)) for c, t in _normalised(frame.iloc[0:0]).dtypes.items()]).encode()


def row_hashes(gdf) -> np.ndarray:
    """One 64-bit hash per row of ``gdf`` over every column, the geometry as WKB."""
    import shapely

    if not len(gdf):
        return np.empty(0, dtype=np.uint64)
    geom_col = gdf.geometry.name if hasattr(gdf, "geometry") else None
    attrs = _normalised(gdf.drop(columns=[geom_col]) if geom_col else gdf)
    # Object columns (timestamps, mixed values) hash through their text; numbers through their bits.
    hashes = (pd.util.hash_pandas_object(attrs, index=False).to_numpy(dtype=np.uint64)
              if attrs.shape[1] else np.zeros(len(gdf), dtype=np.uint64))
    if geom_col:
        wkb = shapely.to_wkb(np.asarray(gdf.geometry.values, dtype=object))
        geo = pd.util.hash_array(np.asarray(wkb, dtype=object)).astype(np.uint64)
        hashes = hashes * np.uint64(0x9E3779B97F4A7C15) ^ geo
    return hashes


def _frame_key(gdf) -> bytes:
    """Columns, dtypes and every row of a whole (small, static) frame."""
    return _columns(gdf) + row_hashes(gdf).tobytes()


def _font_files() -> list[str]:
    from matplotlib.font_manager import FontProperties, findfont

    out = []
    for weight in ("normal", "bold"):
        for style_ in ("normal", "italic"):
            path = findfont(FontProperties(weight=weight, style=style_))
            out.append(f"{path}:{os.path.getsize(path)}")
    return out


def global_key(ctx, settings) -> str:
    """The key shared by every map of the series (see the module docstring)."""
    import matplotlib
    import PIL
    import pyproj
    import shapely

    import geo_control

    root = Path(geo_control.__file__).parent
    code = b"".join((root / rel).read_bytes() for rel in CODE)
    drawn = {k: v for k, v in settings.to_dict().items() if k not in NOT_DRAWN}
    drawn["data_dir"] = str(settings.resolved_data_dir())
    t = ctx.heat_transform
    region = shapely.to_wkb(ctx.region_shape) if ctx.region_shape is not None else b""
    head = repr({
        "format": FORMAT, "version": getattr(geo_control, "__version__", ""), "settings": sorted(drawn.items()),
        "crs": ctx.crs, "extent": [float(v) for v in ctx.extent], "colours": ctx.colours, "labels": ctx.labels,
        "region": ctx.region_name, "heat_max": float(ctx.heat_max),
        "heat_transform": tuple(t)[:6] if t is not None else None,
        "versions": [matplotlib.__version__, PIL.__version__, np.__version__, shapely.__version__,
                     pyproj.__version__, pyproj.proj_version_str],
        "fonts": _font_files(), "rc": sorted((k, str(v)) for k, v in matplotlib.rcParams.items()
                                            if k.startswith(("font.", "text.", "path.", "agg.", "hatch.",
                                                             "lines.", "patch.", "savefig.", "svg.", "pdf."))),
    }).encode()
    base = [_frame_key(getattr(ctx.base, name)) for name in
            ("syria", "governorates", "neighbours", "rivers", "lakes", "cities", "locator_syria",
             "locator_neighbours")]
    return _digest(head, code, region, *base)


def step_keys(ctx, key: str) -> list[str]:
    """The key of each step's map: the series key, the step, its rows in view and its heat grid."""
    from geo_control.render.static import STEP_LAYERS, step_index

    index = step_index(ctx)
    layers = {}
    for name in STEP_LAYERS:
        gdf = getattr(ctx, name)
        if name in SPAN_LAYERS:
            # Which steps a span covers is its membership in each step's rows (the index), not
            # its content: a span extended by a new week leaves the earlier weeks' maps valid.
            gdf = gdf.drop(columns=[c for c in SPAN_COLUMNS if c in gdf])
        layers[name] = (_columns(gdf), row_hashes(gdf))
    keys = []
    empty = np.empty(0, dtype=np.intp)
    for st in ctx.steps:
        parts = [key.encode(), f"{st.label}|{st.start}|{st.end}".encode()]
        for name in STEP_LAYERS:
            columns, hashes = layers[name]
            parts += [columns, hashes[index[name].get(st.label, empty)].tobytes()]
        grid = ctx.heat.get(st.label)
        parts.append(b"" if grid is None else f"{grid.dtype}{grid.shape}".encode() + np.ascontiguousarray(grid).tobytes())
        keys.append(_digest(*parts))
    return keys


class MapStore:
    """Weekly maps by key under ``root`` (default ``cache_home()/maps``)."""

    def __init__(self, root: Path | None = None):
        self.root = Path(root) if root is not None else cache_home() / "maps"
        self.started = time.time()
        self.hits = 0
        self.misses = 0

    def _path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.pkl"

    def has(self, key: str) -> bool:
        """Whether an entry for ``key`` exists (it may still turn out damaged)."""
        return self._path(key).exists()

    def get(self, key: str, wanted: tuple[str, ...]) -> dict[str, bytes] | None:
        """The files of entry ``key`` named ``wanted`` (e.g. png, svg), or None when any is missing or damaged."""
        path = self._path(key)
        entry = load_pickle(path, "weekly map")
        if entry is None:
            return None
        try:
            files = {fmt: entry["files"][fmt] for fmt in wanted}
            ok = all(hashlib.blake2b(files[f]).hexdigest() == entry["digests"][f] for f in wanted)
        except (KeyError, TypeError):
            ok = False
        if not ok:
            if isinstance(entry, dict) and all(f in entry.get("files", {}) for f in wanted):
                log.warning("weekly map cache %s damaged (digest mismatch); redrawing", path)
            return None
        try:
            os.utime(path)  # used by this run: kept by the trim
        except OSError:
            pass
        return files

    def put(self, key: str, files: dict[str, bytes]) -> None:
        entry = {"files": files, "digests": {f: hashlib.blake2b(b).hexdigest() for f, b in files.items()}}
        save_pickle(self._path(key), entry, "weekly map")

    def trim(self) -> int:
        """Remove entries not used since the oldest of the last ``KEEP_RUNS`` runs; returns how many."""
        log_path = self.root / "runs.txt"
        try:
            starts = [float(x) for x in log_path.read_text().split()] if log_path.exists() else []
        except (OSError, ValueError):
            starts = []
        starts = sorted([*starts, self.started])[-KEEP_RUNS:]
        removed = 0
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            tmp = log_path.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_text("\n".join(f"{s:.3f}" for s in starts) + "\n")
            os.replace(tmp, log_path)
            if len(starts) < KEEP_RUNS:
                return 0
            cutoff = starts[0]
            for entry in self.root.glob("??/*.pkl"):
                try:
                    if entry.stat().st_mtime < cutoff:
                        entry.unlink(missing_ok=True)
                        removed += 1
                except OSError:
                    continue
        except OSError as exc:
            log.warning("cannot trim the weekly map cache %s (%s)", self.root, exc)
        return removed

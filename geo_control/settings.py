"""Every tunable, declared once with its default and help; the effective values go into run.json."""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path

from geo_control.crs import SYRIA_CRS

#: Repository data folder (boundaries, gazetteer, hydro, factions). ``GEO_CONTROL_DATA`` overrides.
DEFAULT_DATA_DIR = Path(__file__).resolve().parent.parent / "data"


def data_dir() -> Path:
    return Path(os.environ.get("GEO_CONTROL_DATA", DEFAULT_DATA_DIR))


def _help(text: str, default):
    return field(default=default, metadata={"help": text})


@dataclass(frozen=True)
class Settings:
    """Settings of a run. ``Settings.describe()`` lists them with their help."""

    projected_crs: str = _help("Projected CRS used to build geometry (Syria Lambert).", SYRIA_CRS)
    freq: str = _help("Model time step: day, week or month.", "week")
    date_from: str | None = _help("First date of the series (YYYY-MM-DD); default first event.", None)
    date_to: str | None = _help("Last date of the series (YYYY-MM-DD); default last event.", None)
    lookback_days: float = _help(
        "Events dated more than this many days before the earliest report are background "
        "('in 2012 the FSA took X'): they set the first step's state instead of adding steps.", 56.0)
    half_life_days: float = _help("Confidence of a place's state halves after this many days without evidence.", 28.0)
    min_confidence: float = _help(
        "A place's state whose confidence has decayed below this is stale and no longer drawn "
        "(0 keeps every state until contradicted).", 0.05)
    claim_weight: float = _help("Weight of a claimed statement relative to an asserted one.", 0.6)
    settlement_reach_km: float = _help("How far a place's control reaches around it.", 6.0)
    advance_corridor_km: float = _help("Half-width of the corridor an advance claims.", 2.0)
    heatmap_bandwidth_km: float = _help("Kernel bandwidth of the fighting heatmap.", 12.0)
    heatmap_cell_km: float = _help("Cell size of the fighting heatmap raster.", 2.0)
    region: str | None = _help("Map extent: a governorate name.", None)
    bbox: tuple[float, float, float, float] | None = _help("Map extent: west,south,east,north.", None)
    map_width_px: int = _help("Width of weekly map PNGs in pixels.", 1600)
    gif_width_px: int = _help("Width of GIF frames in pixels.", 1000)
    gif_frame_ms: int = _help("Duration of one GIF frame in milliseconds.", 900)
    mp4: bool = _help("Also write control.mp4.", False)
    data_dir: str = _help("Folder holding boundaries/, gazetteer/, hydro/, factions.toml.", "")
    factions_file: str | None = _help("Extra faction registry (TOML) that extends or overrides the default.", None)
    overrides_file: str | None = _help("Gazetteer overrides CSV (name,lat,lon,...) that win over the gazetteer.", None)

    def resolved_data_dir(self) -> Path:
        return Path(self.data_dir) if self.data_dir else data_dir()

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def describe(cls) -> list[tuple[str, object, str]]:
        return [(f.name, f.default, f.metadata.get("help", "")) for f in dataclasses.fields(cls)]

"""The control model: geocoded events (and a starting map) -> dated control layers.

``build(events_df, basemap, settings, factions, baseline=None) -> Layers``; ``read_events`` and
``read_baseline`` read its inputs. Steps: ``steps``; per-place state: ``state``; settlement
cells: ``cells``; painting cells per step: ``areas``; assembling the layers: ``build``.
"""

from geo_control.model.build import build
from geo_control.model.io import read_baseline, read_events

__all__ = ["build", "read_baseline", "read_events"]

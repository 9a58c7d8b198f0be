"""run.json: what was run — inputs with checksums, version, parameters, counts.

No clock time is written, so the same inputs give a byte-identical file.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from geo_control import __version__
from geo_control.export.tables import plain
from geo_control.records import ACTIONS, Document, Layers


def run_info(inputs: Sequence[str | Path], documents: Sequence[Document], settings, events: pd.DataFrame,
             unresolved: pd.DataFrame, layers: Layers | None) -> dict:
    """The content of run.json as a dict (see ``write_run_json``)."""
    by_action = {a: 0 for a in ACTIONS}
    if events is not None and len(events) and "action" in events.columns:
        for action, n in events["action"].value_counts().sort_index().items():
            by_action[str(action)] = int(n)
    steps = list(layers.steps) if layers is not None else []
    layer_counts = {}
    if layers is not None:
        for name in ("places", "events", "control", "frontlines", "advances", "changes"):
            frame = getattr(layers, name, None)
            layer_counts[name] = 0 if frame is None else int(len(frame))
    return {
        "tool": "geo_control",
        "version": __version__,
        "inputs": [str(p) for p in inputs],
        "documents": [
            {
                "name": d.name,
                "path": d.path,
                "sha256": d.sha256,
                "date": d.date.isoformat(),
                "date_source": d.date_source,
                "source": d.source,
                "title": d.title,
            }
            for d in documents
        ],
        "parameters": _jsonable(settings.to_dict()),
        "counts": {
            "documents": len(documents),
            "events": 0 if events is None else int(len(events)),
            "events_by_action": by_action,
            "unresolved": 0 if unresolved is None else int(len(unresolved)),
            "steps": len(steps),
            "layers": layer_counts,
        },
        "steps": {
            "first": steps[0].label if steps else None,
            "last": steps[-1].label if steps else None,
            "start": steps[0].start.isoformat() if steps else None,
            "end": steps[-1].end.isoformat() if steps else None,
        },
    }


def _jsonable(value):
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    return plain(value)


def write_run_json(path: str | Path, inputs: Sequence[str | Path], documents: Sequence[Document], settings,
                   events: pd.DataFrame, unresolved: pd.DataFrame, layers: Layers | None) -> Path:
    """Write run.json: inputs (paths as given), documents with sha256, version, parameters
    (``settings.to_dict()``), counts (documents, events by action, unresolved, steps, layer rows).

    Deterministic: no timestamps. Returns ``path``.
    """
    path = Path(path)
    text = json.dumps(run_info(inputs, documents, settings, events, unresolved, layers),
                      indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
    return path

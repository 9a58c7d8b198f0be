"""Fixtures many test modules share: the packaged basemap and the default faction registry."""

from __future__ import annotations

import pytest

from geo_control.basemap import load_basemap
from geo_control.factions import FactionRegistry
from geo_control.settings import data_dir


@pytest.fixture(scope="module")
def basemap():
    """Boundaries, rivers and lakes from ``data/`` (loaded once per module: tests do not change it)."""
    return load_basemap(data_dir())


@pytest.fixture(scope="module")
def factions():
    """The faction registry of ``data/factions.toml``."""
    return FactionRegistry.default()

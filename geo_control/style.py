"""The one symbology for PNG maps, the interactive HTML and the QGIS styles.

Faction colours come from the faction registry; everything else that gives a map its look
(status fills, frontline and advance strokes, event markers, base layers, credits) is here.
"""

from __future__ import annotations

from dataclasses import dataclass

#: Fill opacity of control areas by status.
STATUS_ALPHA = {"held": 0.45, "besieged": 0.45, "contested": 0.35}
#: Hatch used for contested zones (matplotlib hatch / QGIS line pattern fill angle).
CONTESTED_HATCH = "////"
CONTESTED_COLOUR = "#ff7f0e"
BESIEGED_EDGE = "#000000"

FRONTLINE_COLOUR = "#111111"
FRONTLINE_WIDTH_PT = 1.6
ADVANCE_WIDTH_PT = 2.2

#: Event marker per action: (matplotlib marker, QGIS simple-marker name, label).
ACTION_MARKERS = {
    "capture": ("*", "star", "Captured"),
    "advance": ("^", "triangle", "Advance"),
    "hold": ("s", "square", "Held"),
    "siege": ("D", "diamond", "Besieged"),
    "contest": ("X", "cross_fill", "Contested"),
    "withdraw": ("v", "arrowhead", "Withdrawal"),
    "attack": ("P", "cross", "Strike / clash"),
}

BASE = {
    "sea": "#d6e6f2",
    "land": "#f4f1ea",
    "neighbour": "#e3e1dc",
    "country_edge": "#444444",
    "governorate_edge": "#9a9a9a",
    "district_edge": "#c8c8c8",
    "river": "#6fa8dc",
    "lake": "#a9cbe8",
    "label": "#222222",
}

HEATMAP_CMAP = "inferno_r"

CREDITS = (
    "Data: Who's On First (whosonfirst.org, CC0 + sources), GeoNames (CC BY 4.0); "
    "OCHA/UNCS boundaries via HDX (CC BY-IGO); © OpenStreetMap contributors (ODbL); Natural Earth; "
    "GSHHG/WDB II rivers (LGPL). "
    "Control areas: geo_control from report text."
)


@dataclass(frozen=True)
class FactionStyle:
    id: str
    label: str
    colour: str


def faction_styles(registry) -> list[FactionStyle]:
    """Styles of every faction in the registry, in registry order."""
    return [FactionStyle(f.id, f.label, f.colour) for f in registry.factions.values()]

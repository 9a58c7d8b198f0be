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
#: Hatch of ground taken from another faction during the step (in the taker's colour).
TAKEN_HATCH = "...."
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


# --- Cartography (weekly maps, GIF, HTML) -------------------------------------------------
#: Weekly map layout: resolution and font sizes (points; maps are 10 inches wide).
MAP_WIDTH_IN = 10.0
TITLE_PT = 15
SUBTITLE_PT = 10
LEGEND_PT = 7.5
PLACE_LABEL_PT = 7.2
CITY_LABEL_PT = 6.8
MAJOR_CITY_LABEL_PT = 8.4
REGION_LABEL_PT = 7.0
COUNTRY_LABEL_PT = 9.5
CREDITS_PT = 5.6
HALO = "#ffffff"

#: Edge of advance arrows and event markers; frontline casing.
ADVANCE_EDGE = "#1a1a1a"
FRONTLINE_CASING = "#ffffff"
MARKER_SIZE_PT2 = 34.0
MARKER_EDGE = "#1a1a1a"
CITY_DOT = "#333333"
EXTENT_BOX = "#d62728"

#: Heatmap colour ramp from low to high fighting density (transparent below the first stop).
HEATMAP_STOPS = ("#fee391", "#fec44f", "#fe9929", "#ec7014", "#cc4c02", "#8c2d04")
#: Cells below this share of the series' peak density are left transparent.
HEATMAP_FLOOR = 0.04
HEATMAP_MAX_ALPHA = 0.72


def heatmap_cmap():
    """A colour map for fighting density whose opacity rises with the value (matplotlib)."""
    import numpy as np
    from matplotlib.colors import LinearSegmentedColormap, to_rgba

    base = LinearSegmentedColormap.from_list("gc_heat", [to_rgba(c) for c in HEATMAP_STOPS], N=256)
    colours = base(np.linspace(0, 1, 256))
    colours[:, 3] = HEATMAP_MAX_ALPHA * np.clip(np.linspace(0, 1, 256) / 0.35, 0, 1) ** 0.8
    cmap = LinearSegmentedColormap.from_list("gc_heat_alpha", colours, N=256)
    return cmap.with_extremes(under=(0, 0, 0, 0), bad=(0, 0, 0, 0))


def darker(colour: str, factor: float = 0.65) -> str:
    """A darker shade of a ``#rrggbb`` colour (outlines of fills and arrows)."""
    r, g, b = (int(colour[i:i + 2], 16) for i in (1, 3, 5))
    return "#{:02x}{:02x}{:02x}".format(*(int(v * factor) for v in (r, g, b)))


#: SVG paths (in a 20x20 box) of the event markers for the HTML map, same shapes as ACTION_MARKERS.
ACTION_SVG = {
    "capture": "M10 1.5 12.6 7.3 18.9 7.9 14.1 12.1 15.5 18.3 10 15.1 4.5 18.3 5.9 12.1 1.1 7.9 7.4 7.3Z",
    "advance": "M10 2 18.5 17.5H1.5Z",
    "hold": "M3.5 3.5H16.5V16.5H3.5Z",
    "siege": "M10 1.5 18.5 10 10 18.5 1.5 10Z",
    "contest": "M4 2 10 8 16 2 18 4 12 10 18 16 16 18 10 12 4 18 2 16 8 10 2 4Z",
    "withdraw": "M1.5 2.5H18.5L10 18Z",
    "attack": "M7.5 2H12.5V7.5H18V12.5H12.5V18H7.5V12.5H2V7.5H7.5Z",
}


def marker_svg(action: str, colour: str, size: int = 18) -> str:
    """A standalone SVG of an event marker (HTML map icons)."""
    path = ACTION_SVG.get(action, ACTION_SVG["attack"])
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{size}" height="{size}" viewBox="0 0 20 20">'
        f'<path d="{path}" fill="{colour}" stroke="{MARKER_EDGE}" stroke-width="1.3" '
        f'stroke-linejoin="round"/></svg>'
    )

"""QGIS styles (QML) generated from the one symbology in ``style.py`` and the faction registry.

Each layer of control.gpkg gets a style QGIS applies on open (``layer_styles``) and the QGIS
project inlines: control areas filled by faction (contested zones hatched), frontlines as dark
lines, advances as arrows, events as markers by action coloured by faction, places labelled.
Dated layers carry ``<temporal>`` on ``valid_from``/``valid_to`` so the Temporal Controller
filters them, half-open [from, to).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable

from geo_control import style

#: Written into the QML root; QGIS 3.22 (Debian 12) and later read it.
QGIS_VERSION = "3.22.16-Białowieża"
DOCTYPE = "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>"

#: QGIS simple-marker shapes that have no fill, only a stroke.
UNFILLED_MARKERS = ("cross", "arrowhead", "x", "line", "cross2", "arrow")

#: Layers with valid_from/valid_to.
DATED_LAYERS = ("places", "events", "control", "frontlines", "advances", "changes")


def rgba(hex_colour: str, alpha: float = 1.0) -> str:
    """QGIS colour text 'r,g,b,a' from '#rrggbb' and an opacity 0..1.

    >>> rgba("#c0392b", 0.45)
    '192,57,43,115'
    """
    h = hex_colour.lstrip("#")
    r, g, b = (int(h[i : i + 2], 16) for i in (0, 2, 4))
    return f"{r},{g},{b},{round(alpha * 255)}"


# -- XML helpers ------------------------------------------------------------------------
def _options(parent: ET.Element, props: dict[str, str]) -> ET.Element:
    opt = ET.SubElement(parent, "Option", type="Map")
    for k, v in props.items():
        ET.SubElement(opt, "Option", name=k, type="QString", value=str(v))
    return opt


def _data_defined(parent: ET.Element, expressions: dict[str, str]) -> None:
    dd = ET.SubElement(parent, "data_defined_properties")
    root = ET.SubElement(dd, "Option", type="Map")
    ET.SubElement(root, "Option", name="name", type="QString", value="")
    props = ET.SubElement(root, "Option", name="properties", type="Map" if expressions else "invalid")
    for key, expr in expressions.items():
        p = ET.SubElement(props, "Option", name=key, type="Map")
        ET.SubElement(p, "Option", name="active", type="bool", value="true")
        ET.SubElement(p, "Option", name="expression", type="QString", value=expr)
        ET.SubElement(p, "Option", name="type", type="int", value="3")  # expression-based
    ET.SubElement(root, "Option", name="type", type="QString", value="collection")


def _symbol(kind: str, name: str, layers: list[ET.Element], alpha: float = 1.0) -> ET.Element:
    sym = ET.Element("symbol", type=kind, name=name, alpha=f"{alpha:g}", clip_to_extent="1", force_rhr="0")
    _data_defined(sym, {})
    sym.extend(layers)
    return sym


def _layer(cls: str, props: dict[str, str], data_defined: dict[str, str] | None = None,
           subsymbol: ET.Element | None = None) -> ET.Element:
    el = ET.Element("layer", {"class": cls, "enabled": "1", "locked": "0", "pass": "0"})
    _options(el, props)
    _data_defined(el, data_defined or {})
    if subsymbol is not None:
        el.append(subsymbol)
    return el


def simple_fill(colour: str, alpha: float, outline: str, outline_width_pt: float = 0.4,
                outline_style: str = "solid", data_defined: dict[str, str] | None = None) -> ET.Element:
    return _layer("SimpleFill", {
        "border_width_map_unit_scale": "3x:0,0,0,0,0,0",
        "color": rgba(colour, alpha),
        "joinstyle": "bevel",
        "offset": "0,0",
        "offset_map_unit_scale": "3x:0,0,0,0,0,0",
        "offset_unit": "MM",
        "outline_color": rgba(outline, 1.0),
        "outline_style": outline_style,
        "outline_width": f"{outline_width_pt:g}",
        "outline_width_unit": "Point",
        "style": "solid",
    }, data_defined)


def simple_line(colour: str, width_pt: float, alpha: float = 1.0, style_name: str = "solid") -> ET.Element:
    return _layer("SimpleLine", {
        "capstyle": "round",
        "joinstyle": "round",
        "line_color": rgba(colour, alpha),
        "line_style": style_name,
        "line_width": f"{width_pt:g}",
        "line_width_unit": "Point",
        "offset": "0",
        "offset_unit": "MM",
    })


def line_pattern_fill(colour: str, angle: float, spacing_mm: float = 2.0, width_pt: float = 0.6) -> ET.Element:
    """Hatching: parallel lines at ``angle`` degrees (QGIS LinePatternFill)."""
    line = _symbol("line", "@0@1", [simple_line(colour, width_pt)])
    return _layer("LinePatternFill", {
        "angle": f"{angle:g}",
        "color": rgba(colour),
        "distance": f"{spacing_mm:g}",
        "distance_unit": "MM",
        "line_width": f"{width_pt:g}",
        "line_width_unit": "Point",
        "offset": "0",
        "offset_unit": "MM",
        "outline_width_unit": "MM",
    }, subsymbol=line)


def simple_marker(shape: str, colour: str, size_mm: float = 3.0, outline: str = "#ffffff",
                  data_defined: dict[str, str] | None = None) -> ET.Element:
    return _layer("SimpleMarker", {
        "angle": "0",
        "color": rgba(colour),
        "horizontal_anchor_point": "1",
        "joinstyle": "bevel",
        "name": shape,
        "offset": "0,0",
        "offset_unit": "MM",
        "outline_color": rgba(outline),
        "outline_style": "solid",
        "outline_width": "0.3",
        "outline_width_unit": "MM",
        "scale_method": "diameter",
        "size": f"{size_mm:g}",
        "size_unit": "MM",
        "vertical_anchor_point": "1",
    }, data_defined)


def arrow_line(colour: str, name: str, width_pt: float = style.ADVANCE_WIDTH_PT) -> ET.Element:
    """A straight arrow (QGIS ArrowLine symbol layer) filled with ``colour``."""
    fill = _symbol("fill", f"@{name}@0", [simple_fill(colour, 0.9, "#ffffff", 0.3)])
    return _layer("ArrowLine", {
        "arrow_start_width": f"{width_pt:g}",
        "arrow_start_width_unit": "Point",
        "arrow_type": "0",
        "arrow_width": f"{width_pt:g}",
        "arrow_width_unit": "Point",
        "head_length": f"{width_pt * 2.6:g}",
        "head_length_unit": "Point",
        "head_thickness": f"{width_pt * 1.6:g}",
        "head_thickness_unit": "Point",
        "head_type": "0",
        "is_curved": "0",
        "is_repeated": "0",
        "offset": "0",
        "offset_unit": "MM",
        "ring_filter": "0",
    }, subsymbol=fill)


def _faction_colour_expression(factions, field: str = "faction") -> str:
    """An expression giving the faction's colour as 'r,g,b,a' (data-defined fill of markers)."""
    # QGIS has only the searched form CASE WHEN <condition>, not CASE <value> WHEN.
    pairs = [(f.id, f.colour) for f in style.faction_styles(factions)] + [("contested", style.CONTESTED_COLOUR)]
    whens = " ".join(f"WHEN \"{field}\" = '{fid}' THEN '{rgba(colour)}'" for fid, colour in pairs)
    return f"CASE {whens} ELSE '{rgba(factions.colour('unknown'))}' END"


# -- renderers --------------------------------------------------------------------------
def _categorized(attr: str, categories: Iterable[tuple[str, str, ET.Element]]) -> ET.Element:
    r = ET.Element("renderer-v2", type="categorizedSymbol", attr=attr, symbollevels="0",
                   enableorderby="0", forceraster="0", referencescale="-1")
    cats = ET.SubElement(r, "categories")
    syms = ET.SubElement(r, "symbols")
    for i, (value, label, symbol) in enumerate(categories):
        ET.SubElement(cats, "category", render="true", symbol=str(i), value=value, label=label, type="string")
        symbol.set("name", str(i))
        syms.append(symbol)
    ET.SubElement(r, "rotation")
    ET.SubElement(r, "sizescale")
    return r


def _single(symbol: ET.Element) -> ET.Element:
    r = ET.Element("renderer-v2", type="singleSymbol", symbollevels="0", enableorderby="0",
                   forceraster="0", referencescale="-1")
    syms = ET.SubElement(r, "symbols")
    symbol.set("name", "0")
    syms.append(symbol)
    ET.SubElement(r, "rotation")
    ET.SubElement(r, "sizescale")
    return r


def _besieged_outline(colour: str) -> dict[str, str]:
    # Besieged areas keep their holder's fill and get a heavy black edge.
    return {
        "outlineColor": f"if(\"status\" = 'besieged', '{rgba(style.BESIEGED_EDGE)}', '{rgba(colour)}')",
        "outlineWidth": "if(\"status\" = 'besieged', 1.6, 0.4)",
    }


def control_renderer(factions) -> ET.Element:
    cats = []
    for f in style.faction_styles(factions):
        fill = simple_fill(f.colour, style.STATUS_ALPHA["held"], f.colour, 0.4, data_defined=_besieged_outline(f.colour))
        cats.append((f.id, f.label, _symbol("fill", "", [fill])))
    hatch_angle = 45.0 if style.CONTESTED_HATCH.startswith("/") else 135.0
    contested = _symbol("fill", "", [
        simple_fill(style.CONTESTED_COLOUR, style.STATUS_ALPHA["contested"] / 2, style.CONTESTED_COLOUR, 0.6, "dash"),
        line_pattern_fill(style.CONTESTED_COLOUR, hatch_angle),
    ])
    cats.append(("contested", "Contested", contested))
    return _categorized("faction", cats)


def changes_renderer(factions) -> ET.Element:
    gain = _symbol("fill", "", [simple_fill("#2e7d32", 0.25, "#2e7d32", 0.8)])
    loss = _symbol("fill", "", [simple_fill("#c62828", 0.0, "#c62828", 0.8, "dash"),
                                line_pattern_fill("#c62828", 135.0, 1.6, 0.4)])
    return _categorized("change", [("gain", "Gained", gain), ("loss", "Lost", loss)])


def frontlines_renderer() -> ET.Element:
    return _single(_symbol("line", "", [simple_line(style.FRONTLINE_COLOUR, style.FRONTLINE_WIDTH_PT)]))


def advances_renderer(factions) -> ET.Element:
    cats = [(f.id, f.label, _symbol("line", "", [arrow_line(f.colour, str(i))]))
            for i, f in enumerate(style.faction_styles(factions))]
    return _categorized("faction", cats)


def events_renderer(factions) -> ET.Element:
    fill = {"fillColor": _faction_colour_expression(factions)}
    # Unfilled shapes (cross, arrowhead) are drawn with their outline: colour that instead.
    stroke = {"outlineColor": _faction_colour_expression(factions), "outlineWidth": "0.6"}
    cats = [(action, label, _symbol("marker", "", [
                simple_marker(shape, "#777777", 3.2, data_defined=stroke if shape in UNFILLED_MARKERS else fill)]))
            for action, (_mpl, shape, label) in style.ACTION_MARKERS.items()]
    return _categorized("action", cats)


def places_renderer(factions) -> ET.Element:
    colour = {"fillColor": _faction_colour_expression(factions)}
    return _single(_symbol("marker", "", [simple_marker("circle", "#777777", 2.4, style.BASE["label"], colour)]))


def base_renderer(kind: str) -> ET.Element:
    b = style.BASE
    if kind == "country":
        sym = _symbol("fill", "", [simple_fill(b["land"], 1.0, b["country_edge"], 1.2)])
    elif kind == "governorates":
        sym = _symbol("fill", "", [simple_fill(b["land"], 0.0, b["governorate_edge"], 0.5, "dash")])
    elif kind == "neighbours":
        sym = _symbol("fill", "", [simple_fill(b["neighbour"], 1.0, b["district_edge"], 0.4)])
    elif kind == "lakes":
        sym = _symbol("fill", "", [simple_fill(b["lake"], 1.0, b["river"], 0.3)])
    elif kind == "rivers":
        sym = _symbol("line", "", [simple_line(b["river"], 0.9)])
    else:
        raise ValueError(f"no base style '{kind}'; use country, governorates, neighbours, lakes or rivers")
    return _single(sym)


# -- labels, temporal, whole QML -----------------------------------------------------------
def labeling(field: str, size_pt: float = 8.0) -> ET.Element:
    lab = ET.Element("labeling", type="simple")
    settings = ET.SubElement(lab, "settings", calloutType="simple")
    ts = ET.SubElement(settings, "text-style", {
        "fieldName": field, "isExpression": "0", "fontFamily": "DejaVu Sans", "fontSize": f"{size_pt:g}",
        "fontSizeUnit": "Point", "fontWeight": "50", "fontItalic": "0", "textColor": rgba(style.BASE["label"]),
        "textOpacity": "1", "namedStyle": "Book", "multilineHeight": "1", "allowHtml": "0",
        "fontLetterSpacing": "0", "fontWordSpacing": "0", "blendMode": "0", "previewBkgrdColor": "255,255,255,255",
        "capitalization": "0", "useSubstitutions": "0", "fontKerning": "1", "textOrientation": "horizontal",
        "fontUnderline": "0", "fontStrikeout": "0", "fontSizeMapUnitScale": "3x:0,0,0,0,0,0",
    })
    ET.SubElement(ts, "families")
    ET.SubElement(ts, "text-buffer", {
        "bufferDraw": "1", "bufferSize": "0.8", "bufferSizeUnits": "MM", "bufferColor": "255,255,255,255",
        "bufferOpacity": "0.85", "bufferJoinStyle": "128", "bufferNoFill": "1", "bufferBlendMode": "0",
        "bufferSizeMapUnitScale": "3x:0,0,0,0,0,0",
    })
    ET.SubElement(settings, "text-format", {"wrapChar": "", "autoWrapLength": "0", "multilineAlign": "0",
                                            "formatNumbers": "0", "decimals": "3", "plussign": "0"})
    ET.SubElement(settings, "placement", {
        "placement": "6", "dist": "1.2", "distUnits": "MM", "quadOffset": "4", "priority": "5",
        "predefinedPositionOrder": "TR,TL,BR,BL,R,L,TSR,BSR", "offsetType": "0", "xOffset": "0", "yOffset": "0",
        "offsetUnits": "MM", "rotationAngle": "0", "centroidWhole": "0", "centroidInside": "0",
        "fitInPolygonOnly": "0", "placementFlags": "10", "maxCurvedCharAngleIn": "25",
        "maxCurvedCharAngleOut": "-25", "repeatDistance": "0", "repeatDistanceUnits": "MM",
        "overrunDistance": "0", "overrunDistanceUnit": "MM", "layerType": "PointGeometry",
        "geometryGenerator": "", "geometryGeneratorEnabled": "0", "geometryGeneratorType": "PointGeometry",
        "distMapUnitScale": "3x:0,0,0,0,0,0", "labelOffsetMapUnitScale": "3x:0,0,0,0,0,0",
        "predefinedPositionOrder_": "", "polygonPlacementFlags": "2", "lineAnchorPercent": "0.5",
        "lineAnchorType": "0", "lineAnchorClipping": "0",
    })
    ET.SubElement(settings, "rendering", {
        "obstacle": "1", "obstacleFactor": "1", "obstacleType": "1", "displayAll": "0", "upsidedownLabels": "0",
        "labelPerPart": "0", "mergeLines": "0", "minFeatureSize": "0", "limitNumLabels": "0", "maxNumLabels": "2000",
        "scaleVisibility": "0", "scaleMin": "0", "scaleMax": "0", "fontLimitPixelSize": "0", "fontMinPixelSize": "3",
        "fontMaxPixelSize": "10000", "zIndex": "0", "drawLabels": "1", "unplacedVisibility": "0",
    })
    ET.SubElement(settings, "dd_properties")
    return lab


#: Temporal mode 4 (start and end from expressions). Mode 2 (start and end from fields) is
#: wrong in QGIS 3.22 on GeoPackage: its OGR expression compiler turns the range into SQL that
#: compares the stored text '2017-11-06T00:00:00.000Z' with the literal '2017-11-06T00:00:00.000',
#: so a feature ending exactly where the range begins (last week's areas) is shown too.
#: ``to_datetime()`` is not compiled, so QGIS compares real datetimes, half-open [from, to).
TEMPORAL_MODE = "4"


def temporal(enabled: bool = True) -> ET.Element:
    """Feature time from valid_from/valid_to, end excluded (limitMode 0)."""
    t = ET.Element("temporal", {
        "enabled": "1" if enabled else "0", "mode": TEMPORAL_MODE, "startField": "valid_from",
        "endField": "valid_to", "durationField": "", "durationUnit": "min", "fixedDuration": "0",
        "accumulate": "0", "startExpression": 'to_datetime("valid_from")',
        "endExpression": 'to_datetime("valid_to")', "limitMode": "0",
    })
    fr = ET.SubElement(t, "fixedRange")
    ET.SubElement(fr, "start")
    ET.SubElement(fr, "end")
    return t


def layer_style_elements(name: str, factions) -> list[ET.Element]:
    """The style elements (renderer, labels, temporal...) of one layer, to go in a QML or a
    project's ``<maplayer>``."""
    renderers = {
        "control": lambda: control_renderer(factions),
        "changes": lambda: changes_renderer(factions),
        "frontlines": frontlines_renderer,
        "advances": lambda: advances_renderer(factions),
        "events": lambda: events_renderer(factions),
        "places": lambda: places_renderer(factions),
    }
    if name in renderers:
        els = [renderers[name]()]
    elif name.startswith("base_"):
        els = [base_renderer(name.removeprefix("base_"))]
    else:
        raise ValueError(f"no style for layer '{name}'")
    if name == "places":
        els.append(labeling("place_name"))
    elif name == "base_governorates":
        els.append(labeling("name", 7.0))
    if name in DATED_LAYERS:
        els.insert(0, temporal())
    blend = ET.Element("blendMode")
    blend.text = "0"
    fblend = ET.Element("featureBlendMode")
    fblend.text = "0"
    opacity = ET.Element("layerOpacity")
    opacity.text = "1"
    return [*els, blend, fblend, opacity]


def layer_qml(name: str, factions) -> str:
    """The full QML document of a control.gpkg layer (``places``, ``control``, ``base_rivers``...)."""
    labelled = name in ("places", "base_governorates")
    root = ET.Element("qgis", version=QGIS_VERSION, styleCategories="AllStyleCategories",
                      labelsEnabled="1" if labelled else "0")
    root.extend(layer_style_elements(name, factions))
    ET.indent(root, space=" ")
    return DOCTYPE + "\n" + ET.tostring(root, encoding="unicode") + "\n"


def raster_qml(vmin: float, vmax: float, colours: list[tuple[float, str]], label: str = "Fighting density") -> str:
    """QML for a single-band GeoTIFF: a pseudocolour ramp from ``vmin`` (transparent) to ``vmax``.

    ``colours`` are (position 0..1, '#rrggbb') stops.
    """
    root = ET.Element("qgis", version=QGIS_VERSION, styleCategories="AllStyleCategories")
    pipe = ET.SubElement(root, "pipe")
    rr = ET.SubElement(pipe, "rasterrenderer", type="singlebandpseudocolor", band="1", opacity="0.8",
                       alphaBand="-1", classificationMin=repr(vmin), classificationMax=repr(vmax),
                       nodataColor="")
    ET.SubElement(rr, "rasterTransparency")
    mm = ET.SubElement(rr, "minMaxOrigin")
    for tag, text in (("limits", "None"), ("extent", "WholeRaster"), ("statAccuracy", "Estimated"),
                      ("cumulativeCutLower", "0.02"), ("cumulativeCutUpper", "0.98"), ("stdDevFactor", "2")):
        ET.SubElement(mm, tag).text = text
    shader = ET.SubElement(rr, "rastershader")
    crs = ET.SubElement(shader, "colorrampshader", colorRampType="INTERPOLATED", classificationMode="1",
                        clip="0", minimumValue=repr(vmin), maximumValue=repr(vmax), labelPrecision="4")
    span = vmax - vmin
    for i, (pos, colour) in enumerate(colours):
        value = vmin + pos * span
        alpha = "0" if i == 0 else "255"
        h = colour.lstrip("#")
        ET.SubElement(crs, "item", alpha=alpha, value=repr(round(value, 9)), color=f"#{h.lower()}",
                      label=f"{value:.4g}" if i not in (0, len(colours) - 1) else (f"{label}: low" if i == 0 else "high"))
    ET.SubElement(pipe, "brightnesscontrast", brightness="0", contrast="0", gamma="1")
    ET.SubElement(pipe, "huesaturation", saturation="0", grayscaleMode="0", colorizeOn="0",
                  colorizeRed="255", colorizeGreen="128", colorizeBlue="128", colorizeStrength="100")
    ET.SubElement(pipe, "rasterresampler", maxOversampling="2")
    ET.SubElement(root, "blendMode").text = "0"
    ET.indent(root, space=" ")
    return DOCTYPE + "\n" + ET.tostring(root, encoding="unicode") + "\n"

"""control.qgs: a QGIS project that opens every output styled, in order, time-enabled.

Layers are referenced by relative paths (``./control.gpkg|layername=control``) so the output
folder can be moved or zipped. The Temporal Controller's range is the model's steps; each
weekly heatmap is shown during its own week. Base layers (neighbours, Syria, governorates,
rivers, lakes) go into ``basemap.gpkg`` beside the project when a basemap is given.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path

import geopandas as gpd

from geo_control import style
from geo_control.crs import STORAGE_CRS
from geo_control.export.gpkg import LAYER_SCHEMAS
from geo_control.export.qml import DOCTYPE, QGIS_VERSION, layer_style_elements, raster_qml
from geo_control.records import Layers

log = logging.getLogger(__name__)

PROJECT_NAME = "control.qgs"
BASEMAP_NAME = "basemap.gpkg"

#: Drawing order, top first (a QGIS layer tree lists the top layer first).
VECTOR_ORDER = ("places", "events", "advances", "frontlines", "changes", "control")
#: Base layers, top first: (layer name in basemap.gpkg, Basemap attribute, geometry).
BASE_LAYERS = (
    ("base_rivers", "rivers", "Line"),
    ("base_lakes", "lakes", "Polygon"),
    ("base_governorates", "governorates", "Polygon"),
    ("base_country", "country", "Polygon"),
    ("base_neighbours", "neighbours", "Polygon"),
)
#: Layers listed but switched off on open: the change polygons overlap the control fills.
HIDDEN = {"changes"}

_GEOMETRY = {"Point": "Point", "MultiPolygon": "Polygon", "Polygon": "Polygon",
             "MultiLineString": "Line", "LineString": "Line"}


def _layer_id(name: str) -> str:
    # Stable ids (not uuid4) so the same outputs give the same project file.
    return f"{name}_{hashlib.sha1(name.encode()).hexdigest()[:12]}"


def _spatialrefsys(parent: ET.Element, authid: str) -> None:
    from pyproj import CRS

    crs = CRS.from_user_input(authid)
    srs = ET.SubElement(parent, "spatialrefsys", nativeFormat="Wkt")
    ET.SubElement(srs, "wkt").text = crs.to_wkt()
    ET.SubElement(srs, "srsid").text = "0"
    ET.SubElement(srs, "srid").text = str(crs.to_epsg() or 0)
    ET.SubElement(srs, "authid").text = authid
    ET.SubElement(srs, "description").text = crs.name
    ET.SubElement(srs, "projectionacronym").text = ""
    ET.SubElement(srs, "ellipsoidacronym").text = ""
    ET.SubElement(srs, "geographicflag").text = "true" if crs.is_geographic else "false"


def _iso(d: dt.date | dt.datetime) -> str:
    if isinstance(d, dt.datetime):
        return d.strftime("%Y-%m-%dT%H:%M:%SZ")
    return f"{d.isoformat()}T00:00:00Z"


def _vector_maplayer(name: str, source: str, geometry: str, style_elements: list[ET.Element],
                     title: str) -> ET.Element:
    ml = ET.Element("maplayer", type="vector", geometry=geometry, autoRefreshEnabled="0",
                    autoRefreshTime="0", refreshOnNotifyEnabled="0", refreshOnNotifyMessage="",
                    hasScaleBasedVisibilityFlag="0", minScale="100000000", maxScale="0",
                    labelsEnabled="1" if any(e.tag == "labeling" for e in style_elements) else "0",
                    styleCategories="AllStyleCategories", readOnly="0", simplifyDrawingHints="1",
                    simplifyDrawingTol="1", simplifyLocal="1", simplifyAlgorithm="0", simplifyMaxScale="1")
    ET.SubElement(ml, "id").text = _layer_id(name)
    ET.SubElement(ml, "datasource").text = source
    ET.SubElement(ml, "layername").text = title
    srs = ET.SubElement(ml, "srs")
    _spatialrefsys(srs, STORAGE_CRS)
    ET.SubElement(ml, "provider", encoding="UTF-8").text = "ogr"
    ml.extend(style_elements)
    return ml


def _raster_maplayer(name: str, source: str, crs: str, qml_text: str, step_range: tuple[str, str] | None) -> ET.Element:
    ml = ET.Element("maplayer", type="raster", autoRefreshEnabled="0", autoRefreshTime="0",
                    refreshOnNotifyEnabled="0", refreshOnNotifyMessage="", hasScaleBasedVisibilityFlag="0",
                    minScale="100000000", maxScale="0", styleCategories="AllStyleCategories")
    ET.SubElement(ml, "id").text = _layer_id(name)
    ET.SubElement(ml, "datasource").text = source
    ET.SubElement(ml, "layername").text = name
    srs = ET.SubElement(ml, "srs")
    _spatialrefsys(srs, crs)
    ET.SubElement(ml, "provider").text = "gdal"
    if step_range is not None:
        # Fixed range per week. QGIS treats a fixed raster range as closed at both ends, so it
        # ends a second before the next week begins; otherwise two weeks show at a boundary.
        t = ET.SubElement(ml, "temporal", enabled="1", mode="0", fetchMode="0")
        fr = ET.SubElement(t, "fixedRange")
        ET.SubElement(fr, "start").text = step_range[0]
        ET.SubElement(fr, "end").text = step_range[1]
    try:
        style_root = ET.fromstring(qml_text.split("\n", 1)[1] if qml_text.startswith("<!DOCTYPE") else qml_text)
        ml.extend(el for el in style_root if el.tag in ("pipe", "blendMode"))
    except ET.ParseError:
        log.warning("%s: heatmap style is not valid QML; QGIS will use its default style", name)
    return ml


def _tree_layer(parent: ET.Element, name: str, source: str, provider: str, visible: bool = True,
                layer_id: str | None = None) -> None:
    node = ET.SubElement(parent, "layer-tree-layer", id=layer_id or _layer_id(name), name=name, source=source,
                         providerKey=provider, checked="Qt::Checked" if visible else "Qt::Unchecked",
                         expanded="0", legend_exp="")
    ET.SubElement(node, "customproperties")


def _tree_group(parent: ET.Element, name: str, visible: bool = True) -> ET.Element:
    g = ET.SubElement(parent, "layer-tree-group", name=name, checked="Qt::Checked" if visible else "Qt::Unchecked",
                      expanded="1", groupLayer="")
    ET.SubElement(g, "customproperties")
    return g


def write_basemap_gpkg(basemap, path: Path) -> dict[str, str]:
    """The base layers the project shows, as ``basemap.gpkg``. Returns {layer: geometry kind}."""
    import pyogrio

    tmp = path.with_name(f".{path.stem}.tmp-{os.getpid()}.gpkg")
    tmp.unlink(missing_ok=True)
    written: dict[str, str] = {}
    first = True
    for layer, attr, kind in reversed(BASE_LAYERS):  # bottom first, any order works
        gdf = getattr(basemap, attr, None)
        if gdf is None or len(gdf) == 0:
            continue
        gdf = gdf.to_crs(STORAGE_CRS) if gdf.crs is not None else gdf.set_crs(STORAGE_CRS)
        name_col = next((c for c in ("ADM1_EN", "name_en", "name", "ISO_A3", "ADM0_EN") if c in gdf.columns), None)
        frame = gpd.GeoDataFrame(
            {"name": gdf[name_col].astype(str).tolist() if name_col else [""] * len(gdf)},
            geometry=gdf.geometry.values, crs=STORAGE_CRS,
        )
        pyogrio.write_dataframe(frame, tmp, layer=layer, driver="GPKG", promote_to_multi=True,
                                dataset_options={"VERSION": "1.2"} if first else None,
                                layer_options={"GEOMETRY_NAME": "geom"}, append=not first)
        first = False
        written[layer] = kind
    if written:
        os.replace(tmp, path)
    return written


def _raster_info(path: Path) -> tuple[str, float]:
    """(CRS as authority id or WKT, maximum value) of a GeoTIFF."""
    import rasterio

    with rasterio.open(path) as src:
        crs = src.crs
        authid = f"EPSG:{crs.to_epsg()}" if crs is not None and crs.to_epsg() else (crs.to_wkt() if crs else STORAGE_CRS)
        data = src.read(1, masked=True)
        peak = float(data.max()) if data.count() else 0.0
    return authid, peak


def _heatmap_qml_text(tif: Path, peak: float) -> str:
    qml = tif.with_suffix(".qml")
    if qml.exists():
        return qml.read_text(encoding="utf-8")
    # The renderer normally writes one; otherwise write the same ramp the maps use.
    import matplotlib

    cmap = matplotlib.colormaps[style.HEATMAP_CMAP]
    stops = [(i / 6, matplotlib.colors.to_hex(cmap(i / 6))) for i in range(7)]
    text = raster_qml(0.0, peak if peak > 0 else 1.0, stops)
    qml.write_text(text, encoding="utf-8")
    return text


def write_qgis_project(layers: Layers, factions, out_dir: str | Path, heatmap_paths: Sequence[str | Path] = (),
                       basemap=None, gpkg_name: str = "control.gpkg") -> list[Path]:
    """Write ``control.qgs`` (and ``basemap.gpkg`` when ``basemap`` is given) into ``out_dir``.

    The project loads, top to bottom: places (labelled), events, advances, frontlines, changes
    (off), control, the weekly heatmaps (each visible in its week), then the base layers; the
    Temporal Controller spans the steps one week at a time; credits are in the metadata.
    ``heatmap_paths`` are the GeoTIFFs (other paths are ignored); a ``.qml`` beside each one
    is written if missing. Returns the paths written.
    """
    out = Path(out_dir)
    written: list[Path] = []
    steps = list(layers.steps)
    root = ET.Element("qgis", projectname="geo_control: territorial control", version=QGIS_VERSION)
    ET.SubElement(root, "homePath", path="")
    ET.SubElement(root, "title").text = "geo_control: territorial control"
    ET.SubElement(root, "autotransaction", active="0")
    ET.SubElement(root, "evaluateDefaultValues", active="0")
    ET.SubElement(root, "trust", active="0")
    pc = ET.SubElement(root, "projectCrs")
    _spatialrefsys(pc, STORAGE_CRS)

    tree = ET.SubElement(root, "layer-tree-group")
    ET.SubElement(tree, "customproperties")
    maplayers: list[ET.Element] = []

    for name in VECTOR_ORDER:
        source = f"./{gpkg_name}|layername={name}"
        _tree_layer(tree, name, source, "ogr", visible=name not in HIDDEN)
        geometry = _GEOMETRY[LAYER_SCHEMAS[name][0]]
        maplayers.append(_vector_maplayer(name, source, geometry, layer_style_elements(name, factions), name))

    tifs = sorted(Path(p) for p in heatmap_paths if str(p).lower().endswith((".tif", ".tiff")))
    if tifs:
        group = _tree_group(tree, "Fighting heatmaps")
        by_label = {s.label: s for s in steps}
        for tif in tifs:
            rel = os.path.relpath(tif, out) if tif.is_absolute() or tif.exists() else str(tif)
            source = "./" + Path(rel).as_posix()
            crs, peak = _raster_info(tif)
            step = by_label.get(tif.stem)
            rng = None
            if step is not None:
                end = dt.datetime.combine(step.end, dt.time()) - dt.timedelta(seconds=1)
                rng = (_iso(step.start), _iso(end))
            name = f"heatmap {tif.stem}"
            _tree_layer(group, name, source, "gdal")
            maplayers.append(_raster_maplayer(name, source, crs, _heatmap_qml_text(tif, peak), rng))
            written.append(tif.with_suffix(".qml"))

    if basemap is not None:
        base = write_basemap_gpkg(basemap, out / BASEMAP_NAME)
        if base:
            written.append(out / BASEMAP_NAME)
            group = _tree_group(tree, "Basemap")
            for layer, _attr, kind in BASE_LAYERS:
                if layer not in base:
                    continue
                source = f"./{BASEMAP_NAME}|layername={layer}"
                title = layer.removeprefix("base_")
                _tree_layer(group, title, source, "ogr", layer_id=_layer_id(layer))
                maplayers.append(_vector_maplayer(layer, source, kind, layer_style_elements(layer, factions), title))

    pl = ET.SubElement(root, "projectlayers")
    pl.extend(maplayers)
    order = ET.SubElement(root, "layerorder")
    for ml in maplayers:
        ET.SubElement(order, "layer", id=ml.findtext("id") or "")

    props = ET.SubElement(root, "properties")
    paths = ET.SubElement(props, "Paths")
    ET.SubElement(paths, "Absolute", type="bool").text = "false"
    # Without this QGIS 3.22 ignores <projectCrs> and takes the first layer's CRS.
    ET.SubElement(ET.SubElement(props, "SpatialRefSys"), "ProjectionsEnabled", type="int").text = "1"
    # The canvas copyright decoration (View > Decorations > Copyright Label) shows the credits.
    credits = ET.SubElement(props, "CopyrightLabel")
    ET.SubElement(credits, "Enabled", type="bool").text = "true"
    ET.SubElement(credits, "Label", type="QString").text = style.CREDITS
    ET.SubElement(credits, "Placement", type="int").text = "2"  # bottom right
    ET.SubElement(credits, "MarginH", type="int").text = "0"
    ET.SubElement(credits, "MarginV", type="int").text = "0"
    t_start = _iso(steps[0].start) if steps else ""
    if steps:
        days = (steps[0].end - steps[0].start).days or 7
        unit, amount = ("wk", 1) if days == 7 else ("mon", 1) if 28 <= days <= 31 else ("d", days)
        ts = ET.SubElement(root, "ProjectTimeSettings", timeStepUnit=unit, timeStep=str(amount),
                           frameRate="1", cumulativeTemporalRange="0")
        trange = ET.SubElement(ts, "TemporalRange")
        ET.SubElement(trange, "start").text = t_start
        ET.SubElement(trange, "end").text = _iso(steps[-1].end)
        # The Temporal Controller panel keeps its own state here: open in animated mode on
        # the steps' range, so the map shows the first step and the play button is ready.
        widget = ET.SubElement(props, "TemporalControllerWidget")
        ET.SubElement(widget, "NavigationMode", type="int").text = "1"
        ET.SubElement(widget, "StartDateTime", type="QString").text = t_start.replace("Z", ".000Z")
        ET.SubElement(widget, "EndDateTime", type="QString").text = _iso(steps[-1].end).replace("Z", ".000Z")
    meta = ET.SubElement(root, "projectMetadata")
    ET.SubElement(meta, "identifier").text = "geo_control"
    ET.SubElement(meta, "parentidentifier")
    ET.SubElement(meta, "language").text = "en"
    ET.SubElement(meta, "type").text = "dataset"
    ET.SubElement(meta, "title").text = "geo_control: territorial control"
    ET.SubElement(meta, "abstract").text = (
        "Dated areas of control, contested zones, frontlines and advances built from report text. "
        "Use the Temporal Controller to play the steps.\n\nCredits: " + style.CREDITS
    )
    ET.SubElement(meta, "rights").text = style.CREDITS
    ET.SubElement(meta, "author").text = "geo_control"
    ET.SubElement(meta, "creation").text = t_start

    ET.indent(root, space=" ")
    path = out / PROJECT_NAME
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_text(DOCTYPE + "\n" + ET.tostring(root, encoding="unicode") + "\n", encoding="utf-8")
    os.replace(tmp, path)
    written.insert(0, path)
    log.info("wrote %s with %d layers", path, len(maplayers))
    return written

"""Run inside Debian's /usr/bin/python3 (which has qgis.core): open our outputs in real QGIS
and print what QGIS sees as one JSON document on stdout.

Usage: python3 qgis_probe.py REQUEST.json   (see tests/test_qgis.py for the request keys)
"""

from __future__ import annotations

import json
import os
import sys

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from qgis.core import (  # noqa: E402
    QgsApplication,
    QgsCoordinateReferenceSystem,
    QgsDateTimeRange,
    QgsMapRendererParallelJob,
    QgsMapSettings,
    QgsPointXY,
    QgsProject,
    QgsRasterLayer,
    QgsRectangle,
    QgsVectorLayer,
)
from qgis.PyQt.QtCore import QDateTime, QSize, Qt  # noqa: E402
from qgis.PyQt.QtGui import QColor  # noqa: E402


def colour(c: QColor) -> list[int]:
    return [c.red(), c.green(), c.blue(), c.alpha()]


def describe_vector(layer: QgsVectorLayer) -> dict:
    r = layer.renderer()
    info: dict = {
        "valid": layer.isValid(),
        "features": layer.featureCount(),
        "geometry_type": layer.geometryType(),
        "renderer": r.type() if r else None,
        "labels": layer.labelsEnabled(),
        "fields": [f.name() for f in layer.fields()],
    }
    if r is not None and r.type() == "categorizedSymbol":
        info["attr"] = r.classAttribute()
        info["categories"] = {
            str(c.value()): {
                "colour": colour(c.symbol().color()),
                "layers": [sl.layerType() for sl in c.symbol().symbolLayers()],
            }
            for c in r.categories()
        }
    elif r is not None and r.type() == "singleSymbol":
        info["symbol_layers"] = [sl.layerType() for sl in r.symbol().symbolLayers()]
        info["colour"] = colour(r.symbol().color())
    tp = layer.temporalProperties()
    info["temporal"] = {
        "active": tp.isActive(),
        "mode": int(tp.mode()),
        "start": tp.startField(),
        "end": tp.endField(),
    }
    idx = layer.fields().indexOf("valid_from")
    if idx >= 0:
        info["valid_from_type"] = layer.fields().at(idx).typeName()
        for feat in layer.getFeatures():
            v = feat["valid_from"]
            info["valid_from_first"] = v.toString(Qt.ISODate) if isinstance(v, QDateTime) else str(v)
            info["valid_from_utc"] = isinstance(v, QDateTime) and v.timeSpec() == Qt.UTC
            break
    return info


def layers_report(gpkg: str, names: list[str]) -> dict:
    out = {}
    for name in names:
        layer = QgsVectorLayer(f"{gpkg}|layername={name}", name, "ogr")
        msg, ok = layer.loadDefaultStyle()
        info = describe_vector(layer)
        info["default_style_loaded"] = bool(ok)
        info["default_style_message"] = msg
        out[name] = info
    return out


def render(layers, extent: list[float], size: int, start: str, end: str, png: str | None,
           probes: list[list[float]]) -> dict:
    settings = QgsMapSettings()
    settings.setLayers(layers)
    settings.setDestinationCrs(QgsCoordinateReferenceSystem("EPSG:4326"))
    settings.setExtent(QgsRectangle(*extent))
    settings.setOutputSize(QSize(size, size))
    settings.setBackgroundColor(QColor(255, 255, 255))
    settings.setIsTemporal(True)
    settings.setTemporalRange(QgsDateTimeRange(QDateTime.fromString(start, Qt.ISODate),
                                               QDateTime.fromString(end, Qt.ISODate), True, False))
    job = QgsMapRendererParallelJob(settings)
    job.start()
    job.waitForFinished()
    image = job.renderedImage()
    if png:
        image.save(png)
    m2p = settings.mapToPixel()
    pixels = []
    for lon, lat in probes:
        p = m2p.transform(QgsPointXY(lon, lat))
        pixels.append(colour(image.pixelColor(int(p.x()), int(p.y()))))
    return {"pixels": pixels, "errors": [e.message for e in job.errors()]}


def project_report(path: str) -> dict:
    project = QgsProject.instance()
    ok = project.read(path)
    ts = project.timeSettings()
    rng = ts.temporalRange()
    layers = []
    root = project.layerTreeRoot()
    for node in root.findLayers():
        lyr = node.layer()
        entry = {"name": node.name(), "found": lyr is not None}
        if lyr is not None:
            entry.update(valid=lyr.isValid(), type=int(lyr.type()), source=lyr.source(),
                         temporal=lyr.temporalProperties().isActive() if lyr.temporalProperties() else False,
                         renderer=(lyr.renderer().type() if hasattr(lyr, "renderer") and lyr.renderer() else None))
        layers.append(entry)
    return {
        "read": ok,
        "crs": project.crs().authid(),
        "layers": layers,
        "time_start": rng.begin().toString(Qt.ISODate),
        "time_end": rng.end().toString(Qt.ISODate),
        "time_step": ts.timeStep(),
        "time_step_unit": int(ts.timeStepUnit()),
        "abstract": project.metadata().abstract(),
        "copyright_label": project.readEntry("CopyrightLabel", "/Label")[0],
        "title": project.title(),
    }


def main() -> None:
    request = json.loads(open(sys.argv[1], encoding="utf-8").read())
    app = QgsApplication([], True)  # GUI enabled (offscreen) for the Temporal Controller widget
    app.initQgis()
    report: dict = {"qgis": __import__("qgis.core").core.Qgis.QGIS_VERSION}
    widget = None
    if request.get("controller"):
        from qgis.gui import QgsTemporalControllerWidget

        # Created before the project is read: it takes its state from the project on load.
        widget = QgsTemporalControllerWidget()
    if "gpkg" in request:
        report["layers"] = layers_report(request["gpkg"], request["layers"])
    if "rasters" in request:
        report["rasters"] = {}
        for path in request["rasters"]:
            rl = QgsRasterLayer(path, os.path.basename(path))
            rl.loadDefaultStyle()
            report["rasters"][path] = {"valid": rl.isValid(), "renderer": rl.renderer().type() if rl.renderer() else None,
                                       "crs": rl.crs().authid()}
    if "project" in request:
        report["project"] = project_report(request["project"])
        if widget is not None:
            tc = widget.temporalController()
            first = tc.dateTimeRangeForFrameNumber(0)
            report["controller"] = {
                "mode": int(tc.navigationMode()),
                "frames": tc.totalFrameCount(),
                "first_frame": [first.begin().toString(Qt.ISODate), first.end().toString(Qt.ISODate),
                                first.includeEnd()],
            }
    for i, r in enumerate(request.get("renders", [])):
        if r.get("from_project"):
            project = QgsProject.instance()
            by_name = {lyr.name(): lyr for lyr in project.mapLayers().values()}
            # Checked layers, top first, as the map canvas draws them.
            order = [n.layer() for n in project.layerTreeRoot().findLayers()
                     if n.layer() is not None and n.isVisible()]
            layers = [lyr for lyr in order if lyr.name() in r["layers"]] if r.get("layers") else order
            del by_name
        else:
            layers = []
            for name in r["layers"]:
                lyr = QgsVectorLayer(f"{request['gpkg']}|layername={name}", name, "ogr")
                lyr.loadDefaultStyle()
                layers.append(lyr)
            r["_keep"] = layers
        report.setdefault("renders", []).append(
            render(layers, r["extent"], r.get("size", 400), r["start"], r["end"], r.get("png"), r.get("probes", []))
        )
        r.pop("_keep", None)
        del i
    sys.stdout.write(json.dumps(report) + "\n")
    sys.stdout.flush()
    # exitQgis() segfaults on Debian's 3.22 at interpreter exit; the report is out, so leave hard.
    os._exit(0)


if __name__ == "__main__":
    main()

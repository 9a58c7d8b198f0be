"""Export stage: tables, GeoPackage with QGIS styles, QGIS project, run.json, atomic writes.

``staged_output`` gives the run a staging folder and moves its files into place at the end;
the writers below put files into it.
"""

from geo_control.export.formats import FORMATS, export_layers
from geo_control.export.gpkg import LAYER_NAMES, write_geopackage
from geo_control.export.project import write_qgis_project
from geo_control.export.runinfo import write_run_json
from geo_control.export.staging import staged_output
from geo_control.export.tables import write_tables

__all__ = [
    "FORMATS",
    "LAYER_NAMES",
    "export_layers",
    "staged_output",
    "write_geopackage",
    "write_qgis_project",
    "write_run_json",
    "write_tables",
]

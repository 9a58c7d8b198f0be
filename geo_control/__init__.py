"""geo_control: turn conflict situation reports into dated maps of territorial control.

The flow (one sub-package per stage, see ``pipeline.run``)::

    report text -ingest-> Document -extract-> Statement -geocode-> events table
                -model-> Layers -render-> maps, heatmaps, HTML, GIF -export-> GeoPackage, tables
"""

__version__ = "0.1.0"

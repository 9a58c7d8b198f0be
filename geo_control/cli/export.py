"""geo-control export: control.gpkg in another GIS format."""

from __future__ import annotations

import click

FORMAT_CHOICES = ["gpkg", "geojson", "fgb", "shp", "csv"]


@click.command("export")
@click.argument("gpkg", type=click.Path(path_type=str))
@click.option("--format", "fmt", type=click.Choice(FORMAT_CHOICES), default="gpkg", show_default=True,
              help="gpkg copies the file with its QGIS styles; fgb keeps row order; shp stores datetimes "
                   "as ISO text and cuts field names to 10 characters; csv has a WKT column.")
@click.option("--out", "out", required=True, type=click.Path(), help="Output folder (created if missing).")
def command(gpkg, fmt, out):
    """Write every layer of a control.gpkg in another format, one file per layer.

    Example: geo-control export outputs/control.gpkg --format fgb --out outputs/fgb
    """
    from geo_control.export.formats import export_layers

    paths = export_layers(gpkg, fmt, out)
    for path in paths:
        click.echo(str(path))

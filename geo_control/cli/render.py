"""geo-control render: weekly maps, heatmaps, map.html, GIF and stats from a control.gpkg."""

from __future__ import annotations

import click

from geo_control.cli.common import Progress


@click.command("render")
@click.argument("gpkg", type=click.Path(path_type=str))
@click.option("--out", "out", required=True, type=click.Path(), help="Output folder (created if missing).")
@click.option("--region", help="Map extent: a governorate name, e.g. 'Deir-ez-Zor'.")
@click.option("--bbox", help="Map extent: west,south,east,north in degrees.")
@click.option("--width", "map_width_px", type=click.IntRange(400, 6000), help="Width of the weekly PNGs in pixels.")
@click.option("--bandwidth", "heatmap_bandwidth_km", type=click.FloatRange(0.5, 200),
              help="Kernel bandwidth of the fighting heatmap in km.")
@click.option("--format", "formats", multiple=True, type=click.Choice(["svg", "pdf"]),
              help="Also write each weekly map in this vector format (repeatable).")
@click.option("--factions", "factions_file", type=click.Path(), help="Extra faction registry (TOML).")
@click.option("--mp4", is_flag=True, help="Also write control.mp4.")
@click.option("--no-progress", is_flag=True, help="No progress bar or progress lines.")
def command(gpkg, out, region, bbox, map_width_px, heatmap_bandwidth_km, formats, factions_file, mp4, no_progress):
    """Draw the maps of a GeoPackage written by run or build into --out.

    Example: geo-control render outputs/control.gpkg --out maps_deir --region "Deir ez-Zor"
    """
    from pathlib import Path

    from geo_control.basemap import load_basemap
    from geo_control.cli.options import build_settings
    from geo_control.factions import FactionRegistry
    from geo_control.render import read_layers, render_all

    settings = build_settings(region=region, bbox=bbox, map_width_px=map_width_px, mp4=mp4 or None,
                              heatmap_bandwidth_km=heatmap_bandwidth_km, factions_file=factions_file)
    layers = read_layers(gpkg)
    data = settings.resolved_data_dir()
    factions = FactionRegistry.load(data, settings.factions_file)
    with Progress(enabled=not no_progress) as progress:
        files = render_all(layers, load_basemap(data), settings, factions, Path(out), progress=progress,
                           formats=tuple(formats))
    click.echo(f"geo-control: {len(layers.steps)} steps, {len(files)} files -> {out}", err=True)

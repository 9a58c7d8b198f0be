"""geo-control build: dated control layers (control.gpkg) from an events table and a starting map."""

from __future__ import annotations

import click


@click.command("build")
@click.argument("events", type=click.Path(path_type=str))
@click.option("--out", "out", required=True, type=click.Path(), help="GeoPackage to write, e.g. control.gpkg.")
@click.option("--baseline", type=click.Path(),
              help="Starting control map: GeoPackage/GeoJSON polygons with a faction column, or last week's "
                   "control.gpkg.")
@click.option("--factions", "factions_file", type=click.Path(), help="Extra faction registry (TOML).")
@click.option("--freq", type=click.Choice(["day", "week", "month"]), default="week", show_default=True,
              help="Time step.")
@click.option("--from", "date_from", metavar="YYYY-MM-DD", help="First date of the series (default: first event).")
@click.option("--to", "date_to", metavar="YYYY-MM-DD", help="Last date of the series (default: last event).")
@click.option("--half-life", "half_life_days", type=click.FloatRange(min=0.5), help="Days for confidence to halve.")
@click.option("--reach", "settlement_reach_km", type=click.FloatRange(0.5, 50),
              help="How far (km) a place's control reaches around it.")
def command(events, out, baseline, factions_file, freq, date_from, date_to, half_life_days, settlement_reach_km):
    """Build control areas, frontlines, advances and changes per step from EVENTS (events.csv/.geojson).

    Example: geo-control build outputs/events.csv --out control.gpkg --baseline last_week/control.gpkg
    """
    from geo_control.basemap import load_basemap
    from geo_control.cli.options import build_settings
    from geo_control.export import write_geopackage
    from geo_control.factions import FactionRegistry
    from geo_control.model import build, read_baseline, read_events

    settings = build_settings(factions_file=factions_file, freq=freq, date_from=date_from, date_to=date_to,
                              half_life_days=half_life_days, settlement_reach_km=settlement_reach_km)
    data = settings.resolved_data_dir()
    factions = FactionRegistry.load(data, settings.factions_file)
    events_df = read_events(events)
    base = read_baseline(baseline, factions) if baseline else None
    layers = build(events_df, load_basemap(data), settings, factions, baseline=base)
    path = write_geopackage(layers, factions, out)
    click.echo(f"geo-control: {len(events_df)} events, {len(layers.steps)} steps, {len(layers.control)} control "
               f"areas, {len(layers.frontlines)} frontlines -> {path}", err=True)

"""geo-control run: every stage, from reports to the output folder."""

from __future__ import annotations

import click

from geo_control.cli.common import Progress, date_option, input_paths


@click.command("run")
@input_paths
@click.option("--out", "out", required=True, type=click.Path(), help="Output folder (created if missing).")
@date_option
@click.option("--baseline", type=click.Path(), help="Starting control map: GeoPackage/GeoJSON polygons with a faction column.")
@click.option("--factions", "factions_file", type=click.Path(), help="Extra faction registry (TOML).")
@click.option("--overrides", "overrides_file", type=click.Path(), help="Gazetteer overrides CSV.")
@click.option("--freq", type=click.Choice(["day", "week", "month"]), default="week", show_default=True)
@click.option("--from", "date_from", metavar="YYYY-MM-DD", help="First date of the series.")
@click.option("--to", "date_to", metavar="YYYY-MM-DD", help="Last date of the series.")
@click.option("--region", help="Map extent: a governorate name, e.g. 'Deir-ez-Zor'.")
@click.option("--bbox", help="Map extent: west,south,east,north in degrees.")
@click.option("--mp4", is_flag=True, help="Also write control.mp4.")
@click.option("--no-progress", is_flag=True, help="No progress bar or progress lines.")
@click.option("--scheduler", metavar="local|tcp://HOST:PORT",
              help="Spread extraction and geocoding over Dask: 'local' (this machine's cores) or a "
                   "scheduler address. Needs pip install 'geo_control[dask]'.")
@click.option("--jobs", type=click.IntRange(min=1), default=None, metavar="N",
              help="Local processes for extraction and the model's weeks (default: up to 2; 1: this "
                   "process only). Maps are drawn on two processes, or on the --scheduler cluster.")
@click.option("--no-cache", is_flag=True,
              help="Extract every report again instead of reusing earlier runs' results "
                   "($GEO_CONTROL_CACHE, default ~/.cache/geo_control).")
def command(inputs, out, default_date, baseline, factions_file, overrides_file, freq, date_from, date_to,
            region, bbox, mp4, no_progress, scheduler, jobs, no_cache):
    """Run every stage on report files or folders and write all outputs to --out.

    Example: geo-control run seeds --out outputs

    Example: geo-control run reports/ --out outputs --scheduler local
    """
    from geo_control.cli.options import build_settings
    from geo_control.pipeline import run

    settings = build_settings(factions_file=factions_file, overrides_file=overrides_file, freq=freq,
                              date_from=date_from, date_to=date_to, region=region, bbox=bbox, mp4=mp4)
    with Progress(enabled=not no_progress) as progress:
        result = run(inputs, out, settings, default_date=default_date, baseline=baseline, progress=progress,
                     cache=not no_cache, scheduler=scheduler, jobs=jobs)
    click.echo(
        f"geo-control: {len(result.documents)} reports, {len(result.events)} events, "
        f"{len(result.unresolved)} unresolved, {len(result.layers.steps)} steps -> {out}",
        err=True,
    )

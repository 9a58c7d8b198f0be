"""Turning command-line options into Settings, with errors that name the option."""

from __future__ import annotations

import datetime as dt

import click

from geo_control.settings import Settings

#: west, south, east, north of the map-context box the boundaries and gazetteer cover (data/SOURCES.md).
DATA_REGION = (32.0, 29.0, 46.0, 39.5)


def parse_bbox(value: str | None) -> tuple[float, float, float, float] | None:
    if not value:
        return None
    try:
        w, s, e, n = (float(v) for v in value.split(","))
    except ValueError:
        raise click.BadParameter(f"'{value}' is not west,south,east,north, e.g. 38,33.5,41.5,36.5",
                                 param_hint="--bbox") from None
    if not (w < e and s < n and -180 <= w <= 180 and -90 <= s <= 90):
        raise click.BadParameter(f"'{value}': need west<east and south<north in degrees", param_hint="--bbox")
    rw, rs, re_, rn = DATA_REGION
    if e <= rw or w >= re_ or n <= rs or s >= rn:
        raise click.BadParameter(
            f"'{value}' lies outside the region the shipped data covers ({rw},{rs},{re_},{rn}); "
            "give west,south,east,north around Syria, e.g. 38,33.5,41.5,36.5", param_hint="--bbox")
    return (w, s, e, n)


def check_date(value: str | None, hint: str) -> str | None:
    if value is None:
        return None
    try:
        date = dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"'{value}' is not a date; use YYYY-MM-DD", param_hint=hint) from None
    # A mistyped year would make a series of thousands of weekly maps.
    if not dt.date(1900, 1, 1) <= date <= dt.date.today() + dt.timedelta(days=366):
        raise click.BadParameter(f"{value} is out of range (1900 to next year); fix the year", param_hint=hint)
    return value


def build_settings(**options) -> Settings:
    if options.get("region") and options.get("bbox"):
        raise click.UsageError("--region and --bbox both set the map extent; give one of them")
    values = {k: v for k, v in options.items() if v is not None}
    if "bbox" in values:
        values["bbox"] = parse_bbox(values["bbox"])
    for key, hint in (("date_from", "--from"), ("date_to", "--to")):
        if key in values:
            check_date(values[key], hint)
    if values.get("date_from") and values.get("date_to") and values["date_from"] > values["date_to"]:
        raise click.UsageError(f"--from {values['date_from']} is after --to {values['date_to']}")
    return Settings(**values)

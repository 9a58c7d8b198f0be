"""geo-control geocode: look place names up in the gazetteer, one JSON line per name."""

from __future__ import annotations

import json

import click


def _parse_near(ctx, param, value: str | None) -> tuple[float, float] | None:
    if not value:
        return None
    try:
        lat, lon = (float(v) for v in value.split(","))
    except ValueError:
        raise click.BadParameter(f"'{value}' is not LAT,LON, e.g. 35.02,40.45") from None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise click.BadParameter(f"'{value}': latitude first, then longitude, in degrees")
    return lat, lon


@click.command("geocode")
@click.argument("names", nargs=-1)
@click.option("--near", callback=_parse_near, metavar="LAT,LON", help="Prefer places close to this point.")
@click.option("--file", "name_file", type=click.File("r", encoding="utf-8"), help="Read names one per line ('-' for stdin).")
@click.option("--all", "all_", is_flag=True, help="List every candidate, best first, not only the best.")
@click.option("--context", "context", multiple=True, metavar="TEXT",
              help="A hint such as 'Deir ez-Zor governorate' or 'west of Maadan' (repeatable).")
@click.option("--overrides", "overrides_file", type=click.Path(), help="Gazetteer overrides CSV (name,lat,lon,...).")
@click.option("--data-dir", type=click.Path(file_okay=False), help="Data folder (default: the repository's data/).")
def command(names, near, name_file, all_, context, overrides_file, data_dir):
    """Print the best gazetteer match for each NAME as one JSON line.

    Fields: query, name, lat, lon, place_id, feature, score (lat/lon null when nothing
    matches); --all prints one line per candidate with its rank.

    Example: geo-control geocode "Deir Ezzor" al-Bukamal --near 35.0,40.4
    """
    from pathlib import Path

    from geo_control.geocode import Gazetteer
    from geo_control.geocode.locate import MIN_SCORE
    from geo_control.settings import data_dir as default_data_dir

    queries = list(names)
    if name_file is not None:
        queries += [line.strip() for line in name_file if line.strip() and not line.lstrip().startswith("#")]
    if not queries:
        raise click.UsageError("give at least one NAME or --file F")
    gaz = Gazetteer.load(Path(data_dir) if data_dir else default_data_dir(), overrides=overrides_file)
    for query in queries:
        cands = gaz.lookup(query, near=near, context=tuple(context), all=all_)
        if not all_:
            # below the score locate() trusts, the best guess is no match (--all still lists it)
            cands = [c for c in cands if c.score >= MIN_SCORE]
        if not cands:
            click.echo(json.dumps({"query": query, "name": None, "lat": None, "lon": None, "place_id": None,
                                   "feature": None, "score": None}, ensure_ascii=False))
            continue
        for rank, c in enumerate(cands if all_ else cands[:1], 1):
            rec = {"query": query, "name": c.name, "lat": round(c.lat, 6), "lon": round(c.lon, 6),
                   "place_id": c.place_id, "feature": c.feature, "score": round(c.score, 3)}
            if all_:
                rec.update({"rank": rank, "governorate": c.governorate, "district": c.district, "country": c.country})
            click.echo(json.dumps(rec, ensure_ascii=False))

"""geo-control eval geocode: the share of gold place names placed within 1, 5 and 25 km."""

from __future__ import annotations

import click


@click.command("geocode")
@click.option("--gold", required=True, type=click.Path(), help="Gold CSV: query,lat,lon[,context,source,note].")
@click.option("--overrides", "overrides_file", type=click.Path(), help="Gazetteer overrides CSV.")
@click.option("--data-dir", type=click.Path(file_okay=False), help="Data folder (default: the repository's data/).")
@click.option("--max-failures", default=50, show_default=True, help="How many failures (> 5 km) to list.")
@click.option("--json", "as_json", is_flag=True, help="Print the scores and every row as JSON.")
def command(gold, overrides_file, data_dir, max_failures, as_json):
    """Geocode every gold query and print the share placed within 1, 5 and 25 km, then the failures.

    Example: geo-control eval geocode --gold tests/gold/geocode.csv
    """
    import json
    from pathlib import Path

    from geo_control.evaluate.geocode import evaluate, read_gold
    from geo_control.geocode import Gazetteer
    from geo_control.settings import data_dir as default_data_dir

    rows = read_gold(gold)
    gaz = Gazetteer.load(Path(data_dir) if data_dir else default_data_dir(), overrides=overrides_file)
    score = evaluate(rows, gaz)
    if as_json:
        click.echo(json.dumps({"n": score.n, "within": {str(k): v for k, v in score.within.items()},
                               "rows": score.rows}, ensure_ascii=False, indent=1))
        return
    click.echo(f"gold: {gold} ({score.n} queries)")
    for km, share in score.within.items():
        click.echo(f"within {km:>4g} km: {share:6.1%}")
    failures = score.failures(5.0)
    click.echo(f"failures (> 5 km or unmatched): {len(failures)}")
    for r in failures[:max_failures]:
        ctx = f" [{r['context']}]" if r["context"] else ""
        if r["name"] is None:
            click.echo(f"  {r['query']}{ctx}: no match")
        else:
            click.echo(f"  {r['query']}{ctx}: {r['name']} ({r['lat']:.4f},{r['lon']:.4f}) off by {r['error_km']:.1f} km")

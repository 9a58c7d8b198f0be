"""geo-control eval extract: precision, recall and F1 of the extractor on gold files."""

from __future__ import annotations

import click


@click.command("extract")
@click.option("--gold", "gold", multiple=True, required=True, type=click.Path(),
              help="Gold JSONL file (repeatable), e.g. tests/gold/extract_seeds.jsonl.")
@click.option("--factions", "factions_file", type=click.Path(), help="Extra faction registry (TOML).")
@click.option("--errors", is_flag=True, help="Also list false positives and misses.")
def command(gold, factions_file, errors):
    """Score the extractor against hand-annotated gold files.

    Example: geo-control eval extract --gold tests/gold/extract_seeds.jsonl --gold tests/gold/extract_sentences.jsonl
    """
    from geo_control.evaluate.extract import evaluate
    from geo_control.factions import FactionRegistry

    scores = evaluate(gold, factions=FactionRegistry.load(None, factions_file))
    click.echo(f"{'action':<10} {'tp':>4} {'fp':>4} {'fn':>4} {'precision':>9} {'recall':>7} {'f1':>6}")
    for name, c in [*scores.by_action.items(), ("overall", scores.overall)]:
        if name != "overall" and not (c.tp or c.fp or c.fn):
            continue
        click.echo(f"{name:<10} {c.tp:>4} {c.fp:>4} {c.fn:>4} {c.precision:>9.3f} {c.recall:>7.3f} {c.f1:>6.3f}")
    if errors:
        for doc, p in scores.false_positives:
            click.echo(f"FP  {doc}: {p.action} {p.faction} {p.place!r} {p.date} ({p.modality}) | {p.sentence[:100]}")
        for doc, g in scores.misses:
            click.echo(f"FN  {doc}: {g.action} {g.faction} {g.place!r} {g.date} {g.precision} ({g.modality})")

"""geo-control eval: score the extractor or the geocoder against hand-annotated gold files."""

from __future__ import annotations

import click

from geo_control.cli import LazyGroup


class _EvalGroup(LazyGroup):
    modules = {"extract": "eval_extract", "geocode": "eval_geocode"}


@click.group("eval", cls=_EvalGroup)
def command():
    """Score a stage against gold files (tests/gold/).

    Example: geo-control eval extract --gold tests/gold/extract_seeds.jsonl
    """

"""geo-control eval: score the extractor or the geocoder against hand-annotated gold files."""

from __future__ import annotations

import importlib

import click

SUBCOMMANDS = {"extract": "eval_extract", "geocode": "eval_geocode"}


class _LazyEval(click.Group):
    def list_commands(self, ctx):
        return list(SUBCOMMANDS)

    def get_command(self, ctx, name):
        if name not in SUBCOMMANDS:
            return None
        return importlib.import_module(f"geo_control.cli.{SUBCOMMANDS[name]}").command


@click.group("eval", cls=_LazyEval)
def command():
    """Score a stage against gold files (tests/gold/).

    Example: geo-control eval extract --gold tests/gold/extract_seeds.jsonl
    """

"""The ``geo-control`` command line: one thin module per command.

Each command parses options, calls one library function, writes the result, and turns
``GeoControlError`` into one line on stderr and exit status 2.
"""

from __future__ import annotations

import importlib

import click

from geo_control import __version__

#: command name -> module under geo_control.cli holding a click command called ``command``.
COMMANDS = {
    "run": "run",
    "extract": "extract",
    "geocode": "geocode",
    "build": "build",
    "render": "render",
    "animate": "animate",
    "export": "export",
    "eval": "evaluate",
}


class LazyGroup(click.Group):
    """Imports a command's module only when it runs, so ``geo-control --help`` stays fast.

    ``modules`` maps command names to modules under ``geo_control.cli`` that hold a click
    command called ``command``.
    """

    modules: dict[str, str] = COMMANDS

    def list_commands(self, ctx):
        return list(self.modules)

    def get_command(self, ctx, name):
        if name not in self.modules:
            return None
        module_name = f"geo_control.cli.{self.modules[name]}"
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name == module_name:
                return None
            raise
        return module.command


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="geo-control")
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
@click.option("-q", "--quiet", is_flag=True, help="Only errors.")
def cli(verbose: int, quiet: bool) -> None:
    """Turn conflict situation reports into dated maps of territorial control, offline.

    Example: geo-control run seeds --out outputs
    """
    from geo_control.cli.common import setup_logging

    setup_logging(verbose, quiet)


def main() -> None:
    from geo_control.cli.common import run_cli

    run_cli(cli)

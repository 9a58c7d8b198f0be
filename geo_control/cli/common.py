"""What every command shares: logging set-up, error handling, progress, common options."""

from __future__ import annotations

import datetime as dt
import logging
import sys

import click

from geo_control.errors import GeoControlError

log = logging.getLogger("geo_control")


def setup_logging(verbose: int = 0, quiet: bool = False) -> None:
    level = logging.ERROR if quiet else (logging.WARNING, logging.INFO, logging.DEBUG)[min(verbose, 2)]
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("geo-control: %(levelname)s: %(message)s"))
    root = logging.getLogger("geo_control")
    root.handlers[:] = [handler]
    root.setLevel(level)


def run_cli(group: click.Group) -> None:
    """Run the click group; a GeoControlError becomes one line and exit status 2, a system
    error (OSError: disk full, permissions) one line and exit status 1."""
    try:
        group.main(standalone_mode=False)
    except click.exceptions.Abort:
        # click turns Ctrl-C into Abort: say what the user needs to know, as for KeyboardInterrupt.
        click.echo("geo-control: interrupted; previous outputs are untouched", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except GeoControlError as exc:
        click.echo(f"geo-control: error: {exc}", err=True)
        sys.exit(2)
    except KeyboardInterrupt:
        click.echo("geo-control: interrupted; previous outputs are untouched", err=True)
        sys.exit(130)
    except BrokenPipeError:
        sys.exit(0)
    except OSError as exc:
        # The machine, not the input (a full disk, a file another program holds, a permission
        # changed mid-run): one line; -vv shows where.
        log.debug("system error", exc_info=True)
        click.echo(f"geo-control: error: {exc}; fix it and run again (-vv shows where it happened)", err=True)
        sys.exit(1)


def parse_date(ctx, param, value: str | None) -> dt.date | None:
    """Click callback for YYYY-MM-DD options."""
    if value is None:
        return None
    try:
        date = dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"'{value}' is not a date; use YYYY-MM-DD, e.g. 2017-11-02") from None
    # A mistyped year (2071, 1017) would make a series of thousands of weekly maps.
    if not dt.date(1900, 1, 1) <= date <= dt.date.today() + dt.timedelta(days=1):
        raise click.BadParameter(f"{value} is {'in the future' if date.year >= 1900 else 'before 1900'}; "
                                 "fix the year")
    return date


class Progress:
    """A progress callback: a rich bar on a terminal, a plain line every 10% in logs."""

    def __init__(self, enabled: bool = True):
        self.enabled = enabled
        self.tty = sys.stderr.isatty()
        self._bars: dict = {}
        self._progress = None
        self._last: dict[str, int] = {}

    def __enter__(self):
        if self.enabled and self.tty:
            from rich.progress import Progress as RichProgress

            self._progress = RichProgress(transient=False)
            self._progress.start()
        return self

    def __exit__(self, *exc):
        if self._progress is not None:
            self._progress.stop()

    def __call__(self, stage: str, done: int, total: int) -> None:
        if not self.enabled:
            return
        if self._progress is not None:
            if stage not in self._bars:
                self._bars[stage] = self._progress.add_task(stage, total=total)
            self._progress.update(self._bars[stage], completed=done, total=total)
            return
        step = max(1, total // 10)
        if done == total or done - self._last.get(stage, 0) >= step:
            self._last[stage] = done
            click.echo(f"geo-control: {stage}: {done}/{total}", err=True)


input_paths = click.argument("inputs", nargs=-1, required=True, type=click.Path(path_type=str))
date_option = click.option(
    "--date", "default_date", callback=parse_date, metavar="YYYY-MM-DD",
    help="Report date for reports whose date is in neither the text nor a manifest.",
)

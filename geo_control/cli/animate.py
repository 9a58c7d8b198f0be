"""geo-control animate: a GIF (and MP4) from a folder of weekly map PNGs."""

from __future__ import annotations

import click


@click.command("animate")
@click.argument("maps_dir", type=click.Path(path_type=str))
@click.option("--out", "out", default="control.gif", show_default=True, type=click.Path(),
              help="GIF to write; with --mp4 an .mp4 is written beside it.")
@click.option("--width", type=click.IntRange(100, 4000), default=1000, show_default=True,
              help="Frame width in pixels.")
@click.option("--frame-ms", type=click.IntRange(20, 10000), default=900, show_default=True,
              help="Duration of one frame in milliseconds.")
@click.option("--mp4", is_flag=True, help="Also write an MP4 (needs imageio-ffmpeg).")
def command(maps_dir, out, width, frame_ms, mp4):
    """Animate the weekly maps of MAPS_DIR (PNG files, in name order: ISO weeks sort by date).

    Example: geo-control animate outputs/maps --out control.gif --mp4
    """
    from pathlib import Path

    from geo_control.errors import InputError, MissingInputError
    from geo_control.render.animate import read_frames, write_gif, write_mp4

    folder = Path(maps_dir)
    if not folder.is_dir():
        raise MissingInputError(f"{maps_dir}: not a folder; give the maps/ folder of a run")
    pngs = sorted(folder.glob("*.png"))
    if not pngs:
        raise InputError(f"{maps_dir}: no .png maps in it; give the maps/ folder of a run")
    frames = read_frames(pngs, width)
    gif = write_gif(frames, Path(out), frame_ms)
    written = [gif]
    if mp4:
        written.append(write_mp4(frames, gif.with_suffix(".mp4"), frame_ms))
    click.echo(f"geo-control: {len(frames)} frames -> {', '.join(str(p) for p in written)}", err=True)

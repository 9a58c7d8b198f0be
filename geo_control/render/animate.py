"""Animation: ``control.gif`` (and ``control.mp4``) from frames of the weekly maps.

Frames are the weekly maps downscaled to ``settings.gif_width_px`` with the series' fixed
legend pasted on, so the extent and legend never jump. All frames share one 255-colour palette
(the heatmap's gradient needs more than 64); gifsicle -O2, when installed, stores only what
changes between frames, which keeps 52 weeks at 1,000 px near 1-2 MB. (-O3 took twice the
time for 0.003 % fewer bytes on the 113 weeks of the 1,000-report corpus: 3.5 s vs 1.6 s.)
"""

from __future__ import annotations

import logging
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)


def write_gif(frames: Sequence[np.ndarray], path: Path, frame_ms: int, optimise: bool = True) -> Path:
    """Write RGB frames as a looping GIF; the last frame stays three times as long."""
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    if not frames:
        raise ValueError("no frames to animate")
    # One shared palette for all frames keeps colours stable and lets gifsicle diff frames.
    sample = np.concatenate([f[::3, ::3] for f in frames[:: max(1, len(frames) // 16)]], axis=0)
    # 255 colours (octree keeps the heatmap's gradient steps); one index stays free for gifsicle.
    palette_img = Image.fromarray(sample).quantize(colors=255, method=Image.Quantize.FASTOCTREE)
    images = [Image.fromarray(f).quantize(palette=palette_img, dither=Image.Dither.NONE) for f in frames]
    durations = [frame_ms] * len(frames)
    durations[-1] = frame_ms * 3
    tmp = path.with_suffix(".tmp.gif")
    # Pillow takes a list of durations only for several frames: one week is one frame.
    duration = durations if len(durations) > 1 else durations[0]
    # Paletted frames written as they are (no second quantisation); optimize=False keeps the
    # shared palette global.
    images[0].save(tmp, format="GIF", save_all=True, append_images=images[1:], duration=duration, loop=0,
                   optimize=False, disposal=1)
    gifsicle = shutil.which("gifsicle")
    if optimise and gifsicle:
        res = subprocess.run([gifsicle, "-O2", str(tmp), "-o", str(path)],
                             capture_output=True, text=True, check=False)
        if res.returncode == 0:
            tmp.unlink()
            return path
        log.warning("gifsicle failed (%s); keeping the unoptimised GIF", res.stderr.strip()[:200])
    tmp.replace(path)
    return path


def write_mp4(frames: Sequence[np.ndarray], path: Path, frame_ms: int) -> Path:
    """Write frames as H.264 MP4 (imageio-ffmpeg); frames are padded to sizes divisible by 16."""
    try:
        import imageio.v2 as iio2
        import imageio_ffmpeg  # noqa: F401
    except ImportError as exc:
        from geo_control.errors import InputError

        raise InputError("--mp4 needs imageio-ffmpeg; install it with: pip install imageio-ffmpeg") from exc
    h, w = frames[0].shape[:2]
    H, W = -(-h // 16) * 16, -(-w // 16) * 16
    fps = 1000.0 / frame_ms
    writer = iio2.get_writer(path, fps=fps, codec="libx264", quality=8, macro_block_size=16,
                             ffmpeg_log_level="error", pixelformat="yuv420p")
    try:
        for f in frames:
            canvas = np.full((H, W, 3), 255, dtype=np.uint8)
            canvas[:h, :w] = f[:, :, :3]
            writer.append_data(canvas)
    finally:
        writer.close()
    return path


def read_frames(paths: Sequence[Path], width: int) -> list[np.ndarray]:
    """PNG maps resized to ``width`` pixels (for ``geo-control animate``)."""
    from PIL import Image

    frames = []
    for p in paths:
        img = Image.open(p).convert("RGB")
        if img.width != width:
            img = img.resize((width, round(img.height * width / img.width)), Image.Resampling.LANCZOS)
        frames.append(np.asarray(img))
    # Frames of one GIF must share a size: pad to the largest.
    hmax = max(f.shape[0] for f in frames)
    return [np.pad(f, ((0, hmax - f.shape[0]), (0, 0), (0, 0)), constant_values=255) for f in frames]

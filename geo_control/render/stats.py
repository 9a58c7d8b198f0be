"""``stats.png``: km² held per faction over time, from ``layers.stats``."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from geo_control import style


def write_stats_chart(stats: pd.DataFrame, colours: dict[str, str], labels: dict[str, str], path: Path,
                      title: str = "Area held per faction") -> Path:
    """A line chart of area_km2 per faction per step (contested areas dashed)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter

    fig = Figure(figsize=(9, 4.8), dpi=130, facecolor="white")
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0.09, 0.14, 0.62, 0.74))
    if stats is None or not len(stats):
        ax.text(0.5, 0.5, "No control areas in this series", ha="center", va="center", transform=ax.transAxes)
    else:
        df = stats.copy()
        df["when"] = pd.to_datetime(df["valid_from"], utc=True, errors="coerce").dt.tz_localize(None)
        table = df.pivot_table(index="when", columns="faction", values="area_km2", aggfunc="sum").sort_index()
        order = [f for f in colours if f in table.columns] + [f for f in table.columns if f not in colours]
        for fid in order:
            s = table[fid]
            colour = style.CONTESTED_COLOUR if fid == "contested" else colours.get(fid, "#999999")
            ax.plot(s.index, s.values, color=colour, lw=2.0, marker="o", ms=3,
                    ls="--" if fid == "contested" else "-", label=labels.get(fid, fid.capitalize()))
        ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), frameon=False, fontsize=8)
        fig.autofmt_xdate()
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
    ax.set_ylabel("km² (geodesic)")
    ax.set_title(title, loc="left", fontsize=12, fontweight="bold")
    ax.grid(alpha=0.3)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    fig.text(0.09, 0.015, "Source: geo_control control areas built from report text.", fontsize=6.5, color="#555")
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    return path

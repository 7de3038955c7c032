"""Charts of a person's viewing (matplotlib, headless, one dark look readable in Discord and Telegram).

- ``taste_chart``: plays per period, stacked by persona (counts; ``percent=True`` for shares), the current, partial
  period hatched and labelled "so far".
- ``when_chart``: a heatmap of plays by weekday and local hour (plays with a date only are left out, and counted).
- ``map_chart``: a 2-D projection of the person's shows, coloured by persona, representatives labelled.

Each ``draw_*`` returns the matplotlib figure (tests read what was drawn); ``png`` turns a figure into bytes.
"""

from __future__ import annotations

import io
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime

import matplotlib

matplotlib.use("Agg")
import numpy as np
from babel.dates import get_day_names, get_month_names
from matplotlib.axes import Axes
from matplotlib.colors import PowerNorm
from matplotlib.figure import Figure

from engine.taste.temporal import local, period_key
from engine.values.i18n import LANGUAGES, _, current, ngettext, speaking
from engine.values.models import Chart

BG, FG, GRID, MUTED = "#1e1f22", "#dbdee1", "#3a3c42", "#949ba4"
PALETTE = ["#5865f2", "#57f287", "#fee75c", "#eb459e", "#ed4245", "#3ba5dc", "#f0a35e", "#b5bac1"]


@dataclass(frozen=True)
class ChartData:
    personas: list[tuple[str, list[int]]]                 # (name, member show ids), the persona order
    plays: list[tuple[int, datetime, bool]]               # (show id, when, has a time of day)
    tz: str | None
    now: datetime
    coords: dict[int, tuple[float, float]] = field(default_factory=dict)     # show id → 2-D position
    labels: dict[int, str] = field(default_factory=dict)                     # representatives: show id → title


def _style(fig: Figure, ax: Axes, title: str) -> None:
    fig.patch.set_facecolor(BG)
    ax.set_facecolor(BG)
    ax.set_title(title, color=FG, fontsize=12, loc="left", pad=10)
    ax.tick_params(colors=MUTED, labelsize=8)
    for spine in ax.spines.values():
        spine.set_color(GRID)
    ax.xaxis.label.set_color(MUTED)
    ax.yaxis.label.set_color(MUTED)


def _finish_bars(fig: Figure, ax: Axes) -> Figure:
    """A stacked bar chart's grid and its legend beside it."""
    ax.grid(axis="y", color=GRID, linewidth=0.6)
    ax.set_axisbelow(True)
    legend = ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)
    for text in legend.get_texts():
        text.set_color(FG)
    fig.tight_layout()
    return fig


def _empty(fig: Figure, ax: Axes, text: str) -> Figure:
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, color=FG)
    ax.set_axis_off()
    return fig


def _persona_of(data: ChartData) -> dict[int, int]:
    return {sid: i for i, (_, members) in enumerate(data.personas) for sid in members}


def period_unit(data: ChartData) -> str:
    if not data.plays:
        return "year"
    first = min(at for _sid, at, _ in data.plays)
    return "year" if (data.now - first).days > 3 * 365 else "quarter"


def period_counts(data: ChartData) -> tuple[list[str], np.ndarray]:
    """Plays per period (rows: periods, oldest first, with empty periods in between; columns: personas, then
    "other" for shows in no persona)."""
    unit = period_unit(data)
    owner = _persona_of(data)
    n = len(data.personas)
    counts: Counter[tuple[str, int]] = Counter()
    for sid, at, _timed in data.plays:
        counts[(period_key(at.date(), unit), owner.get(sid, n))] += 1
    if not counts:
        return [], np.zeros((0, n + 1))
    first = min(at for _sid, at, _ in data.plays).date()
    last = max(data.now.date(), max(at for _sid, at, _ in data.plays).date())
    periods: list[str] = []
    y, q = first.year, (first.month - 1) // 3
    while (y, q) <= (last.year, (last.month - 1) // 3):
        key = str(y) if unit == "year" else f"{y}-Q{q + 1}"
        if not periods or periods[-1] != key:
            periods.append(key)
        y, q = (y + 1, 0) if unit == "year" or q == 3 else (y, q + 1)
    table = np.zeros((len(periods), n + 1))
    index = {p: i for i, p in enumerate(periods)}
    for (p, g), c in counts.items():
        table[index[p], g] += c
    return periods, table


def draw_taste(data: ChartData, *, percent: bool = False) -> Figure:
    fig = Figure(figsize=(9, 4.6), dpi=110)       # no pyplot: nothing kept in a global figure registry
    ax = fig.subplots()
    _style(fig, ax, _("Your tastes over time (share of plays)") if percent else _("Your tastes over time (plays)"))
    periods, table = period_counts(data)
    if not periods:
        return _empty(fig, ax, _("No history yet"))
    values = table / np.maximum(table.sum(axis=1, keepdims=True), 1) * 100 if percent else table
    names = [name for name, _members in data.personas] + [_("other shows")]
    current = period_key(data.now.date(), period_unit(data))
    xs = np.arange(len(periods))
    bottom = np.zeros(len(periods))
    for g, name in enumerate(names):
        col = values[:, g]
        if not col.any():
            continue
        colour = PALETTE[g % len(PALETTE)] if g < len(data.personas) else MUTED
        bars = ax.bar(xs, col, bottom=bottom, color=colour, label=name, width=0.8, edgecolor=BG, linewidth=0.5)
        if periods[-1] == current:
            bars[-1].set_hatch("///")
            bars[-1].set_alpha(0.55)
        bottom += col
    labels = [f"{p}\n" + _("(so far)") if p == current else p for p in periods]
    step = max(1, len(periods) // 12)
    ax.set_xticks(xs[::step], labels[::step])
    ax.set_ylabel(_("% of plays") if percent else _("plays"))
    return _finish_bars(fig, ax)


def hour_weekday_counts(data: ChartData) -> tuple[np.ndarray, int]:
    """(7 × 24 plays by local weekday and hour, plays left out for having no time of day)."""
    grid = np.zeros((7, 24))
    undated = 0
    for _sid, at, timed in data.plays:
        if not timed:
            undated += 1
            continue
        t = local(at, data.tz)
        grid[t.weekday(), t.hour] += 1
    return grid, undated


def draw_when(data: ChartData) -> Figure:
    fig = Figure(figsize=(9, 3.6), dpi=110)       # no pyplot: nothing kept in a global figure registry
    ax = fig.subplots()
    grid, undated = hour_weekday_counts(data)
    tz = data.tz or "UTC"
    _style(fig, ax, _("When you watch (plays by hour, {tz})").format(tz=tz))
    if not grid.any():
        return _empty(fig, ax, _("No plays with a time of day yet"))
    # square-root colour scale: a habit of 5 plays stays visible next to a 100-play binge slot
    im = ax.imshow(grid, aspect="auto", cmap="magma", interpolation="nearest",
                   norm=PowerNorm(0.5, vmin=0, vmax=max(1.0, float(grid.max()))))
    ax.set_yticks(range(7), day_names())
    ax.set_xticks(range(0, 24, 3), [f"{h:02d}h" for h in range(0, 24, 3)])
    bar = fig.colorbar(im, ax=ax, pad=0.01)
    bar.ax.tick_params(colors=MUTED, labelsize=8)
    bar.set_label(_("plays"), color=MUTED)
    if undated:
        ax.set_xlabel(ngettext("{n} play without a time of day (imports that give dates only) not shown",
                               "{n} plays without a time of day (imports that give dates only) not shown",
                               undated).format(n=f"{undated:,}"))
    fig.tight_layout()
    return fig


def draw_map(data: ChartData) -> Figure:
    fig = Figure(figsize=(8, 6), dpi=110)       # no pyplot: nothing kept in a global figure registry
    ax = fig.subplots()
    _style(fig, ax, _("Your shows, by persona (closer = more alike)"))
    if not data.coords:
        return _empty(fig, ax, _("Not enough shows for a map yet"))
    for g, (name, members) in enumerate(data.personas):
        pts = [data.coords[s] for s in members if s in data.coords]
        if pts:
            xy = np.array(pts)
            ax.scatter(xy[:, 0], xy[:, 1], s=36, color=PALETTE[g % len(PALETTE)], label=name, alpha=0.9,
                       edgecolors=BG, linewidths=0.6)
    every = np.array(list(data.coords.values()), dtype=float)
    span = np.ptp(every, axis=0) if len(every) > 1 else np.ones(2)
    span = np.where(span > 0, span, 1.0)
    for sid, title in data.labels.items():
        if sid in data.coords:
            x, y = data.coords[sid]
            # the label goes where no dot is: the emptiest of the four corners around its show, on a backing
            # that keeps it readable, above the dots
            d = (every - np.array([x, y])) / span
            near = d[(np.abs(d) < 0.12).all(axis=1) & (np.abs(d) > 1e-9).any(axis=1)]
            corners = [(1, 1), (1, -1), (-1, 1), (-1, -1)]
            dx, dy = min(corners, key=lambda c: int(((np.sign(near[:, 0]) == c[0]) & (np.sign(near[:, 1]) == c[1]))
                                                     .sum()) if len(near) else 0)
            ax.annotate(title, (x, y), xytext=(5 * dx, 5 * dy), textcoords="offset points", color=FG, fontsize=7,
                        ha="left" if dx > 0 else "right", va="bottom" if dy > 0 else "top", zorder=5,
                        bbox={"boxstyle": "round,pad=0.15", "fc": BG, "ec": "none", "alpha": 0.8})
    ax.set_xticks([])
    ax.set_yticks([])
    legend = ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)
    for text in legend.get_texts():
        text.set_color(FG)
    fig.tight_layout()
    return fig


def png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", facecolor=fig.get_facecolor())
    return buf.getvalue()


def all_charts(data: ChartData) -> list[Chart]:
    """The three charts, captioned in the person's language (drawn in it where the chart font has its letters)."""
    captions = (_("Your tastes over time"), _("When you watch"), _("Your shows by persona"))
    with drawable():
        figures = (draw_taste(data), draw_when(data), draw_map(data))
    return [Chart(name, caption, png(fig)) for name, caption, fig in zip(("taste", "when", "map"), captions, figures,
                                                                          strict=True)]


@contextmanager
def drawable() -> Iterator[None]:
    """The words inside a chart in the person's language, but English where the chart font (DejaVu Sans, which
    matplotlib ships) has no letters for it: Japanese would come out as empty boxes."""
    with speaking(None if current() in NO_GLYPHS else current()):
        yield


NO_GLYPHS = frozenset({"ja", "zh", "ko"})


def day_names() -> list[str]:
    lang = current()
    names = get_day_names("abbreviated", locale=lang if lang in LANGUAGES else "en")
    return [str(names[i]) for i in range(7)]


def month_names() -> list[str]:
    lang = current()
    names = get_month_names("abbreviated", locale=lang if lang in LANGUAGES else "en")
    return [str(names[i]) for i in range(1, 13)]


def draw_year(months: list[list[int]], names: list[str], title: str, last_month: int) -> Figure:
    """Episodes a month of one year, stacked by persona (the last column "other shows"); months after
    ``last_month`` (the current year) are left out rather than drawn as empty."""
    fig = Figure(figsize=(9, 4.2), dpi=110)
    ax = fig.subplots()
    _style(fig, ax, title)
    table = np.array(months[:last_month], dtype=float)
    if not table.any():
        return _empty(fig, ax, _("Nothing watched that year"))
    xs = np.arange(len(table))
    bottom = np.zeros(len(table))
    for g, name in enumerate(names):
        col = table[:, g]
        if not col.any():
            continue
        colour = PALETTE[g % len(PALETTE)] if g < len(names) - 1 else MUTED
        ax.bar(xs, col, bottom=bottom, color=colour, label=name, width=0.8, edgecolor=BG, linewidth=0.5)
        bottom += col
    ax.set_xticks(xs, month_names()[:len(table)])
    ax.set_ylabel(_("episodes"))
    return _finish_bars(fig, ax)

"""Charts draw the person's own numbers: checked against counts computed here, by other code, not PNG headers."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from matplotlib.collections import PathCollection
from matplotlib.patches import Rectangle

from engine.taste.chart import ChartData, all_charts, draw_map, draw_taste, draw_when

ROOT = Path(__file__).resolve().parents[1]


def _bars(fig: Any) -> dict[str, list[float]]:
    """Bar heights per legend entry, in x order."""
    ax = fig.axes[0]
    return {c.get_label(): [p.get_height() for p in c.patches] for c in ax.containers}


async def _sample(make_engine: Any) -> tuple[Any, int, ChartData]:
    engine = await make_engine()
    pid = await engine.person("console", "s")
    await engine.load_sample(pid)
    return engine, pid, await engine._s.personas.chart_data(pid)


async def test_taste_over_time_draws_each_years_play_count(make_engine: Any) -> None:
    engine, pid, data = await _sample(make_engine)
    stats = await engine.stats(pid)
    fig = draw_taste(data)
    bars = _bars(fig)
    per_period = np.sum([h for h in bars.values()], axis=0)
    labels = [t.get_text().split("\n")[0] for t in fig.axes[0].get_xticklabels()]
    drawn = {p: int(n) for p, n in zip(labels, per_period, strict=True) if n}
    assert drawn == {str(y): n for y, n in stats.plays_per_year}      # the SQL-side count of the same plays
    assert sum(per_period) == stats.plays == 490
    report = await engine.personas(pid)
    assert set(bars) <= {p.name for p in report.personas} | {"other shows"}
    for p in report.personas:                                          # each persona's bars: its members' plays
        members = set(p.member_ids)
        want = sum(1 for sid, _, _ in data.plays if sid in members)
        assert sum(bars.get(p.name, [0])) == want


def test_the_current_period_is_marked_partial_and_percent_adds_to_100() -> None:
    now = datetime(2026, 3, 10, tzinfo=UTC)
    plays = [(1, datetime(2024, 5, 1, 20, tzinfo=UTC), True)] * 47 \
        + [(2, datetime(2025, 6, 1, tzinfo=UTC), True)] * 73 + [(1, datetime(2026, 2, 1, tzinfo=UTC), True)] * 5
    data = ChartData([("Crime", [1]), ("Comedy", [2])], plays, None, now)
    fig = draw_taste(data)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["2024-Q2", "2024-Q3", "2024-Q4", "2025-Q1", "2025-Q2",
                                                           "2025-Q3", "2025-Q4", "2026-Q1\n(so far)"]
    bars = _bars(fig)
    assert bars["Crime"] == [47, 0, 0, 0, 0, 0, 0, 5] and bars["Comedy"] == [0, 0, 0, 0, 73, 0, 0, 0]
    assert all(c.patches[-1].get_hatch() == "///" for c in ax.containers)     # the partial quarter
    assert ax.get_ylim()[1] < 80                                            # counts, not shares: 47 ≠ 73
    pct = _bars(draw_taste(data, percent=True))
    totals = np.sum(list(pct.values()), axis=0)
    assert all(t in (0, pytest.approx(100)) for t in totals)


def test_when_heatmap_counts_plays_by_local_weekday_and_hour_and_leaves_out_dates_only() -> None:
    tz = "America/New_York"
    plays = [(1, datetime(2025, 1, 6, 1, 30, tzinfo=UTC), True)] * 3 + \
        [(1, datetime(2025, 1, 11, 19, 0, tzinfo=UTC), True)] * 2 + [(1, datetime(2025, 1, 12, 20, tzinfo=UTC), False)]
    fig = draw_when(ChartData([("A", [1])], plays, tz, datetime(2025, 2, 1, tzinfo=UTC)))
    grid = np.asarray(fig.axes[0].images[0].get_array())
    want = np.zeros((7, 24))
    for _, at, timed in plays:
        if timed:
            t = at.astimezone(ZoneInfo(tz))
            want[t.weekday(), t.hour] += 1
    assert (grid == want).all() and want[6, 20] == 3     # Monday 01:30 UTC is Sunday 20:30 in New York
    assert fig.axes[0].get_xlabel().startswith("1 play without a time of day")


async def test_persona_map_places_every_member_and_labels_representatives(make_engine: Any) -> None:
    engine, pid, data = await _sample(make_engine)
    fig = draw_map(data)
    ax = fig.axes[0]
    points = {c.get_label(): len(c.get_offsets()) for c in ax.collections if isinstance(c, PathCollection)}
    assert points == {name: len(members) for name, members in data.personas}
    report = await engine.personas(pid)
    assert {t.get_text() for t in ax.texts} == {p.medoid.title for p in report.personas}


async def test_charts_are_pngs_in_one_dark_look_and_written_for_the_readme(make_engine: Any) -> None:
    _, _, data = await _sample(make_engine)
    charts = all_charts(data)
    assert [c.name for c in charts] == ["taste", "when", "map"]
    for c in charts:
        assert c.png[:8] == b"\x89PNG\r\n\x1a\n" and len(c.png) > 10_000
    fig = draw_taste(data)
    assert fig.get_facecolor()[:3] == pytest.approx((0x1e / 255, 0x1f / 255, 0x22 / 255))
    assert not any(isinstance(p, Rectangle) and p.get_height() < 0 for p in fig.axes[0].patches)
    if os.environ.get("WRITE_DOCS_CHARTS"):          # WRITE_DOCS_CHARTS=1 refreshes docs/charts/
        out = ROOT / "docs" / "charts"
        out.mkdir(parents=True, exist_ok=True)
        for c in charts:
            (out / f"{c.name}.png").write_bytes(c.png)


async def test_no_dot_hides_a_label_on_the_persona_map(make_engine: Any) -> None:
    """A label sits in the emptiest corner around its show, above the dots: no dot's centre falls inside any
    label (the README's map had a dot over "Altered Carbon")."""
    _, _, data = await _sample(make_engine)
    fig = draw_map(data)
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    ax = fig.axes[0]
    renderer = canvas.get_renderer()
    boxes = [t.get_window_extent(renderer) for t in ax.texts]
    dots = np.vstack([ax.transData.transform(c.get_offsets()) for c in ax.collections
                      if isinstance(c, PathCollection)])
    assert boxes and len(dots) >= len(boxes)
    for box in boxes:
        inside = [(x, y) for x, y in dots if box.x0 <= x <= box.x1 and box.y0 <= y <= box.y1]
        assert not inside, (box, inside)

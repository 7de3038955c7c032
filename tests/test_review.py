"""/stats year: a year in review from the history alone — on the demo viewer, and on a hand-made history whose
every figure is known."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from bot.render_plans import year_review
from engine.plumbing.clock import StoppedClock
from engine.taste.history import PersonHistory, ShowHistory, Watch
from engine.usecases.review import review
from engine.values.errors import MultitudesError
from engine.values.meta import SeasonInfo, ShowMeta
from engine.values.models import Persona, PersonaReport, PersonaShow

NOW = datetime(2026, 7, 6, 19, 0, tzinfo=UTC)


def persona(pid: int, name: str, members: tuple[int, ...]) -> Persona:
    show = PersonaShow(members[0], name, None, 1.0)
    return Persona(id=pid, name=name, description="", weight=0.5, medoid=show, shows=(), size=len(members),
                   genres=(), style="mixed", binge_share=0.0, weekly_share=0.0, when="", hours=(), weekdays=(),
                   trend="steady", timeline=(), cohesion=1.0, member_ids=members)


def test_every_figure_of_a_known_year() -> None:
    def w(s: int, e: int, y: int, mo: int, d: int, h: int = 21) -> Watch:
        return Watch(s, e, datetime(y, mo, d, h, tzinfo=UTC))
    history = PersonHistory({
        1: ShowHistory(1, [w(1, e, 2025, 3, 1) for e in range(1, 7)] + [w(1, 7, 2025, 3, 2), w(1, 8, 2025, 3, 3)]),
        2: ShowHistory(2, [w(1, 1, 2024, 5, 1), w(1, 2, 2024, 5, 8), w(1, 3, 2025, 1, 10)]),
        3: ShowHistory(3, [w(1, e, 2024, 6, e) for e in range(1, 11)]),
    }, timezone="UTC")
    metas = {1: ShowMeta(title="Severance", runtime=50, seasons=(SeasonInfo(1, 8),)),
             2: ShowMeta(title="Fargo", runtime=None, seasons=(SeasonInfo(1, 10),)),
             3: ShowMeta(title="Bluey", runtime=7)}
    report = PersonaReport(9, (persona(1, "Cerebral sci-fi", (1,)), persona(2, "Crime", (2,)),
                               persona(3, "Cartoons", (3,))), (), NOW)
    r = review(history, metas, report, 2025, NOW)
    assert (r.episodes, r.shows, r.new_shows, r.so_far) == (9, 2, 1, False)
    assert r.hours == round((8 * 50 + 45) / 60, 1) and r.hours_estimated          # Fargo's runtime is unknown
    assert r.finished_seasons == 1                                               # Severance S1, all 8
    assert r.top[0] == ("Severance", 8) and r.biggest_day == (datetime(2025, 3, 1).date(), 6, "Severance")
    assert r.streak == 3
    assert r.grew is not None and r.grew.name == "Cerebral sci-fi" and r.grew.before == 0.0
    assert r.faded is not None and r.faded.name == "Cartoons"
    assert r.new_taste is not None and r.new_taste.name == "Cerebral sci-fi"
    text = year_review(r)
    assert text.startswith("Your 2025:") and "about 7 hours" in text and "1 season finished" in text
    with pytest.raises(MultitudesError) as e:
        review(history, metas, report, 2023, NOW)
    assert "2024, 2025" in e.value.user_message


async def test_the_demo_viewers_year_so_far_with_its_chart(make_engine: Any) -> None:
    engine = await make_engine(clock=StoppedClock(NOW))
    pid = await engine.person("console", "you")
    await engine.load_sample(pid)
    r = await engine.year_review(pid)
    assert r.year == 2026 and r.so_far and r.episodes > 0
    assert r.finished_seasons is None            # the demo's episode counts are made up: no claim about seasons
    assert r.chart is not None and r.chart.png.startswith(b"\x89PNG") and "so far" in r.chart.caption
    assert "so far" in year_review(r) and "season" not in year_review(r).split("\n")[1]
    for bad in (2031, 1900):
        with pytest.raises(MultitudesError):
            await engine.year_review(pid, bad)

"""After 👀, a 1–10 row rates the show just marked seen — here, and on Trakt with `/settings trakt:write` — on every
adapter (the console prints the `rate` command instead); a forged rating button or someone else's press changes
nothing."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from engine.values.models import FeedbackKind
from tests.fakes.catalogue import history_rows
from tests.fakes.tmdb import FakeTmdb
from tests.fakes.trakt import FakeTrakt
from tests.test_conversation import (
    ADAPTERS,
    ANN,
    BEN,
    ConsoleDriver,
    MemoryDriver,
    adapter,
    has,
    link_and_sync,
    picks,
    wait,
)


async def rate_from_row(d: Any, pick: Any, n: int) -> str:
    """Press ``n`` on the rating row the bot sent after 👀 (the console: run the command it printed)."""
    if isinstance(d, MemoryDriver):
        row = next(s for s in reversed(d.p.sent) if s.kind == "rating")
        got = await d.p.press(d.uid(ANN), f"{row.token}:{n}")
        return "\n".join(s.text for s in got)
    if isinstance(d, ConsoleDriver):
        hint = re.findall(r'rate "([^"]+)" 1-10', d.out.getvalue())[-1]
        await d._console(ANN).handle("no")              # first the question 👀 asked (mark watched on Trakt?)
        start = len(d.out.getvalue())
        await d._console(ANN).handle(f'rate "{hint}" {n}')
        return d.out.getvalue()[start:]
    if d.platform == "telegram":
        msg = next(m for m in reversed(d.tg.sent) if any(
            b.get("callback_data", "").startswith("rt:") for row in (m.get("reply_markup") or {}).get(
                "inline_keyboard") or [] for b in row))
        buttons = [b for row in msg["reply_markup"]["inline_keyboard"] for b in row]
        assert [b["text"] for b in buttons] == [str(i) for i in range(1, 11)]
        k = len(d.tg.answered)
        d.tg.press(ANN.uid, msg, buttons[n - 1]["callback_data"], name="Ann")
        await wait(lambda: len(d.tg.answered) > k)
        return str(d.tg.answered[k].get("text", ""))
    msg = next(m for m in reversed(d.dc.sent) if any(
        c.get("custom_id", "").startswith("rt:") for row in m.get("components") or [] for c in row["components"]))
    ids = [c["custom_id"] for row in msg["components"] for c in row["components"]]
    assert len(ids) == 10 and len(msg["components"]) == 2
    k = len(d.dc.sent)
    await d.dc.click(ANN.uid, msg, ids[n - 1])
    await wait(lambda: len(d.dc.sent) > k)
    return str(d.dc.sent[k]["content"])


@pytest.mark.parametrize("name", ADAPTERS)
async def test_seen_it_offers_a_rating_row_that_reaches_trakt(name: str, make_engine: Any, fake_trakt: FakeTrakt,
                                                             fake_tmdb: FakeTmdb, tmp_path: Path) -> None:
    fake_trakt.add_user(ANN.name, history=history_rows(300, 20, years=2, seed=43))
    async with adapter(name, make_engine, fake_trakt, fake_tmdb, tmp_path) as d:
        await link_and_sync(d, fake_trakt, ANN)
        await d.say(ANN, "/settings trakt:write", until=has("write to Trakt: on"))
        seen = await d.say(ANN, "/recommend k:2", until=picks(2))
        first = seen.picks()[0]
        await d.press(ANN, first, FeedbackKind.SEEN)
        said = await rate_from_row(d, first, 8)
        assert "8/10 here and on Trakt" in said, said
        title = re.search(r"Rated (.+) 8/10", said)
        assert title is not None
        assert [r["rating"] for r in fake_trakt.users[ANN.name].ratings if r["show"]["title"] == title.group(1)] \
            == [8]
        if isinstance(d, MemoryDriver):                   # forged data and someone else's press change nothing
            row = next(s for s in reversed(d.p.sent) if s.kind == "rating")
            assert any("no longer valid" in s.text for s in await d.p.press(d.uid(ANN), f"{row.token}:11"))
            assert any("not yours" in s.text for s in await d.p.press(d.uid(BEN), f"{row.token}:2"))
            assert [r["rating"] for r in fake_trakt.users[ANN.name].ratings
                    if r["show"]["title"] == title.group(1)] == [8]

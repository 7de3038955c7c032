from __future__ import annotations

from typing import Any

import pytest

from bot.ratelimit import PersonLimiter, RateLimited


def test_person_limiter_bursts_then_refills() -> None:
    now = [0.0]
    lim = PersonLimiter(burst=2, per=10.0, clock=lambda: now[0])
    lim.check("a", "recommend")
    lim.check("a", "recommend")
    with pytest.raises(RateLimited) as e:
        lim.check("a", "recommend")
    assert "10 s" in e.value.user_message
    lim.check("b", "recommend")                 # per person
    lim.check("a", "sync")                      # per command
    now[0] = 10.0
    lim.check("a", "recommend")                 # refilled


async def test_admission_sheds_beyond_its_line_and_answers_whatever_it_admits() -> None:
    """Overload degrades gracefully: at most ``running`` at once, ``waiting`` in line, the rest told to come back."""
    import asyncio

    from bot.ratelimit import Admission, Busy
    gate = Admission(running=2, waiting=2)
    release = asyncio.Event()
    done: list[int] = []

    async def job(n: int) -> None:
        async with gate.slot():
            await release.wait()
            done.append(n)

    tasks = [asyncio.create_task(job(n)) for n in range(4)]
    await asyncio.sleep(0)
    with pytest.raises(Busy) as busy:
        async with gate.slot():
            pass
    assert "busy" in busy.value.user_message.lower() and "try again in" in busy.value.user_message
    release.set()
    await asyncio.gather(*tasks)
    assert sorted(done) == [0, 1, 2, 3] and gate.shed == 1 and gate.admitted == 4


async def test_the_console_has_no_per_person_limit_and_the_grammar_answers_first(make_engine: Any) -> None:
    """Issue 25 (1): the console's one user is never rate-limited; on a shared platform a malformed request is
    answered with the grammar's words before any limit counts it."""
    import io

    from bot.console import Console
    from bot.conversation import Conversation
    from bot.memory import MemoryPlatform
    engine = await make_engine()
    out = io.StringIO()
    console = Console(engine, user="me", out=out)
    await console.start()
    for _ in range(7):
        await console.handle("recommend k:2")
    text = out.getvalue()
    assert "Easy there" not in text and text.count("1. ") >= 7
    platform = MemoryPlatform(Conversation(engine, limiter=PersonLimiter(burst=1, per=3600)), name="memory")
    await platform.say("u1", "/recommend k:2")
    got = await platform.say("u1", "/recommend runtime:<abc")
    assert "Easy there" not in got[-1].text and "runtime" in got[-1].text.lower()
    got = await platform.say("u1", "/recommend k:2")
    assert "Easy there" in got[-1].text


async def test_a_send_backlog_sheds_new_work_with_one_short_message() -> None:
    """Issue 24 (soak): Telegram lets a bot send ~30 messages a second; when the bot's own sends already wait longer
    than ``max_backlog``, new expensive work is turned away ("busy", one message) instead of queueing answers of
    several messages that would arrive minutes late. The outbox counts only chat-bound calls (the ones limited)."""
    import asyncio

    from bot.ratelimit import Admission, Busy
    from bot.telegram_chat import Outbox
    box = Outbox(max_retries=0)
    await box.initialize()
    gate = asyncio.Event()

    async def send(*_: Any, **__: Any) -> bool:
        await gate.wait()
        return True

    calls = [asyncio.create_task(box.process_request(send, (), {}, "sendMessage", {"chat_id": n}, None))
             for n in range(3)]
    calls.append(asyncio.create_task(box.process_request(send, (), {}, "answerCallbackQuery", {"x": 1}, None)))
    for _ in range(5):
        await asyncio.sleep(0)                      # each call reaches the limiter
    assert box.waiting == 3 and box.backlog() == pytest.approx(3 / 30)
    gate.set()
    await asyncio.gather(*calls)
    assert box.waiting == 0 and box.backlog() == 0.0
    await box.shutdown()

    late = [60.0]
    admission = Admission(backlog=lambda: late[0], max_backlog=45.0)
    with pytest.raises(Busy) as busy:
        async with admission.slot():
            pass
    assert "try again in 60 s" in busy.value.user_message and admission.shed == 1
    late[0] = 10.0
    async with admission.slot():
        pass
    assert admission.admitted == 1

"""Replies that need the engine and are worded the same on every platform."""

from __future__ import annotations

from engine import Engine

from . import render


async def stats(engine: Engine, person_id: int, platform: str, platform_user_id: str, scope: str = "",
                *, detail: bool = True) -> str:
    """``/stats``: the person's viewing numbers and what the feedback loop learned for them; ``/stats all``:
    everyone's success rates, for the bot owner only (no names, no histories: counts per strategy and source)."""
    if scope.strip().lower() == "all":
        if not engine.is_owner(platform, platform_user_id):
            return "Only the bot owner sees everyone's success rates; /stats shows yours."
        return render.learning(await engine.learning(None), detail=detail)
    return render.stats(await engine.stats(person_id)) + "\n\n" + render.learning(
        await engine.learning(person_id), detail=detail)


async def upcoming(engine: Engine, person_id: int) -> str:
    """``/upcoming``: what airs soon for the person's shows, and the alerts decided for them that are still to come."""
    text = render.upcoming(await engine.upcoming(person_id))
    pending = [a for a in await engine.person_alerts(person_id) if a.status == "pending"]
    tz = (await engine.person_settings(person_id)).get("timezone")
    return text + ("\n\n" + render.pending_alerts(pending, tz) if pending else "")

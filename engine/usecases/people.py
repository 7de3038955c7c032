"""People: who is speaking (a platform identity becomes one person), their settings, the group chats they were
seen in, and forgetting them."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import ValidationError

from engine.plumbing.clock import Clock
from engine.plumbing.config import Settings
from engine.plumbing.prompt_log import forget_prompts
from engine.ports.trakt import TraktPort
from engine.store import Store
from engine.values import vocabulary
from engine.values.errors import MultitudesError, UnknownPerson
from engine.values.i18n import _
from engine.values.languages import language_tag
from engine.values.models import SETTING_NAMES, Person, PersonSettings

log = logging.getLogger(__name__)


def region_code(text: str) -> str:
    """An ISO 3166-1 country code from what a person typed (``gb``, ``UK``, ``Germany``); anything else is refused
    with the closest countries."""
    code = vocabulary.country(text)
    if code is not None:
        return code
    known = vocabulary.countries()
    by_name = vocabulary.country_names()
    close = vocabulary.suggest(text, by_name, limit=2, cutoff=80.0) if len(text.strip()) > 3 else []
    names = [by_name[c] for c in close]
    raise MultitudesError(f"region {text!r}", user_message=(
        _("{text} is not a country I know.").format(text=repr(text)) + vocabulary.did_you_mean(
            [f"region:{c} ({known[c]})" for c in names])
        + ("" if names else " " + _("Use a two-letter code, e.g. region:GB, region:DE or region:US."))))


class PeopleService:
    def __init__(self, store: Store, clock: Clock, settings: Settings, trakt: TraktPort | None = None) -> None:
        self.store = store
        self.clock = clock
        self.settings = settings
        self.trakt = trakt
        # what else holds a person in memory (models, persona vectors): told when they are forgotten
        self.on_forget: list[Callable[[int], None]] = []
        # names of streaming services as people type them -> as the shows' metadata names them (the recommender)
        self.name_services: Callable[[Sequence[str], str | None], Awaitable[tuple[str, ...]]] | None = None
        self.on_consent: list[Callable[[], None]] = []     # co-watching consent changed (the population rebuilds)

    async def person(self, platform: str, platform_user_id: str, display_name: str | None = None) -> int:
        """The person behind a platform identity, created on first sight."""
        async with self.store.read() as uow:
            pid = await uow.people.find(platform, str(platform_user_id))
        if pid is not None:
            return pid
        async with self.store.unit() as uow:
            pid = await uow.people.find(platform, str(platform_user_id))     # another task may have made it
            if pid is None:
                pid = await uow.people.create(platform, str(platform_user_id), display_name, self.clock.now())
        return pid

    async def find(self, platform: str, platform_user_id: str) -> int:
        async with self.store.read() as uow:
            pid = await uow.people.find(platform, str(platform_user_id))
        if pid is None:
            raise UnknownPerson(f"{platform}:{platform_user_id}")
        return pid

    async def get(self, person_id: int) -> Person:
        async with self.store.read() as uow:
            p = await uow.people.get(person_id)
        if p is None:
            raise UnknownPerson(f"person {person_id}")
        return p

    async def forget(self, person_id: int) -> None:
        """Delete everything about a person: their rows (every table refers to the person and goes with them),
        their tokens (revoked at Trakt when possible, and dropped from memory), what memory holds of them (persona
        vectors, their crowd's model) and their lines in the prompt log."""
        if self.trakt is not None:
            try:
                await self.trakt.revoke(person_id)
            except Exception as e:  # forgetting must not fail because Trakt is down
                log.warning("revoke failed while forgetting person %s: %s", person_id, type(e).__name__)
            try:
                await self.trakt.forget_tokens(person_id)
            except Exception as e:
                log.warning("could not drop the tokens of person %s: %s", person_id, type(e).__name__)
        async with self.store.unit() as uow:
            await uow.people.delete(person_id)
        for forget in self.on_forget:
            forget(person_id)
        await asyncio.to_thread(forget_prompts, self.settings.logging.prompt_log, person_id)

    async def settings_of(self, person_id: int) -> PersonSettings:
        return (await self.get(person_id)).settings

    async def update_settings(self, person_id: int, **changes: Any) -> PersonSettings:
        """Change a person's settings (``group_opt_in``, ``timezone``, …); unknown keys and bad values are refused
        with a clear message and change nothing."""
        bad = set(changes) - set(SETTING_NAMES)
        if bad:
            raise MultitudesError(f"settings {bad}", user_message=_("Unknown setting(s): {value}.").format(
                value=', '.join(sorted(bad))))
        tz = changes.get("timezone")
        if tz is not None:
            try:
                ZoneInfo(str(tz))
            except (ZoneInfoNotFoundError, ValueError) as e:
                raise MultitudesError(f"tz {tz}", user_message=_("{tz} is not a time zone (e.g. Europe/Paris).").format(
                    tz=repr(tz))) from e
        if changes.get("region") is not None:
            changes["region"] = region_code(str(changes["region"]))
        if changes.get("lang") is not None:
            # Babel reads its language names once (~0.1 s): never on the event loop
            changes["lang"] = await asyncio.to_thread(language_tag, str(changes["lang"]))
        if changes.get("services") and self.name_services is not None:
            region = changes.get("region") or (await self.settings_of(person_id)).region
            changes["services"] = await self.name_services(changes["services"], region)
        async with self.store.unit() as uow:
            person = await uow.people.get(person_id)
            if person is None:
                raise UnknownPerson(f"person {person_id}")
            try:
                new = PersonSettings.model_validate({**person.settings.model_dump(), **changes})
            except ValidationError as e:
                first = e.errors(include_url=False)[0]
                where = ".".join(str(x) for x in first["loc"])
                raise MultitudesError(str(e), user_message=_("That setting is not valid ({where}: {first}).").format(
                    where=where, first=first['msg'])) \
                    from e
            await uow.people.save_settings(person_id, new)
        if "share_cowatch" in changes:      # consent changed: the next list is built on the new population
            for hook in self.on_consent:
                hook()
        return new

    async def note_chat_member(self, platform: str, chat_id: str, person_id: int) -> None:
        async with self.store.unit() as uow:
            await uow.people.note_chat_member(platform, chat_id, person_id, self.clock.now())

    async def group_members(self, platform: str, chat_id: str) -> list[tuple[int, str]]:
        """(person, platform user id) of the people who opted in to group picks in this group chat or server
        (``/settings group:on`` said there; consent is per chat, never carried to another)."""
        async with self.store.read() as uow:
            return await uow.people.chat_identities(platform, chat_id)

    async def cowatch_people(self) -> list[int]:
        """People whose histories may shape co-watching for others (``/settings cowatch:on``)."""
        async with self.store.read() as uow:
            return sorted(p.id for p in await uow.people.many() if p.settings.share_cowatch)

    async def set_group_opt_in(self, platform: str, chat_id: str, person_id: int, on: bool) -> None:
        """Opt in to (or out of) group picks in one group chat or server."""
        async with self.store.unit() as uow:
            await uow.people.set_chat_opt_in(platform, chat_id, person_id, on, self.clock.now())

    async def names(self, person_ids: Sequence[int]) -> dict[int, str]:
        async with self.store.read() as uow:
            people = {p.id: p for p in await uow.people.many(person_ids)}
        return {p: (people[p].display_name if p in people else None) or f"person {p}" for p in person_ids}

    def is_owner(self, platform: str, platform_user_id: str) -> bool:
        """Bot owners (``feedback.owners``) may see everyone's success rates."""
        return f"{platform}:{platform_user_id}" in self.settings.feedback.owners

"""Discord's side of one conversation: a ``DiscordChat`` answering through an interaction (deferred first) or,
for reactions and scheduled pushes, through channel messages and DMs; the pick cards (embeds within Discord's
limits), their buttons (stateless dynamic items that work after a restart) and a group watch's scheduled event."""

from __future__ import annotations

import io
import logging
import re
from datetime import datetime, timedelta
from typing import Any, Protocol

import discord
from discord.ext import commands

from engine.values.errors import MultitudesError
from engine.values.models import GroupTally, Recommendation

from . import render, render_media
from .chat import NO, YES_DELETE, Progress, Speaker
from .conversation import Conversation
from .i18n import _

log = logging.getLogger(__name__)

PLATFORM = "discord"
STYLES = {"liked": discord.ButtonStyle.success, "not_for_me": discord.ButtonStyle.danger}
SECOND_ROW = {"watchlist"}


class Front(Protocol):
    """What a chat and a button need of the front end: the client, and the conversation to hand events to."""
    @property
    def bot(self) -> commands.Bot: ...

    @property
    def conversation(self) -> Conversation: ...


def _frontend(interaction: discord.Interaction[Any]) -> Front:
    fe: Front = interaction.client.frontend
    return fe


ROUTED = r"(?P<data>(?:fb|cf|rr|gv|rq|rt):[A-Za-z0-9_:]+)"      # every button prefix the conversation answers


class _Routed(discord.ui.DynamicItem[discord.ui.Button[Any]], template=ROUTED):
    """Every button of ours: its custom id is the conversation's button data."""

    def __init__(self, data: str, label: str = "?", emoji: str | None = None,
                 style: discord.ButtonStyle = discord.ButtonStyle.secondary, row: int | None = None) -> None:
        super().__init__(discord.ui.Button(label=label, emoji=emoji, style=style, custom_id=data, row=row))
        self.data = data

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any],
                             match: re.Match[str], /) -> _Routed:
        return cls(match["data"])

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        fe = _frontend(interaction)
        if self.data.startswith("rr:"):                   # a re-roll answers with new public picks
            await interaction.response.defer(thinking=True)
            await fe.conversation.button(DiscordChat(fe, interaction, quiet_acks=True), self.data)
            return
        await interaction.response.defer(ephemeral=True, thinking=False)
        await fe.conversation.button(DiscordChat(fe, interaction, private=True), self.data)


class _LegacyReroll(discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"reroll:(?P<req>[0-9a-f]{12})"):
    """Re-roll buttons on messages sent before button data was unified."""

    def __init__(self, request_id: str) -> None:
        super().__init__(discord.ui.Button(label=_("Re-roll"), custom_id=f"reroll:{request_id}"))
        self.request_id = request_id

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any],
                             match: re.Match[str], /) -> _LegacyReroll:
        return cls(match["req"])

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        await interaction.response.defer(thinking=True)
        fe = _frontend(interaction)
        await fe.conversation.button(DiscordChat(fe, interaction), f"rr:{self.request_id}")


def _fit(text: str, limit: int) -> str:
    """Text within one of Discord's embed limits (title 256, field 1024, description 4096), cut with an ellipsis."""
    return text if len(text) <= limit else text[:limit - 1] + "…"


def pick_embed(r: Recommendation) -> discord.Embed:
    """A pick's card, every part within Discord's limits (the whole embed stays under its 6,000 characters)."""
    e = discord.Embed(title=_fit(f"{r.rank}. {r.title}" + (f" ({r.year})" if r.year else ""), 256),
                      description=_fit(discord.utils.escape_markdown(r.reason), 1500),
                      url=r.trakt_url or r.tmdb_url or r.imdb_url)
    if r.persona_name:
        e.add_field(name=_("Persona"), value=_fit(discord.utils.escape_markdown(r.persona_name), 256))
    where = render.where(r)
    if where:
        e.add_field(name=_("Where"), value=_fit(where, 256))
    facts = render.facts(r)
    if facts:
        e.add_field(name=_("Genres"), value=_fit(facts, 256))
    if r.scores:
        e.add_field(name=_("Critics"), value=_fit(render.scores_line(r), 256))
    if r.trakt_url or r.tmdb_url or r.imdb_url:
        e.add_field(name=_("Links"), value=" · ".join(f"[{n}]({u})" for n, u in (
            ("Trakt", r.trakt_url), ("TMDB", r.tmdb_url), ("IMDb", r.imdb_url)) if u))
    if r.poster_url:
        e.set_thumbnail(url=r.poster_url)
    e.set_footer(text=_("This product uses the TMDB API but is not endorsed or certified by TMDB."))
    return e


def vote_view(event_id: int, up: int = 0, down: int = 0) -> discord.ui.View:
    """A group pick's vote buttons; their labels carry the live count."""
    view = discord.ui.View(timeout=None)
    counted = bool(up or down)
    view.add_item(_Routed(f"gv:{event_id}:up", str(up) if counted else _("Vote for it"), "👍",
                          discord.ButtonStyle.success))
    view.add_item(_Routed(f"gv:{event_id}:down", str(down) if counted else _("Not this one"), "👎",
                          discord.ButtonStyle.secondary))
    return view


def feedback_view(event_id: int, requestable: bool = False) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    for f in render.FEEDBACK:
        view.add_item(_Routed(f"fb:{event_id}:{f.kind}", _(f.label), f.emoji,
                              STYLES.get(str(f.kind), discord.ButtonStyle.secondary),
                              row=1 if str(f.kind) in SECOND_ROW else 0))
    if requestable:
        emoji, label = render_media.REQUEST
        view.add_item(_Routed(render_media.request_token(event_id), _(label), emoji, discord.ButtonStyle.primary,
                              row=1))
    return view


class _Progress:
    def __init__(self, chat: DiscordChat) -> None:
        self.chat = chat

    def step(self, text: str) -> None:
        pass                                        # the deferred "thinking…" shows until the answer

    async def done(self, text: str) -> None:
        await self.chat.reply(text)


async def create_watch_event(guild: discord.Guild, title: str, at: datetime) -> None:
    """A Discord scheduled event (an external one: the show plays wherever they watch it) for a group watch."""
    await guild.create_scheduled_event(
        name=_("Group watch: {title}").format(title=title)[:100], start_time=at, end_time=at + timedelta(hours=2),
        entity_type=discord.EntityType.external, location=_("Multitudes group watch"),
        privacy_level=discord.PrivacyLevel.guild_only, description=_("Chosen by the group's vote."))


class DiscordChat:
    """One interaction (deferred), or a reaction / scheduled push with a destination to write to."""

    def __init__(self, fe: Front, interaction: discord.Interaction[Any] | None = None, *,
                 user: discord.abc.User | discord.Object | None = None, channel: Any = None,
                 private: bool = False, quiet_acks: bool = False) -> None:
        self.fe = fe
        self.interaction = interaction
        self._user = interaction.user if interaction is not None else user
        self._channel = channel
        self._private = private
        self._quiet_acks = quiet_acks            # the answer to this press is what follows, not a note

    @property
    def platform(self) -> str:
        return PLATFORM

    @property
    def speaker(self) -> Speaker:
        u = self._user
        locale = self.interaction.locale if self.interaction is not None else None
        return Speaker(PLATFORM, str(u.id) if u is not None else "0", getattr(u, "display_name", None),
                       str(locale.value) if locale is not None else None)

    @property
    def chat_id(self) -> str | None:
        if self.interaction is not None and self.interaction.channel_id is not None:
            return str(self.interaction.channel_id)
        return None

    @property
    def is_group(self) -> bool:
        return self.interaction is not None and self.interaction.guild_id is not None

    @property
    def group_id(self) -> str | None:
        if self.interaction is not None and self.interaction.guild_id is not None:
            return str(self.interaction.guild_id)
        return None

    async def _send(self, *, private: bool = False, **kw: Any) -> discord.Message | None:
        if self.interaction is not None:
            return await self.interaction.followup.send(ephemeral=private or self._private, wait=True, **kw)
        if self._channel is not None:
            msg: discord.Message = await self._channel.send(**kw)
            return msg
        return None

    async def reply(self, text: str, *, private: bool = False) -> None:
        if self.interaction is None and self._channel is None:
            await self.tell_privately(text)
            return
        await self._send(content=text[:1900], private=private)

    async def is_member(self, user_id: str) -> bool:
        guild = self.interaction.guild if self.interaction is not None else None
        if guild is None:
            return True
        try:
            await guild.fetch_member(int(user_id))
        except discord.NotFound:
            return False
        return True

    async def announce(self, text: str) -> None:
        channel = self.interaction.channel if self.interaction is not None else self._channel
        if channel is not None and hasattr(channel, "send"):      # a channel message: everyone there sees it
            await channel.send(text[:1900])
        else:
            await self._send(content=text[:1900])

    async def tell_privately(self, text: str) -> bool:
        if self.interaction is not None:                  # an ephemeral follow-up: only the asker sees it
            await self.interaction.followup.send(text[:1900], ephemeral=True)
            return True
        if self._user is None:
            return False
        try:
            dm = await self.fe.bot.create_dm(discord.Object(id=self._user.id))
            await dm.send(text[:1900])
        except discord.HTTPException as e:
            log.info("no DM to a Discord user: %s", type(e).__name__)
            return False
        return True

    async def send_pick(self, rec: Recommendation, *, group: bool = False) -> str | None:
        msg = await self._send(embed=pick_embed(rec),
                               view=vote_view(rec.event_id) if group else feedback_view(rec.event_id, rec.requestable))
        if msg is None:
            return None
        if group:
            return str(msg.id)
        for f in render.FEEDBACK:
            try:
                await msg.add_reaction(f.emoji)
            except discord.HTTPException:
                break   # no permission to react here: the buttons still work
        return str(msg.id)

    async def show_tally(self, tally: GroupTally) -> None:
        message = self.interaction.message if self.interaction is not None else None
        raw: Any = self.interaction.data if self.interaction is not None else None
        data = raw.get("custom_id") if isinstance(raw, dict) else None
        if message is None or not isinstance(data, str) or not data.startswith("gv:"):
            return
        try:
            await message.edit(view=vote_view(int(data.split(":")[1]), tally.up, tally.down))
        except discord.HTTPException as e:
            log.warning("could not update a group vote count: %s", e.status)

    async def offer_rating(self, event_id: int, title: str) -> None:
        view = discord.ui.View(timeout=None)
        for n in range(1, 11):
            view.add_item(_Routed(f"rt:{event_id}:{n}", str(n), None, discord.ButtonStyle.secondary,
                                  row=0 if n <= 5 else 1))
        if self.interaction is not None or self._channel is None or not self.is_group:
            await self._send(content=render.rate_question(title), view=view, private=True)

    async def offer_reroll(self, request_id: str) -> None:
        view = discord.ui.View(timeout=None)
        view.add_item(_Routed(f"rr:{request_id}", _("Re-roll"), "🎲", discord.ButtonStyle.primary))
        await self._send(content=_("None of these?"), view=view)

    async def schedule_event(self, title: str, at: datetime) -> bool:
        guild = self.interaction.guild if self.interaction is not None else None
        if guild is None:
            return False
        await create_watch_event(guild, title, at)
        return True

    async def send_file(self, name: str, data: bytes, caption: str) -> None:
        file = discord.File(io.BytesIO(data), name)
        if self.interaction is not None:                  # an ephemeral follow-up: only the asker sees it
            await self._send(content=caption[:1900], file=file, private=True)
            return
        if self._user is None:
            raise MultitudesError("no user for a file", user_message="I can only send that file privately.")
        dm = await self.fe.bot.create_dm(discord.Object(id=self._user.id))
        await dm.send(content=caption[:1900], file=file)

    async def send_image(self, png: bytes, caption: str, name: str | None = None) -> None:
        await self._send(content=caption, file=discord.File(io.BytesIO(png), name or "personas.png"))

    async def confirm(self, question: str, token: str, yes: str = YES_DELETE, no: str = NO) -> None:
        view = discord.ui.View(timeout=None)
        view.add_item(_Routed(f"cf:{token}:yes", _(yes), None, discord.ButtonStyle.danger
                              if yes == YES_DELETE else discord.ButtonStyle.primary))
        view.add_item(_Routed(f"cf:{token}:no", _(no), None, discord.ButtonStyle.secondary))
        await self._send(content=question, view=view, private=True)

    async def ack(self, text: str, *, alert: bool = False) -> None:
        if not self._quiet_acks or alert:
            await self.reply(text, private=True)

    async def progress(self, text: str) -> Progress:
        return _Progress(self)

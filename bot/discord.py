"""Discord front end (discord.py): slash commands (deferred within 3 s), one embed per pick with 👍 👎 👀 buttons
(stateless dynamic buttons: they work after a restart) and reactions; no privileged intents.

REST and gateway bases are configurable (``[discord] api_base`` / ``gateway_url``) so the bot can be pointed at
a proxy or at the loopback fake of the tests.
"""

from __future__ import annotations

import asyncio
import io
import logging
import re
import shlex
from typing import Any

import discord
import yarl
from discord import app_commands
from discord.ext import commands

from engine import Engine, MultitudesError
from engine.errors import TraktAccountLimit
from engine.models import Alert, Digest, Recommendation

from . import render, replies
from .grammar import parse_recommend, parse_settings, resolve_channel, settings_text, with_defaults
from .ratelimit import PersonLimiter

log = logging.getLogger(__name__)

PLATFORM = "discord"
REACTIONS = {"👍": "liked", "👎": "not_for_me", "👀": "seen", "📌": "watchlist"}
BUTTONS = {"liked": ("Liked", "👍", discord.ButtonStyle.success),
           "not_for_me": ("Not for me", "👎", discord.ButtonStyle.danger),
           "seen": ("Seen it", "👀", discord.ButtonStyle.secondary)}
MORE_BUTTONS = {"watchlist": ("Add to watchlist", "📌", discord.ButtonStyle.secondary)}


def point_at(api_base: str, gateway_url: str) -> None:
    """Aim discord.py at another REST base / gateway (a proxy, or the tests' loopback fake)."""
    if api_base:
        discord.http.Route.BASE = api_base.rstrip("/")
    if gateway_url:
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway_url)


class FeedbackButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"fb:(?P<event>\d+):(?P<kind>[a-z_]+)"):
    def __init__(self, event: int, kind: str) -> None:
        label, emoji, style = {**BUTTONS, **MORE_BUTTONS}.get(kind, ("?", None, discord.ButtonStyle.secondary))
        super().__init__(discord.ui.Button(label=label, emoji=emoji, style=style, custom_id=f"fb:{event}:{kind}",
                                           row=1 if kind in MORE_BUTTONS else 0))
        self.event = event
        self.kind = kind

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any],
                             match: re.Match[str], /) -> FeedbackButton:
        return cls(int(match["event"]), match["kind"])

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        fe: DiscordFrontend = interaction.client.frontend    # type: ignore[attr-defined]
        try:
            pid = await fe.engine.person(PLATFORM, str(interaction.user.id), interaction.user.display_name)
            changed = await fe.engine.record_feedback(pid, self.event, self.kind)
            text = render.FEEDBACK_ACK.get(self.kind, "Noted") + "." if changed else "Already noted."
        except MultitudesError as e:
            text = e.user_message
        await interaction.response.send_message(text, ephemeral=True)


class RerollButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"reroll:(?P<req>[0-9a-f]{12})"):
    def __init__(self, request_id: str) -> None:
        super().__init__(discord.ui.Button(label="Re-roll", emoji="🎲", style=discord.ButtonStyle.primary,
                                           custom_id=f"reroll:{request_id}"))
        self.request_id = request_id

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any],
                             match: re.Match[str], /) -> RerollButton:
        return cls(match["req"])

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        fe: DiscordFrontend = interaction.client.frontend    # type: ignore[attr-defined]
        await interaction.response.defer(thinking=True)
        try:
            fe.limiter.check(str(interaction.user.id), "groupwatch")
            pid = await fe.engine.person(PLATFORM, str(interaction.user.id), interaction.user.display_name)
            result = await fe.engine.reroll_group(self.request_id, pid, platform=PLATFORM)
        except MultitudesError as e:
            await interaction.followup.send(e.user_message)
            return
        await fe.send_group(interaction, result, "Re-rolled")


def pick_embed(r: Recommendation) -> discord.Embed:
    e = discord.Embed(title=f"{r.rank}. {r.title}" + (f" ({r.year})" if r.year else ""), description=r.reason,
                      url=r.trakt_url or r.tmdb_url)
    if r.persona_name:
        e.add_field(name="Persona", value=r.persona_name)
    where = ", ".join(r.providers[:2]) or (r.network or "")
    if where:
        e.add_field(name="Where", value=where)
    if r.tmdb_url:
        e.add_field(name="Links", value=" · ".join(f"[{n}]({u})" for n, u in (("Trakt", r.trakt_url),
                                                                              ("TMDB", r.tmdb_url)) if u))
    if r.poster_url:
        e.set_thumbnail(url=r.poster_url)
    e.set_footer(text="This product uses the TMDB API but is not endorsed or certified by TMDB.")
    return e


def feedback_view(event_id: int) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    for kind in (*BUTTONS, *MORE_BUTTONS):
        view.add_item(FeedbackButton(event_id, kind))
    return view


class MultitudesBot(commands.Bot):
    def __init__(self, frontend: DiscordFrontend, **kw: Any) -> None:
        super().__init__(command_prefix=commands.when_mentioned, intents=discord.Intents.default(), **kw)
        self.frontend = frontend

    async def setup_hook(self) -> None:
        self.add_dynamic_items(FeedbackButton, RerollButton)
        await self.tree.sync()

    async def on_raw_reaction_add(self, payload: discord.RawReactionActionEvent) -> None:
        await self.frontend.on_reaction(payload, True)

    async def on_raw_reaction_remove(self, payload: discord.RawReactionActionEvent) -> None:
        await self.frontend.on_reaction(payload, False)


class DiscordFrontend:
    def __init__(self, engine: Engine, token: str, *, guild_ready_timeout: float = 2.0) -> None:
        self.engine = engine
        self.token = token
        point_at(engine.settings.discord.api_base, engine.settings.discord.gateway_url)
        self.bot = MultitudesBot(self, guild_ready_timeout=guild_ready_timeout)
        self._task: asyncio.Task[None] | None = None
        self.limiter = PersonLimiter()
        self._register()

    async def start(self) -> None:
        await self.bot.login(self.token)
        self._task = asyncio.create_task(self.bot.connect(reconnect=True))
        self._task.add_done_callback(self._connection_ended)
        await self.bot.wait_until_ready()

    def _connection_ended(self, task: asyncio.Task[None]) -> None:
        if not task.cancelled() and task.exception() is not None:
            log.error("the Discord connection ended: %r", task.exception())

    async def stop(self) -> None:
        await self.bot.close()
        if self._task is not None:
            try:
                await self._task
            except Exception as e:   # the connection closing is expected here
                log.debug("discord connection ended: %s", type(e).__name__)

    # -- the notifier port: scheduled alerts and digests ------------------------------------------------------
    platform = PLATFORM

    async def _destination(self, target: str) -> discord.abc.Messageable:
        kind, _, ident = target.partition(":")
        if not ident.isdigit():
            raise ValueError(f"not a Discord target: {target!r}")
        if kind == "user":                     # a direct message (the person shares a server with the bot)
            return await self.bot.create_dm(discord.Object(id=int(ident)))
        if kind == "channel":                  # a channel the person chose with /settings
            return self.bot.get_partial_messageable(int(ident))
        raise ValueError(f"not a Discord target: {target!r}")

    async def send_alert(self, target: str, alert: Alert) -> str:
        msg = await (await self._destination(target)).send(render.alert(alert))
        return str(msg.id)

    async def send_digest(self, target: str, digest: Digest) -> str:
        dest = await self._destination(target)
        msg = await dest.send(render.digest(digest)[:1900])
        for r in digest.picks.items if digest.picks is not None else ():
            sent = await dest.send(embed=pick_embed(r), view=feedback_view(r.event_id))
            await self.engine.attach_message([r.event_id], PLATFORM, str(sent.id))
        return str(msg.id)

    async def send_group(self, interaction: discord.Interaction[Any], result: Any, heading: str) -> None:
        if not result.items:
            await interaction.followup.send(result.note or "Nothing fits everyone right now.")
            return
        await interaction.followup.send(f"{heading} — vote with the buttons:")
        for r in result.items:
            msg = await interaction.followup.send(embed=pick_embed(r), view=feedback_view(r.event_id), wait=True)
            await self.engine.attach_message([r.event_id], PLATFORM, str(msg.id))
        reroll = discord.ui.View(timeout=None)
        reroll.add_item(RerollButton(result.request_id))
        await interaction.followup.send("None of these?", view=reroll)

    async def _person(self, interaction: discord.Interaction[Any]) -> int:
        return await self.engine.person(PLATFORM, str(interaction.user.id), interaction.user.display_name)

    async def on_reaction(self, payload: discord.RawReactionActionEvent, added: bool) -> None:
        if self.bot.user is not None and payload.user_id == self.bot.user.id:
            return   # the bot's own seeding reactions
        kind = REACTIONS.get(str(payload.emoji))
        if kind is None:
            return
        events = await self.engine.events_for_message(PLATFORM, str(payload.message_id))
        if not events:
            return
        pid = await self.engine.person(PLATFORM, str(payload.user_id))
        try:
            await self.engine.record_feedback(pid, events[0], kind, added)
        except TraktAccountLimit as e:             # saved here; tell the person why Trakt did not take it
            await (await self.bot.create_dm(discord.Object(id=payload.user_id))).send(e.user_message)
        except MultitudesError:
            pass   # someone reacting to another person's pick

    def _register(self) -> None:
        tree = self.bot.tree
        fe = self

        async def persona_names(interaction: discord.Interaction[Any], current: str) -> list[app_commands.Choice[str]]:
            pid = await fe._person(interaction)
            report = await fe.engine.personas(pid)
            return [app_commands.Choice(name=p.name, value=p.name) for p in report.personas
                    if current.lower() in p.name.lower()][:25]

        async def show_titles(interaction: discord.Interaction[Any], current: str) -> list[app_commands.Choice[str]]:
            hits = [e["title"] for e in fe.engine.catalogue.entries if current.lower() in e["title"].lower()]
            return [app_commands.Choice(name=t[:100], value=t[:100]) for t in hits[:25]]

        @tree.command(name="recommend", description="TV shows for you, from your taste personas")
        @app_commands.describe(persona="one of your personas", mode="auto, all or bridge",
                               like="a show you liked", mood="how you feel, in words",
                               filters="e.g. genre:-horror runtime:<45 k:3")
        @app_commands.autocomplete(persona=persona_names, like=show_titles)
        async def recommend(interaction: discord.Interaction[Any], persona: str | None = None,
                            mode: str | None = None, like: str | None = None, mood: str | None = None,
                            filters: str | None = None) -> None:
            try:
                fe.limiter.check(str(interaction.user.id), "recommend")
            except MultitudesError as e:
                await interaction.response.send_message(e.user_message, ephemeral=True)
                return
            await interaction.response.defer(thinking=True)
            try:
                tokens = shlex.split(filters or "")
                if mode:
                    tokens = [*mode.split(), *tokens]
                if persona:
                    tokens.append(f"persona:{persona}")
                if like:
                    tokens.append(f"like:{like}")
                if mood:
                    tokens.append(f"mood:{mood}")
                pid = await fe._person(interaction)
                defaults = (await fe.engine.person_settings(pid)).get("default_filters")
                p = parse_recommend(with_defaults(tokens, defaults))
                result = await fe.engine.recommend(p.request(pid, PLATFORM))
            except (MultitudesError, ValueError) as e:
                await interaction.followup.send(getattr(e, "user_message", str(e)))
                return
            if not result.items:
                await interaction.followup.send(result.note or "Nothing new to recommend right now.")
                return
            if result.note:
                await interaction.followup.send(result.note)
            for r in result.items:
                msg = await interaction.followup.send(embed=pick_embed(r), view=feedback_view(r.event_id), wait=True)
                await fe.engine.attach_message([r.event_id], PLATFORM, str(msg.id))
                for emoji in REACTIONS:
                    try:
                        await msg.add_reaction(emoji)
                    except discord.HTTPException:
                        break   # no permission to react here: the buttons still work

        @tree.command(name="personas", description="Your taste personas")
        async def personas(interaction: discord.Interaction[Any]) -> None:
            await interaction.response.defer(thinking=True)
            pid = await fe._person(interaction)
            report = await fe.engine.personas(pid)
            chart = discord.File(io.BytesIO(await fe.engine.persona_chart(pid)), "personas.png")
            await interaction.followup.send(render.personas(report)[:1900], file=chart)

        @tree.command(name="link", description="Connect your Trakt account")
        async def link(interaction: discord.Interaction[Any]) -> None:
            pid = await fe._person(interaction)
            try:
                dl = await fe.engine.start_link(pid)
            except MultitudesError as e:
                await interaction.response.send_message(e.user_message, ephemeral=True)
                return
            await interaction.response.send_message(render.link_instructions(dl), ephemeral=True)

            async def wait() -> None:
                try:
                    while True:
                        await fe.engine.clock.sleep(fe.engine.link_poll_interval(pid, dl.interval_s))
                        name = await fe.engine.poll_link(pid)
                        if name is not None:
                            await interaction.followup.send(f"Linked to Trakt as {name}. Run /sync next.",
                                                            ephemeral=True)
                            return
                except MultitudesError as e:
                    await interaction.followup.send(e.user_message, ephemeral=True)

            asyncio.create_task(wait())  # noqa: RUF006 - ends with the link; errors are reported to the person

        @tree.command(name="sync", description="Fetch your new plays from Trakt")
        async def sync(interaction: discord.Interaction[Any]) -> None:
            await interaction.response.defer(thinking=True)
            pid = await fe._person(interaction)
            try:
                text = render.sync_report(await fe.engine.sync(pid))
            except MultitudesError as e:
                text = e.user_message
            await interaction.followup.send(text)

        @tree.command(name="stats", description="Your viewing, in numbers, and how my picks fared")
        @app_commands.describe(scope="'all': everyone's success rates (bot owner only)")
        async def stats(interaction: discord.Interaction[Any], scope: str = "") -> None:
            pid = await fe._person(interaction)
            text = await replies.stats(fe.engine, pid, PLATFORM, str(interaction.user.id), scope, detail=False)
            await interaction.response.send_message(text[:1900], ephemeral=True)

        @tree.command(name="bridge", description="Shows between two of your personas")
        @app_commands.autocomplete(first=persona_names, second=persona_names)
        async def bridge(interaction: discord.Interaction[Any], first: str, second: str) -> None:
            await recommend.callback(interaction, mode=f"bridge {first} + {second}")  # type: ignore[call-arg]

        @tree.command(name="import", description="Import a Trakt export (.json, .zip) or Netflix viewing activity")
        async def import_(interaction: discord.Interaction[Any], file: discord.Attachment) -> None:
            limit = fe.engine.settings.imports.max_bytes
            if file.size > limit:
                await interaction.response.send_message(
                    f"That file is {file.size:,} bytes; the limit is {limit:,}. Nothing was imported.", ephemeral=True)
                return
            await interaction.response.defer(thinking=True, ephemeral=True)
            pid = await fe._person(interaction)
            try:
                text = render.import_report(await fe.engine.import_history(pid, file.filename, await file.read()))
            except MultitudesError as e:
                text = e.user_message
            await interaction.followup.send(text[:1900], ephemeral=True)

        @tree.command(name="upcoming", description="New episodes and seasons coming for your shows")
        async def upcoming(interaction: discord.Interaction[Any]) -> None:
            text = await replies.upcoming(fe.engine, await fe._person(interaction))
            await interaction.response.send_message(text[:1900], ephemeral=True)

        @tree.command(name="unlink", description="Disconnect your Trakt account")
        async def unlink(interaction: discord.Interaction[Any]) -> None:
            await fe.engine.unlink(await fe._person(interaction))
            await interaction.response.send_message("Trakt unlinked; your tokens are deleted. /forget deletes the "
                                                    "rest.", ephemeral=True)

        @tree.command(name="groupwatch", description="A show for several of you that nobody has seen")
        @app_commands.describe(a="someone to watch with", b="someone else", c="and one more")
        async def groupwatch(interaction: discord.Interaction[Any], a: discord.User, b: discord.User | None = None,
                             c: discord.User | None = None) -> None:
            await interaction.response.defer(thinking=True)
            people = [interaction.user, *[u for u in (a, b, c) if u is not None]]
            try:
                pids = [await fe.engine.person(PLATFORM, str(u.id), u.display_name) for u in people]
                result = await fe.engine.group_recommend(pids, k=3, platform=PLATFORM)
            except MultitudesError as e:
                await interaction.followup.send(e.user_message)
                return
            if not result.items:
                await interaction.followup.send(result.note or "Nothing fits everyone right now.")
                return
            await fe.send_group(interaction, result, "Group picks for " + " ".join(u.mention for u in people))

        @tree.command(name="settings", description="Group picks, time zone, alerts, digest, watchlist")
        @app_commands.describe(group="take part in group picks (on/off)", timezone="e.g. Europe/Paris",
                               quiet="no alerts between these hours, e.g. 23-08", alerts="release alerts (on/off)",
                               filters="default /recommend filters, e.g. genre:-horror anime:no",
                               more="e.g. digest:on watchlist:on binge:off premiere:off channel:here")
        async def settings(interaction: discord.Interaction[Any], group: str | None = None,
                           timezone: str | None = None, quiet: str | None = None, alerts: str | None = None,
                           filters: str | None = None, more: str | None = None) -> None:
            pid = await fe._person(interaction)
            tokens = [f"{k}:{v}" for k, v in (("group", group), ("tz", timezone), ("quiet", quiet),
                                                ("alerts", alerts), ("filters", filters)) if v]
            try:
                tokens += shlex.split(more or "")
                changes = resolve_channel(parse_settings(tokens), PLATFORM,
                                          str(interaction.channel_id) if interaction.channel_id else None)
                if changes:
                    now = await fe.engine.update_settings(pid, **changes)
                else:
                    now = await fe.engine.person_settings(pid)
            except ValueError as e:
                await interaction.response.send_message(f"Unbalanced quotes: {e}", ephemeral=True)
                return
            except MultitudesError as e:
                await interaction.response.send_message(e.user_message, ephemeral=True)
                return
            await interaction.response.send_message(settings_text(now), ephemeral=True)

        @tree.command(name="forget", description="Delete everything Multitudes stores about you")
        async def forget(interaction: discord.Interaction[Any]) -> None:
            view = discord.ui.View(timeout=120)
            yes = discord.ui.Button(label="Yes, delete it all", style=discord.ButtonStyle.danger)

            async def confirm(i: discord.Interaction[Any]) -> None:
                await fe.engine.forget(await fe._person(i))
                await i.response.send_message("Everything about you is deleted.", ephemeral=True)

            yes.callback = confirm  # type: ignore[method-assign]
            view.add_item(yes)
            await interaction.response.send_message("Delete your history, personas, tokens and feedback?",
                                                    view=view, ephemeral=True)

        @tree.command(name="help", description="How Multitudes works")
        async def help_(interaction: discord.Interaction[Any]) -> None:
            from .telegram import HELP
            await interaction.response.send_message(HELP, ephemeral=True)

"""Discord front end (discord.py): an I/O adapter over the shared conversation.

Slash commands, button presses and reactions become conversation events with a ``DiscordChat`` that answers
through the interaction (every interaction is deferred first, so a slow engine never lets its 3-second token
expire) or, for reactions and scheduled pushes, through channel messages and DMs. Buttons are stateless dynamic
items: they work after a restart. No privileged intents. REST and gateway bases are configurable (``[discord]
api_base`` / ``gateway_url``) so the bot can be pointed at a proxy or at the loopback fake of the tests.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from typing import Any

import discord
import yarl
from discord import app_commands
from discord.ext import commands

from engine import Engine, MultitudesError
from engine.values.alerts import Alert, Digest

from . import render_alerts
from .chat import Speaker
from .commands import COMMANDS
from .conversation import Conversation
from .discord_chat import PLATFORM, DiscordChat, _LegacyReroll, _Routed, create_watch_event
from .i18n import N_, gettext, warm
from .identity import NOBODY, discord_refusal
from .ratelimit import PersonLimiter, RateLimited

log = logging.getLogger(__name__)



def point_at(api_base: str, gateway_url: str) -> None:
    """Aim discord.py at another REST base / gateway (a proxy, or the tests' loopback fake)."""
    if api_base:
        discord.http.Route.BASE = api_base.rstrip("/")
    if gateway_url:
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway_url)


SERVER_CHOICES = [app_commands.Choice(name=n, value=n.lower()) for n in ("Jellyfin", "Emby", "Plex")]


class Catalogues(app_commands.Translator):
    """Command and option descriptions in every Discord locale our catalogues hold (``bot/i18n.py``); names stay."""

    async def translate(self, string: app_commands.locale_str, locale: discord.Locale,
                        context: app_commands.TranslationContextTypes) -> str | None:
        if context.location not in (app_commands.TranslationContextLocation.command_description,
                                    app_commands.TranslationContextLocation.parameter_description):
            return None                                         # names stay as typed; only descriptions read
        out = gettext(str(locale.value), string.message)        # a locale without a catalogue reads English
        return out[:100] if out != string.message else None


class MultitudesBot(commands.Bot):
    def __init__(self, frontend: DiscordFrontend, **kw: Any) -> None:
        # nothing the bot sends pings anyone: mood text, titles, persona names and reasons may echo what a person
        # (or an LLM) typed, "@everyone" included
        super().__init__(command_prefix=commands.when_mentioned, intents=discord.Intents.default(),
                         allowed_mentions=discord.AllowedMentions.none(), **kw)
        self.frontend = frontend

    async def setup_hook(self) -> None:
        self.add_dynamic_items(_Routed, _LegacyReroll)
        await asyncio.to_thread(warm)
        await self.tree.set_translator(Catalogues())
        if self.frontend.shard is None or self.frontend.shard[0] == 0:       # registered once, not per shard
            await self.tree.sync()

    async def on_raw_reaction_add(self, payload: discord.RawReactionActionEvent) -> None:
        await self.frontend.on_reaction(payload, True)

    async def on_raw_reaction_remove(self, payload: discord.RawReactionActionEvent) -> None:
        await self.frontend.on_reaction(payload, False)


class DiscordFrontend:
    platform = PLATFORM

    def __init__(self, engine: Engine, token: str, *, guild_ready_timeout: float = 2.0,
                 conversation: Conversation | None = None, shard: tuple[int, int] | None = None) -> None:
        """``shard``: (id, count) — this process serves only that share of the servers (Discord requires sharding
        past 2,500 servers); slash commands are registered by shard 0 only. DMs and replies go over REST and work
        from any shard, so any process can deliver any alert."""
        self.engine = engine
        self.token = token
        self.conversation = conversation or Conversation(engine)
        self.typing = PersonLimiter(burst=8, per=0.25)      # autocomplete look-ups, per person
        self.shard = shard
        point_at(engine.settings.discord.api_base, engine.settings.discord.gateway_url)
        sharding = {"shard_id": shard[0], "shard_count": shard[1]} if shard is not None else {}
        self.bot = MultitudesBot(self, guild_ready_timeout=guild_ready_timeout, **sharding)
        self._task: asyncio.Task[None] | None = None
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
        await self.conversation.close()
        await self.bot.close()
        if self._task is not None:
            try:
                await self._task
            except Exception as e:   # the connection closing is expected here
                log.debug("discord connection ended: %s", type(e).__name__)

    async def on_reaction(self, payload: discord.RawReactionActionEvent, added: bool) -> None:
        if self.bot.user is not None and payload.user_id == self.bot.user.id:
            return   # the bot's own seeding reactions
        if payload.member is not None and discord_refusal(payload.member) is not None:
            return   # another bot's reaction is nobody's feedback
        chat = DiscordChat(self, user=discord.Object(id=payload.user_id))
        await self.conversation.reaction(chat, str(payload.message_id), str(payload.emoji), added)

    async def _run(self, interaction: discord.Interaction[Any], name: str, args: str = "", *,
                   mentions: list[discord.abc.User] | None = None) -> None:
        private = COMMANDS[name].private if name in COMMANDS else True
        refusal = discord_refusal(interaction.user)
        if refusal is not None:
            await interaction.response.send_message(gettext(str(interaction.locale.value), refusal.reply or NOBODY),
                                                    ephemeral=True)
            return
        await interaction.response.defer(thinking=True, ephemeral=private)
        await self.conversation.command(DiscordChat(self, interaction, private=private), name, args,
                                        mentions=[Speaker(PLATFORM, str(u.id), u.display_name)
                                                  for u in mentions or ()])

    # -- the notifier port: scheduled alerts and digests ------------------------------------------------------
    async def _destination(self, target: str) -> discord.abc.Messageable:
        kind, _sep, ident = target.partition(":")
        if not ident.isdigit():
            raise ValueError(f"not a Discord target: {target!r}")
        if kind == "user":                     # a direct message (the person shares a server with the bot)
            return await self.bot.create_dm(discord.Object(id=int(ident)))
        if kind == "channel":                  # a channel the person chose with /settings
            return self.bot.get_partial_messageable(int(ident))
        raise ValueError(f"not a Discord target: {target!r}")

    async def send_alert(self, target: str, alert: Alert) -> str:
        msg = await (await self._destination(target)).send(render_alerts.alert(alert))
        return str(msg.id)

    async def send_notice(self, target: str, text: str) -> str:
        msg = await (await self._destination(target)).send(text[:1900])
        return str(msg.id)

    async def schedule_event(self, target: str, title: str, at: datetime) -> bool:
        """A group watch's winner as a scheduled event of the server the target channel belongs to."""
        kind, _sep, ident = target.partition(":")
        channel = self.bot.get_channel(int(ident)) if kind == "channel" and ident.isdigit() else None
        guild = getattr(channel, "guild", None)
        if guild is None:
            return False
        await create_watch_event(guild, title, at)
        return True

    async def send_digest(self, target: str, digest: Digest) -> str:
        dest = await self._destination(target)
        msg = await dest.send(render_alerts.digest(digest)[:1900])
        await self.conversation.deliver_picks(DiscordChat(self, channel=dest), digest.picks)
        return str(msg.id)

    # -- slash commands --------------------------------------------------------------------------------------
    def _register(self) -> None:
        tree = self.bot.tree
        fe = self

        async def persona_names(interaction: discord.Interaction[Any], current: str) -> list[app_commands.Choice[str]]:
            # a look-up, not a visit: nobody is created by opening a menu, and someone new has no personas yet
            try:
                pid = await fe.engine.find_person(PLATFORM, str(interaction.user.id))
            except MultitudesError:
                return []
            report = await fe.engine.personas(pid, stored=True)
            return [app_commands.Choice(name=p.name, value=p.name) for p in report.personas
                    if current.lower() in p.name.lower()][:25]

        async def show_titles(interaction: discord.Interaction[Any], current: str) -> list[app_commands.Choice[str]]:
            # one search per keystroke would be one TMDB request each: at least two letters, and a per-person pace
            # (a burst of 8, then 4 a second); beyond it the menu simply waits for the next keystroke
            if len(current.strip()) < 2:
                return []
            try:
                fe.typing.check(str(interaction.user.id), "autocomplete")
            except RateLimited:
                return []
            return [app_commands.Choice(name=t[:100], value=t[:100])
                    for t in await fe.engine.search_titles(current[:100], 25)]

        async def service_names(interaction: discord.Interaction[Any], current: str
                                ) -> list[app_commands.Choice[str]]:
            try:
                fe.typing.check(str(interaction.user.id), "autocomplete")
            except RateLimited:
                return []
            return [app_commands.Choice(name=t[:100], value=t[:100])
                    for t in await fe.engine.search_titles(current[:200], 25, what="services")]

        @tree.command(name="recommend", description=N_("TV shows for you, from your taste personas"))
        @app_commands.describe(persona=N_("one of your personas"), mode=N_("auto, all, crowd or bridge"),
                               like=N_("a show you liked"), mood=N_("how you feel, in words"),
                               filters=N_("e.g. genre:-horror runtime:<45 k:3"))
        @app_commands.autocomplete(persona=persona_names, like=show_titles)
        async def recommend(interaction: discord.Interaction[Any], persona: str | None = None,
                            mode: str | None = None, like: str | None = None, mood: str | None = None,
                            filters: str | None = None) -> None:
            parts = [mode or "", filters or ""]
            for key, val in (("persona", persona), ("like", like), ("mood", mood)):
                if val:
                    parts.append(f'"{key}:{val}"' if '"' not in val else f"{key}:{val}")
            await fe._run(interaction, "recommend", " ".join(p for p in parts if p))

        @tree.command(name="bridge", description=N_("Shows between two of your personas"))
        @app_commands.autocomplete(first=persona_names, second=persona_names)
        async def bridge(interaction: discord.Interaction[Any], first: str, second: str) -> None:
            await fe._run(interaction, "bridge", f"{first} + {second}")

        @tree.command(name="stats", description=N_("Your viewing, in numbers, and how my picks fared"))
        @app_commands.describe(scope=N_("'year' or 'year 2025': a year in review; 'all': everyone's rates (owners)"))
        async def stats(interaction: discord.Interaction[Any], scope: str = "") -> None:
            await fe._run(interaction, "stats", scope)

        @tree.command(name="import", description=N_("Import a Trakt export (.json, .zip) or Netflix viewing activity"))
        @app_commands.describe(profile=N_("the profile to import, for Netflix's full export with several"))
        async def import_(interaction: discord.Interaction[Any], file: discord.Attachment,
                          profile: str | None = None) -> None:
            refusal = fe.conversation.too_big(file.size, str(interaction.locale.value))
            if refusal:
                await interaction.response.send_message(refusal, ephemeral=True)
                return
            await interaction.response.defer(thinking=True, ephemeral=True)
            await fe.conversation.document(DiscordChat(fe, interaction, private=True), file.filename,
                                           await file.read(), profile)

        @tree.command(name="groupwatch", description=N_("A show for several of you that nobody has seen"))
        @app_commands.describe(a=N_("someone to watch with"), b=N_("someone else"), c=N_("and one more"),
                               closes=N_("the vote closes after this long, e.g. 2h"),
                               at=N_("when you watch the winner, e.g. 21:00 (a server event)"),
                               filters=N_("e.g. genre:+comedy"))
        async def groupwatch(interaction: discord.Interaction[Any], a: discord.User, b: discord.User | None = None,
                             c: discord.User | None = None, closes: str | None = None, at: str | None = None,
                             filters: str | None = None) -> None:
            args = " ".join(p for p in ((f"in:{closes}" if closes else ""), (f"at:{at}" if at else ""),
                                        filters or "") if p)
            await fe._run(interaction, "groupwatch", args, mentions=[u for u in (a, b, c) if u is not None])

        @tree.command(name="settings", description=N_("Group picks, time zone, alerts, digest, watchlist, language"))
        @app_commands.describe(group=N_("take part in group picks (on/off)"), timezone=N_("e.g. Europe/Paris"),
                               quiet=N_("no alerts between these hours, e.g. 23-08"),
                               alerts=N_("release alerts (on/off)"),
                               filters=N_("default /recommend filters, e.g. genre:-horror anime:no"),
                               services=N_("the streaming services you have, e.g. Netflix,Max"),
                               lang=N_("titles and overviews in: fr, Deutsch, 日本語… (auto: Discord's language)"),
                               more=N_("e.g. digest:on watchlist:on binge:off arrivals:off publish:on channel:here"))
        @app_commands.autocomplete(services=service_names)
        async def settings(interaction: discord.Interaction[Any], group: str | None = None,
                           timezone: str | None = None, quiet: str | None = None, alerts: str | None = None,
                           filters: str | None = None, services: str | None = None, lang: str | None = None,
                           more: str | None = None) -> None:
            parts = [f"{k}:{v}" for k, v in (("group", group), ("tz", timezone), ("quiet", quiet),
                                              ("alerts", alerts)) if v]
            if lang:
                parts.append(f'"lang:{lang}"')
            if services:
                parts.append(f'"services:{services}"')
            if filters:
                parts.append(f'"filters:{filters}"')
            await fe._run(interaction, "settings", " ".join([*parts, more or ""]).strip())

        @tree.command(name="tonight", description=N_("A plan that fits your evening"))
        @app_commands.describe(time=N_("how long you have, e.g. 90m, 2h, 1h30"), mood=N_("how you feel, in words"),
                               filters=N_("e.g. genre:-horror provider:Netflix"))
        async def tonight(interaction: discord.Interaction[Any], time: str, mood: str | None = None,
                          filters: str | None = None) -> None:
            parts = [time, filters or ""]
            if mood:
                parts.append(f'"mood:{mood}"' if '"' not in mood else f"mood:{mood}")
            await fe._run(interaction, "tonight", " ".join(p for p in parts if p))

        @tree.command(name="rate", description=N_("Rate a show you watched, 1 to 10"))
        @app_commands.describe(show=N_("a show you watched or were shown"), rating=N_("1 to 10, or 0 to remove"))
        @app_commands.autocomplete(show=show_titles)
        async def rate(interaction: discord.Interaction[Any], show: str,
                       rating: app_commands.Range[int, 0, 10]) -> None:
            await fe._run(interaction, "rate", f'"{show}" {rating}' if '"' not in show else f"{show} {rating}")

        @tree.command(name="watched", description=COMMANDS["watched"].description[:100])
        @app_commands.describe(episode=N_("the last episode you watched, e.g. S02E04"))
        async def watched(interaction: discord.Interaction[Any], episode: str) -> None:
            await fe._run(interaction, "watched", episode)

        @tree.command(name="help", description=N_("How Multitudes works"))
        async def help_(interaction: discord.Interaction[Any]) -> None:
            await fe._run(interaction, "help")          # their /settings lang: first, else Discord's locale

        def simple(name: str) -> None:
            async def run(interaction: discord.Interaction[Any]) -> None:
                await fe._run(interaction, name)
            tree.command(name=name, description=COMMANDS[name].description[:100])(run)

        @tree.command(name="upcoming", description=N_("What is coming for your shows"))
        @app_commands.describe(format=N_("'ics': as a calendar file for your calendar app"))
        async def upcoming(interaction: discord.Interaction[Any], format: str = "") -> None:
            await fe._run(interaction, "upcoming", format)

        @tree.command(name="link", description=COMMANDS["link"].description[:100])
        @app_commands.describe(server=N_("empty: Trakt; or your user on this bot's media server"))
        @app_commands.choices(server=SERVER_CHOICES)
        async def link(interaction: discord.Interaction[Any], server: str = "") -> None:
            await fe._run(interaction, "link", server)

        @tree.command(name="unlink", description=N_("disconnect Trakt, or your media-server user"))
        @app_commands.describe(server=N_("empty: Trakt; or the media server"))
        @app_commands.choices(server=SERVER_CHOICES)
        async def unlink(interaction: discord.Interaction[Any], server: str = "") -> None:
            await fe._run(interaction, "unlink", server)

        for name in ("personas", "sync", "next", "export", "forget"):
            simple(name)

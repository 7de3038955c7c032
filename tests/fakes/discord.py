"""A loopback Discord (REST under /api/v10 and a gateway websocket) for the real discord.py ``Bot``.

Point discord.py here with ``discord.http.Route.BASE`` and ``DiscordWebSocket.DEFAULT_GATEWAY`` (see
``bot.discord.point_at``). The gateway says HELLO, answers IDENTIFY with READY (+ GUILD_CREATE), ACKs heartbeats and
dispatches the interactions and reactions a test pushes. REST covers what the bot uses: login, command sync,
interaction callbacks (returning the message, so components route), follow-ups, channel messages, reactions, DMs.

Sharding as Discord does it: each gateway connection IDENTIFYs with [shard id, shard count] and is sent the guilds
whose ``(guild_id >> 22) % count`` is its id; an interaction in a guild goes to that guild's shard (DMs to shard 0).
``add_guild`` adds servers; ``replies`` keeps every message answering an interaction, by interaction id.
"""

from __future__ import annotations

import asyncio
import json
import time
from itertools import count
from typing import Any

from aiohttp import WSMsgType, web

from .base import FakeServer, json_response

APP_ID = 900000000000000001
BOT_ID = 900000000000000002
GUILD_ID = 900000000000000003
CHANNEL_ID = 900000000000000004


def snowflake(n: int) -> str:
    return str(((int(time.time() * 1000) - 1420070400000) << 22) + n)


class FakeDiscord(FakeServer):
    name = "discord"

    def __init__(self) -> None:
        super().__init__()
        self._ids = count(1)
        self.ws: web.WebSocketResponse | None = None
        self.seq = 0
        self.identified = asyncio.Event()
        self.identify: list[dict[str, Any]] = []                # every IDENTIFY payload (``shard``: [id, count])
        self.messages: dict[str, dict[str, Any]] = {}           # every message the bot created, by id
        self.sent: list[dict[str, Any]] = []                    # in order
        self.uploads: dict[str, bytes] = {}                     # attachment id -> the bytes the bot sent
        self.scheduled_events: list[dict[str, Any]] = []         # what the bot scheduled, as Discord stores it
        self.callbacks: list[dict[str, Any]] = []               # interaction callbacks (type, data)
        self.commands: list[dict[str, Any]] = []                # registered application commands
        self.reactions: list[tuple[str, str]] = []              # (message id, emoji) the bot added
        self.new_message = asyncio.Event()
        self.users: dict[int, dict[str, Any]] = {}
        self.guilds: dict[int, str] = {GUILD_ID: "Watchers"}     # guild id -> name
        self.shards: dict[int, tuple[web.WebSocketResponse, int]] = {}   # shard id -> (connection, shard count)
        self.seqs: dict[int, int] = {}                               # sequence number per connection
        self.replies: dict[str, list[dict[str, Any]]] = {}           # interaction id -> messages answering it
        self.replied = asyncio.Event()
        r = self.app.router
        r.add_get("/gateway", self.gateway_info)
        r.add_get("/ws", self.gateway)
        r.add_get("/api/v10/users/@me", self.me)
        r.add_get("/api/v10/gateway", self.gateway_info)
        r.add_get("/api/v10/oauth2/applications/@me", self.application)
        r.add_put("/api/v10/applications/{app}/commands", self.put_commands)
        r.add_put("/api/v10/applications/{app}/guilds/{guild}/commands", self.put_commands)
        r.add_post("/api/v10/interactions/{id}/{token}/callback", self.callback)
        r.add_post("/api/v10/webhooks/{app}/{token}", self.followup)
        r.add_patch("/api/v10/webhooks/{app}/{token}/messages/{mid}", self.edit_webhook)
        r.add_post("/api/v10/channels/{cid}/messages", self.post_message)
        r.add_patch("/api/v10/channels/{cid}/messages/{mid}", self.edit_message)
        r.add_put("/api/v10/channels/{cid}/messages/{mid}/reactions/{emoji}/@me", self.add_reaction)
        r.add_post("/api/v10/users/@me/channels", self.dm_channel)
        r.add_get("/api/v10/guilds/{gid}/members/{uid}", self.guild_member)
        r.add_post("/api/v10/guilds/{gid}/scheduled-events", self.scheduled_event)
        r.add_get("/attachments/{id}/{name}", self.attachment)
        self.files: dict[str, bytes] = {}
        self.left: set[tuple[int, int]] = set()          # (guild, user): who left a server

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    def _next(self) -> str:
        return snowflake(next(self._ids))

    def add_guild(self, guild_id: int, name: str) -> None:
        self.guilds[guild_id] = name

    @staticmethod
    def channel_of(guild_id: int) -> int:
        return CHANNEL_ID if guild_id == GUILD_ID else guild_id + 1

    def user(self, uid: int, name: str = "alice") -> dict[str, Any]:
        u = {"id": str(uid), "username": name, "discriminator": "0", "global_name": name.title(), "avatar": None}
        self.users[uid] = u
        return u

    # -- gateway -----------------------------------------------------------------------------------------------
    async def gateway_info(self, request: web.Request) -> web.Response:
        return json_response({"url": self.gateway_url, "shards": 1, "session_start_limit": {
            "total": 1000, "remaining": 1000, "reset_after": 0, "max_concurrency": 1}})

    def _connection(self, guild_id: int | None) -> web.WebSocketResponse | None:
        """The connection of the shard serving ``guild_id`` (DMs: shard 0); the latest one when unsharded."""
        if not self.shards:
            return self.ws
        count_ = next(iter(self.shards.values()))[1]
        got = self.shards.get((guild_id >> 22) % count_ if guild_id else 0)
        return got[0] if got else None

    async def send(self, op: int, d: Any, t: str | None = None, *, ws: web.WebSocketResponse | None = None) -> None:
        """A gateway payload to ``ws``, or to the shard of the payload's guild. Raises ConnectionError when that
        shard has no live connection (its process is down)."""
        ws = ws or self._connection(int(d["guild_id"]) if isinstance(d, dict) and d.get("guild_id") else None)
        if ws is None or ws.closed:
            raise ConnectionError("no live gateway connection for that shard")
        payload: dict[str, Any] = {"op": op, "d": d}
        if op == 0:
            self.seq += 1
            self.seqs[id(ws)] = self.seqs.get(id(ws), 0) + 1
            payload.update(s=self.seqs[id(ws)], t=t)
        await ws.send_str(json.dumps(payload))

    def _guild_create(self, gid: int) -> dict[str, Any]:
        return {
            "id": str(gid), "name": self.guilds[gid], "owner_id": "1", "unavailable": False,
            "member_count": 3, "large": False, "roles": [{"id": str(gid), "name": "@everyone",
                                                           "permissions": "0", "position": 0, "color": 0,
                                                           "hoist": False, "managed": False,
                                                           "mentionable": False}],
            "channels": [{"id": str(self.channel_of(gid)), "type": 0, "name": "tv", "position": 0,
                          "permission_overwrites": []}],
            "members": [], "voice_states": [], "presences": [], "emojis": [], "stickers": [],
            "features": [], "threads": [], "stage_instances": [], "guild_scheduled_events": [],
            "joined_at": "2026-01-01T00:00:00+00:00", "premium_tier": 0, "preferred_locale": "en-US",
            "verification_level": 0, "default_message_notifications": 0, "explicit_content_filter": 0,
            "mfa_level": 0, "nsfw_level": 0, "system_channel_flags": 0}

    async def gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self.ws = ws
        await self.send(10, {"heartbeat_interval": 41250}, ws=ws)
        async for msg in ws:
            if msg.type != WSMsgType.TEXT:
                continue
            data = json.loads(msg.data)
            if data["op"] == 1:
                await ws.send_str(json.dumps({"op": 11}))
            elif data["op"] == 2:
                self.identify.append(data["d"])
                shard = data["d"].get("shard")
                sid, n = shard if shard else (0, 1)
                if shard:
                    self.shards[sid] = (ws, n)
                mine = [g for g in self.guilds if (g >> 22) % n == sid]
                await self.send(0, {
                    **({"shard": shard} if shard else {}),
                    "v": 10, "user": {"id": str(BOT_ID), "username": "multitudes", "discriminator": "0",
                                      "bot": True, "avatar": None},
                    "guilds": [{"id": str(g), "unavailable": True} for g in mine], "session_id": f"s{sid}",
                    "resume_gateway_url": self.gateway_url, "application": {"id": str(APP_ID), "flags": 0}},
                    "READY", ws=ws)
                for g in mine:
                    await self.send(0, self._guild_create(g), "GUILD_CREATE", ws=ws)
                self.identified.set()
        return ws

    # -- test controls -----------------------------------------------------------------------------------------
    async def slash(self, uid: int, name: str, options: dict[str, str] | None = None, *,
                    users: dict[str, int] | None = None, guild: int = GUILD_ID, locale: str = "en-US") -> str:
        """A slash command from ``uid``: string options, and user options (``users``: option -> user id);
        ``locale``: the language of the person's Discord app."""
        iid = self._next()
        opts: list[dict[str, Any]] = [{"name": k, "type": 3, "value": v} for k, v in (options or {}).items()]
        resolved: dict[str, Any] = {}
        if users:
            opts += [{"name": k, "type": 6, "value": str(v)} for k, v in users.items()]
            resolved = {"users": {str(v): self.users.get(v) or self.user(v, f"user{v}") for v in users.values()}}
        await self.send(0, {
            "id": iid, "application_id": str(APP_ID), "type": 2, "token": f"tok{iid}", "version": 1,
            "data": {"id": "1", "name": name, "type": 1, "options": opts, **({"resolved": resolved} if resolved
                                                                              else {})},
            **self._where(guild),
            "member": {"user": self.users.get(uid) or self.user(uid), "roles": [],
                       "joined_at": "2026-01-01T00:00:00+00:00", "deaf": False, "mute": False,
                       "permissions": "1024", "flags": 0},
            "app_permissions": "2048", "locale": locale, "guild_locale": "en-US", "entitlements": [],
            "attachment_size_limit": 26214400,
            "authorizing_integration_owners": {}, "context": 0}, "INTERACTION_CREATE")
        return iid

    async def autocomplete(self, uid: int, name: str, option: str, typed: str, *, guild: int = GUILD_ID
                           ) -> list[dict[str, Any]]:
        """An autocomplete interaction (type 4) while ``uid`` types ``typed`` into ``option``; the choices the bot
        answered with (callback type 8)."""
        iid = self._next()
        before = len(self.callbacks)
        await self.send(0, {
            "id": iid, "application_id": str(APP_ID), "type": 4, "token": f"tok{iid}", "version": 1,
            "data": {"id": "1", "name": name, "type": 1,
                     "options": [{"name": option, "type": 3, "value": typed, "focused": True}]},
            **self._where(guild),
            "member": {"user": self.users.get(uid) or self.user(uid), "roles": [],
                       "joined_at": "2026-01-01T00:00:00+00:00", "deaf": False, "mute": False,
                       "permissions": "1024", "flags": 0},
            "app_permissions": "2048", "locale": "en-US", "guild_locale": "en-US", "entitlements": [],
            "attachment_size_limit": 26214400, "authorizing_integration_owners": {}, "context": 0},
            "INTERACTION_CREATE")
        for _ in range(500):
            got = [c for c in self.callbacks[before:] if c.get("type") == 8]
            if got:
                return list((got[0].get("data") or {}).get("choices") or [])
            await asyncio.sleep(0.01)
        raise AssertionError("no autocomplete answer")

    async def upload(self, uid: int, command: str, option: str, filename: str, data: bytes) -> str:
        """A slash command with one attachment option (the file is served back at its CDN-like URL)."""
        aid = self._next()
        self.files[aid] = data
        iid = self._next()
        att = {"id": aid, "filename": filename, "size": len(data), "url": f"{self.url}/attachments/{aid}/{filename}",
               "proxy_url": f"{self.url}/attachments/{aid}/{filename}", "content_type": "text/csv"}
        await self.send(0, {
            "id": iid, "application_id": str(APP_ID), "type": 2, "token": f"tok{iid}", "version": 1,
            "data": {"id": "1", "name": command, "type": 1, "options": [{"name": option, "type": 11, "value": aid}],
                     "resolved": {"attachments": {aid: att}}},
            "guild_id": str(GUILD_ID), "channel_id": str(CHANNEL_ID),
            "channel": {"id": str(CHANNEL_ID), "type": 0, "guild_id": str(GUILD_ID), "name": "tv"},
            "member": {"user": self.user(uid), "roles": [], "joined_at": "2026-01-01T00:00:00+00:00",
                       "deaf": False, "mute": False, "permissions": "1024", "flags": 0},
            "app_permissions": "2048", "locale": "en-US", "entitlements": [], "authorizing_integration_owners": {},
            "attachment_size_limit": 26214400, "context": 0}, "INTERACTION_CREATE")
        return iid

    async def attachment(self, request: web.Request) -> web.Response:
        data = self.files.get(request.match_info["id"])
        return web.Response(body=data) if data is not None else web.Response(status=404)

    def _where(self, guild: int) -> dict[str, Any]:
        ch = str(self.channel_of(guild))
        return {"guild_id": str(guild), "channel_id": ch,
                "channel": {"id": ch, "type": 0, "guild_id": str(guild), "name": "tv"}}

    async def click(self, uid: int, message: dict[str, Any], custom_id: str, *, guild: int = GUILD_ID) -> str:
        iid = self._next()
        await self.send(0, {
            "id": iid, "application_id": str(APP_ID), "type": 3, "token": f"tok{iid}", "version": 1,
            "data": {"custom_id": custom_id, "component_type": 2}, "message": message,
            **self._where(guild),
            "member": {"user": self.users.get(uid) or self.user(uid), "roles": [],
                       "joined_at": "2026-01-01T00:00:00+00:00", "deaf": False, "mute": False, "permissions": "1024",
                       "flags": 0},
            "app_permissions": "2048", "locale": "en-US", "entitlements": [], "authorizing_integration_owners": {},
            "attachment_size_limit": 26214400,
            "context": 0}, "INTERACTION_CREATE")
        return iid

    async def react(self, uid: int, message: dict[str, Any], emoji: str, *, add: bool = True) -> None:
        await self.send(0, {
            "user_id": str(uid), "channel_id": message["channel_id"], "message_id": message["id"],
            "guild_id": str(GUILD_ID), "emoji": {"id": None, "name": emoji}, "type": 0, "burst": False,
            "message_author_id": str(BOT_ID),
            **({"member": {"user": self.user(uid), "roles": [], "joined_at": "2026-01-01T00:00:00+00:00",
                           "deaf": False, "mute": False, "flags": 0}} if add else {})},
            "MESSAGE_REACTION_ADD" if add else "MESSAGE_REACTION_REMOVE")

    async def wait_sent(self, n: int, within: float = 20.0) -> list[dict[str, Any]]:
        """Wait until the bot has sent at least ``n`` messages in total."""
        return await self.wait_messages(self.sent, n, within, lambda m: (
            m.get("content"), [e.get("title") for e in m.get("embeds", [])]))

    # -- REST --------------------------------------------------------------------------------------------------
    def _reply(self, iid: str, msg: dict[str, Any] | None) -> None:
        self.replies.setdefault(iid, [])
        if msg is not None:
            self.replies[iid].append(msg)
        self.replied.set()

    def _message(self, channel_id: str, body: dict[str, Any], *, interaction: str | None = None,
                 ephemeral: bool = False) -> dict[str, Any]:
        mid = self._next()
        msg = {"id": mid, "channel_id": channel_id, "type": 0 if interaction is None else 20,
               "author": {"id": str(BOT_ID), "username": "multitudes", "discriminator": "0", "bot": True,
                          "avatar": None},
               "content": body.get("content") or "", "embeds": body.get("embeds") or [],
               "components": body.get("components") or [], "attachments": [], "mentions": [], "mention_roles": [],
               "pinned": False, "mention_everyone": False, "tts": False, "timestamp": "2026-11-24T10:00:00+00:00",
               "edited_timestamp": None, "flags": 64 if ephemeral else 0}
        for n, (name, data) in enumerate(zip(body.get("_files") or [], body.get("_data") or [], strict=True)):
            aid = f"{mid}{n}"
            self.uploads[aid] = data            # what the bot attached, as a test reads it back
            msg["attachments"].append({"id": aid, "filename": name, "size": len(data),
                                       "url": f"{self.url}/attachments/{aid}/{name}",
                                       "proxy_url": f"{self.url}/attachments/{aid}/{name}"})
        self.messages[mid] = msg
        self.sent.append(msg)
        self.new_message.set()
        return msg

    async def _body(self, request: web.Request) -> dict[str, Any]:
        if request.content_type.startswith("multipart/"):
            reader = await request.multipart()
            body: dict[str, Any] = {}
            async for part in reader:
                if part.name == "payload_json":
                    body = json.loads(await part.text())
                else:
                    body.setdefault("_data", []).append(await part.read())
                    body.setdefault("_files", []).append(part.filename)
            return body
        raw = await request.read()
        return json.loads(raw) if raw else {}

    async def scheduled_event(self, request: web.Request) -> web.Response:
        """POST /guilds/{id}/scheduled-events: an external event needs a location and an end time (Discord's
        rules); the event as Discord returns it."""
        gid = int(request.match_info["gid"])
        if gid not in self.guilds:
            return json_response({"message": "Unknown Guild", "code": 10004}, status=404)
        body = await self._body(request)
        external = body.get("entity_type") == 3
        if external and not ((body.get("entity_metadata") or {}).get("location") and body.get("scheduled_end_time")):
            return json_response({"message": "Invalid Form Body", "code": 50035}, status=400)
        event = {"id": self._next(), "guild_id": str(gid), "channel_id": None, "creator_id": str(BOT_ID),
                 "name": body["name"], "description": body.get("description"),
                 "scheduled_start_time": body["scheduled_start_time"],
                 "scheduled_end_time": body.get("scheduled_end_time"), "privacy_level": body["privacy_level"],
                 "status": 1, "entity_type": body["entity_type"], "entity_id": None,
                 "entity_metadata": body.get("entity_metadata"), "user_count": 0, "image": None}
        self.scheduled_events.append(event)
        return json_response(event)

    async def me(self, request: web.Request) -> web.Response:
        return json_response({"id": str(BOT_ID), "username": "multitudes", "discriminator": "0", "bot": True,
                              "avatar": None})

    async def application(self, request: web.Request) -> web.Response:
        return json_response({"id": str(APP_ID), "name": "Multitudes", "icon": None, "description": "",
                              "rpc_origins": [], "bot_public": True, "bot_require_code_grant": False,
                              "owner": {"id": "1", "username": "owner", "discriminator": "0", "avatar": None},
                              "summary": "", "verify_key": "00", "team": None, "flags": 0})

    async def put_commands(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        self.commands = [dict(c, id=self._next(), application_id=str(APP_ID), version="1") for c in body]
        return json_response(self.commands)

    async def callback(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        self.callbacks.append(body)
        iid = request.match_info["id"]
        kind, data = body.get("type"), body.get("data") or {}
        msg = None
        if kind == 4:   # CHANNEL_MESSAGE_WITH_SOURCE
            msg = self._message(str(CHANNEL_ID), data, interaction=iid, ephemeral=bool((data.get("flags") or 0) & 64))
        out: dict[str, Any] = {"interaction": {"id": iid, "type": 2, "activity_instance_id": None,
                                               "response_message_id": msg["id"] if msg else None,
                                               "response_message_loading": kind == 5,
                                               "response_message_ephemeral": bool(msg and msg["flags"] & 64)}}
        self._reply(iid, msg)
        if msg is not None:
            out["resource"] = {"type": kind, "message": msg}
        else:
            out["resource"] = {"type": kind}
        return json_response(out)

    async def followup(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        msg = self._message(str(CHANNEL_ID), body, interaction="followup",
                            ephemeral=bool((body.get("flags") or 0) & 64))
        self._reply(request.match_info["token"].removeprefix("tok"), msg)
        return json_response(msg)

    async def edit_webhook(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        msg = self._message(str(CHANNEL_ID), body, interaction="original")
        self._reply(request.match_info["token"].removeprefix("tok"), msg)
        return json_response(msg)

    async def post_message(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        return json_response(self._message(request.match_info["cid"], body))

    async def edit_message(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        msg = self.messages.get(request.match_info["mid"])
        if msg is None:
            return json_response({"message": "Unknown Message", "code": 10008}, status=404)
        msg.update({k: v for k, v in body.items() if k in ("content", "embeds", "components")})
        return json_response(msg)

    async def add_reaction(self, request: web.Request) -> web.Response:
        self.reactions.append((request.match_info["mid"], request.match_info["emoji"]))
        return web.Response(status=204)

    async def guild_member(self, request: web.Request) -> web.Response:
        uid = int(request.match_info["uid"])
        if (int(request.match_info["gid"]), uid) in self.left:
            return json_response({"message": "Unknown Member", "code": 10007}, status=404)
        return json_response({"user": self.users.get(uid, self.user(uid)), "roles": [], "joined_at":
                              "2026-01-01T00:00:00+00:00", "deaf": False, "mute": False, "flags": 0})

    async def dm_channel(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        uid = body.get("recipient_id")
        return json_response({"id": f"7{uid}", "type": 1, "last_message_id": None,
                              "recipients": [self.users.get(int(uid), self.user(int(uid)))]})

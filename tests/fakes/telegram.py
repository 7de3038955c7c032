"""A loopback Telegram Bot API for the real python-telegram-bot ``Application``.

``Application.builder().base_url(f"{fake.url}/bot")`` points PTB here. Implements getMe, deleteWebhook,
getUpdates (long polling, remembers ``allowed_updates``), setMyCommands, sendMessage, sendPhoto, sendDocument,
editMessageText, answerCallbackQuery, setMessageReaction and sendChatAction; tests push commands, button presses
and reactions.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Sequence
from typing import Any

from aiohttp import web

from .base import FakeServer, json_response

BOT_ID = 777000


class FakeTelegram(FakeServer):
    name = "telegram"

    def __init__(self, token: str = "123456:TEST-token") -> None:
        super().__init__()
        self.token = token
        self.updates: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.next_update = 1
        self.next_message = 100
        self.photo_urls: dict[int, str] = {}      # message id -> the URL a photo was sent from
        self.refuse_photo_urls = False            # answer photo URLs as Telegram does a page it cannot use
        self.sent: list[dict[str, Any]] = []            # messages the bot sent (and edited)
        self.left: set[tuple[int, int]] = set()         # (chat, user): who left a group (getChatMember says so)
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.allowed_updates: list[list[str]] = []
        self.answered: list[dict[str, Any]] = []
        self.new_message = asyncio.Event()
        self.flood: dict[str, int] = {}                  # method -> how many 429s to answer before serving it
        self.flooded = 0
        self.blocked: dict[str, int] = {}                # method -> how many 403s to answer
        self.files: dict[str, bytes] = {}
        self.app.router.add_get("/file/bot{token}/{path:.+}", self.download)
        self.app.router.add_post("/bot{token}/{method}", self.dispatch)
        self.app.router.add_get("/bot{token}/{method}", self.dispatch)

    # -- driving the bot -------------------------------------------------------------------------------------
    def _user(self, uid: int, name: str) -> dict[str, Any]:
        return {"id": uid, "is_bot": False, "first_name": name, "username": name.lower()}

    def _chat(self, cid: int, kind: str = "private") -> dict[str, Any]:
        return {"id": cid, "type": kind, **({"title": "Group"} if kind != "private" else {"first_name": "x"})}

    def push(self, update: dict[str, Any]) -> None:
        update["update_id"] = self.next_update
        self.next_update += 1
        self.updates.put_nowait(update)

    def command(self, uid: int, text: str, *, chat: int | None = None, name: str = "Alice",
                kind: str = "private", sender_chat: int | None = None, is_bot: bool = False,
                forwarded_from: int | None = None, edited: bool = False,
                mentions: Sequence[tuple[int, str]] = (), at: Sequence[str] = (),
                reply_to: tuple[int, str] | None = None, lang: str | None = None) -> None:
        """A command as Telegram delivers it: ``sender_chat`` for an anonymous admin or a channel post (``from``
        is then the placeholder account ``uid`` names), ``forwarded_from`` for a forwarded message, ``edited``
        for an edit of an earlier message."""
        cmd = text.split(maxsplit=1)[0]
        entities: list[dict[str, Any]] = [{"type": "bot_command", "offset": 0, "length": len(cmd)}]
        for mid, mname in mentions:                 # (ASCII names: offsets count UTF-16 units)
            text += " "
            entities.append({"type": "text_mention", "offset": len(text), "length": len(mname),
                             "user": self._user(mid, mname)})
            text += mname
        for handle in at:
            text += " "
            entities.append({"type": "mention", "offset": len(text), "length": len(handle) + 1})
            text += "@" + handle
        self.next_message += 1
        msg: dict[str, Any] = {"message_id": self.next_message, "date": int(time.time()),
                               "chat": self._chat(chat or uid, kind), "from": {
                                   **self._user(uid, name), "is_bot": is_bot,
                                   **({"language_code": lang} if lang else {})},     # their app's language
                               "text": text, "entities": entities}
        if reply_to is not None:
            msg["reply_to_message"] = {"message_id": max(1, self.next_message - 1), "date": int(time.time()),
                                       "chat": self._chat(chat or uid, kind), "from": self._user(*reply_to),
                                       "text": "earlier"}
        if sender_chat is not None:
            msg["sender_chat"] = {"id": sender_chat, "type": "supergroup" if sender_chat == chat else "channel",
                                  "title": "Group"}
        if forwarded_from is not None:
            msg["forward_origin"] = {"type": "user", "date": int(time.time()) - 60,
                                     "sender_user": self._user(forwarded_from, "Someone")}
        if edited:
            msg["edit_date"] = int(time.time())
        self.push({"edited_message" if edited else "message": msg})

    def document(self, uid: int, name: str, data: bytes, *, who: str = "Alice") -> None:
        fid = f"doc{len(self.files) + 1}"
        self.files[fid] = data
        self.next_message += 1
        self.push({"message": {"message_id": self.next_message, "date": int(time.time()),
                               "chat": self._chat(uid), "from": self._user(uid, who),
                               "document": {"file_id": fid, "file_unique_id": fid, "file_name": name,
                                            "file_size": len(data)}}})

    async def download(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.Response(status=401)
        data = self.files.get(request.match_info["path"].rsplit("/", 1)[-1])
        return web.Response(body=data) if data is not None else web.Response(status=404)

    def press(self, uid: int, message: dict[str, Any], data: str, name: str = "Alice") -> None:
        self.push({"callback_query": {"id": f"cb{self.next_update}", "from": self._user(uid, name),
                                      "chat_instance": "ci", "data": data, "message": message}})

    def react(self, uid: int, message: dict[str, Any], old: list[str], new: list[str], name: str = "Alice") -> None:
        self.push({"message_reaction": {
            "chat": message["chat"], "message_id": message["message_id"], "date": int(time.time()),
            "user": self._user(uid, name),
            "old_reaction": [{"type": "emoji", "emoji": e} for e in old],
            "new_reaction": [{"type": "emoji", "emoji": e} for e in new]}})

    async def wait_sent(self, n: int, within: float = 20.0) -> list[dict[str, Any]]:
        """Wait until the bot has sent at least ``n`` messages in total."""
        return await self.wait_messages(self.sent, n, within, lambda m: m.get("text") or m.get("caption"))

    # -- the Bot API -------------------------------------------------------------------------------------------
    async def _params(self, request: web.Request) -> dict[str, Any]:
        if request.content_type == "application/json":
            raw = await request.json()
            return dict(raw or {})
        form = await request.post()
        out: dict[str, Any] = {}
        for k, v in form.items():
            if hasattr(v, "file"):
                data = v.file.read()
                out[k] = {"filename": v.filename, "size": len(data), "data": data}
                continue
            try:
                out[k] = json.loads(str(v))
            except ValueError:
                out[k] = str(v)
        return out

    def _message(self, chat_id: Any, **kw: Any) -> dict[str, Any]:
        self.next_message += 1
        cid = int(chat_id)
        msg = {"message_id": self.next_message, "date": int(time.time()), "chat": self._chat(cid),
               "from": {"id": BOT_ID, "is_bot": True, "first_name": "Multitudes", "username": "multitudes_bot"}, **kw}
        self.sent.append(msg)
        self.new_message.set()
        return msg

    async def dispatch(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return json_response({"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401)
        method = request.match_info["method"]
        p = await self._params(request)
        self.calls.append((method, p))
        if self.flood.get(method, 0) > 0:          # Bot API flood control: 429 with parameters.retry_after
            self.flood[method] -= 1
            self.flooded += 1
            return json_response({"ok": False, "error_code": 429, "description": "Too Many Requests: retry after 1",
                                  "parameters": {"retry_after": 1}}, status=429)
        if self.blocked.get(method, 0) > 0:        # the person blocked the bot
            self.blocked[method] -= 1
            return json_response({"ok": False, "error_code": 403,
                                  "description": "Forbidden: bot was blocked by the user"}, status=403)
        ok = {"ok": True, "result": True}
        match method:
            case "getMe":
                return json_response({"ok": True, "result": {"id": BOT_ID, "is_bot": True, "first_name": "Multitudes",
                                                             "username": "multitudes_bot", "can_join_groups": True,
                                                             "can_read_all_group_messages": False,
                                                             "supports_inline_queries": False}})
            case "deleteWebhook" | "setMyCommands" | "answerCallbackQuery" | "setMessageReaction" | "sendChatAction":
                if method == "answerCallbackQuery":
                    self.answered.append(p)
                return json_response(ok)
            case "getUpdates":
                if "allowed_updates" in p:
                    self.allowed_updates.append(list(p["allowed_updates"] or []))
                timeout = float(p.get("timeout") or 0)
                got: list[dict[str, Any]] = []
                try:
                    got.append(await asyncio.wait_for(self.updates.get(), max(0.05, min(timeout, 1.0))))
                except TimeoutError:
                    pass
                while not self.updates.empty():
                    got.append(self.updates.get_nowait())
                return json_response({"ok": True, "result": got})
            case "getChatMember":                    # left: (chat id, user id) pairs of people who left
                uid = int(p["user_id"])
                status = "left" if (int(p["chat_id"]), uid) in self.left else "member"
                return json_response({"ok": True, "result": {"status": status, "user": self._user(uid, "x")}})
            case "getFile":
                fid = str(p["file_id"])
                return json_response({"ok": True, "result": {"file_id": fid, "file_unique_id": fid,
                                                             "file_size": len(self.files.get(fid, b"")),
                                                             "file_path": f"documents/{fid}"}})
            case "sendMessage":
                extra = {"reply_markup": p["reply_markup"]} if p.get("reply_markup") else {}
                return json_response({"ok": True, "result": self._message(p["chat_id"], text=p.get("text", ""),
                                                                           **extra)})
            case "sendPhoto":
                url = p.get("photo") if isinstance(p.get("photo"), str) else None
                if url is not None and (self.refuse_photo_urls or not url.startswith("https://")):
                    # Telegram downloads a photo given by URL itself; a page it cannot use is refused
                    return json_response({"ok": False, "error_code": 400, "description":
                                          "Bad Request: wrong type of the web page content"}, status=400)
                extra = {"reply_markup": p["reply_markup"]} if p.get("reply_markup") else {}
                photo = [{"file_id": f"ph{self.next_message}", "file_unique_id": "u", "width": 800, "height": 400}]
                msg = self._message(p["chat_id"], photo=photo, caption=p.get("caption", ""), **extra)
                if url is not None:
                    self.photo_urls[msg["message_id"]] = url      # what was asked for (a test reads it)
                return json_response({"ok": True, "result": msg})
            case "sendDocument":                     # multipart: the file and its name; 50 MB at most for bots
                doc = p.get("document")
                if not isinstance(doc, dict) or doc.get("size", 0) > 50 * 1024 * 1024:
                    return json_response({"ok": False, "error_code": 400, "description":
                                          "Bad Request: there is no document in the request"}, status=400)
                fid = f"sent{self.next_message + 1}"
                self.files[fid] = doc["data"]
                msg = self._message(p["chat_id"], caption=p.get("caption", ""), document={
                    "file_id": fid, "file_unique_id": fid, "file_name": doc["filename"], "file_size": doc["size"]})
                return json_response({"ok": True, "result": msg})
            case "editMessageReplyMarkup":
                for m in self.sent:
                    if m["message_id"] == int(p["message_id"]):
                        if m.get("reply_markup") == p.get("reply_markup"):
                            return json_response({"ok": False, "error_code": 400, "description": (
                                "Bad Request: message is not modified: specified new message content and reply "
                                "markup are exactly the same as a current content and reply markup of the message")},
                                status=400)
                        m["reply_markup"] = p.get("reply_markup")
                        return json_response({"ok": True, "result": m})
                return json_response({"ok": False, "error_code": 400, "description": "message not found"}, status=400)
            case "editMessageText":
                for m in self.sent:
                    if m["message_id"] == int(p["message_id"]):
                        m["text"] = p.get("text", "")
                        self.new_message.set()
                        return json_response({"ok": True, "result": m})
                return json_response({"ok": False, "error_code": 400, "description": "message not found"}, status=400)
        self.unhandled.append(f"{request.method} {method}")
        return json_response({"ok": False, "error_code": 404, "description": "Not Found"}, status=404)

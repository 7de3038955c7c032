"""Linking: Trakt by device code (polled until approved), the owner's media server by its mapping or a Quick Connect
/ Plex code, and unlinking either — the conversation's link commands."""

from __future__ import annotations

from collections.abc import Sequence

from engine.values.errors import MultitudesError, NotLinked

from . import render, render_media
from .buttons import Buttons
from .chat import Chat, Speaker
from .commands import SERVER_POLL_S, SERVERS
from .i18n import _


class Linking(Buttons):
    async def _cmd_link(self, chat: Chat, args: str, mentions: Sequence[Speaker]) -> None:
        pid = await self._person(chat)
        server = args.strip().lower()
        if server:
            await self._link_server(chat, pid, server)
            return
        link = await self.engine.start_link(pid)
        if not await chat.tell_privately(render.link_instructions(link)):
            raise no_private_chat()

        async def wait() -> None:
            try:
                while True:
                    await self.engine.clock.sleep(self.engine.link_poll_interval(pid, link.interval_s))
                    name = await self.engine.poll_link(pid)
                    if name is not None:
                        await chat.tell_privately(_("Linked to Trakt as {name}. Run /sync next.").format(name=name))
                        return
            except NotLinked:
                return                              # the link was cancelled (/forget) while we waited
            except MultitudesError as e:
                await chat.tell_privately(e.user_message)

        self._spawn(wait())

    async def _link_server(self, chat: Chat, pid: int, server: str) -> None:
        """``/link jellyfin``: linked at once by the owner's mapping, or a Quick Connect code they confirm in their
        own server session, polled until confirmed or expired."""
        if server not in SERVERS:
            raise MultitudesError(f"link {server!r}", user_message=(
                _("I can link Trakt (`/link`) or a media server (`/link jellyfin`, `/link emby`, `/link plex`), not "
                  "{word}.").format(word=repr(server[:40]))))
        start = await self.engine.link_server(pid, server)
        if start.linked_as is not None:
            await chat.reply(render_media.server_linked(start.server, start.linked_as), private=True)
            return
        if not await chat.tell_privately(render_media.server_code(start.server, start.code or "")):
            raise no_private_chat()

        async def wait() -> None:
            try:
                while True:
                    await self.engine.clock.sleep(SERVER_POLL_S)
                    name = await self.engine.poll_link(pid, server=True)
                    if name is not None:
                        await chat.tell_privately(render_media.server_linked(start.server, name))
                        return
            except MultitudesError as e:               # expired, taken by someone else, the server down
                await chat.tell_privately(e.user_message)

        self._spawn(wait())

    async def _cmd_unlink(self, chat: Chat, args: str, mentions: Sequence[Speaker]) -> None:
        if args.strip().lower() in SERVERS:
            gone = await self.engine.unlink(await self._person(chat), server=True)
            await chat.reply(_("Media server unlinked; the history it gave stays (/forget deletes it).") if gone else
                             _("No media server is linked, so there was nothing to unlink."), private=True)
            return
        if await self.engine.unlink(await self._person(chat)):
            await chat.reply(_("Trakt unlinked; your tokens are deleted. /forget deletes the rest."), private=True)
        else:
            await chat.reply(_("You are not linked to Trakt, so there was nothing to unlink. /forget deletes what I "
                               "store about you."), private=True)


def no_private_chat() -> MultitudesError:
    """A link's code goes privately only: the platform would not let us write to them there yet."""
    return MultitudesError("no private chat", user_message=_(
        "I cannot message you privately yet: open a private chat with me first (tap my name, then Start), and run "
        "/link there."))

"""Wording of the owner's media server and Seerr: the linking code, the link made, and what a 📥 request did."""

from __future__ import annotations

from engine.values.plans import Outcome, Requested

from .i18n import N_, _

REQUEST = ("📥", N_("Request it"))         # the button on a pick the person's server lacks (Seerr configured)


def request_token(event_id: int) -> str:
    return f"rq:{event_id}"


def server_code(server: str, code: str) -> str:
    if server == "Plex":
        return _("To link Plex, open https://plex.tv/link signed in with your Plex account and enter the code {code}. "
                 "I'll wait here (the code lasts a few minutes).").format(code=code)
    return _("To link {server}, open {server} where you are signed in, go to your user menu → Quick Connect, and "
             "enter the code {code}. I'll wait here (the code lasts a few minutes).").format(server=server, code=code)


def server_linked(server: str, name: str) -> str:
    return _("Linked to {server} as {name}. Run /sync to read what you have played there.").format(
        server=server, name=name)


OUTCOMES = {
    Outcome.PENDING: N_("Requested {title}: it waits for approval on Seerr."),
    Outcome.APPROVED: N_("Requested {title}, approved: it will be in your library once downloaded."),
    Outcome.ALREADY: N_("{title} was requested already; nothing new was asked."),
    Outcome.AVAILABLE: N_("{title} is already all there: nothing left to request."),
    Outcome.QUOTA: N_("Not requested: your Seerr request quota is used up for now ({title})."),
    Outcome.REFUSED: N_("Not requested: Seerr does not let you request {title}."),
    Outcome.UNKNOWN_SHOW: N_("Not requested: Seerr could not find {title}."),
    Outcome.NO_USER: N_("Not requested: you have no Seerr account for your media-server user yet (sign in to Seerr "
                        "once with it, then try again)."),
}


def requested(done: Requested) -> str:
    """What 📥 did, in the words of Seerr's answer."""
    return _(OUTCOMES[done.outcome]).format(title=done.title)

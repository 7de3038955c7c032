"""Wording of the owner's media server and Seerr: the linking code, the link made, and what a 📥 request did."""

from __future__ import annotations

from engine.values.plans import Outcome, Requested

REQUEST = ("📥", "Request it")             # the button on a pick the person's server lacks (Seerr configured)


def request_token(event_id: int) -> str:
    return f"rq:{event_id}"


def server_code(server: str, code: str) -> str:
    if server == "Plex":
        return (f"To link Plex, open https://plex.tv/link signed in with your Plex account and enter the code {code}. "
                "I'll wait here (the code lasts a few minutes).")
    return (f"To link {server}, open {server} where you are signed in, go to your user menu → Quick Connect, and "
            f"enter the code {code}. I'll wait here (the code lasts a few minutes).")


def server_linked(server: str, name: str) -> str:
    return f"Linked to {server} as {name}. Run /sync to read what you have played there."


def requested(done: Requested) -> str:
    """What 📥 did, in the words of Seerr's answer."""
    t = done.title
    return {Outcome.PENDING: f"Requested {t}: it waits for approval on Seerr.",
            Outcome.APPROVED: f"Requested {t}, approved: it will be in your library once downloaded.",
            Outcome.ALREADY: f"{t} was requested already; nothing new was asked.",
            Outcome.AVAILABLE: f"{t} is already all there: nothing left to request.",
            Outcome.QUOTA: f"Not requested: your Seerr request quota is used up for now ({t}).",
            Outcome.REFUSED: f"Not requested: Seerr does not let you request {t}.",
            Outcome.UNKNOWN_SHOW: f"Not requested: Seerr could not find {t}.",
            Outcome.NO_USER: "Not requested: you have no Seerr account for your media-server user yet (sign in "
                             "to Seerr once with it, then try again)."}[done.outcome]

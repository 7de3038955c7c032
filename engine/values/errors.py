"""Errors that carry a message fit to show a person.

Every failure the engine expects (bad config, expired link codes, Trakt refusing, an outage, a malformed import)
is one of these. Front ends print ``user_message`` as it is; the exception text keeps the technical detail for logs.
"""

from __future__ import annotations


class MultitudesError(Exception):
    """Base class: ``user_message`` is safe and friendly to show to the person who asked."""

    user_message = "Something went wrong."

    def __init__(self, detail: str = "", *, user_message: str | None = None) -> None:
        if user_message is not None:
            self.user_message = user_message
        super().__init__(detail or self.user_message)


class ConfigError(MultitudesError):
    user_message = "The bot's configuration is invalid."


class NotLinked(MultitudesError):
    user_message = "You have not linked a Trakt account yet. Use /link first."


class UnknownPerson(MultitudesError):
    user_message = "I don't know you yet. Link Trakt with /link or import a history with /import."


class LinkPending(MultitudesError):
    user_message = "Still waiting for you to approve the code on Trakt."


class LinkSlowDown(LinkPending):
    """Trakt's 429 while polling a device code: keep waiting, poll less often."""


class LinkExpired(MultitudesError):
    user_message = "That Trakt code expired before it was approved. Run /link again for a new one."


class LinkDenied(MultitudesError):
    user_message = "The Trakt link was denied. Run /link again if that was a mistake."


class LinkAlreadyUsed(MultitudesError):
    user_message = "That Trakt code was already used. Your account is linked; run /link again only to re-link."


class LinkUnknown(MultitudesError):
    user_message = "Trakt does not know that link code. Run /link again."


class TraktReauthRequired(MultitudesError):
    user_message = "Your Trakt authorisation was revoked or expired. Run /link again to re-connect."
    generation: int | None = None            # the tokens found dead (deleting only those, never a newer link's)


class TraktRenewalLost(TraktReauthRequired):
    user_message = ("Trakt renewed your link while it was not answering me, so I never got the new keys. Run /link "
                    "again to re-connect; nothing else is lost.")


class TraktForbidden(MultitudesError):
    user_message = (
        "Trakt refused the bot's API key (HTTP 403). The bot owner's Trakt app may be deleted or unapproved."
    )


class TraktVipRequired(MultitudesError):
    user_message = "Trakt says this needs a VIP account (HTTP 426): the bot owner's Trakt app or account needs VIP."


class TraktAccountLocked(MultitudesError):
    user_message = "Your Trakt account is locked or deactivated (HTTP 423). Check your account on trakt.tv."


class TraktAccountLimit(MultitudesError):
    user_message = "Your Trakt account hit a limit (HTTP 420), e.g. a full watchlist. Remove items or go VIP."


class ServiceUnavailable(MultitudesError):
    """An outside service kept failing (5xx, timeouts, rate limits past our patience)."""

    def __init__(self, service: str, detail: str = "", *, resumable: bool = True) -> None:
        self.service = service
        self.resumable = resumable
        msg = f"{service} is not answering right now."
        if resumable:
            msg += " Nothing was lost: the next attempt continues where this one stopped."
        super().__init__(detail or msg, user_message=msg)


class OutcomeUnknown(ServiceUnavailable):
    """A request that must not be repeated (it spends a single-use token) went out and got no answer: it may or
    may not have taken effect."""


class SyncInProgress(MultitudesError):
    user_message = "A sync of your history is already running. It will finish on its own."


class InvalidImport(MultitudesError):
    """A malformed, unsupported or oversized import file. Nothing was written."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail, user_message=f"I could not import that file: {detail} Nothing was imported.")

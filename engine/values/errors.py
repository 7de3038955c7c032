"""Errors that carry a message fit to show a person.

Every failure the engine expects (bad config, expired link codes, Trakt refusing, an outage, a malformed import)
is one of these. Front ends print ``user_message`` as it is; the exception text keeps the technical detail for logs.
A class's own ``message`` is read in the language of whoever is answered when it is shown; a ``user_message``
given where the error is raised is already in that language (``_("…")`` there).
"""

from __future__ import annotations

from .i18n import N_, _


class MultitudesError(Exception):
    """Base class: ``user_message`` is safe and friendly to show to the person who asked."""

    message = N_("Something went wrong.")

    def __init__(self, detail: str = "", *, user_message: str | None = None) -> None:
        self._user_message = user_message
        super().__init__(detail or user_message or self.message)

    @property
    def user_message(self) -> str:
        return self._user_message if self._user_message is not None else _(self.message)


class NotYours(MultitudesError):
    """A button, reaction or rating on a pick that was shown to someone else (or is gone)."""

    message = N_("That recommendation is not yours, or no longer exists.")


class ConfigError(MultitudesError):
    message = N_("The bot's configuration is invalid.")


class NotLinked(MultitudesError):
    message = N_("You have not linked a Trakt account yet. Use /link first.")


class UnknownPerson(MultitudesError):
    message = N_("I don't know you yet. Link Trakt with /link or import a history with /import.")


class LinkPending(MultitudesError):
    message = N_("Still waiting for you to approve the code on Trakt.")


class LinkSlowDown(LinkPending):
    """Trakt's 429 while polling a device code: keep waiting, poll less often."""


class LinkExpired(MultitudesError):
    message = N_("That Trakt code expired before it was approved. Run /link again for a new one.")


class LinkDenied(MultitudesError):
    message = N_("The Trakt link was denied. Run /link again if that was a mistake.")


class LinkAlreadyUsed(MultitudesError):
    message = N_("That Trakt code was already used. Your account is linked; run /link again only to re-link.")


class LinkUnknown(MultitudesError):
    message = N_("Trakt does not know that link code. Run /link again.")


class TraktReauthRequired(MultitudesError):
    message = N_("Your Trakt authorisation was revoked or expired. Run /link again to re-connect.")
    generation: int | None = None            # the tokens found dead (deleting only those, never a newer link's)


class TraktRenewalLost(TraktReauthRequired):
    message = N_("Trakt renewed your link while it was not answering me, so I never got the new keys. Run /link "
                    "again to re-connect; nothing else is lost.")


class TraktForbidden(MultitudesError):
    message = N_(
        "Trakt refused the bot's API key (HTTP 403). The bot owner's Trakt app may be deleted or unapproved."
    )


class TraktVipRequired(MultitudesError):
    message = N_("Trakt says this needs a VIP account (HTTP 426): the bot owner's Trakt app or account needs VIP.")


class TraktAccountLocked(MultitudesError):
    message = N_("Your Trakt account is locked or deactivated (HTTP 423). Check your account on trakt.tv.")


class TraktAccountLimit(MultitudesError):
    message = N_("Your Trakt account hit a limit (HTTP 420), e.g. a full watchlist. Remove items or go VIP.")


class ServiceUnavailable(MultitudesError):
    """An outside service kept failing (5xx, timeouts, rate limits past our patience)."""

    def __init__(self, service: str, detail: str = "", *, resumable: bool = True) -> None:
        self.service = service
        self.resumable = resumable
        super().__init__(detail or f"{service} is not answering right now.")

    @property
    def user_message(self) -> str:
        msg = _("{service} is not answering right now.").format(service=self.service)
        if self.resumable:
            msg += " " + _("Nothing was lost: the next attempt continues where this one stopped.")
        return msg


class OutcomeUnknown(ServiceUnavailable):
    """A request that must not be repeated (it spends a single-use token) went out and got no answer: it may or
    may not have taken effect."""


class SyncInProgress(MultitudesError):
    message = N_("A sync of your history is already running. It will finish on its own.")


class InvalidImport(MultitudesError):
    """A malformed, unsupported or oversized import file. Nothing was written."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail

    @property
    def user_message(self) -> str:
        return _("I could not import that file: {detail} Nothing was imported.").format(detail=self.detail)

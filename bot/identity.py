"""Who is speaking, decided in one place per platform.

A platform event names an account; only some accounts are a person. Telegram fills ``from`` with a shared
placeholder when an admin posts anonymously in a group (GroupAnonymousBot, the same account in every group), when a
channel posts (Channel_Bot) or when a linked channel's post is forwarded into its discussion group (the "Telegram"
service account); ``sender_chat`` says the message speaks for a chat, not a person. Bots speak for nobody. A
forwarded message carries someone else's words; an edited command was already answered (or refused) once. Discord
interactions and reactions come from users, but bots, webhooks and system accounts are not people either.

Each of these is refused with a reply that says why and what to do — never mapped to a person, so one anonymous
admin can never read another's history, and nothing is created for them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .i18n import N_

# Telegram's placeholder senders (https://core.telegram.org/bots/api#message, "from" and "sender_chat")
GROUP_ANONYMOUS_BOT = 1087968824      # an anonymous group admin
CHANNEL_BOT = 136817688               # a post made "as the channel"
TELEGRAM_SERVICE = 777000             # a linked channel's post forwarded into its discussion group
PLACEHOLDERS = frozenset({GROUP_ANONYMOUS_BOT, CHANNEL_BOT, TELEGRAM_SERVICE})

ANONYMOUS = N_("I can't tell who you are when you post anonymously or as a channel, so I can't answer for you. "
               "Send the command from your own account (turn off 'Remain anonymous' in the group's admin rights), "
               "or talk to me in a private chat.")
FORWARDED = N_("I only act on commands you type yourself, not on forwarded messages.")
EDITED = N_("I act on new messages only: send the command again instead of editing it.")
BOTS = N_("I don't take commands from bots.")
NOBODY = N_("I only answer people.")


@dataclass(frozen=True, slots=True)
class Refusal:
    """The event does not come from a person: say ``reply`` (``None``: say nothing, e.g. to another bot) — a
    catalogue message, read in the app's language where it is sent."""
    reply: str | None


def telegram_refusal(message: Any, user: Any, *, edited: bool = False) -> Refusal | None:
    """Why a Telegram message (a command, a document) is not a person speaking, or None when it is."""
    if user is None:
        return Refusal(None)
    if getattr(message, "sender_chat", None) is not None or int(getattr(user, "id", 0)) in PLACEHOLDERS:
        return Refusal(ANONYMOUS)
    if getattr(user, "is_bot", False):
        return Refusal(None)
    if edited:
        return Refusal(EDITED)
    if getattr(message, "forward_origin", None) is not None or getattr(message, "is_automatic_forward", False):
        return Refusal(FORWARDED)
    return None


def telegram_user_refusal(user: Any) -> Refusal | None:
    """A button press or a reaction: Telegram names the person who pressed or reacted (``actor_chat`` reactions
    have no user and are refused by the caller); bots and placeholders are not people."""
    if user is None or getattr(user, "is_bot", False) or int(getattr(user, "id", 0)) in PLACEHOLDERS:
        return Refusal(None)
    return None


def discord_refusal(user: Any) -> Refusal | None:
    """A Discord interaction or reaction by a bot, a webhook or the system is nobody's."""
    if user is None or getattr(user, "bot", False) or getattr(user, "system", False):
        return Refusal(BOTS if user is not None and getattr(user, "bot", False) else None)
    return None

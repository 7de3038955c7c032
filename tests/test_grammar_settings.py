"""The /settings grammar shared by every front end: what each token sets, and clear errors."""

from __future__ import annotations

import json

import pytest

from bot.grammar import GrammarError, parse_settings, resolve_channel, settings_text
from engine.store.repos.people import settings_of
from engine.values.models import Filters, PersonSettings


def test_every_setting_parses_to_what_the_engine_stores() -> None:
    got = parse_settings(["group:on", "tz:Europe/Paris", "quiet:23-08", "alerts:on", "binge:off", "premiere:yes",
                          "returning:off", "catchup:on", "digest:on", "watchlist:on", "channel:here", "region:gb"])
    assert got == {"group_opt_in": True, "timezone": "Europe/Paris", "quiet_hours": (23, 8), "alerts": True,
                   "alert_binge": False, "alert_premiere": True, "alert_returning": False, "alert_catchup": True,
                   "digest": True, "trakt_watchlist": True, "alert_channel": "here", "region": "GB"}
    assert parse_settings(["region:default"]) == {"region": None}
    assert resolve_channel(dict(got), "telegram", "-100500")["alert_channel"] == "telegram:-100500"
    assert resolve_channel(parse_settings(["channel:dm"]), "discord", "1")["alert_channel"] == ""
    text = settings_text(PersonSettings.model_validate({**got, "alert_channel": "telegram:-1"}))
    assert "(not: binge, returning)" in text and "weekly digest: on" in text and "a chosen chat" in text
    assert "where to watch, in: GB" in text


@pytest.mark.parametrize("tokens, words", [
    (["quiet:late"], "quiet:23-08"), (["colour:blue"], "don't know the setting"), (["digest"], "needs a value"),
    (["channel:everywhere"], "channel:here"), (["alerts:nah"], "alerts:on or alerts:off"),
    (["quiet:²-3"], "quiet:23-08"),
])
def test_bad_settings_say_what_would_work(tokens: list[str], words: str) -> None:
    with pytest.raises(GrammarError) as e:
        parse_settings(tokens)
    assert words in e.value.user_message and "Settings look like" in e.value.user_message
    assert "recommend bridge" not in e.value.user_message


def test_channel_here_needs_a_chat() -> None:
    with pytest.raises(GrammarError):
        resolve_channel({"alert_channel": "here"}, "console", None)


def test_default_filters_are_typed_and_old_stored_text_still_reads() -> None:
    got = parse_settings(['filters:genre:-horror anime:no runtime:<45'])
    assert got["default_filters"] == Filters(genres_out=("horror",), anime=False, max_runtime=45)
    assert parse_settings(["filters:none"])["default_filters"] == Filters()
    # what older versions stored (filters as /recommend tokens) reads back through the store's reader
    old = settings_of(json.dumps({"default_filters": "genre:-drama status:ended", "quiet_hours": [23, 8]}), None)
    assert old.default_filters == Filters(genres_out=("drama",), status="ended") and old.quiet_hours == (23, 8)
    unreadable = settings_of(json.dumps({"default_filters": "genre:+xyzzy", "digest": True}), "Europe/Paris")
    assert unreadable.default_filters == Filters() and unreadable.digest          # one bad value loses nothing else
    assert "default filters: genre:-drama status:ended" in settings_text(old)

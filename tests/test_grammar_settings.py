"""The /settings grammar shared by every front end: what each token sets, and clear errors."""

from __future__ import annotations

import pytest

from bot.grammar import GrammarError, parse_settings, resolve_channel, settings_text


def test_every_setting_parses_to_what_the_engine_stores() -> None:
    got = parse_settings(["group:on", "tz:Europe/Paris", "quiet:23-08", "alerts:on", "binge:off", "premiere:yes",
                          "returning:off", "catchup:on", "digest:on", "watchlist:on", "channel:here"])
    assert got == {"group_opt_in": True, "timezone": "Europe/Paris", "quiet_hours": [23, 8], "alerts": True,
                   "alert_binge": False, "alert_premiere": True, "alert_returning": False, "alert_catchup": True,
                   "digest": True, "trakt_watchlist": True, "alert_channel": "here"}
    assert resolve_channel(dict(got), "telegram", "-100500")["alert_channel"] == "telegram:-100500"
    assert resolve_channel(parse_settings(["channel:dm"]), "discord", "1")["alert_channel"] == ""
    text = settings_text({**got, "alert_channel": "telegram:-1"})
    assert "(not: binge, returning)" in text and "weekly digest: on" in text and "a chosen chat" in text


@pytest.mark.parametrize("tokens, words", [
    (["quiet:late"], "quiet:23-08"), (["colour:blue"], "don't know the setting"), (["digest"], "needs a value"),
    (["channel:everywhere"], "channel:here"),
])
def test_bad_settings_say_what_would_work(tokens: list[str], words: str) -> None:
    with pytest.raises(GrammarError) as e:
        parse_settings(tokens)
    assert words in e.value.user_message and "Settings look like" in e.value.user_message
    assert "recommend bridge" not in e.value.user_message


def test_channel_here_needs_a_chat() -> None:
    with pytest.raises(GrammarError):
        resolve_channel({"alert_channel": "here"}, "console", None)

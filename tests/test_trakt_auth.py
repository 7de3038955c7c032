"""Device linking, token expiry and rotation, and Trakt's refusals, over the real httpx client and loopback Trakt."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from engine.plumbing.crypto import TokenCipher
from engine.store import SqliteStore
from engine.values.errors import (
    LinkAlreadyUsed,
    LinkDenied,
    LinkExpired,
    LinkUnknown,
    NotLinked,
    TraktAccountLocked,
    TraktForbidden,
    TraktReauthRequired,
    TraktVipRequired,
)
from engine.values.models import DeviceLink
from tests.conftest import link_person, settings_for, trakt_client
from tests.fakes.catalogue import history_rows
from tests.fakes.trakt import FakeTrakt

pytestmark = pytest.mark.both_stores        # the engine on SQLite and on PostgreSQL


async def test_device_link_pending_then_approved_then_409_on_reuse(fake_trakt: FakeTrakt, make_engine: Any,
                                                                   probe: SqliteStore, tmp_path: Path) -> None:
    fake_trakt.add_user("carol", timezone="America/New_York")
    engine = await make_engine(trakt=fake_trakt)
    pid = await engine.person("discord", "123", "Carol")
    link = await engine.start_link(pid)
    assert link.user_code and link.direct_url.endswith(link.user_code)
    assert await engine.poll_link(pid) is None               # 400: pending
    assert fake_trakt.requests[-1].status == 400
    fake_trakt.approve(link.user_code, "carol")
    assert await engine.poll_link(pid) == "carol"
    async with probe.read() as uow:
        person = await uow.people.get(pid)
    assert person is not None and person.trakt_user == "carol" and person.timezone == "America/New_York"
    async with trakt_client(engine.settings, probe) as client:   # the same code, polled again by the client
        code, again = await client.device_code()
        fake_trakt.approve(again.user_code, "carol")
        await client.poll_device_token(code)
        with pytest.raises(LinkAlreadyUsed):                      # 409: the code was already used
            await client.poll_device_token(code)
    assert fake_trakt.requests[-1].status == 409


async def test_link_loop_polls_until_approved(fake_trakt: FakeTrakt, make_engine: Any) -> None:
    fake_trakt.add_user("dave")
    engine = await make_engine(trakt=fake_trakt)
    pid = await engine.person("telegram", "42", "Dave")
    shown: list[DeviceLink] = []

    async def on_code(link: DeviceLink) -> None:
        shown.append(link)
        asyncio.get_running_loop().call_later(0.05, fake_trakt.approve, link.user_code, "dave")

    assert await asyncio.wait_for(engine.link(pid, on_code), 5) == "dave"
    assert len(shown) == 1
    assert fake_trakt.count("/oauth/device/token") >= 2       # polled while pending


@pytest.mark.parametrize(("action", "error", "words"), [
    ("expire", LinkExpired, "expired"), ("deny", LinkDenied, "denied"), ("unknown", LinkUnknown, "does not know")])
async def test_link_failures_have_clear_messages(fake_trakt: FakeTrakt, make_engine: Any, action: str,
                                                 error: type[Exception], words: str, probe: SqliteStore) -> None:
    engine = await make_engine(trakt=fake_trakt)
    pid = await engine.person("discord", "9", "Eve")
    link = await engine.start_link(pid)
    if action == "expire":
        fake_trakt.expire_device(link.user_code)
    elif action == "deny":
        fake_trakt.deny(link.user_code)
    else:
        fake_trakt.devices.clear()                            # Trakt forgot the code
    with pytest.raises(error) as e:
        await engine.poll_link(pid)
    assert words in e.value.user_message                      # type: ignore[attr-defined]


async def test_polling_too_fast_is_slow_down_not_failure(make_engine: Any) -> None:
    async with FakeTrakt(device_interval=5) as fake:
        engine = await make_engine(trakt=fake)
        pid = await engine.person("discord", "1", "F")
        await engine.start_link(pid)
        assert await engine.poll_link(pid) is None            # 400 pending
        assert await engine.poll_link(pid) is None            # 429 slow down: still pending, not an error
        assert fake.requests[-1].status == 429


async def test_token_expires_mid_sync_one_refresh(fake_trakt: FakeTrakt, make_engine: Any) -> None:
    fake_trakt.add_user("gina", history=history_rows(1200, 40, years=3, seed=2))
    engine = await make_engine(trakt=fake_trakt)
    pid = await link_person(engine, fake_trakt, "gina")
    pages: list[int] = []

    def on_page(path: str, page: int) -> None:
        pages.append(page)
        if len(pages) == 3:
            fake_trakt.expire_access_tokens()                 # every access token dies mid-sync

    fake_trakt.on_page = on_page
    rep = await engine.sync(pid)
    assert rep.new_plays == 1200
    assert fake_trakt.refresh_count == 1 and fake_trakt.count("/oauth/token") == 1
    assert any(r.status == 401 for r in fake_trakt.requests)


async def test_five_concurrent_401s_cause_one_refresh(fake_trakt: FakeTrakt, make_engine: Any,
                                                      probe: SqliteStore) -> None:
    fake_trakt.add_user("hal")
    engine = await make_engine(trakt=fake_trakt)
    pid = await link_person(engine, fake_trakt, "hal")
    fake_trakt.expire_access_tokens()
    fake_trakt.latency = 0.02                                 # keep the five requests in flight together
    async with trakt_client(engine.settings, probe) as client:
        results = await asyncio.gather(*(client.last_activities(pid) for _ in range(5)))
    assert all("all" in r for r in results)
    assert sum(1 for r in fake_trakt.requests if r.status == 401) == 5
    assert fake_trakt.refresh_count == 1


async def test_two_processes_hitting_401_at_once_refresh_once_and_stay_linked(fake_trakt: FakeTrakt,
                                                                              make_engine: Any,
                                                                              probe: SqliteStore) -> None:
    """Refresh tokens are single use: a second process refreshing with the same one would be refused and unlink the
    person. The refresh lease in the shared store makes the second wait and take the first one's new tokens."""
    fake_trakt.add_user("ian")
    engine = await make_engine(trakt=fake_trakt)
    pid = await link_person(engine, fake_trakt, "ian")
    fake_trakt.expire_access_tokens()
    fake_trakt.latency = 0.02
    async with trakt_client(engine.settings, probe) as a, trakt_client(engine.settings, probe) as b:   # 2 processes
        results = await asyncio.gather(*(c.last_activities(pid) for c in (a, b, a, b)))
    assert all("all" in r for r in results)
    assert fake_trakt.refresh_count == 1 and fake_trakt.count("/oauth/token") == 1
    async with probe.read() as uow:
        assert await uow.tokens.exists(pid)


async def test_refresh_is_proactive_before_expiry(make_engine: Any, probe: SqliteStore) -> None:
    async with FakeTrakt() as fake:
        fake.add_user("ivy")
        engine = await make_engine(trakt=fake, MULTITUDES_TRAKT__REFRESH_MARGIN_S="300")
        pid = await link_person(engine, fake, "ivy", ttl=60)  # expires within the 300 s margin
        async with trakt_client(engine.settings, probe) as client:
            await client.last_activities(pid)
            await client.last_activities(pid)
        assert fake.refresh_count == 1
        assert not any(r.status == 401 for r in fake.requests)


async def test_rotated_tokens_are_saved_encrypted_and_survive_restart(tmp_path: Any, fake_trakt: FakeTrakt,
                                                                      secret_key: str, make_engine: Any,
                                                                      probe: SqliteStore) -> None:
    fake_trakt.add_user("jo", history=history_rows(50, 5, seed=4))
    engine = await make_engine(trakt=fake_trakt, secret_key=secret_key)
    pid = await link_person(engine, fake_trakt, "jo")
    fake_trakt.expire_access_tokens()
    await engine.sync(pid)                                    # refreshes: the old refresh token is now spent
    await engine.close()
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("multitudes.db*"))
    for token in list(fake_trakt.access) + list(fake_trakt.refresh):
        assert token.encode() not in raw                      # never stored in clear
    async with probe.read() as uow:
        stored = await uow.tokens.load(pid)
    assert stored is not None and TokenCipher(secret_key).decrypt(stored[0])["refresh"] in fake_trakt.refresh
    # a restarted engine uses the rotated tokens
    engine2 = await make_engine(trakt=fake_trakt, secret_key=secret_key)
    fake_trakt.add_plays("jo", [])
    fake_trakt.expire_access_tokens()
    await engine2.sync(pid)
    assert fake_trakt.refresh_count == 2


async def test_revoked_refresh_token_asks_to_relink(fake_trakt: FakeTrakt, make_engine: Any) -> None:
    fake_trakt.add_user("kim")
    engine = await make_engine(trakt=fake_trakt)
    pid = await link_person(engine, fake_trakt, "kim")
    fake_trakt.expire_access_tokens()
    fake_trakt.refresh.clear()                                # revoked at Trakt
    with pytest.raises(TraktReauthRequired) as e:
        await engine.sync(pid)
    assert "/link" in e.value.user_message
    tries = fake_trakt.count("/oauth/token")
    assert tries >= 1
    with pytest.raises(NotLinked):                            # unlinked at once: the dead token is not retried
        await engine.sync(pid)
    assert fake_trakt.count("/oauth/token") == tries


async def test_forbidden_locked_and_vip_become_clear_messages(tmp_path: Any, fake_trakt: FakeTrakt,
                                                              make_engine: Any) -> None:
    fake_trakt.add_user("lee")
    fake_trakt.add_user("max", vip_only="/sync/last_activities")
    engine = await make_engine(trakt=fake_trakt)
    locked = await link_person(engine, fake_trakt, "lee")
    fake_trakt.users["lee"].locked = True                     # locked after linking
    with pytest.raises(TraktAccountLocked) as e1:
        await engine.sync(locked)
    assert "locked" in e1.value.user_message
    vip = await link_person(engine, fake_trakt, "max")
    with pytest.raises(TraktVipRequired) as e2:
        await engine.sync(vip)
    assert "VIP" in e2.value.user_message and "bot owner" in e2.value.user_message
    # a deleted or wrong client id: 403 on every endpoint
    from engine import bootstrap
    bad = await bootstrap(settings_for(tmp_path / "bad", trakt=fake_trakt,
                                       MULTITUDES_TRAKT_CLIENT_ID="deleted-app"))
    try:
        with pytest.raises(TraktForbidden) as e3:
            await bad.start_link(await bad.person("console", "x"))
        assert "403" in e3.value.user_message
    finally:
        await bad.close()


async def test_unlink_works_when_trakt_is_down_or_the_tokens_no_longer_decrypt(
        fake_trakt: FakeTrakt, make_engine: Any, probe: SqliteStore, secret_key: str) -> None:
    from engine.store.testing import count
    fake_trakt.add_user("una")
    fake_trakt.add_user("vic")
    engine = await make_engine(trakt=fake_trakt, secret_key=secret_key)
    una = await link_person(engine, fake_trakt, "una")
    vic = await link_person(engine, fake_trakt, "vic")
    fake_trakt.inject(503, 10, path_prefix="/oauth/revoke")             # Trakt is down
    await engine.unlink(una)
    assert await count(probe, "trakt_tokens", person_id=una) == 0
    other_key = await make_engine(trakt=fake_trakt)                     # a new secret key: tokens do not decrypt
    await other_key.unlink(vic)
    assert await count(probe, "trakt_tokens", person_id=vic) == 0


async def test_a_renewal_that_times_out_is_never_repeated_nor_read_as_a_revocation(fake_trakt: FakeTrakt,
                                                                                  make_engine: Any,
                                                                                  probe: SqliteStore) -> None:
    """Issue 24 (7): Trakt renews the tokens but its answer does not arrive in time. The single-use refresh token
    is not sent again (one /oauth/token), the stored tokens stay, the person is told Trakt is not answering — not
    that their link was revoked. Only when the next renewal is refused is the link given up, saying what happened."""
    from engine.store.testing import count as count_rows
    from engine.values.errors import OutcomeUnknown, TraktRenewalLost
    fake_trakt.add_user("lee")
    engine = await make_engine(trakt=fake_trakt, MULTITUDES_TRAKT__HTTP__TIMEOUT_S="0.3")
    pid = await link_person(engine, fake_trakt, "lee")
    fake_trakt.expire_access_tokens()
    fake_trakt.token_stall, fake_trakt.stall_s = 1, 1.0
    with pytest.raises(OutcomeUnknown) as e:
        await engine.sync(pid)
    assert "not answering" in e.value.user_message and "revoked" not in e.value.user_message
    assert fake_trakt.count("/oauth/token") == 1 and fake_trakt.refresh_count == 1      # renewed at Trakt, once
    assert await count_rows(probe, "trakt_tokens", person_id=pid) == 1                 # nothing deleted
    with pytest.raises(TraktRenewalLost) as lost:                                        # the spent token: refused
        await engine.sync(pid)
    assert "never got the new keys" in lost.value.user_message
    assert fake_trakt.count("/oauth/token") == 2

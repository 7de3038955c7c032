"""What a person may name in a request and the deployment knows: streaming services (``/settings services:``,
``provider:``) and filters the data can answer. A word naming nothing known is refused with the closest names,
never answered with an empty list."""

from __future__ import annotations

from collections.abc import Sequence

from engine.recommend.deployment import Deployment
from engine.values import vocabulary
from engine.values.errors import MultitudesError
from engine.values.models import Filters


def services_named(words: Sequence[str], known: list[str]) -> tuple[str, ...]:
    """The services ``words`` name among ``known`` (typos and spacing forgiven), in order, once each."""
    out = []
    for word in words:
        name = vocabulary.service_named(word, known)
        if name is None:
            close = vocabulary.suggest(word, known)
            raise MultitudesError(f"service {word!r}", user_message=(
                f"I know no streaming service called {word[:40]!r}." + (vocabulary.did_you_mean(close) or (
                    " Services look like " + ", ".join(known[:6]) + "."))))
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
                f"I know no show on a service called {filters.provider!r}." + (
                    vocabulary.did_you_mean([f'provider:{c}' if " " not in c else f'"provider:{c}"' for c in close])
                    or " Services I know: " + ", ".join(list(services)[:8]) + ".")))
    if filters.status and not dep.catalogue.knows("status"):
        raise MultitudesError("status unknown", user_message=(
            "The bundled demo data does not know which shows are still airing, so status: cannot be applied here "
            "(with TMDB configured it can). Try without it."))

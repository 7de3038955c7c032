"""A history's recency weights (``history_weights``): the latest show counts 1, the ``decay``-th most recent 1/2 —
computed once per request and decay (``PersonView.recency``), and exactly the plain definition."""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from engine.recommend.population import history_weights
from engine.recommend.values import PersonView


def plain(times: dict[int, float], decay: float) -> dict[int, float]:
    order = sorted(times, key=lambda i: (times[i], i))
    return {item: math.pow(0.5, (len(order) - 1 - k) / decay) for k, item in enumerate(order)}


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.integers(1, 10**9), st.floats(0, 2e9, allow_nan=False), max_size=300),
       st.sampled_from([1.0, 3.5, 10.0, 40.0]))
def test_the_weights_are_the_plain_definition(times: dict[int, float], decay: float) -> None:
    assert list(history_weights(times, decay_items=decay).items()) == list(plain(times, decay).items())


def test_a_request_computes_them_once_per_decay() -> None:
    person = PersonView([], set(), {1: 10.0, 2: 30.0, 3: 20.0})
    first = person.recency(10.0)
    assert first == {1: 0.5 ** 0.2, 3: 0.5 ** 0.1, 2: 1.0}
    assert person.recency(10.0) is first and person.recency(5.0) is not first

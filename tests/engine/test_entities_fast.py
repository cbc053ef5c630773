"""The realtime path's shortcuts through card states give what the general code gives:
``CardState.add`` against the sort it replaced, ``bases_of`` against per-card arrays, the
scalar time band and log amount against the numpy functions, and decoding with every field
against decoding field by field."""

from __future__ import annotations

import math

import numpy as np
import pytest

from fraudpipe.engine.entities import (
    CardState,
    _category_row,
    _decode_fields,
    band_of,
    bases_of,
    decode_state,
    encode_state,
)
from fraudpipe.engine.features import BANDS, HISTORY_SPAN, CardBase, log_cents, time_band

T0 = 1_600_000_000
CATEGORIES = ["", "grocery_pos", "travel", "gas_transport"]


def _add_by_sorting(state: CardState, ts: int, cents: int, category: str = "") -> None:
    """CardState.add as it was: every (event, category) pair sorted, aged events popped."""
    if np.isnan(state.first_ts) or ts < state.first_ts:
        state.first_ts = float(ts)
    events = list(zip(state.recent, state.categories_of_recent(), strict=True))
    events.append(((int(ts), int(cents)), str(category).strip()))
    events.sort(key=lambda event: event[0][0])
    newest = events[-1][0][0]
    while events and events[0][0][0] <= newest - HISTORY_SPAN:
        (old_ts, old_cents), old_category = events.pop(0)
        state.older_count += 1
        state.older_sum += old_cents
        state.older_sumsq += old_cents * old_cents
        if np.isnan(state.last_ts) or old_ts >= state.last_ts:
            state.last_ts, state.last_cents = float(old_ts), float(old_cents)
        state.older_bands[int(time_band(np.array([old_ts]))[0])] += 1
        if old_category:
            log = int(log_cents(np.array([old_cents]))[0])
            row = [1, old_cents, old_cents * old_cents, log, log * log]
            kept = state.older_categories.get(old_category, [0] * len(row))
            state.older_categories[old_category] = [a + b for a, b in zip(kept, row,
                                                                           strict=True)]
    state.recent = [event for event, _ in events]
    state.recent_categories = [name for _, name in events]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_add_gives_the_state_sorting_gave(seed):
    # GIVEN events mostly in time order, some late, some far ahead, repeated timestamps
    rng = np.random.default_rng(seed)
    fast, slow = CardState(), CardState()
    ts = T0
    for _ in range(400):
        step = int(rng.choice([0, 60, 3_600, 40_000, 200_000, 900_000, -50_000, -700_000]))
        ts = max(T0 - 10**7, ts + step)
        cents = int(rng.integers(1, 500_000))
        category = str(rng.choice([*CATEGORIES, " travel "]))
        # WHEN both record the event
        fast.add(ts, cents, category)
        _add_by_sorting(slow, ts, cents, category)
        # THEN their states (and what is stored of them) are the same
        assert encode_state(fast) == encode_state(slow)
    assert fast.older_count > 50 and len(fast.older_categories) == 3


def test_add_sorts_recent_events_written_out_of_order():
    state = CardState(recent=[(T0 + 50, 1), (T0, 2), (T0 + 10, 3)], recent_categories=["a"])
    slow = CardState(recent=list(state.recent), recent_categories=["a"])
    state.add(T0 + 5, 4, "b")
    _add_by_sorting(slow, T0 + 5, 4, "b")
    assert state.recent == [(T0, 2), (T0 + 5, 4), (T0 + 10, 3), (T0 + 50, 1)]
    assert encode_state(state) == encode_state(slow)


def test_add_after_equal_times_in_any_amount_order_or_mixed_types_keeps_the_stable_order():
    for recent in ([(T0, 9), (T0, 2)], [(T0, 2), [T0, 1]], [[T0, 5], [T0 + 1, 1]]):
        state = CardState(recent=list(recent))
        slow = CardState(recent=list(recent))
        state.add(T0 + 1, 4, "b")
        _add_by_sorting(slow, T0 + 1, 4, "b")
        assert state.recent == slow.recent and encode_state(state) == encode_state(slow)


def test_add_refuses_more_categories_than_events_as_before():
    state = CardState(recent=[(T0, 1)], recent_categories=["a", "b"])
    with pytest.raises(ValueError):
        state.add(T0 + 1, 1)


def test_scalar_band_and_log_are_the_numpy_functions():
    rng = np.random.default_rng(0)
    stamps = np.concatenate([rng.integers(-2**40, 2**40, 20_000), np.arange(-90_000, 90_000, 7),
                             [0, -1, 2**62, -(2**62), 2**63 - 1, -(2**63)]]).astype(np.int64)
    assert [band_of(int(t)) for t in stamps] == time_band(stamps).tolist()
    cents = np.concatenate([np.arange(-5, 3_000), rng.integers(1, 10**11, 20_000)])
    assert [_category_row(int(c))[3] for c in cents] == log_cents(cents).tolist()


def _states() -> list[CardState]:
    rng = np.random.default_rng(5)
    out = [CardState()]
    for n in (1, 7, 30):
        state = CardState()
        ts = T0
        for _ in range(n * 4):
            ts += int(rng.integers(0, 300_000))
            state.add(ts, int(rng.integers(1, 90_000)), str(rng.choice(CATEGORIES)))
        out.append(state)
    out.append(CardState(older_count=2, older_sum=10, last_ts=7, last_cents=3, first_ts=1,
                         recent=[(T0, 5)]))  # integer times (by hand: the engine's are floats)
    return out


def _base_per_card(state: CardState, categories: np.ndarray, ts: np.ndarray) -> CardBase:
    """One card's older summary as per-row arrays, built field by field with numpy (as
    realtime did before ``bases_of``)."""
    n, width = len(ts), 5
    if not state.older_categories:
        stats = np.zeros((n, width), dtype=np.int64)
    else:
        flat: list[int] = []
        for name in categories:
            flat += state.older_categories.get(str(name).strip(), [0] * width)
        stats = np.array(flat, dtype=np.int64).reshape(n, width)
    return CardBase(
        count=np.full(n, state.older_count, dtype=np.int64),
        sum_cents=np.full(n, state.older_sum, dtype=np.int64),
        last_ts=np.full(n, state.last_ts), last_cents=np.full(n, state.last_cents),
        sumsq_cents=np.full(n, state.older_sumsq, dtype=np.int64),
        first_ts=np.full(n, state.first_ts),
        cat_count=stats[:, 0], cat_sum=stats[:, 1], cat_sumsq=stats[:, 2],
        cat_log_sum=stats[:, 3], cat_log_sumsq=stats[:, 4],
        band_count=np.asarray(state.older_bands, dtype=np.int64)[time_band(ts)],
    )


@pytest.mark.parametrize("pick", [[0], [1], [4], [2, 3], [0, 1, 2, 3], [3, 4], [4, 4]])
def test_bases_of_several_cards_is_their_bases_concatenated(pick):
    states = [_states()[i] for i in pick]
    categories = [[*s.categories_of_recent(), "travel"] for s in states]
    times = [[*(t for t, _ in s.recent), T0 + 10**7] for s in states]
    found = bases_of(states, categories, times)
    parts = [_base_per_card(s, np.array(c, dtype=object), np.array(t, np.int64))
             for s, c, t in zip(states, categories, times, strict=True)]
    for name in ("count", "sum_cents", "last_ts", "last_cents", "sumsq_cents", "first_ts",
                 "cat_count", "cat_sum", "cat_sumsq", "cat_log_sum", "cat_log_sumsq",
                 "band_count"):
        expected = np.concatenate([getattr(b, name) for b in parts])
        got = getattr(found, name)
        assert got.dtype == expected.dtype, name
        np.testing.assert_array_equal(got, expected, err_msg=name)


def test_decoding_every_field_is_decoding_field_by_field():
    for state in _states():
        text = encode_state(state)
        fast = decode_state(text)
        assert encode_state(fast) == text
        assert fast.recent == state.recent and all(type(e) is tuple for e in fast.recent)
        assert math.isnan(fast.last_ts) == math.isnan(float(state.last_ts))
    # a state without the newer fields takes the general path and gets their defaults
    old = decode_state('{"older_count":1,"older_sum":2,"last_ts":null,"last_cents":null,'
                       '"recent":[[5,6]]}')
    assert old.recent == [(5, 6)] and old.older_bands == [0] * BANDS and math.isnan(old.last_ts)
    odd = _decode_fields({"older_count": 1, "older_sum": 2, "last_ts": None, "last_cents": 4.0,
                          "recent": [[1, 2]], "older_sumsq": 4, "first_ts": 1.0,
                          "recent_categories": [["x"]], "older_categories": {},
                          "older_bands": [0] * BANDS})
    assert odd.recent_categories == [("x",)] and odd.recent == [(1, 2)]


def test_encoding_the_usual_types_names_every_field_as_the_general_path_does():
    import json

    from fraudpipe.engine.entities import _state_names

    for state in _states():
        assert tuple(json.loads(encode_state(state))) == _state_names()
    # a float where an integer belongs takes the general path: NaN written as null there too
    odd = CardState(older_count=float("nan"), older_sum=2.5)
    assert json.loads(encode_state(odd))["older_count"] is None
    assert json.loads(encode_state(odd))["older_sum"] == 2.5

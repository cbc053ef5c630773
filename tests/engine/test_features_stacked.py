"""Guards of the history features' stacked form: several windows at once and whole-card
slices give exactly the values of one window and of all rows at once."""

from __future__ import annotations

import numpy as np
import pytest

from fraudpipe.engine import features
from fraudpipe.engine.features import CardBase, history_features, window_max
from fraudpipe.engine.profile import fit_profile

T0 = 1_590_000_000


@pytest.mark.parametrize("n", [40, 300])
def test_window_max_of_several_windows_is_each_window_alone(n: int) -> None:
    rng = np.random.default_rng(n)
    values = rng.integers(0, 10**7, n)
    lefts = np.stack([np.minimum(np.sort(rng.integers(0, n, n)), np.arange(n))
                      for _ in range(3)])
    together = window_max(values, lefts)
    assert together.shape == (3, n)
    for row, left in zip(together, lefts, strict=True):
        assert row.tolist() == window_max(values, left).tolist()


def test_history_in_slices_of_whole_cards_equals_all_rows_at_once(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN 400 events of 30 cards over two weeks, shuffled, with older history and a profile
    rng = np.random.default_rng(5)
    n = 400
    card = rng.integers(0, 30, n)
    ts = T0 + rng.integers(0, 14 * 86_400, n)
    cents = rng.integers(100, 50_000, n)
    category = rng.integers(-1, 5, n)
    profile = fit_profile(np.maximum(category, 0), ts, cents, rng.random(n) < 0.2, 5)
    base = CardBase(rng.integers(0, 9, n), rng.integers(0, 10**6, n), np.full(n, T0 - 999.0),
                    np.full(n, 1234.0))
    whole = history_features(card, ts, cents, base, category, profile)
    # WHEN the rows are worked out in slices of a few cards
    monkeypatch.setattr(features, "SLICE_ROWS", 25)
    sliced = history_features(card, ts, cents, base, category, profile)
    # THEN every value is the same
    for name, values in whole.items():
        np.testing.assert_array_equal(sliced[name], values, err_msg=name)

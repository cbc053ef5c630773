"""The realtime path converts one event's amount in Python: the same cents as the numpy
function batch scoring and the features use, for every kind of amount."""

from __future__ import annotations

import warnings

import numpy as np

from fraudpipe.engine.features import to_cents
from fraudpipe.engine.realtime import cents_of


def test_cents_of_one_amount_are_to_cents():
    rng = np.random.default_rng(11)
    amounts = np.concatenate([
        np.round(rng.uniform(0, 5_000, 50_000), 2),  # what cards spend
        rng.uniform(-1e6, 1e9, 50_000),  # any double, negative too
        np.arange(0, 200) / 200 + 0.005,  # ties and near-ties around half a cent
        np.array([0.125, 0.375, 2.5e-3, 0.015, 1.005, 2.675, 1e16, 4.6e16, 4.7e16, -4.7e16,
                  9.2e16, 1e30, -0.0, 0.0, np.inf, -np.inf, np.nan]),
        np.nextafter(np.float64(2.0**62 / 100), np.float64(np.inf)) * np.array([1.0, -1.0]),
    ])
    with np.errstate(invalid="ignore"):
        expected = to_cents(amounts).tolist()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # numpy's cast of inf/NaN/huge values
        assert [cents_of(float(a)) for a in amounts] == expected

"""The fraud profile and the llr features: values on hand-built histories, earlier events
only, exact window sums, and the same values from a snapshot as from the whole sequence."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from fraudpipe.engine.artifact import METADATA_FILE, ModelArtifact
from fraudpipe.engine.dataset import parse_events, read_csv_strings
from fraudpipe.engine.features import FEATURES, build_features, history_features, to_cents
from fraudpipe.engine.profile import (
    AMOUNT_BINS,
    BIN_WIDTH,
    POPULATION_SHARE,
    FraudProfile,
    amount_bin,
    fit_profile,
    profile_of,
)
from fraudpipe.engine.training import train_model

T0 = int(pd.Timestamp("2020-06-01T00:00:00Z").timestamp())
LLR_WINDOWS = {"llr_1h": 3_600, "llr_6h": 21_600, "llr_24h": 86_400, "llr_3d": 259_200}


def flat_profile(fraud_category: list[float], fraud_hour: np.ndarray) -> FraudProfile:
    """Every density flat except the fraud shares of categories and hours."""
    k = len(fraud_category)
    return FraudProfile(
        fraud_category=np.log(fraud_category), fraud_hour=np.log(fraud_hour),
        legit_hour=np.log(np.full((k, 24), 1 / 24)),
        fraud_amount=np.zeros((k, AMOUNT_BINS)), legit_amount=np.zeros((k, AMOUNT_BINS)),
    )


def test_fit_profile_shares_and_amount_densities() -> None:
    # GIVEN 3 fraud events (category 1 twice, at 2:00) and 5 legit ones (category 0, at 14:00)
    category = np.array([1, 1, 0, 0, 0, 0, 0, 0])
    ts = T0 + 3600 * np.array([2, 2, 2, 14, 14, 14, 14, 14])
    cents = np.array([90_000, 90_000, 1_000, 2_000, 2_000, 2_000, 2_000, 2_000])
    labels = np.array([1, 1, 1, 0, 0, 0, 0, 0])
    p = fit_profile(category, ts, cents, labels, k=2)
    # THEN shares are smoothed by half an event per cell
    np.testing.assert_allclose(np.exp(p.fraud_category), [1.5 / 4, 2.5 / 4])
    assert np.exp(p.fraud_hour[2]) == pytest.approx(3.5 / 15)
    assert np.exp(p.legit_hour[0, 14]) == pytest.approx(5.5 / 17)
    assert np.exp(p.legit_hour[1, 14]) == pytest.approx(1 / 24)  # no legit event there
    # the amount densities integrate to 1 over ln(cents) and peak at the events' amounts
    for density in (p.fraud_amount, p.legit_amount):
        np.testing.assert_allclose(np.exp(density[density.max(axis=1) > -5]).sum(axis=1)
                                   * BIN_WIDTH, 1.0, rtol=1e-6)
    assert int(np.argmax(p.fraud_amount[1])) == amount_bin(np.log([90_000.0]) / BIN_WIDTH)[0]
    assert int(np.argmax(p.legit_amount[0])) == amount_bin(np.log([2_000.0]) / BIN_WIDTH)[0]


def test_profile_round_trips_through_json() -> None:
    rng = np.random.default_rng(0)
    p = fit_profile(rng.integers(0, 3, 200), T0 + rng.integers(0, 86400, 200),
                    rng.integers(100, 100_000, 200), rng.integers(0, 2, 200), k=3)
    data = json.loads(json.dumps(p.to_dict()))
    back = FraudProfile.from_dict(data)
    np.testing.assert_array_equal(back.fraud_amount, np.round(p.fraud_amount, 6))
    np.testing.assert_array_equal(profile_of(data).fraud_hour, back.fraud_hour)
    artifact = ModelArtifact(Path("unused"), None, {"fraud_profile": data},  # type: ignore[arg-type]
                             None, None)  # type: ignore[arg-type]
    assert artifact.profile is artifact.profile  # converted once per loaded version


def test_llr_of_an_event_against_the_cards_own_spending() -> None:
    # GIVEN a card with 4 events of category 0 at $10, $10, $40, $40 and a flat profile except
    # that fraud favours category 1 and the hour 3:00
    hours = np.full(24, 1 / 24)
    hours[3] = 0.5
    p = flat_profile([0.2, 0.8], hours)
    cents = np.array([1000, 1000, 4000, 4000, 2000, 5000])
    ts = T0 + 3600 * np.array([10, 11, 12, 13, 14, 27])  # the last at 03:00 the next day
    category = np.array([0, 0, 0, 0, 0, 1])
    f = history_features(np.zeros(6, dtype=np.int64), ts, cents, category=category, profile=p)
    # WHEN the 5th event ($20, category 0, 14:00) is scored: the card's log amounts in category
    # 0 have mean ln(2000) and standard deviation ln(2); the population's legit amounts (a flat
    # log density of 0 here) are mixed in
    own = -np.log(np.log(2.0)) - 0.5 * np.log(2 * np.pi)  # z = 0
    legit = np.log((1 - POPULATION_SHARE) * np.exp(own) + POPULATION_SHARE * np.exp(0.0))
    share = (4 + 0.5) / (4 + 0.5 * 2)
    expected = np.log(0.2) + np.log(1 / 24) + 0.0 - np.log(share) - np.log(1 / 24) - legit
    assert f["llr"][4] == pytest.approx(expected, abs=2e-3)  # log amounts kept as 1/1024ths
    # THEN the 6th event (a category the card never used, at a fraud hour) weighs for fraud:
    # the card has fewer than two events there, so the population's legit amounts stand in
    share6 = 0.5 / (5 + 1.0)
    expected6 = np.log(0.8) + np.log(0.5) - np.log(share6) - np.log(1 / 24)
    assert f["llr"][5] == pytest.approx(expected6, abs=1e-9)
    # the first events: fewer than two earlier ones in the category, population amounts
    assert f["llr"][0] == pytest.approx(np.log(0.2) - np.log(0.5 / 1.0), abs=1e-9)


def test_llr_windows_sum_only_earlier_events_in_hundredths() -> None:
    rng = np.random.default_rng(4)
    n = 300
    card = rng.integers(0, 3, n)
    ts = np.sort(T0 + rng.integers(0, 10 * 86400, n))
    cents = rng.integers(100, 200_000, n)
    category = rng.integers(-1, 4, n)  # -1: unknown category (no evidence)
    p = fit_profile(rng.integers(0, 4, 500), T0 + rng.integers(0, 86400, 500),
                    rng.integers(100, 200_000, 500), rng.integers(0, 2, 500), k=4)
    f = history_features(card, ts, cents, category=category, profile=p)
    assert (f["llr"][category < 0] == 0).all()
    evidence = np.rint(np.clip(f["llr"], 0, None) * 100)
    for i in range(n):
        for name, span in LLR_WINDOWS.items():
            earlier = (card == card[i]) & (np.arange(n) < i) & (ts > ts[i] - span)
            assert f[name][i] == evidence[earlier].sum(), (name, i)
    # a later event never changes an earlier row's values
    changed = cents.copy()
    changed[-1] = 9_999_999
    g = history_features(card, ts, changed, category=category, profile=p)
    for name in ("llr", *LLR_WINDOWS):
        np.testing.assert_array_equal(g[name][:-1], f[name][:-1], err_msg=name)


def test_without_a_profile_llr_is_missing_and_windows_zero() -> None:
    f = history_features(np.zeros(3, dtype=np.int64), T0 + np.arange(3) * 60,
                         np.array([100, 200, 300]), category=np.zeros(3, dtype=np.int64))
    assert np.isnan(f["llr"]).all() and (f["llr_24h"] == 0).all()


def test_build_features_reads_the_profile_of_the_metadata() -> None:
    p = fit_profile(np.array([0, 1, 1]), T0 + np.arange(3), np.array([100, 5000, 9000]),
                    np.array([0, 1, 1]), k=2)
    ts = T0 + np.arange(4) * 600
    args = (np.zeros(4, dtype=np.int64), ts, {"amt": np.array([1.0, 50.0, 2.0, 90.0]),
                                              "city_pop": np.ones(4)},
            {"category": np.array(["a", "b", "a", "b"], dtype=object),
             "gender": np.array(["F"] * 4, dtype=object),
             "state": np.array([""] * 4, dtype=object)},
            {"category": ["a", "b"], "gender": ["F"], "state": []})
    from_dict = build_features(*args, profile=profile_of(p.to_dict()))
    from_object = build_features(*args, profile=FraudProfile.from_dict(p.to_dict()))
    np.testing.assert_array_equal(from_dict, from_object)
    column = FEATURES.index("llr")
    assert np.isfinite(from_dict[:, column]).all()
    assert np.isnan(build_features(*args)[:, column]).all()


def test_training_fits_the_profile_on_the_training_slice_only(
    tiny_training_file: Path, tmp_path: Path
) -> None:
    # GIVEN a trained version of the tiny training file
    train_model(tiny_training_file, tmp_path)
    metadata = json.loads((tmp_path / METADATA_FILE).read_text())
    vocabulary = metadata["vocabularies"]["category"]
    saved = FraudProfile.from_dict(metadata["fraud_profile"])
    # THEN the saved profile is the one of the first 85% of events (by time), never of the
    # validation slice, with one row per category of the vocabulary
    frame = read_csv_strings(tiny_training_file)
    events = parse_events(frame, "tiny", require_label=True, strict=True)
    order = np.argsort(events.ts, kind="stable")
    cut = metadata["rows"]["training"]
    rows = order[:cut]
    codes = pd.Categorical(frame["category"].str.strip().to_numpy()[rows],
                           categories=vocabulary).codes.astype(np.int64)
    assert events.label is not None
    expected = fit_profile(codes, events.ts[rows], to_cents(events.amt[rows]),
                           events.label[rows], len(vocabulary))
    assert saved.fraud_amount.shape == (len(vocabulary), AMOUNT_BINS)
    for name, values in expected.to_dict().items():
        np.testing.assert_allclose(metadata["fraud_profile"][name], values, err_msg=name)

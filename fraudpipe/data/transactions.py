"""Transactions: legit spending of every customer plus fraud episodes on compromised cards.

Why vectorised draws: Kaggle-size data (~1.85M rows) must come out in seconds. Per-row choices
that depend on the customer or category (category from the customer's mix, hour from the
category's rhythm) use one ``searchsorted`` over stacked cumulative distributions instead of
Python loops.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fraudpipe.data.behaviour import (
    FRAUD_AMOUNT,
    FRAUD_MIX,
    LEGIT_AMOUNT,
    MONTH_FACTOR,
    WEEKDAY_FACTOR,
    fraud_hour_profile,
    legit_hour_profiles,
)
from fraudpipe.data.customers import Customers
from fraudpipe.data.reference import CATEGORIES, COMPANY_PATTERNS, LAST_NAMES

__all__ = ["Merchants", "Transactions", "make_merchants", "make_transactions"]

#: Average legit transactions per customer per day (the public data: ~1.85M rows, ~1,000 cards,
#: two years).
ROWS_PER_CUSTOMER_DAY = 2.53
#: Share of fraud rows in the output.
FRAUD_RATE = 0.0052
MERCHANTS_PER_CATEGORY = 50


@dataclass(frozen=True)
class Merchants:
    """Merchant names; merchants of category ``c`` are ``names[offset[c]:offset[c]+count[c]]``."""

    names: list[str]
    offset: np.ndarray
    count: np.ndarray


@dataclass(frozen=True)
class Transactions:
    """Row arrays, sorted by time."""

    customer: np.ndarray  # index into Customers
    category: np.ndarray  # index into CATEGORIES
    merchant: np.ndarray  # index into Merchants.names
    unix_time: np.ndarray  # int64 seconds since the epoch (UTC)
    amt: np.ndarray
    merch_lat: np.ndarray
    merch_long: np.ndarray
    is_fraud: np.ndarray  # int64 0/1


def make_merchants(rng: np.random.Generator) -> Merchants:
    """``fraud_<Company>`` names (the prefix is part of the public data's format)."""
    names: list[str] = []
    seen: set[str] = set()
    for _ in CATEGORIES:
        made = 0
        while made < MERCHANTS_PER_CATEGORY:
            a, b, c = (LAST_NAMES[i] for i in rng.integers(0, len(LAST_NAMES), 3))
            pattern = COMPANY_PATTERNS[rng.integers(0, len(COMPANY_PATTERNS))]
            name = "fraud_" + pattern.format(a=a, b=b, c=c)
            if name not in seen:
                seen.add(name)
                names.append(name)
                made += 1
    count = np.full(len(CATEGORIES), MERCHANTS_PER_CATEGORY)
    return Merchants(names=names, offset=np.arange(len(CATEGORIES)) * MERCHANTS_PER_CATEGORY,
                     count=count)


def _grouped_choice(rng: np.random.Generator, probs: np.ndarray, group: np.ndarray) -> np.ndarray:
    """For each row draw an index from ``probs[group[row]]`` (probs: (G, K) rows summing to 1)."""
    cum = np.cumsum(probs, axis=1)
    cum[:, -1] = 1.0
    stacked = (cum + np.arange(len(probs))[:, None]).ravel()
    picks = np.searchsorted(stacked, group + rng.random(len(group)), side="right")
    return np.minimum(picks - group * probs.shape[1], probs.shape[1] - 1)


def _day_weights(start: np.datetime64, days: int) -> np.ndarray:
    dates = start + np.arange(days).astype("timedelta64[D]")
    weekday = (dates.astype("datetime64[D]").astype(np.int64) + 3) % 7  # 1970-01-01 = Thursday
    month = dates.astype("datetime64[M]").astype(np.int64) % 12
    weights = WEEKDAY_FACTOR[weekday] * MONTH_FACTOR[month]
    return weights / weights.sum()


def _near(rng: np.random.Generator, home: np.ndarray) -> np.ndarray:
    """Merchant coordinates within a degree of home, most of them close."""
    return (home + np.clip(rng.normal(0, 0.4, len(home)), -1, 1)).round(6)


def _legit(rng: np.random.Generator, customers: Customers, start_s: int,
           days: int, day_p: np.ndarray) -> dict[str, np.ndarray]:
    rate = customers.rate / customers.rate.mean() * ROWS_PER_CUSTOMER_DAY
    counts = rng.poisson(rate * days)
    customer = np.repeat(np.arange(len(customers)), counts)
    n = len(customer)
    category = _grouped_choice(rng, customers.mix, customer)
    hour = _grouped_choice(rng, legit_hour_profiles(), category)
    day = rng.choice(days, size=n, p=day_p)
    seconds = start_s + day * 86400 + hour * 3600 + rng.integers(0, 3600, n)
    median, sigma = LEGIT_AMOUNT[category, 0], LEGIT_AMOUNT[category, 1]
    amt = median * np.exp(sigma * rng.standard_normal(n)) * customers.spend[customer]
    return {"customer": customer, "category": category, "unix_time": seconds, "amt": amt}


def _fraud(rng: np.random.Generator, customers: Customers, start_s: int, days: int,
           legit_rows: int) -> dict[str, np.ndarray]:
    """Episodes: a burst of transactions on one card over a few hours to three days."""
    wanted = FRAUD_RATE * legit_rows / (1 - FRAUD_RATE)
    sizes_mean = 11.0
    episodes = max(1, round(wanted / sizes_mean))
    sizes = 2 + rng.poisson(sizes_mean - 2, episodes)
    # a compromised card is usually blocked after its episode: distinct cards while they last
    rounds = -(-episodes // len(customers))
    card = np.concatenate([rng.permutation(len(customers)) for _ in range(rounds)])[:episodes]
    span_days = rng.choice([1, 1, 2, 2, 3], size=episodes)
    first_day = rng.integers(0, max(1, days - 3), episodes)
    episode = np.repeat(np.arange(episodes), sizes)
    n = len(episode)
    category = _grouped_choice(rng, FRAUD_MIX[None, :], np.zeros(n, dtype=np.int64))
    hour = _grouped_choice(rng, fraud_hour_profile()[None, :], np.zeros(n, dtype=np.int64))
    day = first_day[episode] + (rng.random(n) * span_days[episode]).astype(np.int64)
    day = np.minimum(day, days - 1)
    seconds = start_s + day * 86400 + hour * 3600 + rng.integers(0, 3600, n)
    median, sigma = FRAUD_AMOUNT[category, 0], FRAUD_AMOUNT[category, 1]
    amt = median * np.exp(sigma * rng.standard_normal(n))
    return {"customer": card[episode], "category": category, "unix_time": seconds, "amt": amt}


def make_transactions(rng: np.random.Generator, customers: Customers, merchants: Merchants,
                      start: np.datetime64, days: int) -> Transactions:
    """All rows of the period, legit and fraud, sorted by time."""
    start_s = int(start.astype("datetime64[s]").astype(np.int64))
    legit = _legit(rng, customers, start_s, days, _day_weights(start, days))
    fraud = _fraud(rng, customers, start_s, days, len(legit["customer"]))
    parts = {k: np.concatenate([legit[k], fraud[k]]) for k in legit}
    is_fraud = np.concatenate([np.zeros(len(legit["customer"]), np.int64),
                               np.ones(len(fraud["customer"]), np.int64)])
    order = np.lexsort((rng.random(len(is_fraud)), parts["unix_time"]))
    customer, category = parts["customer"][order], parts["category"][order]
    merchant = merchants.offset[category] + (
        rng.random(len(order)) * merchants.count[category]).astype(np.int64)
    return Transactions(
        customer=customer, category=category, merchant=merchant,
        unix_time=parts["unix_time"][order].astype(np.int64),
        amt=np.clip(parts["amt"][order], 1.0, 28_000.0).round(2),
        merch_lat=_near(rng, customers.lat[customer]),
        merch_long=_near(rng, customers.long[customer]),
        is_fraud=is_fraud[order],
    )

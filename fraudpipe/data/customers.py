"""Customers (one card each): who they are, where they live, and how they spend.

Why profiles: spending in the generated data must follow the customer (age, gender, city size)
so a model can learn "unusual for this card", as in real data. Everything is drawn from one
``numpy.random.Generator`` so a seed gives the same customers everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fraudpipe.data.behaviour import BASE_MIX, category_index
from fraudpipe.data.reference import (
    BIG_CITIES,
    FIRST_NAMES_F,
    FIRST_NAMES_M,
    JOBS,
    LAST_NAMES,
    STREET_NAMES,
    STREET_SUFFIXES,
    TOWN_PATTERNS,
)

__all__ = ["Customers", "make_customers"]

#: Share of customers living in one of the big cities (the rest live in small towns).
BIG_CITY_SHARE = 0.3


@dataclass(frozen=True)
class Customers:
    """Per-customer arrays (length N) plus the lists their string indices point into."""

    cc_num: np.ndarray  # int64
    first: list[str]
    last: list[str]
    gender: np.ndarray  # "F"/"M" as <U1
    street: list[str]
    city: list[str]
    state: list[str]
    zip: np.ndarray  # int64
    lat: np.ndarray
    long: np.ndarray
    city_pop: np.ndarray  # int64
    job: list[str]
    dob: np.ndarray  # datetime64[D]
    age: np.ndarray  # years at the start of the period
    rate: np.ndarray  # expected transactions per day before rhythms
    mix: np.ndarray  # (N, 14) category probabilities
    spend: np.ndarray  # multiplier on amounts

    def __len__(self) -> int:
        return len(self.cc_num)


def _card_numbers(rng: np.random.Generator, n: int) -> np.ndarray:
    """Distinct card numbers of 11 to 19 digits, mostly 16, as in the public data set."""
    digits = rng.choice(
        [11, 12, 13, 14, 15, 16, 18, 19], size=n,
        p=[0.02, 0.06, 0.08, 0.07, 0.09, 0.48, 0.05, 0.15],
    )
    low = (10 ** (digits - 1)).astype(np.int64)
    low[digits == 19] = 1_000_000_000_000_000_000
    high = np.where(digits == 19, 9_200_000_000_000_000_000, 10**np.minimum(digits, 18) - 1)
    values = low + (rng.random(n) * (high - low).astype(np.float64)).astype(np.int64)
    # make them distinct without changing the length: bump duplicates by their rank
    _, first_seen = np.unique(values, return_index=True)
    duplicate = np.ones(n, dtype=bool)
    duplicate[first_seen] = False
    values[duplicate] += np.arange(1, duplicate.sum() + 1, dtype=np.int64) * 7919
    return values


def _places(rng: np.random.Generator, n: int) -> tuple[list[str], list[str], np.ndarray,
                                                       np.ndarray, np.ndarray, np.ndarray]:
    """Home city, state, zip, lat, long and city population of each customer."""
    big = rng.random(n) < BIG_CITY_SHARE
    anchor = rng.integers(0, len(BIG_CITIES), size=n)
    towns: list[str] = []
    states: list[str] = []
    zips = np.empty(n, dtype=np.int64)
    pops = np.empty(n, dtype=np.int64)
    lat = np.empty(n)
    lon = np.empty(n)
    pattern = rng.integers(0, len(TOWN_PATTERNS), size=n)
    stem = rng.integers(0, len(LAST_NAMES), size=n)
    town_pop = np.exp(rng.normal(np.log(2500), 1.6, size=n)).clip(23, 90_000).astype(np.int64)
    offset = rng.normal(0, 1.2, size=(n, 2))
    for i in range(n):
        name, state, clat, clon, czip, cpop = BIG_CITIES[anchor[i]]
        states.append(state)
        if big[i]:
            towns.append(name)
            pops[i] = cpop
            lat[i], lon[i] = clat + offset[i, 0] * 0.05, clon + offset[i, 1] * 0.05
            zips[i] = czip + int(abs(offset[i, 0]) * 20)
        else:
            towns.append(TOWN_PATTERNS[pattern[i]].format(LAST_NAMES[stem[i]]))
            pops[i] = town_pop[i]
            lat[i], lon[i] = clat + offset[i, 0], clon + offset[i, 1]
            zips[i] = min(czip + 100 + int(abs(offset[i, 1]) * 300), 99950)
    return towns, states, zips, lat.round(4), lon.round(4), pops


def _mix(rng: np.random.Generator, age: np.ndarray, female: np.ndarray,
         pop: np.ndarray) -> np.ndarray:
    """Category preferences: age, gender and city size tilt the average mix, then noise."""
    n = len(age)
    tilt = np.ones((n, len(BASE_MIX)))

    def scale(category: str, factor: np.ndarray | float) -> None:
        tilt[:, category_index(category)] *= factor

    young = (age < 32).astype(float)
    old = (age >= 60).astype(float)
    urban = np.clip(np.log10(pop) - 3.5, 0, 3) / 3  # 0 for villages, 1 for big cities
    for category in ("shopping_net", "misc_net", "entertainment", "food_dining"):
        scale(category, 1 + 0.6 * young - 0.3 * old)
    for category in ("health_fitness", "home", "grocery_pos"):
        scale(category, 1 + 0.4 * old)
    scale("travel", 1 + 0.5 * old + 0.4 * urban)
    for category in ("personal_care", "kids_pets", "shopping_pos", "home"):
        scale(category, np.where(female, 1.3, 0.85))
    scale("gas_transport", np.where(female, 0.85, 1.2) * (1.35 - 0.5 * urban))
    scale("entertainment", np.where(female, 0.9, 1.15) * (0.85 + 0.4 * urban))
    scale("food_dining", 0.85 + 0.45 * urban)
    scale("grocery_pos", 1.2 - 0.3 * urban)
    scale("grocery_net", 0.7 + 0.8 * urban)
    mean = BASE_MIX * tilt
    mean /= mean.sum(axis=1, keepdims=True)
    mix = rng.gamma(shape=mean * 40.0)  # Dirichlet around each customer's tilted mean
    return mix / mix.sum(axis=1, keepdims=True)


def make_customers(rng: np.random.Generator, n: int, start: np.datetime64) -> Customers:
    """Draw ``n`` customers with their cards and spending profiles."""
    if n < 1:
        raise ValueError(f"customers must be at least 1, got {n}")
    female = rng.random(n) < 0.55
    age = np.clip(rng.gamma(4.0, 7.5, size=n) + 17, 17, 95)  # mean ~47, as the public data
    dob = start - (age * 365.25).astype("timedelta64[D]") - rng.integers(0, 365, n).astype(
        "timedelta64[D]")
    first_idx = np.where(female, rng.integers(0, len(FIRST_NAMES_F), n),
                         rng.integers(0, len(FIRST_NAMES_M), n))
    first = [FIRST_NAMES_F[i] if f else FIRST_NAMES_M[i] for i, f in zip(first_idx, female,
                                                                          strict=True)]
    last = [LAST_NAMES[i] for i in rng.integers(0, len(LAST_NAMES), n)]
    numbers = rng.integers(1, 99999, n)
    names = rng.integers(0, len(STREET_NAMES), n)
    suffixes = rng.integers(0, len(STREET_SUFFIXES), n)
    street = [f"{num} {STREET_NAMES[a]} {STREET_SUFFIXES[b]}" for num, a, b in
              zip(numbers, names, suffixes, strict=True)]
    city, state, zips, lat, lon, pop = _places(rng, n)
    job = [JOBS[i] for i in rng.integers(0, len(JOBS), n)]
    # spending intensity: peaks in mid-life, slightly higher in cities, lognormal person noise
    life = np.exp(-(((age - 45) / 28) ** 2))
    rate = (0.55 + life) * (0.9 + 0.05 * np.log10(pop)) * rng.lognormal(0, 0.45, n)
    spend = rng.lognormal(0, 0.25, n) * (0.85 + 0.3 * life)
    return Customers(
        cc_num=_card_numbers(rng, n), first=first, last=last,
        gender=np.where(female, "F", "M"), street=street, city=city, state=state, zip=zips,
        lat=lat, long=lon, city_pop=pop, job=job, dob=dob.astype("datetime64[D]"), age=age,
        rate=rate, mix=_mix(rng, age, female, pop), spend=spend,
    )

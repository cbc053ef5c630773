"""Behaviour parameters of the generator: how much, when and where people (and fraudsters) spend.

Why a table of numbers: plausibility comes from a few shapes observed in real card data
(category mix, amount per category, hour-of-day and weekday/season rhythms) and from fraud
episodes that differ in those same shapes, with overlap. Keeping them here, named, makes the
realism reviewable and lets tests check the generated data against them.

Arrays are indexed by :data:`fraudpipe.data.reference.CATEGORIES` order.
"""

from __future__ import annotations

import numpy as np

from fraudpipe.data.reference import CATEGORIES

__all__ = [
    "BASE_MIX",
    "FRAUD_AMOUNT",
    "FRAUD_MIX",
    "FRAUD_NIGHT_SHARE",
    "LEGIT_AMOUNT",
    "MONTH_FACTOR",
    "NIGHT_HOURS",
    "WEEKDAY_FACTOR",
    "category_index",
    "fraud_hour_profile",
    "legit_hour_profiles",
]


def category_index(name: str) -> int:
    """Position of a category in the arrays of this module."""
    return CATEGORIES.index(name)


def _by_category(values: dict[str, float]) -> np.ndarray:
    return np.array([values[c] for c in CATEGORIES], dtype=np.float64)


#: Share of transactions per category for an average customer (close to public card data).
BASE_MIX = _by_category({
    "entertainment": 7.2, "food_dining": 7.1, "gas_transport": 10.2, "grocery_net": 3.5,
    "grocery_pos": 9.5, "health_fitness": 6.6, "home": 9.5, "kids_pets": 8.7, "misc_net": 4.9,
    "misc_pos": 6.1, "personal_care": 7.0, "shopping_net": 7.5, "shopping_pos": 9.0, "travel": 3.1,
})
BASE_MIX /= BASE_MIX.sum()

#: Legit amount per category: lognormal (median in dollars, sigma of the log).
LEGIT_AMOUNT = np.array([
    (45.0, 0.85),  # entertainment
    (38.0, 0.85),  # food_dining
    (60.0, 0.30),  # gas_transport
    (52.0, 0.30),  # grocery_net
    (95.0, 0.45),  # grocery_pos
    (42.0, 0.90),  # health_fitness
    (45.0, 0.90),  # home
    (40.0, 0.90),  # kids_pets
    (12.0, 1.35),  # misc_net
    (20.0, 1.20),  # misc_pos
    (24.0, 1.00),  # personal_care
    (16.0, 1.45),  # shopping_net
    (18.0, 1.40),  # shopping_pos
    (7.0, 1.75),   # travel
])

#: Share of fraud transactions per category: online and POS shopping dominate.
FRAUD_MIX = _by_category({
    "entertainment": 3.0, "food_dining": 2.0, "gas_transport": 8.0, "grocery_net": 1.8,
    "grocery_pos": 22.0, "health_fitness": 1.8, "home": 2.6, "kids_pets": 3.0, "misc_net": 12.0,
    "misc_pos": 3.3, "personal_care": 2.9, "shopping_net": 22.0, "shopping_pos": 11.5,
    "travel": 1.6,
})
FRAUD_MIX /= FRAUD_MIX.sum()

#: Fraud amount per category (median, sigma): much larger on shopping, small "card tests" on
#: gas and grocery_net, so some fraud has modest amounts.
FRAUD_AMOUNT = np.array([
    (420.0, 0.45),  # entertainment
    (110.0, 0.35),  # food_dining
    (11.0, 0.60),   # gas_transport
    (12.0, 0.40),   # grocery_net
    (300.0, 0.20),  # grocery_pos
    (19.0, 0.40),   # health_fitness
    (230.0, 0.40),  # home
    (20.0, 0.45),   # kids_pets
    (720.0, 0.45),  # misc_net
    (180.0, 0.80),  # misc_pos
    (24.0, 0.50),   # personal_care
    (880.0, 0.40),  # shopping_net
    (820.0, 0.45),  # shopping_pos
    (9.0, 0.60),    # travel
])

#: Hours counted as "night" (fraudsters favour them; some legit online spend happens too).
NIGHT_HOURS = (22, 23, 0, 1, 2, 3)
#: Share of fraud transactions that fall in NIGHT_HOURS.
FRAUD_NIGHT_SHARE = 0.78

#: Relative volume per weekday (Monday = 0): weekends and Mondays are busier.
WEEKDAY_FACTOR = np.array([1.18, 0.86, 0.80, 0.86, 0.96, 1.06, 1.28])
#: Relative volume per month (January = 0): a post-holiday dip, a summer lift, a December peak.
MONTH_FACTOR = np.array([0.78, 0.80, 0.92, 0.95, 1.00, 1.08, 1.08, 1.06, 0.96, 0.98, 1.08, 1.45])

_DAY = np.array([  # in-person spending: a flat afternoon/evening plateau, a lower morning/night
    2.7, 2.5, 2.4, 2.4, 2.4, 2.6, 3.0, 3.2, 3.3, 3.3, 3.3, 3.4,
    5.0, 5.0, 5.0, 5.0, 5.0, 5.0, 5.1, 5.1, 5.1, 5.1, 5.0, 4.9,
])
_ONLINE = np.array([  # online spending is flatter still and reaches further into the night
    3.7, 3.6, 3.5, 3.4, 3.4, 3.4, 3.4, 3.4, 3.4, 3.4, 3.4, 3.5,
    4.9, 4.9, 4.9, 4.9, 4.9, 4.9, 5.0, 5.0, 5.0, 5.1, 5.1, 5.1,
])


def legit_hour_profiles() -> np.ndarray:
    """(14, 24) hour-of-day probabilities of legit spending per category."""
    online = {"grocery_net", "misc_net", "shopping_net"}
    rows = []
    for name in CATEGORIES:
        weights = _ONLINE.copy() if name in online else _DAY.copy()
        if name == "gas_transport":
            weights[6:10] *= 1.3  # commute
        if name == "food_dining":
            weights[11:14] *= 1.2
            weights[18:21] *= 1.2
        if name == "entertainment":
            weights[19:24] *= 1.2
        if name == "travel":
            weights[4:8] *= 1.3  # early flights
        rows.append(weights / weights.sum())
    return np.vstack(rows)


def fraud_hour_profile() -> np.ndarray:
    """(24,) hour-of-day probabilities of fraud: mostly night, the rest spread over the day."""
    weights = np.full(24, (1 - FRAUD_NIGHT_SHARE) / (24 - len(NIGHT_HOURS)))
    night = np.array([0.26, 0.27, 0.14, 0.13, 0.11, 0.09])
    weights[list(NIGHT_HOURS)] = FRAUD_NIGHT_SHARE * night / night.sum()
    return weights / weights.sum()

"""A small, fast generator of ETL-format event files for the engine's tests.

Cards spend in their usual categories at day-time rates; a few cards suffer a fraud episode: a
burst of large night-time purchases in the categories fraud favours. Tests use a few thousand
rows so that a training takes a couple of seconds.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from fraudpipe.engine.dataset import EVENT_VARIABLES

CATEGORIES = [
    "gas_transport", "grocery_pos", "home", "shopping_pos", "kids_pets", "shopping_net",
    "entertainment", "food_dining", "personal_care", "health_fitness", "misc_pos", "misc_net",
    "grocery_net", "travel",
]  # fmt: skip
FRAUD_CATEGORIES = {"shopping_net": 900.0, "grocery_pos": 300.0, "misc_net": 750.0}
STATES = ["NY", "CA", "TX", "PA", "FL", "OH", "IL", "MI"]
START = pd.Timestamp("2019-01-01T00:00:00Z")


def events(
    cards: int = 150, days: int = 120, fraud_cards: float = 0.2, seed: int = 0
) -> pd.DataFrame:
    """Events of ``cards`` cards over ``days`` days in the training-file layout, time-ordered."""
    rng = np.random.default_rng(seed)
    rows: list[pd.DataFrame] = []
    for card in range(cards):
        cc = str(4_000_000_000_000_000 + card * 7919 + seed)
        rate = rng.uniform(0.5, 3.0)
        n = max(int(rng.poisson(rate * days)), 5)
        day = rng.uniform(0, days, n)
        hour = np.where(rng.random(n) < 0.8, rng.uniform(6, 22, n), rng.uniform(0, 24, n))
        offsets = np.floor(day) * 86400 + hour * 3600
        cats = rng.choice(CATEGORIES, size=n)
        amt = np.round(rng.lognormal(3.5, 1.0, n), 2)
        label = np.zeros(n, dtype=int)
        if rng.random() < fraud_cards:
            k = int(rng.integers(3, 9))
            begin = rng.uniform(5, days - 3) * 86400
            f_off = begin + np.sort(rng.uniform(0, 36 * 3600, k))
            f_hour = (f_off // 3600) % 24
            night = rng.random(k) < 0.7
            late = rng.choice([22, 23, 0, 1, 2, 3], size=k)
            f_new = np.where(night, late, rng.integers(6, 22, k))
            f_off = f_off - f_hour * 3600 + f_new * 3600 + rng.uniform(0, 3599, k)
            f_cat = rng.choice(list(FRAUD_CATEGORIES), size=k)
            f_amt = np.round(
                [FRAUD_CATEGORIES[c] * rng.uniform(0.2, 1.5) for c in f_cat], 2
            )
            offsets = np.concatenate([offsets, f_off])
            cats = np.concatenate([cats, f_cat])
            amt = np.concatenate([amt, f_amt])
            label = np.concatenate([label, np.ones(k, dtype=int)])
        m = len(offsets)
        state = STATES[card % len(STATES)]
        rows.append(
            pd.DataFrame(
                {
                    "cc_num": cc,
                    "merchant": [f"fraud_Merchant {i}" for i in rng.integers(0, 50, m)],
                    "category": cats,
                    "amt": amt,
                    "first": "Jane",
                    "last": f"Doe{card}",
                    "gender": "F" if card % 2 else "M",
                    "street": f"{card} Main St",
                    "city": f"City{card % 40}",
                    "state": state,
                    "zip": str(10000 + card),
                    "city_pop": int(1000 + card * 37),
                    "job": "Engineer",
                    "ts": START + pd.to_timedelta(offsets, unit="s"),
                    "label": label,
                }
            )
        )
    frame = pd.concat(rows, ignore_index=True).sort_values("ts", kind="stable")
    frame = frame.reset_index(drop=True)
    frame["trans_num"] = [f"{i:032x}" for i in rng.integers(0, 2**62, len(frame))]
    frame["EVENT_TIMESTAMP"] = frame["ts"].dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    frame["EVENT_LABEL"] = np.where(frame["label"] == 1, "fraud", "legit")
    frame["amt"] = frame["amt"].map(lambda v: f"{v:.2f}")
    return frame[[*EVENT_VARIABLES, "EVENT_TIMESTAMP", "EVENT_LABEL"]].astype(str)


def split(frame: pd.DataFrame, share: float = 0.75) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(training, test) frames: the first ``share`` of events, the rest with entity columns."""
    cut = int(len(frame) * share)
    train, test = frame.iloc[:cut].copy(), frame.iloc[cut:].copy()
    test.insert(15, "ENTITY_TYPE", "card")
    test.insert(16, "ENTITY_ID", test["cc_num"])
    test.insert(17, "EVENT_ID", test["trans_num"])
    return train, test


def write(folder: Path, **kwargs) -> tuple[Path, Path, Path]:
    """Write training, test and batch (test without label) files; returns their paths."""
    train, test = split(events(**kwargs))
    folder.mkdir(parents=True, exist_ok=True)
    paths = folder / "train.csv", folder / "test.csv", folder / "batch.csv"
    train.to_csv(paths[0], index=False)
    test.to_csv(paths[1], index=False)
    test.drop(columns=["EVENT_LABEL"]).to_csv(paths[2], index=False)
    return paths

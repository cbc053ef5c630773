"""The synthetic Kaggle-layout generator: layout, determinism and plausible fraud behaviour."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from fraudpipe.data import KAGGLE_COLUMNS, generate_kaggle_frames, write_kaggle_files
from fraudpipe.data.reference import CATEGORIES

KAGGLE_DTYPES = {
    "Unnamed: 0": "int64", "trans_date_trans_time": "str", "cc_num": "int64", "merchant": "str",
    "category": "str", "amt": "float64", "first": "str", "last": "str", "gender": "str",
    "street": "str", "city": "str", "state": "str", "zip": "int64", "lat": "float64",
    "long": "float64", "city_pop": "int64", "job": "str", "dob": "str", "trans_num": "str",
    "unix_time": "int64", "merch_lat": "float64", "merch_long": "float64", "is_fraud": "int64",
}
NIGHT = [22, 23, 0, 1, 2, 3]


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    out = tmp_path_factory.mktemp("kaggle")
    return write_kaggle_files(out, customers=40, start="2019-01-01", end="2019-06-30", seed=7)


@pytest.fixture(scope="module")
def year() -> pd.DataFrame:
    """One year of 150 cards (~140k rows): enough fraud episodes for behaviour checks."""
    train, test = generate_kaggle_frames(customers=150, start="2019-01-01", end="2019-12-31",
                                         seed=11)
    frame = pd.concat([train, test], ignore_index=True)
    frame["hour"] = pd.to_datetime(frame["trans_date_trans_time"]).dt.hour
    return frame


def test_files_have_the_kaggle_layout_and_dtypes(files: tuple[Path, Path]) -> None:
    train_path, test_path = files
    assert train_path.name == "fraudTrain.csv" and test_path.name == "fraudTest.csv"
    header = train_path.read_text().splitlines()[0]
    assert header == "," + ",".join(KAGGLE_COLUMNS)
    for path in files:
        frame = pd.read_csv(path)
        assert list(frame.columns) == list(KAGGLE_DTYPES)
        assert {c: str(t) for c, t in frame.dtypes.items()} == KAGGLE_DTYPES
        assert frame["Unnamed: 0"].tolist() == list(range(len(frame)))


def test_value_formats_match_the_public_files(files: tuple[Path, Path]) -> None:
    frame = pd.read_csv(files[0])
    assert frame["trans_date_trans_time"].str.fullmatch(
        r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}").all()
    assert frame["dob"].str.fullmatch(r"\d{4}-\d{2}-\d{2}").all()
    assert frame["trans_num"].str.fullmatch(r"[0-9a-f]{32}").all()
    assert frame["trans_num"].is_unique
    assert frame["merchant"].str.startswith("fraud_").all()
    assert set(frame["category"]) <= set(CATEGORIES)
    assert set(frame["gender"]) == {"F", "M"}
    assert set(frame["is_fraud"]) <= {0, 1}
    assert frame["cc_num"].astype(str).str.len().between(11, 19).all()
    assert (frame["amt"] == frame["amt"].round(2)).all() and (frame["amt"] > 0).all()
    stamps = pd.to_datetime(frame["trans_date_trans_time"])
    assert (frame["unix_time"] == (stamps - pd.Timestamp(0)) // pd.Timedelta("1s")).all()
    # quoting only where needed, as in the public files
    line = next(ln for ln in files[0].read_text().splitlines()[1:] if '"' in ln)
    assert re.search(r'"[^"]*,[^"]*"', line)


def test_rows_sorted_by_time_and_split_70_30(files: tuple[Path, Path]) -> None:
    train, test = (pd.read_csv(p) for p in files)
    assert train["trans_date_trans_time"].is_monotonic_increasing
    assert test["trans_date_trans_time"].is_monotonic_increasing
    assert train["trans_date_trans_time"].iloc[-1] <= test["trans_date_trans_time"].iloc[0]
    assert len(train) / (len(train) + len(test)) == pytest.approx(0.7, abs=0.001)
    assert train["trans_date_trans_time"].iloc[0] >= "2019-01-01"
    assert test["trans_date_trans_time"].iloc[-1] < "2019-07-01"


def test_same_seed_same_bytes_other_seed_other_data(tmp_path: Path,
                                                   files: tuple[Path, Path]) -> None:
    again = write_kaggle_files(tmp_path / "a", customers=40, start="2019-01-01",
                               end="2019-06-30", seed=7)
    other = write_kaggle_files(tmp_path / "b", customers=40, start="2019-01-01",
                               end="2019-06-30", seed=8)
    for first, second in zip(files, again, strict=True):
        assert first.read_bytes() == second.read_bytes()
    assert files[0].read_bytes() != other[0].read_bytes()


def test_frames_equal_what_pandas_reads_from_the_files(files: tuple[Path, Path]) -> None:
    train, test = generate_kaggle_frames(customers=40, start="2019-01-01", end="2019-06-30",
                                         seed=7)
    pd.testing.assert_frame_equal(train, pd.read_csv(files[0]))
    pd.testing.assert_frame_equal(test, pd.read_csv(files[1]))


def test_default_size_is_kaggle_like() -> None:
    """~1.85M rows for 1,000 cards over two years, checked on a tenth of the period."""
    train, test = generate_kaggle_frames(customers=100, start="2019-01-01", end="2020-12-31",
                                         seed=1)
    rows = len(train) + len(test)
    assert rows * 10 == pytest.approx(1_850_000, rel=0.1)


def test_fraud_rate_is_about_half_a_percent(year: pd.DataFrame) -> None:
    assert 0.003 < year["is_fraud"].mean() < 0.008


def test_fraud_comes_in_episodes_on_compromised_cards(year: pd.DataFrame) -> None:
    fraud = year[year["is_fraud"] == 1]
    days = pd.to_datetime(fraud["trans_date_trans_time"]).dt.normalize()
    per_card = fraud.assign(day=days).groupby("cc_num")
    assert per_card.size().median() >= 4  # bursts, not isolated rows
    assert (per_card["day"].agg(lambda d: (d.max() - d.min()).days) <= 3).mean() > 0.8
    assert year.loc[year["cc_num"].isin(fraud["cc_num"]), "is_fraud"].eq(0).any()


def test_fraud_has_larger_amounts_with_overlap(year: pd.DataFrame) -> None:
    fraud = year.loc[year["is_fraud"] == 1, "amt"]
    legit = year.loc[year["is_fraud"] == 0, "amt"]
    assert fraud.median() > 4 * legit.median()
    assert (fraud < 50).mean() > 0.1  # card tests and modest fraud exist
    assert (legit > 500).sum() > 0


def test_fraud_happens_mostly_at_night(year: pd.DataFrame) -> None:
    fraud_night = year.loc[year["is_fraud"] == 1, "hour"].isin(NIGHT).mean()
    legit_night = year.loc[year["is_fraud"] == 0, "hour"].isin(NIGHT).mean()
    assert fraud_night > 0.6
    assert 0.1 < legit_night < 0.3  # legit night spend exists (more of it online)


def test_fraud_skews_to_online_and_pos_shopping(year: pd.DataFrame) -> None:
    shares = pd.crosstab(year["category"], year["is_fraud"], normalize="columns")
    for category in ("shopping_net", "misc_net", "grocery_pos", "shopping_pos"):
        assert shares.loc[category, 1] > shares.loc[category, 0]
    for category in ("home", "kids_pets", "health_fitness", "food_dining"):
        assert shares.loc[category, 1] < shares.loc[category, 0]
    online = year[year["category"].isin(["shopping_net", "misc_net", "grocery_net"])]
    pos = year[~year.index.isin(online.index)]
    legit_night_online = online.loc[online["is_fraud"] == 0, "hour"].isin(NIGHT).mean()
    legit_night_pos = pos.loc[pos["is_fraud"] == 0, "hour"].isin(NIGHT).mean()
    assert legit_night_online > legit_night_pos


def test_customers_drive_spending(year: pd.DataFrame) -> None:
    legit = year[year["is_fraud"] == 0].copy()
    age = (pd.Timestamp("2019-01-01") - pd.to_datetime(legit["dob"])).dt.days / 365.25
    net = legit["category"].eq("shopping_net")
    assert net[age < 32].mean() > net[age >= 60].mean()
    care = legit["category"].eq("personal_care")
    assert care[legit["gender"] == "F"].mean() > care[legit["gender"] == "M"].mean()
    per_card = legit.groupby("cc_num").size()
    assert per_card.max() > 3 * per_card.min()  # some cards are much busier than others
    assert (legit["merch_lat"] - legit["lat"]).abs().max() <= 1.0 + 1e-6
    assert (legit["merch_long"] - legit["long"]).abs().max() <= 1.0 + 1e-6
    gas = legit[legit["category"] == "gas_transport"]
    assert gas["amt"].std() < legit[legit["category"] == "shopping_pos"]["amt"].std()


def test_weekday_and_season_rhythms(year: pd.DataFrame) -> None:
    stamps = pd.to_datetime(year.loc[year["is_fraud"] == 0, "trans_date_trans_time"])
    daily = stamps.dt.month.value_counts().sort_index() / np.array(
        [pd.Period(f"2019-{m:02d}").days_in_month for m in range(1, 13)])
    assert daily[12] > 1.3 * daily[2]
    weekday = stamps.dt.dayofweek.value_counts()
    assert weekday[6] > weekday[2] and weekday[0] > weekday[2]


def test_cli_writes_the_files(tmp_path: Path) -> None:
    from fraudpipe.cli import app

    result = CliRunner().invoke(app, ["generate-data", "--customers", "5", "--start",
                                      "2019-01-01", "--end", "2019-01-31", "--seed", "3",
                                      "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "fraudTrain.csv").stat().st_size > 0
    assert "fraudTest.csv" in result.output


def test_cli_refuses_a_bad_date(tmp_path: Path) -> None:
    from fraudpipe.cli import app

    result = CliRunner().invoke(app, ["generate-data", "--customers", "5", "--start",
                                      "2019-13-01", "--out", str(tmp_path)])
    assert result.exit_code != 0
    assert "2019-13-01" in result.output


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="before start"):
        generate_kaggle_frames(customers=5, start="2019-02-01", end="2019-01-01")
    with pytest.raises(ValueError, match="customers"):
        generate_kaggle_frames(customers=0)

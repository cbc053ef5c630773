"""Commands of this area, added to the main ``fraudpipe`` app by :func:`register`."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from fraudpipe.data.kaggle import DEFAULT_CUSTOMERS, write_kaggle_files


def generate_data(
    customers: Annotated[int, typer.Option(min=1, help="Cards to simulate.")] = DEFAULT_CUSTOMERS,
    start: Annotated[str, typer.Option(help="First day (YYYY-MM-DD).")] = "2019-01-01",
    end: Annotated[str, typer.Option(help="Last day, inclusive (YYYY-MM-DD).")] = "2020-12-31",
    seed: Annotated[int, typer.Option(help="Same seed, same files.")] = 0,
    out: Annotated[Path, typer.Option(help="Folder for fraudTrain.csv and fraudTest.csv.")] = Path(
        "data"),
) -> None:
    """Write synthetic fraudTrain.csv / fraudTest.csv in the Kaggle layout."""
    began = time.perf_counter()
    try:
        paths = write_kaggle_files(out, customers=customers, start=start, end=end, seed=seed)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc
    seconds = time.perf_counter() - began
    for path in paths:
        typer.echo(f"{path}  {path.stat().st_size / 1e6:.1f} MB")
    typer.echo(f"done in {seconds:.1f}s")


def register(app: typer.Typer) -> None:
    """Add this area's commands to ``app``."""
    app.command("generate-data")(generate_data)

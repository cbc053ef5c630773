"""Benchmark of the first half of the pipeline on Kaggle-size data: generate, crawl, ETL.

What it measures (best of ``--repeat`` runs where a step is repeated):
1. generation: ``write_kaggle_files`` for ``--customers`` cards over 2019-2020 -> rows/s;
2. crawl: the local crawler from start to READY (headers + sample, table into the catalog);
3. read only: the seconds pyarrow takes merely to read the same two CSVs (the yardstick), and
   DuckDB's own read of them as text (what the ETL must pay before any transform); copy only:
   DuckDB reading every row and writing it straight back (the floor of any CSV-to-CSV pass);
4. ETL: the DuckDB ETL (glue/etl.sql) writing training, test, batch and quarantine files,
   and its ratio to the pyarrow read (target: <= 1.5).

Prints a table and writes ``benchmarks/output/bench_data.json``.

    .venv/bin/python benchmarks/bench_data.py                  # ~1.85M rows, like Kaggle
    .venv/bin/python benchmarks/bench_data.py --customers 100  # a tenth
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
OUTPUT = ROOT / "benchmarks" / "output" / "bench_data.json"
RAW_URI = "s3://fraudpipe-bench/input/"


def _best(times: list[float]) -> dict[str, float]:
    return {"best": round(min(times), 3), "median": round(statistics.median(times), 3)}


def measure_generation(out: Path, customers: int, seed: int) -> dict[str, Any]:
    from fraudpipe.data import write_kaggle_files

    began = time.perf_counter()
    paths = write_kaggle_files(out, customers=customers, seed=seed)
    seconds = time.perf_counter() - began
    rows = sum(sum(1 for _ in p.open("rb")) - 1 for p in paths)
    size = sum(p.stat().st_size for p in paths)
    return {"rows": rows, "bytes": size, "seconds": round(seconds, 3),
            "rows_per_second": round(rows / seconds)}


def measure_crawl(ws_root: Path) -> float:
    import boto3
    from moto import mock_aws

    from fraudpipe.etl.local import LocalCrawler
    from fraudpipe.workspace import get_workspace

    os.environ["FRAUDPIPE_JOB_MODE"] = "thread"
    ws = get_workspace(ws_root)
    with mock_aws():
        crawler = LocalCrawler(ws, "bench-crawler", "fraudpipe",
                               boto3.client("glue", region_name="us-east-1"))
        began = time.perf_counter()
        crawler.start(RAW_URI, "input")
        while crawler.status()["state"] == "RUNNING":
            time.sleep(0.005)
        seconds = time.perf_counter() - began
        if crawler.status()["last_crawl"] != "SUCCEEDED":
            raise RuntimeError(f"crawl failed: {crawler.status()['error']}")
    return seconds


def measure_pyarrow_read(paths: list[Path]) -> float:
    import pyarrow.csv as pacsv

    began = time.perf_counter()
    for path in paths:
        pacsv.read_csv(path)
    return time.perf_counter() - began


def measure_duckdb_read(raw: Path) -> float:
    import duckdb

    from fraudpipe.etl.raw import inspect_files, load_raw_rows

    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    began = time.perf_counter()
    load_raw_rows(con, inspect_files(raw))
    seconds = time.perf_counter() - began
    con.close()
    return seconds


def measure_duckdb_copy(raw: Path, out: Path) -> float:
    """The floor of any CSV-to-CSV pass here: read every row as text and write it back."""
    import duckdb

    out.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    began = time.perf_counter()
    for path in sorted(raw.glob("*.csv")):
        con.execute(f"COPY (SELECT * FROM read_csv('{path}', all_varchar = true)) "
                    f"TO '{out / path.name}' (HEADER true)")
    seconds = time.perf_counter() - began
    con.close()
    return seconds


def measure_etl(raw: Path, out: Path) -> tuple[float, dict[str, Any]]:
    from fraudpipe.etl.runner import run_etl

    params = {"raw_dir": str(raw),
              "outputs": {k: str(out / f"{k}.csv")
                          for k in ("training", "test", "batch", "quarantine")},
              "counts_path": str(out / "counts.json"),
              "batch": {"mode": "sample", "fraud_samples": 12, "legit_samples": 130, "seed": 42}}
    began = time.perf_counter()
    summary = run_etl(params)
    return time.perf_counter() - began, summary


def _warm_up() -> None:
    """Import everything first so no step pays for module loading."""
    import boto3
    import duckdb  # noqa: F401
    import moto  # noqa: F401
    import pyarrow.csv  # noqa: F401

    import fraudpipe.data
    import fraudpipe.etl.local
    import fraudpipe.etl.runner  # noqa: F401

    boto3.client("glue", region_name="us-east-1")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=3, help="runs of read and ETL")
    args = parser.parse_args()
    _warm_up()

    with tempfile.TemporaryDirectory(prefix="bench-data-") as tmp:
        root = Path(tmp)
        from fraudpipe.workspace import get_workspace

        raw = get_workspace(root / "ws").local_path(RAW_URI)
        generation = measure_generation(raw, args.customers, args.seed)
        paths = sorted(raw.glob("*.csv"))
        crawl = measure_crawl(root / "ws")
        reads, duck_reads, copies, etls, summary = [], [], [], [], {}
        for run in range(args.repeat):
            reads.append(measure_pyarrow_read(paths))
            duck_reads.append(measure_duckdb_read(raw))
            copies.append(measure_duckdb_copy(raw, root / f"copy{run}"))
            seconds, summary = measure_etl(raw, root / f"out{run}")
            etls.append(seconds)
    read, etl = _best(reads), _best(etls)
    figures = {
        "customers": args.customers,
        "rows": generation["rows"],
        "csv_megabytes": round(generation["bytes"] / 1e6, 1),
        "generation": generation,
        "crawl_seconds": round(crawl, 3),
        "pyarrow_read_seconds": read,
        "duckdb_read_seconds": _best(duck_reads),
        "duckdb_copy_seconds": _best(copies),
        "etl_seconds": etl,
        "etl_to_read_ratio": {"best": round(etl["best"] / read["best"], 2),
                              "median": round(etl["median"] / read["median"], 2)},
        "etl_step_seconds": summary.get("timings", {}),
        "output_rows": summary.get("output_rows", {}),
        "machine": {"cpus": os.cpu_count(), "load_average_1m": round(os.getloadavg()[0], 2)},
        "repeat": args.repeat,
    }
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text(json.dumps(figures, indent=2) + "\n")
    _print(figures)
    return 0


def _print(f: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"fraudpipe data: {f['rows']:,} rows, {f['csv_megabytes']} MB of CSV "
                        f"({f['customers']} cards), best / median of {f['repeat']}")
    table.add_column("step")
    table.add_column("seconds", justify="right")
    table.add_column("figure", justify="right")
    gen = f["generation"]
    table.add_row("generate (write_kaggle_files)", f"{gen['seconds']:.2f}",
                  f"{gen['rows_per_second']:,} rows/s")
    table.add_row("crawl (start -> READY)", f"{f['crawl_seconds']:.2f}", "")
    table.add_row("read only: pyarrow", _pair(f["pyarrow_read_seconds"]), "1.00x")
    table.add_row("read only: DuckDB (text)", _pair(f["duckdb_read_seconds"]),
                  f"{f['duckdb_read_seconds']['best'] / f['pyarrow_read_seconds']['best']:.2f}x")
    table.add_row("copy only: DuckDB read + write", _pair(f["duckdb_copy_seconds"]),
                  f"{f['duckdb_copy_seconds']['best'] / f['pyarrow_read_seconds']['best']:.2f}x")
    table.add_row("ETL (DuckDB, 4 files out)", _pair(f["etl_seconds"]),
                  f"{f['etl_to_read_ratio']['best']:.2f}x (target <= 1.5x)")
    Console().print(table)
    steps = ", ".join(f"{k} {v:.2f}" for k, v in f["etl_step_seconds"].items() if v >= 0.05)
    print(f"ETL steps (s): {steps}")
    print(f"machine: {f['machine']['cpus']} CPUs, load {f['machine']['load_average_1m']}")
    print(f"written: {OUTPUT.relative_to(ROOT)}")


def _pair(value: dict[str, float]) -> str:
    return f"{value['best']:.2f} / {value['median']:.2f}"


if __name__ == "__main__":
    raise SystemExit(main())

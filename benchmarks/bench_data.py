"""Benchmark of the first half of the pipeline on Kaggle-size data: generate, crawl, ETL.

What it measures (best of ``--repeat`` runs where a step is repeated):
1. generation: ``write_kaggle_files`` for ``--customers`` cards over 2019-2020 -> rows/s;
2. crawl: the local crawler from start to READY (headers + sample, table into the catalog);
3. read only: the seconds pyarrow takes merely to read the same two CSVs with its defaults
   (the yardstick), and the ETL's own reader alone (pyarrow, the columns the SQL reads, as
   text, with row numbers and flags);
4. ETL: the local ETL (glue/etl.sql on DuckDB over the Arrow tables) writing training, test,
   batch and quarantine files, and its ratio to the pyarrow read (target: <= 1.5).

Each repeat is a pair: the pyarrow read and the ETL back to back, so the two see about the
same machine load (which of the two goes first alternates from pair to pair, so neither
always runs in the other's wake). The headline is the median of the pairs' ratios (ETL
seconds / read seconds), steadier on a shared machine than a ratio of bests; the table also
gives best / median seconds and the ratio of the bests, in wall and in CPU seconds (every
thread of the process: the ETL runs in it), and the load average around each pair.

Prints a table and writes ``benchmarks/output/bench_data.json``.

    .venv/bin/python benchmarks/bench_data.py                  # ~1.85M rows, like Kaggle
    .venv/bin/python benchmarks/bench_data.py --customers 100  # a tenth
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
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


def _timed(action: Any) -> tuple[float, float, Any]:
    """(wall seconds, CPU seconds of every thread of this process, result)."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = action()
    return time.perf_counter() - wall, time.process_time() - cpu, result


def measure_pyarrow_read(paths: list[Path]) -> tuple[float, float]:
    import pyarrow.csv as pacsv

    wall, cpu, _ = _timed(lambda: [pacsv.read_csv(path) for path in paths])
    return wall, cpu


def measure_etl_read(raw: Path) -> tuple[float, float]:
    """The ETL's reader alone: pyarrow, the SQL's columns as text, row numbers and flags."""
    import duckdb

    from fraudpipe.etl.raw import inspect_files, load_raw_rows

    con = duckdb.connect()
    wall, cpu, _ = _timed(lambda: load_raw_rows(con, inspect_files(raw)))
    con.close()
    return wall, cpu


def measure_etl(raw: Path, out: Path) -> tuple[float, float, dict[str, Any]]:
    from fraudpipe.etl.runner import run_etl

    params = {"raw_dir": str(raw),
              "outputs": {k: str(out / f"{k}.csv")
                          for k in ("training", "test", "batch", "quarantine")},
              "counts_path": str(out / "counts.json"),
              "batch": {"mode": "sample", "fraud_samples": 12, "legit_samples": 130, "seed": 42}}
    wall, cpu, summary = _timed(lambda: run_etl(params))
    return wall, cpu, summary


def _warm_up() -> None:
    """Import everything first so no step pays for module loading (nor for pyarrow.compute
    registering its kernels on first use, ~0.2 CPU s once per process)."""
    import boto3
    import duckdb  # noqa: F401
    import moto  # noqa: F401
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv

    import fraudpipe.data
    import fraudpipe.etl.local
    import fraudpipe.etl.runner  # noqa: F401

    boto3.client("glue", region_name="us-east-1")
    pc.equal(pa.array(["a"]), "a")


def _ratios(etl: list[float], read: list[float]) -> dict[str, float]:
    return {"of_bests": round(min(etl) / min(read), 2),
            "median_of_pairs": round(statistics.median(e / r for e, r in zip(etl, read,
                                                                              strict=True)), 2)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=5, help="pairs of read and ETL")
    args = parser.parse_args()
    _warm_up()

    loads = [os.getloadavg()[0]]
    with tempfile.TemporaryDirectory(prefix="bench-data-") as tmp:
        root = Path(tmp)
        from fraudpipe.workspace import get_workspace

        raw = get_workspace(root / "ws").local_path(RAW_URI)
        generation = measure_generation(raw, args.customers, args.seed)
        paths = sorted(raw.glob("*.csv"))
        crawl = measure_crawl(root / "ws")
        runs: dict[str, list[float]] = {k: [] for k in (
            "read_wall", "read_cpu", "etl_read_wall", "etl_read_cpu", "etl_wall", "etl_cpu")}
        summaries = []
        for run in range(args.repeat):
            if run % 2:  # odd pairs: the ETL first
                wall, cpu, summary = measure_etl(raw, root / f"out{run}")
            for key, value in zip(("read_wall", "read_cpu"), measure_pyarrow_read(paths),
                                  strict=True):
                runs[key].append(value)
            if not run % 2:
                wall, cpu, summary = measure_etl(raw, root / f"out{run}")
            runs["etl_wall"].append(wall)
            runs["etl_cpu"].append(cpu)
            summaries.append(summary)
            for key, value in zip(("etl_read_wall", "etl_read_cpu"), measure_etl_read(raw),
                                  strict=True):
                runs[key].append(value)
            loads.append(os.getloadavg()[0])
            shutil.rmtree(root / f"out{run}", ignore_errors=True)
    ratios = [e / r for e, r in zip(runs["etl_wall"], runs["read_wall"], strict=True)]
    median_pair = sorted(range(len(ratios)), key=ratios.__getitem__)[len(ratios) // 2]
    middle = summaries[median_pair]  # the steps of the pair with the median ratio
    figures = {
        "customers": args.customers,
        "rows": generation["rows"],
        "csv_megabytes": round(generation["bytes"] / 1e6, 1),
        "generation": generation,
        "crawl_seconds": round(crawl, 3),
        "pyarrow_read_seconds": _best(runs["read_wall"]),
        "pyarrow_read_cpu_seconds": _best(runs["read_cpu"]),
        "etl_reader_seconds": _best(runs["etl_read_wall"]),
        "etl_reader_cpu_seconds": _best(runs["etl_read_cpu"]),
        "etl_seconds": _best(runs["etl_wall"]),
        "etl_cpu_seconds": _best(runs["etl_cpu"]),
        "etl_to_read_ratio": _ratios(runs["etl_wall"], runs["read_wall"]),
        "etl_to_read_cpu_ratio": _ratios(runs["etl_cpu"], runs["read_cpu"]),
        "runs": {k: [round(v, 3) for v in values] for k, values in runs.items()},
        "pair_ratios": [round(r, 3) for r in ratios],
        "etl_step_seconds": middle.get("timings", {}),  # of the pair with the median ratio
        "etl_step_cpu_seconds": middle.get("cpu_timings", {}),
        "output_rows": middle.get("output_rows", {}),
        "machine": {"cpus": os.cpu_count(),
                    "load_average_1m": {"min": round(min(loads), 2),
                                        "max": round(max(loads), 2),
                                        "samples": [round(x, 2) for x in loads]}},
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
    table.add_column("wall s", justify="right")
    table.add_column("CPU s", justify="right")
    table.add_column("figure", justify="right")
    gen = f["generation"]
    table.add_row("generate (write_kaggle_files)", f"{gen['seconds']:.2f}", "",
                  f"{gen['rows_per_second']:,} rows/s")
    table.add_row("crawl (start -> READY)", f"{f['crawl_seconds']:.2f}", "", "")
    table.add_row("read only: pyarrow defaults", _pair(f["pyarrow_read_seconds"]),
                  _pair(f["pyarrow_read_cpu_seconds"]), "1.00x")
    table.add_row("read only: the ETL's reader", _pair(f["etl_reader_seconds"]),
                  _pair(f["etl_reader_cpu_seconds"]),
                  f"{f['etl_reader_seconds']['best'] / f['pyarrow_read_seconds']['best']:.2f}x")
    wall, cpu = f["etl_to_read_ratio"], f["etl_to_read_cpu_ratio"]
    table.add_row("ETL (4 files out + counts)", _pair(f["etl_seconds"]),
                  _pair(f["etl_cpu_seconds"]),
                  f"{wall['median_of_pairs']:.2f}x median of pairs (bests "
                  f"{wall['of_bests']:.2f}x; CPU {cpu['median_of_pairs']:.2f}x)")
    Console().print(table)
    print("ETL / read per pair (wall): " + ", ".join(f"{r:.2f}x" for r in f["pair_ratios"]))
    steps = ", ".join(f"{k} {v:.2f}/{f['etl_step_cpu_seconds'].get(k, 0):.2f}"
                      for k, v in f["etl_step_seconds"].items()
                      if max(v, f["etl_step_cpu_seconds"].get(k, 0)) >= 0.03)
    print(f"ETL steps of the median pair (wall/CPU s): {steps}")
    load = f["machine"]["load_average_1m"]
    print(f"machine: {f['machine']['cpus']} CPUs, load average {load['min']} - {load['max']} "
          "(target: ETL <= 1.5x the pyarrow read)")
    print(f"written: {OUTPUT.relative_to(ROOT)}")


def _pair(value: dict[str, float]) -> str:
    return f"{value['best']:.2f} / {value['median']:.2f}"


if __name__ == "__main__":
    raise SystemExit(main())

"""Benchmark of the built-in fraud engine on Kaggle-size generated data.

Generates the raw Kaggle-layout files (cached), runs the pipeline's ETL (DuckDB, full batch),
trains a model version through the engine as the pipeline does, then measures on the held-out
test file: ROC AUC, PR-AUC, recall at 1% FPR, measured FPR at scores 700 and 900, training
seconds, the one-time compile of the trees, batch scoring rows/s (compiled trees, warm cache)
and single-event scoring p50/p99.

    .venv/bin/python benchmarks/bench_engine.py [--customers 1000] [--events 2000]
    .venv/bin/python benchmarks/bench_engine.py --batch-only   # only batch scoring, fast

Prints a table and writes benchmarks/output/bench_engine.json (``--batch-only``:
bench_engine_batch.json); both record the wall and CPU seconds of each batch stage.
Wall-clock figures depend on what else runs on the machine; CPU seconds of the process
(``*_cpu_seconds``) and the 1-minute load average are recorded next to them so a busy machine
can be recognised.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from rich.console import Console
from rich.table import Table
from sklearn.metrics import average_precision_score, roc_auc_score

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from fraudpipe.data import DEFAULT_CUSTOMERS, write_kaggle_files  # noqa: E402
from fraudpipe.engine import BuiltinEngine  # noqa: E402
from fraudpipe.engine.dataset import read_csv_strings  # noqa: E402
from fraudpipe.engine.rules import default_rules  # noqa: E402
from fraudpipe.engine.scoring import Detector, score_batch  # noqa: E402
from fraudpipe.errors import ResourceNotFoundError  # noqa: E402
from fraudpipe.etl.runner import run_etl  # noqa: E402
from fraudpipe.workspace import Workspace, get_workspace  # noqa: E402

OUTPUT = ROOT / "benchmarks" / "output"
MODEL, DETECTOR = "fraud_model", "fraud_detector"
#: The generator's default period (two years, as the public data).
DEFAULT_START, DEFAULT_END = "2019-01-01", "2020-12-31"
TARGETS = {"roc_auc": ">= 0.999", "pr_auc": ">= 0.95", "batch_rows_per_s": ">= 200000",
           "single_event_p99_ms": "<= 5", "fpr_at_900": "~0.02", "fpr_at_700": "~0.05"}


def prepare(customers: int, seed: int, start: str = DEFAULT_START,
            end: str = DEFAULT_END) -> dict[str, Path]:
    """Raw files and ETL outputs for ``customers`` (cached under benchmarks/output/cache).

    Other seeds and date ranges check that a quality gain is not an accident of one data set.
    """
    period = "" if (start, end) == (DEFAULT_START, DEFAULT_END) else f"-{start}-{end}"
    cache = OUTPUT / "cache" / f"engine-{customers}-{seed}{period}"
    raw, etl = cache / "raw", cache / "etl"
    outputs = {name: etl / f"{name}.csv" for name in ("training", "test", "batch", "quarantine")}
    if not (raw / "fraudTest.csv").exists():
        write_kaggle_files(raw, customers=customers, seed=seed, start=start, end=end)
    if not outputs["batch"].exists():
        run_etl({"raw_dir": str(raw), "outputs": {k: str(v) for k, v in outputs.items()},
                 "batch": {"mode": "full"}})
    return outputs


def train(engine: BuiltinEngine, training: Path) -> tuple[dict, float, float]:
    """Train version 1.0 in a job thread; (record, wall seconds, CPU seconds of the process)."""
    began, cpu = time.perf_counter(), time.process_time()
    engine.put_model(MODEL)
    engine.create_model_version(MODEL, str(training))
    while (record := engine.get_model_version(MODEL, "1.0"))["status"] == "TRAINING_IN_PROGRESS":
        time.sleep(0.2)
    if record["status"] != "TRAINING_COMPLETE":
        raise SystemExit(f"training failed: {record['statusReason']}")
    return record, time.perf_counter() - began, time.process_time() - cpu


def quality(engine: BuiltinEngine, test: Path, batch_out: Path) -> dict[str, float]:
    """Test-file quality: ranking metrics from raw margins, FPR from calibrated scores."""
    frame = read_csv_strings(test)
    labels = (frame["EVENT_LABEL"] == "fraud").to_numpy()
    detector = engine.load_detector(DETECTOR)
    raw = detector.raw_margins(frame.drop(columns=["EVENT_LABEL"]))
    scores = pd.read_csv(batch_out, usecols=["MODEL_SCORES"])["MODEL_SCORES"].map(
        lambda text: json.loads(text)[MODEL]).to_numpy()
    legit_raw = np.sort(raw[~labels])
    at_1pct = legit_raw[int(np.floor(0.99 * (len(legit_raw) - 1)))]
    return {
        "test_rows": len(frame),
        "test_fraud_rate": round(float(labels.mean()), 5),
        "roc_auc": round(float(roc_auc_score(labels, raw)), 5),
        "pr_auc": round(float(average_precision_score(labels, raw)), 5),
        "recall_at_1pct_fpr": round(float(np.mean(raw[labels] > at_1pct)), 4),
        "fpr_at_700": round(float(np.mean(scores[~labels] > 700)), 4),
        "fpr_at_900": round(float(np.mean(scores[~labels] > 900)), 4),
        "tpr_at_900": round(float(np.mean(scores[labels] > 900)), 4),
    }


def realtime(engine: BuiltinEngine, test: Path, events: int) -> dict[str, float]:
    rows = pd.read_csv(test, dtype=str, keep_default_na=False, nrows=events)
    variables = list(rows.columns[:14])
    engine.get_event_prediction(DETECTOR, "warm-up", "2020-06-12T00:00:00Z", "1",
                                {"amt": "1.0"})
    latencies = []
    for row in rows.to_dict("records"):
        began = time.perf_counter()
        engine.get_event_prediction(DETECTOR, row["EVENT_ID"], row["EVENT_TIMESTAMP"],
                                    row["ENTITY_ID"], {v: row[v] for v in variables})
        latencies.append((time.perf_counter() - began) * 1000)
    values = np.array(latencies)
    return {"single_event_p50_ms": round(float(np.percentile(values, 50)), 3),
            "single_event_p99_ms": round(float(np.percentile(values, 99)), 3),
            "single_events": len(values)}


def usable(ws: Workspace) -> bool:
    """Whether a cached workspace holds a detector whose model has the current features."""
    if not ws.registry_dir.joinpath("detectors").exists():
        return True  # nothing trained yet: training fills it
    try:
        BuiltinEngine(ws).load_detector(DETECTOR)
    except ResourceNotFoundError:
        return False
    return True


def time_batch(detector: Detector, batch: Path, out: Path) -> tuple[dict, float, float]:
    """Score ``batch`` into ``out``: (summary, wall seconds, CPU seconds).

    The previous run's output is removed first: a pipeline execution writes a new file, and
    replacing an existing 200 MB file makes the file system free its blocks during the run.
    """
    out.unlink(missing_ok=True)
    began, cpu = time.perf_counter(), cpu_seconds()
    summary = score_batch(detector, batch, out)
    return summary, time.perf_counter() - began, cpu_seconds() - cpu


def batch_only(console: Console, detector: Detector, batch: Path, out: Path,
               figures: dict) -> None:
    """Time batch scoring alone (with each stage's seconds) and write bench_engine_batch.json."""
    summary, wall, cpu = time_batch(detector, batch, out)
    figures.update(batch_figures(summary, wall, cpu))
    figures["load_average_1m"] = round(os.getloadavg()[0], 2)
    print_table(console, figures, "fraud engine benchmark: batch scoring of the test file")
    (OUTPUT / "bench_engine_batch.json").write_text(json.dumps(figures, indent=2) + "\n")


def cpu_seconds() -> float:
    """CPU seconds of this process and its finished children."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def batch_figures(summary: dict, wall: float, cpu: float) -> dict:
    return {
        "batch_rows": summary["rows"],
        "batch_seconds": round(wall, 2),
        "batch_rows_per_s": round(summary["rows"] / wall),
        "batch_cpu_seconds": round(cpu, 2),
        "batch_rows_per_cpu_s": round(summary["rows"] / cpu),
        "batch_stage_seconds": summary.get("stage_seconds", {}),
        "batch_stage_cpu_seconds": summary.get("stage_cpu_seconds", {}),
    }


def print_table(console: Console, figures: dict, title: str) -> None:
    table = Table(title=title)
    table.add_column("figure")
    table.add_column("value", justify="right")
    table.add_column("target")
    for key, value in figures.items():
        if isinstance(value, dict):
            for stage, seconds in value.items():
                table.add_row(f"{key.removesuffix('_seconds')}.{stage}", str(seconds), "")
            continue
        table.add_row(key, str(value), TARGETS.get(key, ""))
    console.print(table)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=DEFAULT_CUSTOMERS)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--start", default=DEFAULT_START, help="first day of the generated data")
    parser.add_argument("--end", default=DEFAULT_END, help="last day of the generated data")
    parser.add_argument("--events", type=int, default=2000, help="single events to time")
    parser.add_argument("--reuse", action="store_true",
                        help="keep the trained workspace in the cache and reuse it (re-measure "
                             "scoring without training again)")
    parser.add_argument("--batch-only", action="store_true",
                        help="only batch scoring, on the cached trained workspace (trained "
                             "first when missing or trained with other features)")
    args = parser.parse_args()
    args.reuse = args.reuse or args.batch_only
    os.environ.setdefault("FRAUDPIPE_JOB_MODE", "thread")
    console = Console()
    load_at_start = round(os.getloadavg()[0], 2)
    console.print(f"preparing data for {args.customers} customers ...")
    files = prepare(args.customers, args.seed, args.start, args.end)
    if args.reuse:
        ws = get_workspace(files["training"].parent.parent / "workspace")
        for leftover in ws.registry_dir.glob("entity_store.sqlite*"):
            leftover.unlink()
    else:
        ws = get_workspace(tempfile.mkdtemp(prefix="bench-engine-"))
    if args.reuse and not usable(ws):
        shutil.rmtree(ws.root)
        ws = get_workspace(ws.root)
    engine = BuiltinEngine(ws)
    if args.reuse and ws.registry_dir.joinpath("detectors").exists():
        console.print("reusing the trained model version 1.0")
        record, wall, cpu = engine.get_model_version(MODEL, "1.0"), float("nan"), float("nan")
    else:
        console.print("training ...")
        record, wall, cpu = train(engine, files["training"])
        engine.update_model_version_status(MODEL, "1.0", "ACTIVE")
        engine.create_detector_version(
            DETECTOR, [{"modelId": MODEL, "modelVersionNumber": "1.0"}], default_rules(MODEL))
        engine.update_detector_version_status(DETECTOR, "1", "ACTIVE")
    metrics = record["trainingResult"]["metrics"]
    console.print("compiling the trees (once per model version, cached on disk) ...")
    detector = engine.load_detector(DETECTOR)
    began, compile_cpu = time.perf_counter(), time.process_time()
    compiled = detector.models[0].artifact.compiled() is not None
    compile_seconds = time.perf_counter() - began
    compile_cpu = time.process_time() - compile_cpu
    console.print("batch scoring the full test file ...")
    out = ws.root / "batch_out.csv"
    OUTPUT.mkdir(parents=True, exist_ok=True)
    if args.batch_only:
        batch_only(console, detector, files["batch"], out, {
            "customers": args.customers, "trees": detector.models[0].artifact.booster.num_trees(),
            "compiled_trees": compiled, "compile_seconds": round(compile_seconds, 2),
            "cpu_count": os.cpu_count(), "load_average_1m_at_start": load_at_start})
        engine.close()
        return
    summary, batch_seconds, batch_cpu = time_batch(detector, files["batch"], out)
    console.print("measuring quality and single-event latency ...")
    figures = {
        "customers": args.customers,
        "seed": args.seed,
        "period": f"{args.start}..{args.end}",
        "training_rows": sum(json.loads((engine.registry.version_dir(MODEL, "1.0")
                                         / "metadata.json").read_text())["rows"].values()),
        "validation_auc": metrics["auc"],
        "validation_pr_auc": metrics["pr_auc"],
        **quality(engine, files["test"], out),
        "training_seconds": metrics["training_seconds"],
        "training_wall_seconds": round(wall, 2),
        "training_cpu_seconds": round(cpu, 2),
        "trees": detector.models[0].artifact.booster.num_trees(),
        "compiled_trees": compiled,
        "compile_seconds": round(compile_seconds, 2),
        "compile_cpu_seconds": round(compile_cpu, 2),
        **batch_figures(summary, batch_seconds, batch_cpu),
        **realtime(engine, files["test"], args.events),
        "cpu_count": os.cpu_count(),
        "load_average_1m_at_start": load_at_start,
        "load_average_1m": round(os.getloadavg()[0], 2),
    }
    print_table(console, figures, "fraud engine benchmark (held-out test file)")
    # another data set's figures go next to the default ones, never over them
    default = (args.customers, args.seed, args.start, args.end) == (
        DEFAULT_CUSTOMERS, 0, DEFAULT_START, DEFAULT_END)
    name = "bench_engine" if default else (
        f"bench_engine-{args.customers}-{args.seed}-{args.start}-{args.end}")
    (OUTPUT / f"{name}.json").write_text(json.dumps(figures, indent=2) + "\n")
    engine.close()


if __name__ == "__main__":
    main()

"""Response times of the console's pages for a workspace with 1,000 executions.

What it does:
1. writes ``--executions`` execution histories (default 1,000) in the runtime's on-disk shape
   (``execution.json`` + ``events.jsonl`` of a whole pipeline run, ~50-100 events each, mixed
   SUCCEEDED / FAILED / caught, the newest three RUNNING), plus one long execution whose
   polling loop ran ``--long-loops`` times (a few thousand events);
2. starts the ``fraudpipe serve`` app (``fraudpipe.server.create_app``) under uvicorn in a
   second process on 127.0.0.1 (real HTTP);
3. requests each page ``--repeat`` times over one keep-alive connection (after one cold
   request, which reads every ``execution.json`` once) and prints the median, p95 and max
   latency per page, writing them to ``benchmarks/output/bench_console.json``.

    .venv/bin/python benchmarks/bench_console.py
    .venv/bin/python benchmarks/bench_console.py --executions 5000 --repeat 50
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import httpx
from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
OUTPUT = ROOT / "benchmarks" / "output" / "bench_console.json"
BUDGET_MS = 200.0
OUTCOMES = ("succeeded", "succeeded", "failed", "caught", "succeeded")
RUNNING = 3  # executions still running (the newest ones)


def prepare_workspace(root: Path, executions: int, long_loops: int) -> dict[str, str]:
    """Write the histories; returns names of one execution per kind for the page requests."""
    from fraudpipe.workspace import get_workspace
    from tests.console.fakes import T0, HistoryWriter, pipeline_run

    ws = get_workspace(root)
    picks: dict[str, str] = {}
    for index in range(executions):
        outcome = "running" if index >= executions - RUNNING else OUTCOMES[index % len(OUTCOMES)]
        name = f"run-{index:05d}-{outcome}"
        pipeline_run(name, outcome, start=T0 + timedelta(minutes=index)).save(ws)
        picks.setdefault(outcome, name)
    long = HistoryWriter("long-training-loop", start=T0 - timedelta(days=1))
    long.task("StartCrawler")
    for _ in range(long_loops):
        long.passing("WaitForTraining", "Wait")
        long.task("GetTrainingStatus", {"training": {"status": "TRAINING_IN_PROGRESS"}})
        long.passing("TrainingDone?", "Choice")
    long.succeed("Done")
    long.save(ws)
    picks["long"] = long.name
    return picks


def start_server(root: Path, port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "FRAUDPIPE_HOME": str(root), "POWERTOOLS_LOG_LEVEL": "WARNING"}
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--factory", "fraudpipe.server:create_app",
         "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"],
        env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the server exited: {server.stderr.read().decode()[-2000:]}")
        try:
            httpx.get(f"http://127.0.0.1:{port}/console-static/console.css", timeout=1)
            return server
        except httpx.HTTPError:
            time.sleep(0.1)
    server.kill()
    raise RuntimeError("the server did not start listening within 60 s")


def pages(picks: dict[str, str]) -> dict[str, str]:
    return {
        "executions list (page 1)": "/",
        "executions list, FAILED filter": "/?status=FAILED",
        "executions list, page 10": "/?page=10",
        "list refresh (JSON)": "/console/api/executions",
        "execution, succeeded": f"/executions/{picks['succeeded']}",
        "execution, failed + state": f"/executions/{picks['failed']}?state=StartEtl",
        "execution live (JSON)": f"/console/api/executions/{picks['running']}/live",
        "state details": f"/console/api/executions/{picks['succeeded']}/states/GetTrainingStatus",
        "execution, long loop": f"/executions/{picks['long']}",
        "start form": "/start",
        "models and detectors": "/models",
    }


def measure(base: str, paths: dict[str, str], repeat: int) -> list[dict[str, object]]:
    rows = []
    with httpx.Client(base_url=base, timeout=30) as client:
        for label, path in paths.items():
            started = time.perf_counter()
            first = client.get(path)
            cold = (time.perf_counter() - started) * 1000
            first.raise_for_status()
            times = []
            for _ in range(repeat):
                started = time.perf_counter()
                client.get(path).raise_for_status()
                times.append((time.perf_counter() - started) * 1000)
            times.sort()
            rows.append({
                "page": label, "path": path, "bytes": len(first.content),
                "first_ms": round(cold, 1), "median_ms": round(statistics.median(times), 1),
                "p95_ms": round(times[max(0, int(0.95 * len(times)) - 1)], 1),
                "max_ms": round(times[-1], 1),
            })
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--executions", type=int, default=1000)
    parser.add_argument("--long-loops", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()

    from tests.console.live import free_port

    with tempfile.TemporaryDirectory(prefix="bench-console-") as tmp:
        root = Path(tmp) / "ws"
        started = time.perf_counter()
        picks = prepare_workspace(root, args.executions, args.long_loops)
        setup_s = time.perf_counter() - started
        port = free_port()
        server = start_server(root, port)
        try:
            rows = measure(f"http://127.0.0.1:{port}", pages(picks), args.repeat)
        finally:
            server.send_signal(signal.SIGINT)
            try:
                server.wait(10)
            except subprocess.TimeoutExpired:
                server.kill()
        events = sum(1 for _ in (root / "executions" / picks["long"] / "events.jsonl").open())

    table = Table(title=f"Console pages, {args.executions} executions in the workspace "
                        f"({args.repeat} requests each after the first; budget {BUDGET_MS:.0f} ms)")
    for column in ("page", "first ms", "median ms", "p95 ms", "max ms", "KB", "within budget"):
        table.add_column(column, justify="left" if column == "page" else "right")
    for row in rows:
        ok = "yes" if float(row["p95_ms"]) < BUDGET_MS else "NO"
        table.add_row(str(row["page"]), f"{row['first_ms']:.1f}", f"{row['median_ms']:.1f}",
                      f"{row['p95_ms']:.1f}", f"{row['max_ms']:.1f}",
                      f"{int(row['bytes']) / 1024:.0f}", ok)
    console = Console(width=132)
    console.print(table)
    console.print(f"workspace written in {setup_s:.1f} s; the long execution has {events} events")
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text(json.dumps({
        "executions": args.executions, "repeat": args.repeat, "budget_ms": BUDGET_MS,
        "long_execution_events": events, "cpus": os.cpu_count(), "pages": rows,
    }, indent=2) + "\n")
    console.print(f"figures written to {OUTPUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()

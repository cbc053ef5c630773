"""Per-state overhead of the local runtime, and per-state durations of a full pipeline run.

What it measures:
1. **Overhead per state**: state machines of N trivial states (``Pass`` only; ``Task`` only, whose
   handler returns ``{}`` at once; and the ``Task -> Choice -> Wait(0)`` shape of a poll loop) run
   on the local runtime with history persisted live, as in real use. The figure is the time from
   the ``ExecutionStarted`` event to the terminal event divided by the number of states, i.e.
   everything but the handler's own work: moto's interpreter, the in-process Lambda invoke
   through boto3 and moto, and writing every event to ``events.jsonl``. Target: <= 20 ms/state.
   One-off costs (starting moto, creating the Lambdas, parsing the definition) are reported
   apart.
2. **A full run**: the durations per state (visits, total, mean) of one execution's history,
   either an existing one (``--from-execution NAME``, e.g. the last ``fraudpipe demo``) or a
   fresh ``fraudpipe demo`` run (``--demo``, Kaggle-size data, several minutes).

Figures go to ``benchmarks/output/bench_runtime.json``.

    .venv/bin/python benchmarks/bench_runtime.py                      # overhead only
    .venv/bin/python benchmarks/bench_runtime.py --from-execution NAME
    .venv/bin/python benchmarks/bench_runtime.py --demo
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
OUTPUT = ROOT / "benchmarks" / "output" / "bench_runtime.json"
HANDLER = "benchmarks.bench_runtime.noop_handler"
PAYLOAD = {"execution_name.$": "$$.Execution.Name", "input.$": "$"}


def noop_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The cheapest possible task: the runtime's overhead is all that is left."""
    return {}


def chain(kind: str, n: int) -> dict[str, Any]:
    """N states of one shape, chained."""
    states: dict[str, Any] = {}
    names = [f"S{i}" for i in range(n)]
    for i, name in enumerate(names):
        nxt = {"Next": names[i + 1]} if i + 1 < n else {"End": True}
        if kind == "pass":
            states[name] = {"Type": "Pass", **nxt}
        elif kind == "task":
            states[name] = {"Type": "Task", "Resource": "${NoopFunctionArn}",
                            "Parameters": PAYLOAD, "ResultPath": "$.r", **nxt}
        else:  # poll: Task -> Choice -> Wait(0), three states per step
            check, wait = f"{name}Done?", f"{name}Wait"
            states[name] = {"Type": "Task", "Resource": "${NoopFunctionArn}",
                            "Parameters": PAYLOAD, "ResultPath": "$.r", "Next": check}
            states[check] = {"Type": "Choice", "Default": wait, "Choices": [
                {"Variable": "$.r.never", "IsPresent": True, "Next": wait}]}
            states[wait] = {"Type": "Wait", "Seconds": 0, **nxt}
    return {"StartAt": names[0], "States": states}


def _seconds(events: list[dict[str, Any]]) -> float:
    from fraudpipe.local.summary import parse_timestamp

    start, end = parse_timestamp(events[0]["timestamp"]), parse_timestamp(events[-1]["timestamp"])
    assert start and end
    return (end - start).total_seconds()


def overhead(sizes: list[int], repeats: int) -> list[dict[str, Any]]:
    from fraudpipe.local.runtime import LocalRuntime
    from fraudpipe.workspace import get_workspace

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        ws = get_workspace(tmp)
        for kind in ("pass", "task", "poll"):
            for n in sizes:
                definition = chain(kind, n)
                states = len(definition["States"])
                with LocalRuntime(ws, definition=definition,
                                  functions={"NoopFunctionArn": HANDLER}) as runtime:
                    began = time.perf_counter()
                    runtime.run({}, timeout=600)  # warm-up: Lambdas, state machine, parsing
                    setup = time.perf_counter() - began
                    per_state, walls = [], []
                    for _ in range(repeats):
                        began = time.perf_counter()
                        record = runtime.run({}, timeout=600)
                        walls.append(time.perf_counter() - began)
                        assert record["status"] == "SUCCEEDED", record
                        per_state.append(_seconds(runtime.events(record["name"])) / states)
                rows.append({
                    "kind": kind, "states": states,
                    "ms_per_state": round(statistics.median(per_state) * 1000, 2),
                    "ms_per_state_max": round(max(per_state) * 1000, 2),
                    "wall_ms_per_execution": round(statistics.median(walls) * 1000, 1),
                    "first_execution_s": round(setup, 2),
                })
    return rows


def run_demo() -> str:
    """Run ``fraudpipe demo --json`` in a subprocess; the execution's name."""
    result = subprocess.run([sys.executable, "-m", "fraudpipe.cli", "demo", "--json"],
                            capture_output=True, text=True, cwd=ROOT,
                            env={**os.environ, "POWERTOOLS_LOG_LEVEL": "WARNING"})
    lines = [line for line in result.stdout.splitlines() if line.startswith('{"execution"')]
    if not lines:
        raise SystemExit(f"demo failed:\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}")
    return json.loads(lines[-1])["execution"]


def execution_durations(name: str) -> dict[str, Any]:
    from fraudpipe.local.history import ExecutionStore
    from fraudpipe.local.summary import state_runs
    from fraudpipe.workspace import get_workspace

    store = ExecutionStore(get_workspace())
    record = store.describe(name)
    events = store.events(name)
    per_state: dict[str, list[float]] = defaultdict(list)
    for run in state_runs(events, record["status"]):
        if run["seconds"] is not None:
            per_state[run["name"]].append(run["seconds"])
    rows = [{"state": state, "visits": len(v), "total_s": round(sum(v), 2),
             "mean_s": round(sum(v) / len(v), 3)} for state, v in per_state.items()]
    return {"execution": name, "status": record["status"],
            "total_s": round(_seconds(events), 1), "states": rows}


def _print_overhead(rows: list[dict[str, Any]]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="local runtime overhead per state (handler work excluded)")
    for column in ("shape", "states", "ms/state (median)", "ms/state (max)",
                   "ms/execution (wall)", "first execution s"):
        table.add_column(column, justify="right")
    for row in rows:
        table.add_row(row["kind"], str(row["states"]), f"{row['ms_per_state']:.2f}",
                      f"{row['ms_per_state_max']:.2f}", f"{row['wall_ms_per_execution']:.0f}",
                      f"{row['first_execution_s']:.2f}")
    Console().print(table)


def _print_durations(data: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{data['execution']} ({data['status']}, {data['total_s']} s)")
    for column in ("state", "visits", "total s", "mean s"):
        table.add_column(column, justify="left" if column == "state" else "right")
    for row in data["states"]:
        table.add_row(row["state"], str(row["visits"]), f"{row['total_s']:.2f}",
                      f"{row['mean_s']:.3f}")
    Console().print(table)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 50])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--from-execution", help="durations of this execution's history")
    parser.add_argument("--demo", action="store_true", help="run `fraudpipe demo` and report it")
    parser.add_argument("--skip-overhead", action="store_true")
    args = parser.parse_args()
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")

    previous = json.loads(OUTPUT.read_text()) if OUTPUT.exists() else {}
    figures: dict[str, Any] = {"target_ms_per_state": 20}
    if not args.skip_overhead:
        figures["overhead"] = overhead(args.sizes, args.repeats)
        _print_overhead(figures["overhead"])
    elif "overhead" in previous:
        figures["overhead"] = previous["overhead"]
    name = run_demo() if args.demo else args.from_execution
    if name:
        figures["full_run"] = execution_durations(name)
        _print_durations(figures["full_run"])
    elif "full_run" in previous:
        figures["full_run"] = previous["full_run"]
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text(json.dumps(figures, indent=2) + "\n")
    print(f"wrote {OUTPUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()

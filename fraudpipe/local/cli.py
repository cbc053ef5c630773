"""Local execution commands: ``demo``, ``run``, ``start``, ``executions``, ``redrive``, ``asl``,
``schedule`` and ``scheduler``, added to the main ``fraudpipe`` app by :func:`register`.

Thin by design: parse, call :mod:`fraudpipe.local.runtime` (or ``deploy.operations`` with
``--stack``), print with :mod:`fraudpipe.local.render`. Exit codes: 0 succeeded, 1 the execution
did not succeed, 2 refused input (nothing started).
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from fraudpipe.errors import FraudpipeError, InputValidationError
from fraudpipe.workspace import Workspace, get_workspace

__all__ = ["register"]

StackOpt = Annotated[
    str | None, typer.Option("--stack", help="Act on the deployed stack on AWS instead.")
]
RegionOpt = Annotated[str | None, typer.Option("--region", help="AWS region (with --stack).")]
#: poll intervals of ``fraudpipe demo`` (seconds; the defaults are 5/10/30/10/60)
DEMO_POLL_SECONDS = {"crawler": 2, "etl": 3, "training": 5, "batch": 3, "simultaneous_training": 30}
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object on stdout.")]


def _console(to_stderr: bool) -> Console:
    return Console(stderr=to_stderr, highlight=False, soft_wrap=True)


def parse_input(text: str | None) -> dict[str, Any]:
    """``--input``: inline JSON (starts with ``{``) or a path to a JSON file."""
    from statemachines.inputs import parse_input_text

    if text is None or not text.strip():
        return {}
    if text.lstrip().startswith("{"):
        return parse_input_text(text, source="--input")
    path = Path(text)
    if not path.is_file():
        raise InputValidationError([f"(input): no such file {text!r} (and not inline JSON)"])
    return parse_input_text(path.read_text(encoding="utf-8"), source=str(path))


def _refuse(error: InputValidationError) -> typer.Exit:
    err = _console(True)
    err.print("[red]execution input refused; nothing was started:[/]")
    for problem in error.problems:
        err.print(f"  {problem}", markup=False)
    return typer.Exit(2)


def follow(
    runtime: Any, name: str, console: Console, quiet: bool = False, offset: int = 0
) -> dict[str, Any]:
    """Print each state as it starts and ends until the execution stops; the final record.

    Reads only what was appended to ``events.jsonl`` since the last look (``offset`` bytes).
    """
    from fraudpipe.local.render import event_line

    entered_at: dict[str, str] = {}
    while True:
        record = runtime.describe(name)
        events, offset = runtime.store.events_since(name, offset)
        for event in events:
            line = event_line(event, entered_at)
            if line and not quiet:
                console.print(line)
        if record["status"] != "RUNNING":
            return record
        time.sleep(0.1)


def _quiet_handler_logs() -> None:
    """Handlers log JSON lines (CloudWatch-style); on a terminal only warnings and errors,
    unless ``POWERTOOLS_LOG_LEVEL`` says otherwise, so ``--json`` output stays parseable."""
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")


def _summary(ws: Workspace, runtime: Any, record: dict[str, Any]) -> dict[str, Any]:
    from fraudpipe.local.summary import summarize

    review = None
    try:
        from fraudpipe.review.resume import review_summary

        review = review_summary(ws, record["name"])
    except Exception:  # review bookkeeping is optional for the summary
        review = None
    summary = summarize(record, runtime.events(record["name"]), review)
    for key in ("batch_output",):  # locally, a path one can open
        if isinstance(summary.get(key), str) and summary[key].startswith("s3://"):
            summary[key] = str(ws.local_path(summary[key]))
    return summary


def _print_summary(summary: dict[str, Any], as_json: bool, console: Console) -> None:
    from fraudpipe.local.render import summary_lines

    if as_json:
        print(json.dumps(summary, default=str))
        return
    console.print()
    for line in summary_lines(summary):
        console.print(line)


def _run(
    input_text: str | None,
    raw_dir: Path | None,
    as_json: bool,
    name: str | None,
    customers: int | None,
    quiet: bool = False,
) -> None:
    from fraudpipe.local.rawdata import ensure_raw_data
    from fraudpipe.local.runtime import LocalRuntime
    from statemachines.inputs import validate_input

    console = _console(as_json)
    _quiet_handler_logs()
    try:
        data = validate_input(parse_input(input_text))
    except InputValidationError as exc:
        raise _refuse(exc) from exc
    ws = get_workspace()
    if not quiet:
        console.print("[dim]preparing raw data (generated once if missing, then reused)...[/]")
    try:
        folder, how = ensure_raw_data(ws, data["bucket"], data["raw_prefix"], raw_dir, customers)
    except FraudpipeError as exc:
        console.print(f"[red]{exc}[/]")
        raise typer.Exit(2) from exc
    if not quiet:
        console.print(f"[dim]raw data: {folder} ({how})[/]")
    with LocalRuntime(ws) as runtime:
        name = runtime.start_execution(data, name=name)
        if not quiet:
            console.print(f"execution [bold]{name}[/]")
        record = follow(runtime, name, console, quiet)
        summary = _summary(ws, runtime, record)
    _print_summary(summary, as_json, console)
    raise typer.Exit(0 if record["status"] == "SUCCEEDED" else 1)


# --- commands ------------------------------------------------------------------------------------
def run_command(
    input: Annotated[
        str | None, typer.Option("--input", help="Execution input: a JSON file or inline JSON.")
    ] = None,
    raw_dir: Annotated[
        Path | None,
        typer.Option("--raw-dir", help="Folder with fraudTrain.csv and fraudTest.csv (Kaggle)."),
    ] = None,
    as_json: JsonOpt = False,
    name: Annotated[str | None, typer.Option("--name", help="Execution name.")] = None,
    customers: Annotated[
        int | None,
        typer.Option("--customers", min=1, help="Generate this many cards if data is missing."),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", help="No progress lines.")] = False,
) -> None:
    """Run the pipeline locally, end to end, showing each state; then print a summary."""
    _run(input, raw_dir, as_json, name, customers, quiet)


def demo_command(
    customers: Annotated[
        int | None,
        typer.Option("--customers", min=1, help="Cards to simulate (default ~1.85M rows)."),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Generate Kaggle-size data once (reused afterwards) and run the pipeline with defaults.

    Only the poll intervals differ from a plain ``run``: polling is cheap locally, so the demo
    checks its jobs more often than the AWS-friendly defaults.
    """
    _run(json.dumps({"poll_seconds": DEMO_POLL_SECONDS}), None, as_json, None, customers)


def start_command(
    input: Annotated[str | None, typer.Option("--input", help="JSON file or inline JSON.")] = None,
    name: Annotated[str | None, typer.Option("--name")] = None,
    stack: StackOpt = None,
    region: RegionOpt = None,
) -> None:
    """Start an execution and return at once (prints its name), like StartExecution."""
    from statemachines.inputs import validate_input

    try:
        data = parse_input(input)
        if stack:
            from deploy.operations import start_execution

            typer.echo(start_execution(stack, region, data, name=name))
            return
        data = validate_input(data)
    except InputValidationError as exc:
        raise _refuse(exc) from exc
    from fraudpipe.local.background import start_in_background

    try:
        started = start_in_background(get_workspace(), data, name, detach=True)
    except FraudpipeError as exc:
        _console(True).print(f"[red]{exc}[/]")
        raise typer.Exit(2) from exc
    typer.echo(started.name)


def executions_list(
    stack: StackOpt = None,
    region: RegionOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """List executions, newest first."""
    from fraudpipe.local.render import executions_table

    if stack:
        from deploy.operations import list_executions

        records = list_executions(stack, region)
    else:
        from fraudpipe.local.runtime import LocalRuntime

        records = LocalRuntime(get_workspace()).list_executions()
    if as_json:
        print(json.dumps(records, default=str))
    else:
        _console(False).print(executions_table(records))


def executions_show(
    name: str, stack: StackOpt = None, region: RegionOpt = None, as_json: JsonOpt = False
) -> None:
    """One execution: status, states with durations, model, metrics, outputs, error."""
    from fraudpipe.local.render import states_table, summary_lines

    if stack:
        from deploy.operations import describe_execution

        typer.echo(json.dumps(describe_execution(stack, region, name), default=str, indent=2))
        return
    from fraudpipe.local.runtime import LocalRuntime

    ws = get_workspace()
    runtime = LocalRuntime(ws)
    try:
        record = runtime.describe(name)
    except FraudpipeError as exc:
        _console(True).print(f"[red]{exc}[/]")
        raise typer.Exit(1) from exc
    summary = _summary(ws, runtime, record)
    if as_json:
        print(json.dumps({**summary, "input": record.get("input")}, default=str))
        return
    console = _console(False)
    console.print(states_table(summary["states"]))
    for line in summary_lines(summary):
        console.print(line)


def redrive_command(
    name: str, stack: StackOpt = None, region: RegionOpt = None, as_json: JsonOpt = False
) -> None:
    """Re-run a failed, timed-out or aborted execution from the state that did not succeed."""
    if stack:
        from deploy.operations import redrive_execution

        typer.echo(json.dumps(redrive_execution(stack, region, name), default=str))
        return
    from fraudpipe.local.runtime import LocalRuntime

    ws = get_workspace()
    console = _console(as_json)
    _quiet_handler_logs()
    with LocalRuntime(ws) as runtime:
        try:
            runtime.redrive(name)
        except FraudpipeError as exc:
            console.print(f"[red]{exc}[/]")
            raise typer.Exit(2) from exc
        record = runtime.describe(name)
        console.print(
            f"redriving [bold]{name}[/] from {record.get('redrive_from')} "
            f"(redrive #{record.get('redrive_count')})"
        )
        offset = runtime.store.events_path(name).stat().st_size
        record = follow(runtime, name, console, offset=offset)
        summary = _summary(ws, runtime, record)
    _print_summary(summary, as_json, console)
    raise typer.Exit(0 if record["status"] == "SUCCEEDED" else 1)


def asl_command(
    write: Annotated[bool, typer.Option("--write", help="Regenerate pipeline.asl.json.")] = False,
) -> None:
    """Print the state machine definition (ASL) built by statemachines/pipeline.py."""
    from statemachines.pipeline import definition_json, write_definition

    if write:
        typer.echo(f"wrote {write_definition()}")
        return
    sys.stdout.write(definition_json())


def register(app: typer.Typer) -> None:
    """Add this area's commands to ``app``."""
    from fraudpipe.local.schedule_cli import register as register_schedules

    app.command("demo")(demo_command)
    app.command("run")(run_command)
    app.command("start")(start_command)
    app.command("redrive")(redrive_command)
    app.command("asl")(asl_command)
    executions = typer.Typer(
        help="Executions of the pipeline (local, or --stack on AWS).", no_args_is_help=True
    )
    executions.command("list")(executions_list)
    executions.command("show")(executions_show)
    app.add_typer(executions, name="executions")
    register_schedules(app)

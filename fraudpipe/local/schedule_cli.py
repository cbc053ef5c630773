"""``fraudpipe schedule add|list|remove`` and ``fraudpipe scheduler`` (thin: parse, call, print)."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from fraudpipe.errors import InputValidationError
from fraudpipe.workspace import get_workspace

__all__ = ["register"]


def schedule_add(
    name: str,
    cron: Annotated[str, typer.Option("--cron", help="Cron expression (UTC), e.g. '0 2 * * *'.")],
    input: Annotated[
        str | None, typer.Option("--input", help="Execution input: JSON file or inline JSON.")
    ] = None,
) -> None:
    """Add a schedule that starts the pipeline with INPUT at each CRON tick."""
    from fraudpipe.local.cli import parse_input
    from fraudpipe.local.scheduler import ScheduleError, ScheduleStore
    from statemachines.inputs import validate_input

    try:
        data = parse_input(input)
        entry = ScheduleStore(get_workspace()).add(name, cron, data, validate=validate_input)
    except InputValidationError as exc:
        for problem in exc.problems:
            typer.echo(f"  {problem}", err=True)
        raise typer.Exit(2) from exc
    except ScheduleError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from exc
    next_run = ScheduleStore(get_workspace()).next_run(entry)
    typer.echo(f"schedule {name} added: {cron} (next {next_run.isoformat()})")


def schedule_list(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """List schedules with their next run."""
    from fraudpipe.local.scheduler import ScheduleStore

    store = ScheduleStore(get_workspace())
    rows = [
        {
            "name": n,
            "cron": e["cron"],
            "last_tick": e.get("last_tick"),
            "next_run": store.next_run(e).isoformat(),
            "input": e.get("input"),
        }
        for n, e in sorted(store.load().items())
    ]
    if as_json:
        print(json.dumps(rows))
        return
    table = Table(title="schedules")
    for column in ("name", "cron", "last tick", "next run"):
        table.add_column(column)
    for row in rows:
        table.add_row(row["name"], row["cron"], row["last_tick"] or "-", row["next_run"])
    Console().print(table)


def schedule_remove(name: str) -> None:
    """Remove a schedule."""
    from fraudpipe.local.scheduler import ScheduleError, ScheduleStore

    try:
        ScheduleStore(get_workspace()).remove(name)
    except ScheduleError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from exc
    typer.echo(f"schedule {name} removed")


def scheduler_command(
    interval: Annotated[
        float, typer.Option("--interval", min=0.1, help="Seconds between checks.")
    ] = 5.0,
) -> None:
    """Run schedules in the foreground: start due executions (Ctrl-C stops)."""
    from fraudpipe.local.runtime import LocalRuntime
    from fraudpipe.local.scheduler import Scheduler

    console = Console(highlight=False)
    ws = get_workspace()
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")  # handler logs: warnings only
    with LocalRuntime(ws) as runtime:

        def start(data: dict[str, Any], name: str) -> str:
            started = runtime.start_execution(data, name=name)
            console.print(f"{datetime.now(UTC):%Y-%m-%dT%H:%M:%SZ} started {started}")
            return started

        console.print(f"scheduler on {ws.schedules_file} (every {interval}s; Ctrl-C to stop)")
        try:
            Scheduler(ws, start).run_forever(interval)
        except KeyboardInterrupt:
            console.print("scheduler stopped")


def register(app: typer.Typer) -> None:
    schedule = typer.Typer(help="Cron schedules that start executions.", no_args_is_help=True)
    schedule.command("add")(schedule_add)
    schedule.command("list")(schedule_list)
    schedule.command("remove")(schedule_remove)
    app.add_typer(schedule, name="schedule")
    app.command("scheduler")(scheduler_command)

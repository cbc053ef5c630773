"""Pure formatting for the local CLI: lines and rich tables from records, events and summaries.

Kept apart from the commands so they stay thin (parse, call, print) and so the formatting is
testable without a terminal.
"""

from __future__ import annotations

from typing import Any

from rich.table import Table

__all__ = ["event_line", "executions_table", "states_table", "summary_lines"]

_STYLE = {
    "SUCCEEDED": "green",
    "FAILED": "red",
    "ABORTED": "yellow",
    "TIMED_OUT": "red",
    "RUNNING": "cyan",
}


def _styled(status: str | None) -> str:
    status = status or "?"
    return f"[{_STYLE.get(status, 'white')}]{status}[/]"


def event_line(event: dict[str, Any], entered_at: dict[str, str]) -> str | None:
    """A progress line for a state start or end (None for other events)."""
    from fraudpipe.local.summary import parse_timestamp

    kind = str(event.get("type", ""))
    if kind.endswith("StateEntered"):
        name = (event.get("stateEnteredEventDetails") or {}).get("name", "?")
        entered_at[name] = event.get("timestamp", "")
        if kind == "FailStateEntered":
            return f"[red]✗ {name}[/]"
        return f"[dim]▶ {name}[/]"
    if kind.endswith("StateExited"):
        name = (event.get("stateExitedEventDetails") or {}).get("name", "?")
        start, end = parse_timestamp(entered_at.get(name)), parse_timestamp(event.get("timestamp"))
        seconds = f"{(end - start).total_seconds():.2f}s" if start and end else ""
        return f"[green]✓[/] {name} [dim]{seconds}[/]"
    if kind in ("ExecutionFailed", "ExecutionAborted", "ExecutionTimedOut"):
        details = next((v for k, v in event.items() if k.endswith("EventDetails")), {}) or {}
        return f"[red]{kind}[/] {details.get('error') or ''}"
    if kind == "ExecutionRedriven":
        count = (event.get("executionRedrivenEventDetails") or {}).get("redriveCount")
        return f"[yellow]↻ redrive #{count}[/]"
    return None


def _fmt(value: Any, digits: int = 4) -> str:
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return "-" if value is None else str(value)


def summary_lines(summary: dict[str, Any]) -> list[str]:
    """The run summary as rich-markup lines."""
    metrics = summary.get("metrics") or {}
    review = summary.get("review") or {}
    lines = [
        f"execution     {summary.get('execution')}",
        f"status        {_styled(summary.get('status'))}",
    ]
    if summary.get("error"):
        lines.append(f"error         {summary['error']}")
        lines.append(f"cause         {str(summary.get('cause') or '')[:500]}")
    if summary.get("skipped"):
        lines.append(f"skipped       {summary['skipped'].get('reason')}")
    lines += [
        f"model version {_fmt(summary.get('model_version'))}",
        f"AUC           {_fmt(metrics.get('auc'))}    PR-AUC {_fmt(metrics.get('pr_auc'))}",
    ]
    counts = summary.get("outcome_counts") or {}
    if counts:
        lines.append("outcomes      " + ", ".join(f"{k}={v}" for k, v in sorted(counts.items())))
    if review:
        text = f"review items  {review.get('items', 0)}"
        if "pending" in review:
            text += f" (pending {review.get('pending')}, answered {review.get('answered')})"
        if review.get("url") and review.get("items"):
            text += f" → answer at {review['url']}"
        lines.append(text)
    lines.append(f"batch output  {_fmt(summary.get('batch_output'))}")
    lines.append(f"model report  {_fmt(summary.get('report'))}")
    if summary.get("redrive_count"):
        lines.append(f"redrives      {summary['redrive_count']}")
    return lines


def states_table(states: list[dict[str, Any]]) -> Table:
    table = Table(title="states", show_lines=False)
    for column in ("#", "state", "status", "seconds"):
        table.add_column(column, justify="right" if column in ("#", "seconds") else "left")
    for index, run in enumerate(states, 1):
        table.add_row(str(index), run["name"], _styled(run["status"]), _fmt(run["seconds"], 3))
    return table


def executions_table(records: list[dict[str, Any]]) -> Table:
    table = Table(title="executions")
    table.add_column("name", no_wrap=True)
    for column in ("status", "started", "stopped", "redrives"):
        table.add_column(column)
    for record in records:
        table.add_row(
            str(record.get("name")),
            _styled(record.get("status")),
            str(record.get("start_date") or "-"),
            str(record.get("stop_date") or "-"),
            str(record.get("redrive_count") or 0),
        )
    return table

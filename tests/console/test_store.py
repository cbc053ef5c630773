"""Execution summaries: newest first, filtered, paginated, re-read only when changed."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from fraudpipe.console.store import ExecutionNotFoundError, ExecutionStore
from fraudpipe.workspace import Workspace
from tests.console.fakes import T0, HistoryWriter, pipeline_run


def _fill(ws: Workspace, outcomes: list[str]) -> None:
    for index, outcome in enumerate(outcomes):
        start = T0 + timedelta(minutes=index)
        pipeline_run(f"run-{index:03d}-{outcome}", outcome, start=start).save(ws)


def test_list_is_newest_first_with_counts(workspace: Workspace) -> None:
    _fill(workspace, ["succeeded", "failed", "caught", "running"])

    page = ExecutionStore(workspace).page()

    assert [s.name for s in page.items] == [
        "run-003-running", "run-002-caught", "run-001-failed", "run-000-succeeded"
    ]
    assert page.counts == {"SUCCEEDED": 1, "FAILED": 2, "RUNNING": 1}
    assert page.running == 1
    assert page.items[-1].duration_seconds() == pytest.approx(
        (page.items[-1].stop - page.items[-1].start).total_seconds()
    )


def test_filter_and_pages(workspace: Workspace) -> None:
    _fill(workspace, ["failed", "succeeded"] * 6)
    store = ExecutionStore(workspace)

    failed = store.page("failed", page=2, size=4)

    assert (failed.total, failed.pages, failed.page) == (6, 2, 2)
    assert [s.status for s in failed.items] == ["FAILED", "FAILED"]
    assert store.page(page=99, size=5).page == 3  # clamped to the last page


def test_a_changed_execution_is_re_read(workspace: Workspace) -> None:
    history = HistoryWriter("changing")
    history.save(workspace)
    store = ExecutionStore(workspace)
    assert store.page().items[0].status == "RUNNING"

    history.fail("Boom", "it broke")
    history.save(workspace)

    summary = store.page().items[0]
    assert (summary.status, summary.error) == ("FAILED", "Boom")


def test_half_written_last_event_line_is_skipped(workspace: Workspace) -> None:
    folder = pipeline_run("partial", "running").save(workspace)
    with (folder / "events.jsonl").open("a") as handle:
        handle.write('{"id": 999, "type": "TaskSta')

    events = ExecutionStore(workspace).events("partial")

    assert events[-1]["id"] != 999


def test_unknown_or_unsafe_names_are_not_found(workspace: Workspace) -> None:
    store = ExecutionStore(workspace)
    for name in ("missing", "../x", ".."):
        with pytest.raises(ExecutionNotFoundError):
            store.record(name)
        assert not store.exists(name)


def test_folders_without_a_record_and_broken_records_are_skipped(workspace: Workspace) -> None:
    (workspace.executions_dir / "empty").mkdir(parents=True)
    (workspace.executions_dir / "broken").mkdir()
    (workspace.executions_dir / "broken" / "execution.json").write_text("{not json")
    pipeline_run("fine").save(workspace)

    assert [s.name for s in ExecutionStore(workspace).page().items] == ["fine"]
    assert json.loads((workspace.executions_dir / "fine" / "execution.json").read_text())


def test_appended_events_are_read_incrementally_and_the_trace_follows(
    workspace: Workspace,
) -> None:
    history = pipeline_run("growing", "running")
    folder = history.save(workspace)
    store = ExecutionStore(workspace)
    before, trace = store.trace("growing")
    assert trace.state_status()["GetTrainingStatus"] == "running"

    history.attempt()
    history.exit("GetTrainingStatus")
    with (folder / "events.jsonl").open("a") as handle:
        for event in history.events[len(before):]:
            handle.write(json.dumps(event) + "\n")

    after, trace = store.trace("growing")
    assert [e["id"] for e in after] == [e["id"] for e in history.events]
    assert trace.state_status()["GetTrainingStatus"] == "succeeded"


def test_a_rewritten_shorter_history_is_read_again(workspace: Workspace) -> None:
    pipeline_run("redo", "succeeded").save(workspace)
    store = ExecutionStore(workspace)
    assert len(store.events("redo")) > 20

    HistoryWriter("redo").save(workspace)

    assert [e["type"] for e in store.events("redo")] == ["ExecutionStarted"]


def test_running_execution_whose_process_died_reads_aborted(workspace: Workspace) -> None:
    history = pipeline_run("orphan", "running")
    folder = history.save(workspace)
    record = json.loads((folder / "execution.json").read_text())
    record["owner_pid"] = 2**22 + 12345  # no such process
    (folder / "execution.json").write_text(json.dumps(record))

    summary = ExecutionStore(workspace).page().items[0]

    assert summary.status == "ABORTED"
    assert ExecutionStore(workspace).events("orphan")[-1]["type"] == "ExecutionAborted"


def test_finished_executions_are_re_read_at_the_next_sweep(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fraudpipe.console import store as store_module

    done = pipeline_run("done", "succeeded")
    folder = done.save(workspace)
    store = ExecutionStore(workspace)
    assert store.page().items[0].status == "SUCCEEDED"
    record = json.loads((folder / "execution.json").read_text())
    record.update(status="RUNNING", redrive_count=1, stop_date=None)  # redriven elsewhere
    (folder / "execution.json").write_text(json.dumps(record))

    monkeypatch.setattr(store_module, "SWEEP_SECONDS", 0.0)
    summary = store.page().items[0]

    assert (summary.status, summary.redrive_count) == ("RUNNING", 1)
    pipeline_run("newer", "succeeded", start=T0 + timedelta(hours=1)).save(workspace)
    assert [s.name for s in store.page().items] == ["newer", "done"]

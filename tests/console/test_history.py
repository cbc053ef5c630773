"""Per-state statuses, retries and errors folded from execution histories."""

from __future__ import annotations

from fraudpipe.console.history import parse_time, trace_events
from tests.console.fakes import HistoryWriter, pipeline_run


def test_succeeded_run_marks_every_visited_state_succeeded() -> None:
    trace = trace_events(pipeline_run("ok").events)

    statuses = trace.state_status()
    assert trace.status == "SUCCEEDED"
    assert set(statuses.values()) == {"succeeded"}
    assert "CrawlerFailed" not in statuses  # never entered: "not started"
    assert trace.visit_counts()["WaitForCrawler"] == 2
    assert trace.visit_counts()["GetTrainingStatus"] == 3


def test_retries_are_counted_per_visit() -> None:
    trace = trace_events(pipeline_run("ok").events)

    first, second = trace.visits_of("GetCrawlerStatus")
    assert (first.attempts, first.retries, first.status) == (2, 1, "succeeded")
    assert first.errors == [("TransientError", "try again")]
    assert (second.retries, second.errors) == (0, [])


def test_uncaught_task_failure_is_failed_with_its_cause() -> None:
    trace = trace_events(pipeline_run("bad", "failed").events)

    assert trace.status == "FAILED"
    assert trace.state_status()["StartEtl"] == "failed"
    (visit,) = trace.visits_of("StartEtl")
    assert visit.errors == [("EtlError", "raw file fraudTrain.csv: no such file")]
    assert visit.exited_at is not None


def test_caught_error_is_caught_and_the_fail_state_failed() -> None:
    trace = trace_events(pipeline_run("gate", "caught").events)

    statuses = trace.state_status()
    assert statuses["QualityGate"] == "caught"
    assert statuses["QualityGateFailed"] == "failed"
    fail_state = trace.visits_of("QualityGateFailed")[0]
    assert fail_state.errors == [("QualityGateFailed", "QualityGate step failed")]
    assert trace.visits_of("QualityGate")[0].errors[0][0] == "QualityGateError"


def test_running_state_is_running_with_a_duration_so_far() -> None:
    history = pipeline_run("busy", "running")
    trace = trace_events(history.events)

    assert trace.status == "RUNNING"
    assert trace.state_status()["GetTrainingStatus"] == "running"
    visit = trace.visits_of("GetTrainingStatus")[-1]
    assert visit.duration_seconds(now=history.now) is not None
    assert visit.last_attempt_failed  # failed once, the retry is pending


def test_redrive_reopens_the_execution_and_latest_visit_wins() -> None:
    history = pipeline_run("again", "failed")
    history.redrive()
    history.task("StartEtl", {"etl": {"status": "RUNNING"}})

    trace = trace_events(history.events)

    assert trace.status == "RUNNING"
    assert trace.redrives == 1
    assert trace.state_status()["StartEtl"] == "succeeded"
    assert [v.status for v in trace.visits_of("StartEtl")] == ["failed", "succeeded"]


def test_input_and_output_of_a_visit_are_kept() -> None:
    history = HistoryWriter("io", input={"x": 1})
    history.task("A", {"a": 2})

    (visit,) = trace_events(history.events).visits

    assert visit.input == '{"x": 1}'
    assert visit.output == '{"x": 1, "a": 2}'


def test_timestamps_parse_from_iso_and_epoch() -> None:
    assert parse_time("2026-11-24T12:00:00.250Z").microsecond == 250_000
    assert parse_time(0).year == 1970
    assert parse_time("not a time") is None
    assert parse_time(None) is None

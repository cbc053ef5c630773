"""Schedules: due ticks start executions, a missed tick is caught up once, never twice."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from fraudpipe.local.scheduler import ScheduleError, Scheduler, ScheduleStore
from statemachines.inputs import validate_input


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


class Starts:
    """Records every start, like the runtime would perform it."""

    def __init__(self) -> None:
        self.started: list[tuple[str, dict]] = []

    def __call__(self, data: dict, name: str) -> str:
        if any(n == name for n, _ in self.started):
            from fraudpipe.errors import FraudpipeError

            raise FraudpipeError(f"an execution named {name!r} already exists")
        self.started.append((name, data))
        return name


def test_due_tick_starts_one_execution_with_the_schedule_input(workspace):
    store = ScheduleStore(workspace)
    store.add("nightly", "0 2 * * *", {"mode": "create"}, now=at("2026-01-01T12:00:00"))
    starts = Starts()
    scheduler = Scheduler(workspace, starts)
    assert scheduler.tick(at("2026-01-02T01:59:00")) == []
    assert scheduler.tick(at("2026-01-02T02:00:30")) == ["nightly-20260102T0200"]
    assert starts.started == [("nightly-20260102T0200", {"mode": "create"})]
    assert scheduler.tick(at("2026-01-02T02:01:00")) == []  # same tick: nothing more
    assert store.load()["nightly"]["last_tick"] == "2026-01-02T02:00:00Z"


def test_missed_ticks_while_stopped_are_caught_up_once(workspace):
    store = ScheduleStore(workspace)
    store.add("hourly", "0 * * * *", {}, now=at("2026-01-01T00:30:00"))
    starts = Starts()
    # GIVEN the scheduler was stopped from 00:30 to 05:10 (five ticks missed)
    scheduler = Scheduler(workspace, starts)
    # WHEN it comes back
    assert scheduler.tick(at("2026-01-01T05:10:00")) == ["hourly-20260101T0500"]
    # THEN one catch-up run, and a restarted scheduler does not replay it
    assert Scheduler(workspace, starts).tick(at("2026-01-01T05:20:00")) == []
    assert Scheduler(workspace, starts).tick(at("2026-01-01T06:00:00")) == ["hourly-20260101T0600"]
    assert len(starts.started) == 2


def test_crash_after_start_before_recording_does_not_start_twice(workspace):
    store = ScheduleStore(workspace)
    store.add("hourly", "0 * * * *", {}, now=at("2026-01-01T00:30:00"))
    starts = Starts()
    starts({}, "hourly-20260101T0100")  # started, then the process died before recording
    assert Scheduler(workspace, starts).tick(at("2026-01-01T01:00:10")) == []
    assert len(starts.started) == 1
    assert store.load()["hourly"]["last_tick"] == "2026-01-01T01:00:00Z"


def test_run_forever_uses_the_injected_clock_and_sleep(workspace):
    ScheduleStore(workspace).add("five", "*/5 * * * *", {}, now=at("2026-01-01T00:00:00"))
    clock = iter([at("2026-01-01T00:04:00"), at("2026-01-01T00:05:00"), at("2026-01-01T00:10:00")])
    starts = Starts()
    sleeps: list[float] = []
    times = list(clock)
    scheduler = Scheduler(workspace, starts, clock=lambda: times.pop(0))
    scheduler.run_forever(interval=30, should_stop=lambda: not times, sleep=sleeps.append)
    assert [n for n, _ in starts.started] == ["five-20260101T0005", "five-20260101T0010"]
    assert sleeps == [30, 30, 30]


def test_bad_schedules_are_refused(workspace):
    store = ScheduleStore(workspace)
    with pytest.raises(ScheduleError, match="not a valid cron"):
        store.add("x", "every day", {})
    with pytest.raises(ScheduleError, match="schedule name"):
        store.add("bad name!", "* * * * *", {})
    with pytest.raises(Exception, match=r"review.min: must be <= review.max"):
        store.add("x", "* * * * *", {"review": {"min": 999}}, validate=validate_input)
    store.add("x", "* * * * *", {})
    with pytest.raises(ScheduleError, match="exists"):
        store.add("x", "* * * * *", {})
    store.remove("x")
    with pytest.raises(ScheduleError, match="no schedule"):
        store.remove("x")

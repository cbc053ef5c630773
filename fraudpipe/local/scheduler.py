"""Cron schedules that start executions: the local twin of EventBridge Scheduler.

Why the last tick is persisted: ``fraudpipe scheduler`` may be stopped for hours. When it comes
back, the ticks it missed are caught up with at most one execution per schedule (not one per
missed tick), and a tick already handled before a restart is never started again: each start
uses a name derived from the tick (``<schedule>-<YYYYmmddTHHMM>``), and the tick is recorded in
``ws.schedules_file`` right after the start.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from croniter import croniter

from fraudpipe.errors import FraudpipeError, InputValidationError
from fraudpipe.workspace import Workspace, atomic_write_json, read_json

__all__ = ["ScheduleError", "ScheduleStore", "Scheduler", "tick_name"]

log = logging.getLogger("fraudpipe.scheduler")
_NAME = re.compile(r"^[A-Za-z0-9_-]{1,48}$")
StartFn = Callable[[dict[str, Any], str], str]


class ScheduleError(FraudpipeError):
    """A schedule cannot be added or found (bad name, bad cron expression, unknown name)."""


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _parse(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def tick_name(schedule: str, tick: datetime) -> str:
    """The execution name of one tick: a restarted scheduler cannot start it twice."""
    return f"{schedule}-{tick.astimezone(UTC).strftime('%Y%m%dT%H%M')}"


@dataclass
class ScheduleStore:
    """The schedules of a workspace, in ``ws.schedules_file``."""

    workspace: Workspace

    def load(self) -> dict[str, dict[str, Any]]:
        data = read_json(self.workspace.schedules_file, {}) or {}
        return dict(data.get("schedules", {}))

    def save(self, schedules: dict[str, dict[str, Any]]) -> None:
        atomic_write_json(self.workspace.schedules_file, {"schedules": schedules})

    def add(
        self,
        name: str,
        cron: str,
        input: dict[str, Any],
        now: datetime | None = None,
        validate: Callable[[dict[str, Any]], Any] | None = None,
    ) -> dict[str, Any]:
        if not _NAME.match(name):
            raise ScheduleError(f"schedule name {name!r}: use 1-48 letters, digits, - or _")
        if not croniter.is_valid(cron):
            raise ScheduleError(f"--cron {cron!r} is not a valid cron expression")
        if validate is not None:
            validate(input)  # refuse now rather than at 3 a.m.
        schedules = self.load()
        if name in schedules:
            raise ScheduleError(f"a schedule named {name!r} exists; remove it first")
        created = _iso(now or datetime.now(UTC))
        schedules[name] = {"cron": cron, "input": input, "created": created, "last_tick": None}
        self.save(schedules)
        return schedules[name]

    def remove(self, name: str) -> None:
        schedules = self.load()
        if name not in schedules:
            raise ScheduleError(f"no schedule named {name!r}")
        del schedules[name]
        self.save(schedules)

    def next_run(self, entry: dict[str, Any]) -> datetime:
        base = _parse(entry.get("last_tick") or entry["created"])
        return croniter(entry["cron"], base).get_next(datetime)


class Scheduler:
    """Starts due executions; ``tick(now)`` is one pass (tests drive it with a fake clock)."""

    def __init__(
        self, workspace: Workspace, start: StartFn, clock: Callable[[], datetime] | None = None
    ) -> None:
        self.store = ScheduleStore(workspace)
        self.start = start
        self.clock = clock or (lambda: datetime.now(UTC))

    def tick(self, now: datetime | None = None) -> list[str]:
        """Start each schedule whose next tick is due (one start even if several were missed)."""
        now = now or self.clock()
        started = []
        for name, entry in self.store.load().items():
            if self.store.next_run(entry) > now:
                continue
            latest = croniter(entry["cron"], now).get_prev(datetime)
            if croniter.match(entry["cron"], now):
                latest = now.replace(second=0, microsecond=0)
            execution = tick_name(name, latest)
            try:
                self.start(dict(entry.get("input") or {}), execution)
                log.info("schedule %s started %s (tick %s)", name, execution, _iso(latest))
                started.append(execution)
            except InputValidationError as exc:
                log.error("schedule %s: input refused: %s", name, exc)
            except FraudpipeError as exc:  # e.g. already started before a restart
                log.warning("schedule %s: %s", name, exc)
            self._record_tick(name, latest)
        return started

    def _record_tick(self, name: str, tick: datetime) -> None:
        schedules = self.store.load()
        if name in schedules:
            schedules[name]["last_tick"] = _iso(tick)
            self.store.save(schedules)

    def run_forever(
        self,
        interval: float = 1.0,
        should_stop: Callable[[], bool] = lambda: False,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        import time

        pause = sleep or time.sleep
        while not should_stop():
            self.tick()
            pause(interval)

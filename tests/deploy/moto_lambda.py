"""moto's Lambda with AWS's asynchronous invocation: ``InvocationType=Event`` returns at once.

moto 5.2.5 runs an ``Event`` invocation to its end before answering, which AWS never does: the
caller gets 202 as soon as the event is queued. The built-in engine relies on that (the
starting handler returns while the worker trains), and a synchronous emulation even deadlocks
it (the starter holds the registry lock the worker needs). This harness runs each ``Event``
invocation in a background thread, as Lambda's queue would, and joins them on exit.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from moto.awslambda.models import LambdaFunction

__all__ = ["asynchronous_events"]


@contextmanager
def asynchronous_events(join_timeout: float = 120.0) -> Iterator[list[threading.Thread]]:
    """Patch moto so Event invocations run in threads; yields the list of started threads."""
    original = LambdaFunction.invoke
    started: list[threading.Thread] = []

    def invoke(self: Any, body: str, request_headers: Any, response_headers: Any) -> Any:
        if request_headers.get("x-amz-invocation-type") != "Event":
            return original(self, body, request_headers, response_headers)
        worker = threading.Thread(target=original, args=(self, body, request_headers, {}),
                                  name=f"lambda-event-{self.function_name}", daemon=True)
        started.append(worker)
        worker.start()
        return b""

    LambdaFunction.invoke = invoke  # type: ignore[method-assign]
    try:
        yield started
    finally:
        LambdaFunction.invoke = original  # type: ignore[method-assign]
        for worker in started:
            worker.join(join_timeout)

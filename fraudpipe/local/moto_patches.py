"""Every patch fraudpipe applies to moto, in one place, applied by :func:`apply` (idempotent).

Why patches at all: moto's Step Functions interpreter (``execute_state_machine``) is a faithful
ASL engine, but it runs Lambda tasks in Docker, sleeps Wait/Retry in real time and keeps the
history in memory only. Each patch below replaces exactly one named attribute; the canary test
``tests/local/test_moto_canary.py`` fails, naming the attribute, if a moto upgrade moves one.

Patch points (module, attribute):

1. ``moto.awslambda.models.LambdaFunction._invoke_lambda`` - import the function's ``Handler``
   (``functions.<module>.handler``) and call it in-process; an exception becomes Lambda's error
   payload ``{"errorType": <class name>, "errorMessage": ...}`` so Retry/Catch match the name.
2. ``...state.wait.wait_function.wait_function.WaitFunction._wait_interval`` - Wait states sleep
   ``seconds * time_scale`` (``FRAUDPIPE_TIME_SCALE``; 1 unless set), still interruptible.
3. ``...common.retry.retrier_decl.time`` - the module's ``time`` becomes a proxy whose ``sleep``
   is scaled the same way (Retry intervals).
4. ``...eval.event.event_manager.EventManager._publish_history_event`` - after recording an event,
   hand a copy to the listener registered for that execution (history persisted as it happens).
5. ``...backend.execution_worker.ExecutionWorker._get_evaluation_environment`` - tag the
   environment's event manager with the execution ARN so (4) knows whose event it is.
6. ``...state.exec.state_task.lambda_eval_utils.boto_client_for`` - reuse one Lambda client per
   region instead of building a boto3 client for every task (~20 ms each; the largest part
   of the per-state overhead).
"""

from __future__ import annotations

import copy
import importlib
import json
import logging
import threading
import time as _time
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fraudpipe.config import settings

__all__ = [
    "PATCH_POINTS",
    "HandlerResolver",
    "HistoryListener",
    "apply",
    "clear_client_cache",
    "register_history_listener",
    "set_handler_resolver",
    "unregister_history_listener",
]

HistoryListener = Callable[[dict[str, Any]], None]
HandlerResolver = Callable[[str], Callable[[Any, Any], Any]]

#: (module, attribute path) of everything patched; the canary test checks each one exists.
PATCH_POINTS: tuple[tuple[str, str], ...] = (
    ("moto.awslambda.models", "LambdaFunction._invoke_lambda"),
    (
        "moto.stepfunctions.parser.asl.component.state.wait.wait_function.wait_function",
        "WaitFunction._wait_interval",
    ),
    ("moto.stepfunctions.parser.asl.component.common.retry.retrier_decl", "time"),
    (
        "moto.stepfunctions.parser.asl.eval.event.event_manager",
        "EventManager._publish_history_event",
    ),
    (
        "moto.stepfunctions.parser.backend.execution_worker",
        "ExecutionWorker._get_evaluation_environment",
    ),
    (
        "moto.stepfunctions.parser.asl.component.state.exec.state_task.lambda_eval_utils",
        "boto_client_for",
    ),
)

_lock = threading.Lock()
_applied = False
_listeners: dict[str, HistoryListener] = {}
_ARN_ATTR = "_fraudpipe_execution_arn"
log = logging.getLogger(__name__)


def _default_resolver(handler: str) -> Callable[[Any, Any], Any]:
    """``"functions.start_crawler.handler"`` -> the callable (imported on first use)."""
    module_name, _, attr = handler.rpartition(".")
    if not module_name:
        raise ValueError(f"Lambda handler {handler!r} is not of the form 'module.function'")
    return getattr(importlib.import_module(module_name), attr)


_resolver: HandlerResolver = _default_resolver


def set_handler_resolver(resolver: HandlerResolver | None) -> None:
    """Replace how a Lambda ``Handler`` string becomes a callable (None restores the default)."""
    global _resolver
    _resolver = resolver or _default_resolver


def register_history_listener(execution_arn: str, listener: HistoryListener) -> None:
    """Call ``listener(event)`` for every history event of ``execution_arn``, as it happens."""
    _listeners[execution_arn] = listener


def unregister_history_listener(execution_arn: str) -> None:
    _listeners.pop(execution_arn, None)


@dataclass
class LocalLambdaContext:
    """The attributes of a Lambda context that powertools and handlers read."""

    function_name: str
    invoked_function_arn: str
    memory_limit_in_mb: int
    aws_request_id: str
    timeout_seconds: int

    def __post_init__(self) -> None:
        self._deadline = _time.monotonic() + self.timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - _time.monotonic()) * 1000))


# --- 1. in-process Lambda ------------------------------------------------------------------------
def _invoke_lambda_in_process(self: Any, event: Any = None) -> tuple[str, bool, str]:
    """Run the function's handler in this process; return (payload, errored, logs) like moto."""
    if isinstance(event, (str, bytes)):
        event = json.loads(event or "{}")
    context = LocalLambdaContext(
        function_name=self.function_name,
        invoked_function_arn=self.function_arn,
        memory_limit_in_mb=int(self.memory_size),
        aws_request_id=str(uuid.uuid4()),
        timeout_seconds=int(self.timeout),
    )
    try:
        result = _resolver(self.handler)(event if event is not None else {}, context)
        return json.dumps(result, default=str), False, ""
    except Exception as exc:  # the error is the task's outcome, reported like Lambda does
        payload = {
            "errorType": type(exc).__name__,
            "errorMessage": str(exc) or type(exc).__name__,
            "stackTrace": traceback.format_exception(exc, limit=-3),
        }
        return json.dumps(payload, default=str), True, ""


# --- 2 and 3. scaled time ------------------------------------------------------------------------
def _scale() -> float:
    return settings().time_scale


def _scaled_wait_interval(self: Any, env: Any, wait_seconds: float) -> None:
    """Wait ``wait_seconds * time_scale``; returns early when the execution is stopped."""
    seconds = float(wait_seconds) * _scale()
    deadline = _time.monotonic() + seconds
    while seconds > 0 and env.is_running():
        env.program_state_event.wait(seconds)
        seconds = deadline - _time.monotonic()


class _ScaledTime:
    """Stands in for the ``time`` module inside moto's retrier: ``sleep`` is scaled."""

    def __getattr__(self, name: str) -> Any:
        return getattr(_time, name)

    @staticmethod
    def sleep(seconds: float) -> None:
        _time.sleep(max(0.0, float(seconds)) * _scale())


# --- 4 and 5. live history -----------------------------------------------------------------------
def _wrap_publish(original: Callable[..., None]) -> Callable[..., None]:
    def _publish_history_event(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        listener = _listeners.get(getattr(self, _ARN_ATTR, ""))
        if listener is not None:
            try:
                listener(copy.deepcopy(self._history_event_list[-1]))
            except Exception:  # persisting must never break the execution itself
                log.exception("history listener failed")

    return _publish_history_event


def _wrap_environment(original: Callable[..., Any]) -> Callable[..., Any]:
    def _get_evaluation_environment(self: Any) -> Any:
        env = original(self)
        arn = self._evaluation_details.execution_details.arn
        setattr(env.event_manager, _ARN_ATTR, arn)
        return env

    return _get_evaluation_environment


# --- 6. client reuse -----------------------------------------------------------------------------
_clients: dict[tuple[str, str], Any] = {}


def _wrap_client_for(original: Callable[..., Any]) -> Callable[..., Any]:
    def boto_client_for(region: str, service: str, state_credentials: Any = None) -> Any:
        key = (region, service)
        client = _clients.get(key)
        if client is None:  # boto3 clients are thread-safe; moto ignores credentials
            client = _clients[key] = original(region=region, service=service)
        return client

    return boto_client_for


def clear_client_cache() -> None:
    """Forget cached clients (a new moto session starts)."""
    _clients.clear()


def apply() -> None:
    """Apply every patch once per process (later calls do nothing)."""
    global _applied
    with _lock:
        if _applied:
            return
        from moto.awslambda import models as lambda_models
        from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
        from moto.stepfunctions.parser.asl.component.state.exec.state_task import (
            lambda_eval_utils,
        )
        from moto.stepfunctions.parser.asl.component.state.wait.wait_function import (
            wait_function,
        )
        from moto.stepfunctions.parser.asl.eval.event import event_manager
        from moto.stepfunctions.parser.backend import execution_worker

        lambda_models.LambdaFunction._invoke_lambda = _invoke_lambda_in_process
        wait_function.WaitFunction._wait_interval = _scaled_wait_interval
        retrier_decl.time = _ScaledTime()
        manager = event_manager.EventManager
        manager._publish_history_event = _wrap_publish(manager._publish_history_event)
        worker = execution_worker.ExecutionWorker
        worker._get_evaluation_environment = _wrap_environment(worker._get_evaluation_environment)
        lambda_eval_utils.boto_client_for = _wrap_client_for(lambda_eval_utils.boto_client_for)
        for noisy in ("moto", "moto.stepfunctions", "moto.awslambda"):
            logging.getLogger(noisy).setLevel(logging.CRITICAL)
        _applied = True

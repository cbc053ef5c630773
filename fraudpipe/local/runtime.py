"""The local runtime: run the pipeline's ASL on moto's Step Functions interpreter, in-process.

Why moto and not a home-made interpreter: moto's ``execute_state_machine`` mode is a complete ASL
engine (JSONPath, Retry/Catch, Choice, Wait, callbacks) whose events look like AWS's. fraudpipe
adds what a local runtime needs on top (see :mod:`fraudpipe.local.moto_patches`): Lambda tasks run
the real handlers in this process, Wait/Retry can be scaled down, and every history event is
persisted in the workspace as it happens (:mod:`fraudpipe.local.history`), so executions survive
the process and can be redriven (:mod:`fraudpipe.local.redrive`).

One moto session per process is shared by every runtime object (moto's backends are global);
it starts with the first runtime and stops when the last one is closed.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import re
import threading
import time
import uuid
import zipfile
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from fraudpipe.errors import FraudpipeError, ResourceNotFoundError
from fraudpipe.local import moto_patches
from fraudpipe.local.history import ExecutionStore, now_iso, process_start_ticks
from fraudpipe.local.redrive import REDRIVABLE, plan_redrive
from fraudpipe.workspace import Workspace, get_workspace

__all__ = [
    "ExecutionAlreadyExistsError",
    "ExecutionNotRedrivableError",
    "LocalRuntime",
    "RuntimeSetupError",
    "new_execution_name",
]

REGION = "us-east-1"
ACCOUNT = "123456789012"
ROLE_NAME = "fraudpipe-local-role"
_PLACEHOLDER = re.compile(r"\$\{([A-Za-z0-9_]+)\}")


class ExecutionNotRedrivableError(FraudpipeError):
    """Only FAILED, TIMED_OUT or ABORTED executions can be redriven."""


class ExecutionAlreadyExistsError(FraudpipeError):
    """An execution of that name exists in the workspace (names are unique, as on AWS)."""


class RuntimeSetupError(FraudpipeError):
    """The definition cannot run locally (e.g. a placeholder with no handler)."""


def new_execution_name(prefix: str = "run") -> str:
    """A unique, sortable, AWS-valid execution name: ``run-20261124-163000-1a2b3c``."""
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    return f"{prefix}-{stamp}-{uuid.uuid4().hex[:6]}"


def function_name_for(placeholder_key: str, handler: str) -> str:
    """``StartCrawlerFunctionArn`` -> ``fraudpipe-StartCrawler-<hash of the handler>``.

    The hash keeps two runtimes of one process that map a placeholder to different handlers
    (tests do) from sharing one Lambda.
    """
    digest = hashlib.sha1(handler.encode()).hexdigest()[:8]
    return f"fraudpipe-{placeholder_key.removesuffix('FunctionArn')}-{digest}"


def function_arn(placeholder_key: str, handler: str) -> str:
    name = function_name_for(placeholder_key, handler)
    return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"


def pipeline_functions() -> dict[str, str]:
    """Placeholder key -> handler string for the real pipeline (``functions.<module>.handler``)."""
    from statemachines.pipeline import FUNCTIONS, NON_STATE_FUNCTIONS

    table = {**FUNCTIONS, **NON_STATE_FUNCTIONS}
    return {key: f"functions.{module}.handler" for module, key in table.items()}


class _MotoSession:
    """The process-wide moto mock with Step Functions execution on, shared by runtimes."""

    lock = threading.RLock()
    users = 0
    mock: Any = None
    functions: set[str] = set()
    machines: dict[str, str] = {}

    @classmethod
    def acquire(cls) -> None:
        with cls.lock:
            if cls.users == 0:
                from moto import mock_aws

                moto_patches.apply()
                # what every Lambda's environment has; handlers' boto3 clients (moto) need it
                os.environ.setdefault("AWS_DEFAULT_REGION", REGION)
                moto_patches.clear_client_cache()
                cls.mock = mock_aws(config={"stepfunctions": {"execute_state_machine": True}})
                cls.mock.start()
                cls.functions, cls.machines = set(), {}
            cls.users += 1

    @classmethod
    def release(cls) -> None:
        with cls.lock:
            cls.users -= 1
            if cls.users == 0 and cls.mock is not None:
                cls.mock.stop()
                cls.mock = None


def _zip_stub() -> bytes:
    """Lambda needs a code package; the code actually run is the imported handler."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("README.txt", "handlers run in-process from the fraudpipe checkout\n")
    return buffer.getvalue()


class LocalRuntime:
    """Start, watch, redrive and list executions of one definition in one workspace.

    ``definition`` defaults to ``statemachines/pipeline.asl.json``; ``functions`` maps each
    ``${Key}`` placeholder to a handler string (default: the pipeline's handler modules);
    ``validator`` turns a raw input into the execution input (default for the pipeline:
    ``statemachines.inputs.validate_input``).
    """

    def __init__(
        self,
        workspace: Workspace | None = None,
        definition: Mapping[str, Any] | str | None = None,
        functions: Mapping[str, str] | None = None,
        validator: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
        restart_points: Mapping[str, str] | None = None,
    ) -> None:
        self.workspace = workspace or get_workspace()
        self.store = ExecutionStore(self.workspace)
        is_pipeline = definition is None
        if definition is None:
            from statemachines.pipeline import ASL_PATH

            definition = ASL_PATH.read_text(encoding="utf-8")
        self.definition_text = (
            definition if isinstance(definition, str) else json.dumps(definition, indent=2)
        )
        self.functions = dict(functions if functions is not None else pipeline_functions())
        if validator is None and is_pipeline:
            from statemachines.inputs import validate_input

            validator = validate_input
        self.validator = validator
        if restart_points is None and is_pipeline:
            from statemachines.pipeline import REDRIVE_FROM

            restart_points = REDRIVE_FROM
        self.restart_points = dict(restart_points or {})
        self._acquired = False
        self._session_lock = threading.Lock()  # executions may be started from several threads
        self._resumer: threading.Thread | None = None

    # --- lifecycle -----------------------------------------------------------------------------
    def __enter__(self) -> LocalRuntime:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Release the moto session (call after the executions you started have ended)."""
        with self._session_lock:
            if self._acquired:
                self._acquired = False
                _MotoSession.release()

    def _client(self, service: str) -> Any:
        import boto3

        return boto3.client(service, region_name=REGION)

    def _ensure_session(self) -> None:
        """Join the process's moto session once per runtime, even when two threads start
        executions at the same moment (a second acquire would never be released)."""
        with self._session_lock:
            if not self._acquired:
                _MotoSession.acquire()
                self._acquired = True

    def _ensure_functions(self, keys: set[str]) -> None:
        with _MotoSession.lock:
            missing = [
                k
                for k in sorted(keys)
                if function_name_for(k, self.functions[k]) not in _MotoSession.functions
            ]
            if not missing:
                return
            iam = self._client("iam")
            with contextlib.suppress(iam.exceptions.EntityAlreadyExistsException):
                iam.create_role(RoleName=ROLE_NAME, AssumeRolePolicyDocument="{}")
            role = f"arn:aws:iam::{ACCOUNT}:role/{ROLE_NAME}"
            lam = self._client("lambda")
            for key in missing:
                lam.create_function(
                    FunctionName=function_name_for(key, self.functions[key]),
                    Runtime="python3.11",
                    Role=role,
                    Handler=self.functions[key],
                    Code={"ZipFile": _zip_stub()},
                    Timeout=900,
                    MemorySize=1024,
                )
                _MotoSession.functions.add(function_name_for(key, self.functions[key]))

    def _resolve(self, definition_text: str) -> str:
        """Fill the ``${Key}`` placeholders with local Lambda ARNs."""
        keys = set(_PLACEHOLDER.findall(definition_text))
        unknown = sorted(keys - set(self.functions))
        if unknown:
            raise RuntimeSetupError(
                f"no local handler for placeholder(s) {', '.join(unknown)} in the definition"
            )
        self._ensure_functions(keys)
        return _PLACEHOLDER.sub(
            lambda m: function_arn(m.group(1), self.functions[m.group(1)]), definition_text
        )

    def _state_machine(self, definition_text: str, fresh: bool = False) -> tuple[str, str]:
        """(name, ARN) of a moto state machine running ``definition_text``."""
        resolved = self._resolve(definition_text)
        digest = hashlib.sha1(resolved.encode()).hexdigest()[:12]
        with _MotoSession.lock:
            if not fresh and digest in _MotoSession.machines:
                arn = _MotoSession.machines[digest]
                return arn.rsplit(":", 1)[1], arn
            name = (
                f"fraudpipe-{digest}" if not fresh else f"fraudpipe-redrive-{uuid.uuid4().hex[:8]}"
            )
            arn = self._client("stepfunctions").create_state_machine(
                name=name,
                definition=resolved,
                roleArn=f"arn:aws:iam::{ACCOUNT}:role/{ROLE_NAME}",
            )["stateMachineArn"]
            if not fresh:
                _MotoSession.machines[digest] = arn
            return name, arn

    # --- starting ------------------------------------------------------------------------------
    def start_execution(self, input: dict[str, Any] | None = None, name: str | None = None) -> str:
        """Validate the input, start an execution and return its name (history persists live)."""
        data = dict(input or {})
        if self.validator is not None:
            data = self.validator(data)
        name = name or new_execution_name()
        if self.store.exists(name):
            raise ExecutionAlreadyExistsError(
                f"an execution named {name!r} already exists in this workspace"
            )
        self._ensure_session()
        sm_name, sm_arn = self._state_machine(self.definition_text)
        record = {
            "name": name,
            "status": "RUNNING",
            "input": data,
            "output": None,
            "error": None,
            "cause": None,
            "start_date": now_iso(),
            "stop_date": None,
            "redrive_count": 0,
            "redrive_date": None,
            "state_machine": sm_name,
            **self._owner(),
        }
        self.store.create(name, record, self.definition_text)
        self._launch(sm_name, sm_arn, name, data, event_offset=0)
        return name

    def _owner(self) -> dict[str, Any]:
        return {"owner_pid": os.getpid(), "owner_start": process_start_ticks(os.getpid())}

    def _launch(
        self, sm_name: str, sm_arn: str, name: str, data: dict[str, Any], event_offset: int
    ) -> None:
        execution_arn = f"arn:aws:states:{REGION}:{ACCOUNT}:execution:{sm_name}:{name}"
        store = self.store

        def listener(event: dict[str, Any]) -> None:
            if event_offset:
                if event.get("type") == "ExecutionStarted":
                    return  # a redrive continues the execution: no second start event
                event["id"] = int(event["id"]) + event_offset
                event["previousEventId"] = int(event.get("previousEventId") or 0) + event_offset
            if store.append_event(name, event) is not None:
                ExecutionStore.active.discard(name)
                moto_patches.unregister_history_listener(execution_arn)

        ExecutionStore.active.add(name)
        moto_patches.register_history_listener(execution_arn, listener)
        try:
            self._client("stepfunctions").start_execution(
                stateMachineArn=sm_arn, name=name, input=json.dumps(data, default=str)
            )
        except Exception:
            ExecutionStore.active.discard(name)
            moto_patches.unregister_history_listener(execution_arn)
            raise
        self._start_resumer()

    # --- review callbacks ----------------------------------------------------------------------
    def _start_resumer(self) -> None:
        """Resume this process's executions waiting for reviewers once their loops are answered."""
        if self._resumer is not None and self._resumer.is_alive():
            return
        try:
            from fraudpipe.review import resume
        except ImportError:  # review not installed: callback states wait for their timeout
            return
        sfn = self._client("stepfunctions")
        workspace = self.workspace

        def loop() -> None:
            while ExecutionStore.active and self._acquired:
                try:
                    for item in resume.pending_resumptions(workspace):
                        if item.execution_name not in ExecutionStore.active:
                            continue  # another process runs it and will resume it
                        # a refused token (the wait timed out meanwhile) closes the wait anyway
                        with contextlib.suppress(Exception):
                            sfn.send_task_success(
                                taskToken=item.task_token, output=json.dumps(item.output)
                            )
                        resume.mark_resumed(workspace, item.execution_name)
                except Exception:  # never let a review hiccup kill the resumer
                    pass
                time.sleep(0.5)

        self._resumer = threading.Thread(target=loop, daemon=True, name="fraudpipe-resumer")
        self._resumer.start()

    # --- watching ------------------------------------------------------------------------------
    def describe(self, name: str) -> dict[str, Any]:
        return self.store.describe(name)

    def events(self, name: str) -> list[dict[str, Any]]:
        self.store.read_record(name)
        return self.store.events(name)

    def wait(
        self, name: str, timeout: float | None = None, interval: float = 0.05
    ) -> dict[str, Any]:
        """Block until the execution is no longer RUNNING; returns its record."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            record = self.store.describe(name)
            if record["status"] != "RUNNING":
                return record
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError(f"execution {name} still RUNNING after {timeout}s")
            time.sleep(interval)

    def run(
        self,
        input: dict[str, Any] | None = None,
        name: str | None = None,
        timeout: float | None = None,
    ) -> dict[str, Any]:
        """Start and wait: the final record."""
        return self.wait(self.start_execution(input, name), timeout=timeout)

    def list_executions(self) -> list[dict[str, Any]]:
        """Every execution of the workspace, newest first."""
        records = []
        for name in self.store.names():
            try:
                records.append(self.store.describe(name))
            except (ResourceNotFoundError, json.JSONDecodeError):
                continue
        return sorted(records, key=lambda r: r.get("start_date") or "", reverse=True)

    def stop(self, name: str, error: str = "Stopped", cause: str = "stopped by the user") -> None:
        """Abort a running execution of this process (like StopExecution)."""
        record = self.store.read_record(name)
        if name not in ExecutionStore.active:
            raise ExecutionNotRedrivableError(f"execution {name} is not running in this process")
        arn = f"arn:aws:states:{REGION}:{ACCOUNT}:execution:{record['state_machine']}:{name}"
        self._client("stepfunctions").stop_execution(executionArn=arn, error=error, cause=cause)

    # --- redrive -------------------------------------------------------------------------------
    def redrive(self, name: str) -> str:
        """Re-run a FAILED/TIMED_OUT/ABORTED execution from the state that did not succeed.

        Like RedriveExecution: same name, same definition, succeeded states are not re-run,
        ``redrive_count`` grows by one and the history continues with ``ExecutionRedriven``.
        """
        record = self.store.describe(name)
        if record["status"] not in REDRIVABLE:
            raise ExecutionNotRedrivableError(
                f"execution {name} is {record['status']}; only "
                f"{', '.join(sorted(REDRIVABLE))} executions can be redriven"
            )
        definition_text = self.store.definition_path(name).read_text(encoding="utf-8")
        definition = json.loads(definition_text)
        events = self.store.events(name)
        start_at, state_input = plan_redrive(definition, events, self.restart_points)
        derived = json.dumps({**definition, "StartAt": start_at}, indent=2)
        self._ensure_session()
        sm_name, sm_arn = self._state_machine(derived, fresh=True)
        count = int(record.get("redrive_count") or 0) + 1
        last_id = max((int(e.get("id", 0)) for e in events), default=0)
        redrive_date = now_iso()
        self.store.append_event(
            name,
            {
                "id": last_id + 1,
                "previousEventId": last_id,
                "type": "ExecutionRedriven",
                "timestamp": redrive_date,
                "executionRedrivenEventDetails": {"redriveCount": count},
            },
        )
        self.store.update(
            name,
            status="RUNNING",
            output=None,
            error=None,
            cause=None,
            stop_date=None,
            redrive_count=count,
            redrive_date=redrive_date,
            redrive_from=start_at,
            state_machine=sm_name,
            **self._owner(),
        )
        self._launch(sm_name, sm_arn, name, state_input, event_offset=last_id)
        return name

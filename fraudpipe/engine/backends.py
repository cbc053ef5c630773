"""Where the built-in engine keeps its registry and runs its jobs, chosen by configuration.

Why configuration (environment variables set by the stack on its functions) and not the
backend flag alone: the same Lambda image runs locally in tests against moto, and a local
``fraudpipe`` can point at a deployed registry for inspection. Nothing here guesses.

- ``FRAUDPIPE_REGISTRY``: unset or ``local`` -> :class:`~fraudpipe.engine.registry.Registry`
  in the workspace; ``s3://bucket/prefix`` -> :class:`~fraudpipe.engine.s3_registry.S3Registry`.
- ``FRAUDPIPE_WORKER_FUNCTION``: unset -> :class:`fraudpipe.jobs.LocalJobs` (worker processes);
  a Lambda function name or ARN -> :class:`fraudpipe.aws_jobs.LambdaJobs` (asynchronous
  invocations of that function, job records in the S3 registry). Requires an S3 registry.
- ``FRAUDPIPE_DETECTOR_TTL``: seconds a process may reuse the ACTIVE detector version it read
  before checking the registry again (realtime scoring; default 0 locally, the stack sets 10).
"""

from __future__ import annotations

import os
from typing import Any

from fraudpipe.engine.registry import Registry
from fraudpipe.jobs import LocalJobs
from fraudpipe.workspace import Workspace

__all__ = ["REGISTRY_ENV", "TTL_ENV", "WORKER_ENV", "aws_client", "detector_ttl", "job_records",
           "open_jobs", "open_registry", "registry_location", "reset_clients"]

REGISTRY_ENV = "FRAUDPIPE_REGISTRY"
WORKER_ENV = "FRAUDPIPE_WORKER_FUNCTION"
TTL_ENV = "FRAUDPIPE_DETECTOR_TTL"

_clients: dict[str, Any] = {}


def aws_client(service: str) -> Any:
    """One boto3 client per service and process (built on first use, never at import)."""
    if service not in _clients:
        import boto3

        _clients[service] = boto3.client(service)
    return _clients[service]


def reset_clients() -> None:
    """Forget cached clients (tests start a new moto session)."""
    _clients.clear()


def registry_location() -> str | None:
    value = os.environ.get(REGISTRY_ENV, "").strip()
    if value in ("", "local"):
        return None
    if not value.startswith("s3://"):
        raise ValueError(f"{REGISTRY_ENV} must be 'local' or an s3:// URI, not {value!r}")
    return value


def open_registry(workspace: Workspace, s3_client: Any = None) -> Any:
    """The registry the configuration names (the workspace's by default)."""
    location = registry_location()
    if location is None:
        return Registry(workspace)
    from fraudpipe.engine.s3_registry import S3Registry
    from fraudpipe.s3_objects import S3Objects

    return S3Registry(workspace, S3Objects.from_uri(location, s3_client or aws_client("s3")))


def open_jobs(workspace: Workspace, registry: Any, lambda_client: Any = None) -> Any:
    """Local worker processes, or the worker Lambda when ``FRAUDPIPE_WORKER_FUNCTION`` is set."""
    function = os.environ.get(WORKER_ENV, "").strip()
    if not function:
        return LocalJobs(workspace)
    objects = getattr(registry, "objects", None)
    if objects is None:
        raise ValueError(f"{WORKER_ENV} needs an S3 registry ({REGISTRY_ENV}=s3://...): "
                         "a worker Lambda cannot see this machine's files")
    from dataclasses import replace

    from fraudpipe.aws_jobs import LambdaJobs

    records = replace(objects, prefix=objects.key("jobs"))
    return LambdaJobs(records, lambda_client or aws_client("lambda"), function)


def job_records() -> Any:
    """The S3 folder of worker job records (for the worker Lambda's handler)."""
    location = registry_location()
    if location is None:
        raise ValueError(f"the engine worker needs {REGISTRY_ENV}=s3://... (the stack sets it)")
    from fraudpipe.s3_objects import S3Objects

    return S3Objects.from_uri(location.rstrip("/") + "/jobs", aws_client("s3"))


def detector_ttl() -> float:
    raw = os.environ.get(TTL_ENV, "0")
    try:
        return max(0.0, float(raw))
    except ValueError as exc:
        raise ValueError(f"{TTL_ENV} must be a number of seconds, not {raw!r}") from exc

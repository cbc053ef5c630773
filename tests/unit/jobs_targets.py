"""Job targets used by test_jobs (a job target is ``function(params, progress) -> dict``)."""

from __future__ import annotations

import os
import time
from typing import Any

from fraudpipe.errors import EtlError
from fraudpipe.jobs import ProgressFn


def add(params: dict[str, Any], progress: ProgressFn) -> dict[str, Any]:
    progress("adding")
    return {"sum": params["a"] + params["b"], "pid": os.getpid()}


def fail(params: dict[str, Any], progress: ProgressFn) -> dict[str, Any]:
    raise EtlError(f"bad file {params['file']}")


def sleep(params: dict[str, Any], progress: ProgressFn) -> dict[str, Any]:
    time.sleep(params["seconds"])
    return {}

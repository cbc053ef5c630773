"""Two tiny Lambda handlers for a small state machine the console tests run on the real runtime.

``load_raw`` fails (uncaught) while the execution's raw prefix holds no ``fraudTrain.csv``, the
same failure a pipeline run has before its data is uploaded; adding the file and redriving
lets it succeed.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fraudpipe.errors import DataValidationError
from fraudpipe.handler import parse_event
from fraudpipe.workspace import get_workspace

DEFINITION = Path(__file__).parent / "data" / "small.asl.json"
FUNCTIONS = {
    "PrepareFunctionArn": "tests.console.handlers.prepare",
    "LoadRawFunctionArn": "tests.console.handlers.load_raw",
}


def raw_file(execution_input: dict[str, Any]) -> Path:
    ws = get_workspace()
    uri = f"s3://{execution_input['bucket']}/{execution_input['raw_prefix']}fraudTrain.csv"
    return ws.local_path(uri)


def prepare(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return {"execution": parse_event(event).execution_name, "ready": False}


def load_raw(event: dict[str, Any], context: Any) -> dict[str, Any]:
    state = parse_event(event)
    path = raw_file(state.input)
    if not path.is_file():
        raise DataValidationError(f"no raw file fraudTrain.csv under {state.input['raw_prefix']}")
    return {"rows": len(path.read_text().splitlines()) - 1, "ready": True}


def definition() -> dict[str, Any]:
    return json.loads(DEFINITION.read_text())

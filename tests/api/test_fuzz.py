"""Schemathesis against /openapi.json (positive and negative cases): never a 5xx.

Runs against a workspace with a trained, ACTIVE detector (a 503 would be a 5xx too), with a
bounded number of examples per operation and mode so that it takes seconds. The operations'
strategies are driven by Hypothesis directly (schemathesis' fixture-based loader does not work
with this pytest version).
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

from fraudpipe.api.fastpath import front
from fraudpipe.api.keys import ensure_api_key
from fraudpipe.server import create_app

EXAMPLES = 25


@pytest.mark.slow
def test_fuzzing_the_api_never_gets_a_server_error(trained_ws):
    # GIVEN the app's own OpenAPI document, restricted to this area's operations
    # (served as `fraudpipe serve` serves it: the predict fast path in front of the app)
    schema = schemathesis.openapi.from_asgi("/openapi.json", front(create_app(trained_ws)))
    schema = schema.include(path_regex="^/(predict|review)")
    headers = {"x-api-key": ensure_api_key(trained_ws)}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {f"{op.method.upper()} {op.path}" for op in operations} >= {
        "GET /predict",
        "POST /predict",
        "POST /review/api/items/{loop_name}",
    }
    statuses: dict[int, int] = {}
    # WHEN every operation gets valid and invalid requests
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
                      suppress_health_check=list(HealthCheck), database=None)  # fmt: skip
            @given(case=operation.as_strategy(generation_mode=mode))
            def fuzz(case):
                response = case.call_and_validate(headers=headers, checks=[not_a_server_error])
                statuses[response.status_code] = statuses.get(response.status_code, 0) + 1

            try:
                fuzz()
            except Unsatisfiable:  # no parameter to break (e.g. GET /review/api/summary)
                assert mode is GenerationMode.NEGATIVE
    # THEN no 5xx came back, and both successes and refusals were exercised
    assert not [s for s in statuses if s >= 500], statuses
    assert statuses.get(200) and statuses.get(400), statuses

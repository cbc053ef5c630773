"""Validate and default an execution's input before anything starts, locally and on AWS.

Why before the start and not in the first handler: a typo (``review.min: 950`` above
``review.max``) found an hour into a run wastes the crawl, the ETL and the training. The schema
is ``input_schema.json`` (JSON Schema 2020-12, also published for deploy); the checks a schema
cannot express (one field against another) live in :func:`_cross_field_problems`. Every problem
is reported as ``path: reason``, all at once.
"""

from __future__ import annotations

import contextlib
import copy
import json
import re
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, ValidationError

from fraudpipe.errors import InputValidationError

__all__ = [
    "SCHEMA_PATH",
    "defaults",
    "json_problem_line",
    "load_schema",
    "parse_input_text",
    "validate_input",
]

SCHEMA_PATH = Path(__file__).with_name("input_schema.json")
_JSON_PROBLEM = re.compile(r"^\(JSON\) .*?line (\d+), column \d+: ")


@cache
def load_schema() -> dict[str, Any]:
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


def _path(parts: Any) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(input)"


def _describe(error: ValidationError) -> str:
    """``path: reason``; for a value matching none of several shapes, the closest shape's reason."""
    if error.validator in ("oneOf", "anyOf") and error.context:
        # the shapes whose type matched failed for a reason worth showing; "not of type" of the
        # other shapes is noise
        # other shapes is noise; the deepest remaining error is the most specific
        relevant = [e for e in error.context if e.validator != "type" or e.relative_path]
        closest = max(
            relevant or error.context,
            key=lambda e: (len(e.absolute_path), e.validator != "additionalProperties"),
        )
        return f"{_path(closest.absolute_path)}: {closest.message}"
    return f"{_path(error.absolute_path)}: {error.message}"


def _fill_defaults(value: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """Add the schema's defaults for absent keys, recursively into nested objects."""
    for key, sub in schema.get("properties", {}).items():
        if key not in value and "default" in sub:
            value[key] = copy.deepcopy(sub["default"])
        if isinstance(value.get(key), dict) and sub.get("type") == "object":
            _fill_defaults(value[key], sub)
    return value


def _timestamp(text: Any) -> datetime | None:
    if not isinstance(text, str):
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def _cross_field_problems(data: dict[str, Any]) -> list[str]:
    problems = []
    review = data.get("review") or {}
    if review.get("min", 0) > review.get("max", 1000):
        problems.append("review.min: must be <= review.max")
    if data.get("mode") == "update" and not data.get("model_version"):
        problems.append("model_version: required when mode is 'update' (the major to update)")
    for key in ("train_cutoff", "test_cutoff"):
        if data.get(key) is not None and _timestamp(data[key]) is None:
            problems.append(f"{key}: {data[key]!r} is not an ISO 8601 timestamp")
    train, test = _timestamp(data.get("train_cutoff")), _timestamp(data.get("test_cutoff"))
    if train and test:
        try:
            if train > test:
                problems.append("train_cutoff: must be <= test_cutoff")
        except TypeError:
            problems.append("train_cutoff: give both cutoffs with a time zone, or both without")
    rules = data.get("rules")
    if (
        isinstance(rules, dict)
        and "high_risk_above" in rules
        and rules.get("medium_risk_above", 0) >= rules.get("high_risk_above", 1000)
    ):
        problems.append("rules.medium_risk_above: must be < rules.high_risk_above")
    batch = data.get("batch") or {}
    if (
        batch.get("mode") == "sample"
        and batch.get("fraud_samples", 0) + batch.get("legit_samples", 0) == 0
    ):
        problems.append("batch: a sample needs fraud_samples + legit_samples > 0")
    return problems


def parse_input_text(text: str, source: str = "input") -> dict[str, Any]:
    """An execution input given as JSON text (the console's form, ``--input``, a file).

    Blank text is ``{}`` (every default). A syntax error is reported as one problem
    ``(JSON) <source>, line L, column C: <reason>`` (:func:`json_problem_line` reads the line
    back, so a form can point at it); a value that is not an object as ``(input): ...``.
    """
    if not text.strip():
        return {}
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputValidationError(
            [f"(JSON) {source}, line {exc.lineno}, column {exc.colno}: {exc.msg}"]
        ) from exc
    if not isinstance(value, dict):
        raise InputValidationError(
            [f"(input): must be a JSON object, not {type(value).__name__} ({source})"]
        )
    return value


def json_problem_line(problem: str) -> int | None:
    """The line a JSON syntax problem of :func:`parse_input_text` names (None for others)."""
    match = _JSON_PROBLEM.match(problem)
    return int(match.group(1)) if match else None


def defaults() -> dict[str, Any]:
    """The input an execution gets when given ``{}``."""
    return validate_input({})


def validate_input(raw: dict[str, Any] | None) -> dict[str, Any]:
    """The input with every default filled; raises ``InputValidationError`` listing problems."""
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise InputValidationError([f"(input): must be a JSON object, not {type(raw).__name__}"])
    schema = load_schema()
    validator = Draft202012Validator(schema)
    problems = [
        _describe(error)
        for error in sorted(validator.iter_errors(raw), key=lambda e: list(map(str, e.path)))
    ]
    data = _fill_defaults(copy.deepcopy(raw), schema)
    # cross-field checks too, so that every problem is reported at once (values of the wrong
    # type can make them fail: the schema has reported those already)
    with contextlib.suppress(TypeError, AttributeError):
        problems += [p for p in _cross_field_problems(data) if p not in problems]
    if problems:
        raise InputValidationError(problems)
    if data.get("model_version") is not None:
        data["model_version"] = str(data["model_version"])
    return data

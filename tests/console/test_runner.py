"""The start form's input parsing and where its problems point to."""

from __future__ import annotations

import pytest

from fraudpipe.console.runner import locate_problem, parse_input_text
from fraudpipe.errors import InputValidationError

TEXT = '{\n  "batch": {\n    "mode": "x"\n  },\n  "mode": "x",\n  "extra": 1\n}'


@pytest.mark.parametrize(
    ("problem", "line"),
    [
        ("batch.mode: 'x' is not one of ['full', 'sample']", 3),
        ("mode: 'x' is not one of ['create', 'update']", 5),
        ("(input): Additional properties are not allowed ('extra' was unexpected)", 6),
        ("(JSON) the form, line 4, column 2: Expecting value", 4),
        ("review.min: missing", None),
    ],
)
def test_problems_point_at_their_line(problem: str, line: int | None) -> None:
    assert locate_problem(TEXT, problem) == line


def test_empty_text_is_the_defaults_and_non_objects_are_refused() -> None:
    assert parse_input_text("  ") == {}
    with pytest.raises(InputValidationError, match="must be a JSON object"):
        parse_input_text("[1, 2]")
    with pytest.raises(InputValidationError, match=r"\(JSON\) the form, line 1, column 2") as exc:
        parse_input_text("{,}")
    assert locate_problem("{,}", exc.value.problems[0]) == 1


def test_keys_inside_arrays_and_escaped_quotes_are_found() -> None:
    text = (
        '{\n  "note": "a \\"mode\\" here",\n  "rules": [\n    {"rule_id": "r",\n'
        '     "expression": 1}\n  ]\n}'
    )
    assert locate_problem(text, "rules[0].expression: 1 is not of type 'string'") == 5
    assert locate_problem(text, "mode: required") is None

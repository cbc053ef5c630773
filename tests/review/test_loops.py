"""Loop names follow A2I's rule and are unique; verdicts map to labels; band is inclusive."""

from __future__ import annotations

import re

import pytest

from fraudpipe.review.loops import batch_loop_name, realtime_loop_name, sanitize, verdict_label
from fraudpipe.review.settings import ReviewSettings

A2I_NAME = re.compile(r"^[a-z0-9](-*[a-z0-9])*$")


@pytest.mark.parametrize(
    ("execution", "event"),
    [
        ("fraudpipe-20261124T163000-ab12", "6cee353a9d618adfbb12ecad9d427244"),
        ("Run_With.Dots AND CAPS", "--weird__id--"),
        ("x" * 80, "y" * 80),
        ("---", "___"),
    ],
)
def test_batch_loop_names_follow_the_a2i_rule(execution, event):
    name = batch_loop_name(execution, event)
    assert A2I_NAME.match(name) and len(name) <= 63
    assert batch_loop_name(execution, event) == name  # deterministic: a retry finds its loop


def test_long_names_sharing_a_prefix_stay_distinct():
    base = "e" * 70
    assert batch_loop_name(base, "1") != batch_loop_name(base, "2")
    assert realtime_loop_name("abc") != realtime_loop_name("abc")
    assert sanitize("A_B..c") == "a-b-c"


def test_verdicts_map_to_labels():
    assert verdict_label("fraud") == "fraud"
    assert verdict_label("legit") == "legit"
    assert verdict_label("escalate") is None
    with pytest.raises(ValueError, match="verdict must be one of"):
        verdict_label("maybe")


def test_review_band_is_inclusive_and_validated():
    band = ReviewSettings.from_input({"review": {"min": 700, "max": 900}})
    assert band.in_band(700) and band.in_band(900) and not band.in_band(900.5)
    assert ReviewSettings.from_input({}).max_items == 100
    with pytest.raises(ValueError, match=r"review\.min"):
        ReviewSettings.from_input({"review": {"min": 950, "max": 900}})

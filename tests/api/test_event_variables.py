"""A request's event variables are its validated fields as strings, as pydantic dumps them;
its timestamp is written as strftime writes it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from fraudpipe.api.schema import VARIABLES, PredictRequest, normalize_timestamp, validate_request

BASE = {"trans_num": "t1", "amt": "12.5", "zip": "97383", "city": "Stayton", "first": "Erica",
        "job": "Engineer", "street": "213 Girll Expressway", "category": "shopping_pos",
        "city_pop": "116001", "gender": "F", "cc_num": "180046165512893", "last": "Walker",
        "state": "OR", "merchant": "fraud_Macejkovic-Lesch",
        "event_timestamp": "2020-10-13T09:21:53Z"}  # fmt: skip


@pytest.mark.parametrize("changes", [
    {}, {"amt": "12"}, {"amt": "1e2"}, {"amt": 3}, {"amt": "0.1"}, {"city_pop": "007"},
    {"city_pop": 5}, {"city": "  padded  "}, {"gender": " M "}, {"amt": " 99.990 "},
])  # fmt: skip
def test_event_variables_are_the_dumped_fields_as_strings(changes):
    request = validate_request({**BASE, **changes})
    assert isinstance(request, PredictRequest)
    dumped = request.model_dump(include=set(VARIABLES))
    expected = {name: str(dumped[name]) for name in VARIABLES}
    found = request.event_variables()
    assert found == expected and list(found) == list(VARIABLES)


def test_normalized_timestamps_are_what_strftime_writes():
    moment = datetime(1970, 1, 1, tzinfo=UTC)
    while moment.year <= 2261:
        for text in (moment.isoformat(), moment.strftime("%Y-%m-%dT%H:%M:%S"),
                     moment.astimezone().isoformat()):
            assert normalize_timestamp(text) == moment.strftime("%Y-%m-%dT%H:%M:%SZ")
        moment += timedelta(days=37, hours=5, minutes=7, seconds=13, microseconds=999_999)

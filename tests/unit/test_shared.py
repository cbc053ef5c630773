"""Workspace paths, atomic writes, settings, event parsing and log redaction."""

from __future__ import annotations

import json
import logging

import pytest

from fraudpipe.config import settings
from fraudpipe.handler import parse_event
from fraudpipe.logs import RedactingFilter, redact
from fraudpipe.workspace import atomic_write_json, get_workspace, read_json


def test_s3_uris_map_into_the_workspace(tmp_path):
    ws = get_workspace(tmp_path)
    local = ws.local_path("s3://bkt/input/fraudTrain.csv")
    assert local == tmp_path / "s3/bkt/input/fraudTrain.csv"
    assert ws.uri("bkt", "glue_transformed/", "/e1/", "train") == "s3://bkt/glue_transformed/e1/train"
    with pytest.raises(ValueError, match="without a bucket"):
        ws.local_path("s3:///key")


def test_atomic_write_leaves_no_temporary_files(tmp_path):
    target = tmp_path / "a" / "b.json"
    atomic_write_json(target, {"x": 1})
    atomic_write_json(target, {"x": 2})
    assert read_json(target) == {"x": 2}
    assert [p.name for p in target.parent.iterdir()] == ["b.json"]
    assert read_json(tmp_path / "missing.json", {"d": 1}) == {"d": 1}


def test_settings_validate_the_environment(monkeypatch):
    monkeypatch.setenv("FRAUDPIPE_BACKEND", "AWS")
    monkeypatch.setenv("FRAUDPIPE_TIME_SCALE", "0.01")
    current = settings()
    assert current.is_aws and current.time_scale == 0.01
    monkeypatch.setenv("FRAUDPIPE_TIME_SCALE", "fast")
    with pytest.raises(ValueError, match="FRAUDPIPE_TIME_SCALE must be a number"):
        settings()
    monkeypatch.setenv("FRAUDPIPE_BACKEND", "gcp")
    with pytest.raises(ValueError, match="FRAUDPIPE_BACKEND"):
        settings()


def test_parse_event_reads_the_state_payload():
    event = parse_event({"execution_name": "e1", "input": {"etl": {"status": "SUCCEEDED"}}})
    assert event.execution_name == "e1"
    assert event.section("etl") == {"status": "SUCCEEDED"}
    assert event.section("batch") == {}
    bare = parse_event({"bucket": "b"})
    assert bare.input == {"bucket": "b"} and bare.task_token is None
    with pytest.raises(TypeError, match="JSON object"):
        parse_event(["not", "a", "dict"])  # type: ignore[arg-type]


def test_card_numbers_and_names_are_redacted():
    assert redact("card 4111111111111111 declined") == "card **** declined"
    assert redact({"cc_num": 123, "first": "Ann", "amt": 5.0}) == {
        "cc_num": "****",
        "first": "****",
        "amt": 5.0,
    }
    card = ("4111111111111111",)
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "row %s", card, None)
    RedactingFilter().filter(record)
    assert record.getMessage() == "row ****"
    assert json.dumps(redact(["2019-01-01", 42])) == '["2019-01-01", 42]'


def test_state_logger_names_the_state_and_execution():
    import io

    from fraudpipe.handler import state_logger

    first = state_logger("StartCrawler", parse_event({"execution_name": "e1", "input": {}}))
    sink = io.StringIO()
    capture = logging.StreamHandler(sink)
    capture.setFormatter(first.registered_formatter)
    capture.addFilter(RedactingFilter())
    first._logger.addHandler(capture)
    try:
        first.warning("one")
        second = state_logger("QualityGate", parse_event({"execution_name": "e2", "input": {}}))
        second.warning("two with 4111111111111111")
    finally:
        first._logger.removeHandler(capture)
    lines = [json.loads(line) for line in sink.getvalue().splitlines()]
    assert [(x["state"], x["execution_name"]) for x in lines] == [
        ("StartCrawler", "e1"),
        ("QualityGate", "e2"),
    ]
    assert "4111111111111111" not in lines[1]["message"]

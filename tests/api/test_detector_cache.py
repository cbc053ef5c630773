"""The ACTIVE detector a scorer caches: reused while unchanged, replaced as soon as the
registry says another version is ACTIVE (or none is), without any time-to-live."""

from __future__ import annotations

import pytest

from fraudpipe.engine import BuiltinEngine
from fraudpipe.engine.rules import default_rules
from fraudpipe.errors import NoActiveDetectorError
from tests.api.trained import DETECTOR, MODEL, VARIABLES, test_events

pytestmark = pytest.mark.slow  # trains a model once per worker (a few seconds)


def _predict(engine: BuiltinEngine, event: dict[str, str]) -> dict:
    return engine.get_event_prediction(DETECTOR, event["trans_num"], event["EVENT_TIMESTAMP"],
                                       event["cc_num"], {k: event[k] for k in VARIABLES})


def test_a_newly_active_version_is_used_by_the_next_prediction(trained_ws, monkeypatch):
    monkeypatch.delenv("FRAUDPIPE_DETECTOR_TTL", raising=False)
    events = test_events(trained_ws, limit=4)
    scorer, deployer = BuiltinEngine(trained_ws), BuiltinEngine(trained_ws)
    try:
        # GIVEN a scorer that has loaded version 1 and reuses it while nothing changed
        assert _predict(scorer, events[0])["detectorVersionId"] == "1"
        first = scorer.load_detector(DETECTOR)
        assert scorer.load_detector(DETECTOR) is first
        # WHEN another engine (another process, in real use) activates version 2
        deployer.create_detector_version(
            DETECTOR, [{"modelId": MODEL, "modelVersionNumber": "1.0"}], default_rules(MODEL))
        deployer.update_detector_version_status(DETECTOR, "2", "ACTIVE")
        # THEN the scorer's next prediction uses version 2 (the clock did not move)
        assert _predict(scorer, events[1])["detectorVersionId"] == "2"
        assert scorer.load_detector(DETECTOR) is not first
        # AND when no version is ACTIVE any more, the next prediction says so
        deployer.update_detector_version_status(DETECTOR, "2", "INACTIVE")
        with pytest.raises(NoActiveDetectorError):
            _predict(scorer, events[2])
        # AND a version made ACTIVE again is picked up again
        deployer.update_detector_version_status(DETECTOR, "1", "ACTIVE")
        assert _predict(scorer, events[3])["detectorVersionId"] == "1"
    finally:
        scorer.close()
        deployer.close()


def test_a_ttl_skips_the_check_for_that_long(trained_ws, monkeypatch):
    monkeypatch.setenv("FRAUDPIPE_DETECTOR_TTL", "30")
    events = test_events(trained_ws, limit=3)
    scorer, deployer = BuiltinEngine(trained_ws), BuiltinEngine(trained_ws)
    now = [1000.0]
    scorer.clock = lambda: now[0]
    try:
        assert _predict(scorer, events[0])["detectorVersionId"] == "1"
        deployer.create_detector_version(
            DETECTOR, [{"modelId": MODEL, "modelVersionNumber": "1.0"}], default_rules(MODEL))
        deployer.update_detector_version_status(DETECTOR, "2", "ACTIVE")
        now[0] += 29  # within the TTL: the version read before
        assert _predict(scorer, events[1])["detectorVersionId"] == "1"
        now[0] += 2  # past it: checked again
        assert _predict(scorer, events[2])["detectorVersionId"] == "2"
    finally:
        scorer.close()
        deployer.close()

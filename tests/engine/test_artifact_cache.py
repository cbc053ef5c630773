"""A loaded model version is reused until its metadata is rewritten, and then replaced; a
process keeps a bounded number of model versions loaded and an engine of detectors built."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from fraudpipe.engine import BuiltinEngine, artifact, builtin
from fraudpipe.engine.artifact import METADATA_FILE, load_artifact
from fraudpipe.engine.rules import default_rules
from tests.engine.conftest import DETECTOR, MODEL


def test_a_rewritten_version_replaces_its_earlier_load(trained: BuiltinEngine) -> None:
    # GIVEN a model version loaded once
    folder = trained.registry.artifact_dir(MODEL, "1.0")
    first = load_artifact(folder)
    assert load_artifact(folder) is first
    # WHEN its metadata is rewritten (a newer modification time)
    meta = folder / METADATA_FILE
    stamp = meta.stat().st_mtime
    os.utime(meta, (stamp + 10, stamp + 10))
    second = load_artifact(folder)
    # THEN it is loaded again, and only the new load stays in the process
    assert second is not first
    assert [key for key in artifact._CACHE if key[0] == str(folder)] == [
        (str(folder), stamp + 10)]


def test_the_least_recently_used_version_is_dropped_past_the_limit(
        trained: BuiltinEngine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN room for two loaded versions and three copies of a trained version
    monkeypatch.setattr(artifact, "MAX_LOADED", 2)
    source = trained.registry.artifact_dir(MODEL, "1.0")
    a, b, c = (shutil.copytree(source, tmp_path / name) for name in "abc")
    first = load_artifact(a)
    load_artifact(b)
    assert load_artifact(a) is first  # a is now the most recently used
    # WHEN a third is loaded
    load_artifact(c)
    # THEN b, the least recently used, is dropped, and a is still the same load
    loaded = [key[0] for key in artifact._CACHE]
    assert str(b) not in loaded and {str(a), str(c)} <= set(loaded)
    assert load_artifact(a) is first


def test_an_engine_keeps_a_bounded_number_of_detectors(
        trained: BuiltinEngine, monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN room for two built detectors and three detector versions
    monkeypatch.setattr(builtin, "MAX_DETECTORS", 2)
    models = [{"modelId": MODEL, "modelVersionNumber": "1.0"}]
    for _ in range(2):
        trained.create_detector_version(DETECTOR, models, default_rules(MODEL))
    versions = [r["detectorVersionId"] for r in trained.list_detector_versions(DETECTOR)]
    assert len(versions) == 3
    first = trained.load_detector(DETECTOR, versions[0])
    trained.load_detector(DETECTOR, versions[1])
    assert trained.load_detector(DETECTOR, versions[0]) is first  # now the most recent
    # WHEN the third is built
    trained.load_detector(DETECTOR, versions[2])
    # THEN the least recently used one is dropped and the others are kept as built
    kept = {key[1] for key in trained._detectors}
    assert kept == {versions[0], versions[2]}
    assert trained.load_detector(DETECTOR, versions[0]) is first

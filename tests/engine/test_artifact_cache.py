"""A loaded model version is reused until its metadata is rewritten, and then replaced."""

from __future__ import annotations

import os

from fraudpipe.engine import BuiltinEngine, artifact
from fraudpipe.engine.artifact import METADATA_FILE, load_artifact
from tests.engine.conftest import MODEL


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

"""The built-in engine's registry: models, versions, detectors and batch jobs as JSON files.

Why files under one lock: everything must survive the process, and two executions (or an
execution and ``fraudpipe serve``) may touch the registry at once. Every read-modify-write runs
under a ``filelock`` lock on ``registry/.lock`` and every file is replaced atomically
(``atomic_write_json``), so a crash leaves the old record or the new one, never half of one.

On AWS the same records live in S3 (:mod:`fraudpipe.engine.s3_registry`, same layout and
methods); :func:`fraudpipe.engine.backends.open_registry` picks one by configuration.

Layout under ``ws.registry_dir``::

    models/<model_id>/model.json
    models/<model_id>/versions/<version>/version.json   (+ model files, report/)
    detectors/<detector_id>/detector.json
    detectors/<detector_id>/versions/<n>.json
    batch_jobs/<job_id>.json
    entity_store.sqlite                                 (realtime card histories)
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from filelock import FileLock

from fraudpipe.errors import ResourceNotFoundError
from fraudpipe.workspace import Workspace, atomic_write_json, read_json

__all__ = ["Registry", "now", "version_key"]


def now() -> str:
    """AFD's timestamp format (ISO 8601, UTC)."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def version_key(version: str) -> tuple[int, ...]:
    """Sort key of ``"1.0"``, ``"1.0.2"``... (numeric, part by part)."""
    return tuple(int(part) for part in version.split("."))


class Registry:
    """File storage of the registry; the engine puts AFD's rules on top."""

    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace
        self.root = workspace.registry_dir
        self._lock = FileLock(str(self.root / ".lock"), timeout=120)

    @contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the registry lock (re-entrant within a thread)."""
        self.root.mkdir(parents=True, exist_ok=True)
        with self._lock:
            yield

    # --- models -------------------------------------------------------------------------------
    def model_file(self, model_id: str) -> Path:
        return self.root / "models" / model_id / "model.json"

    def version_dir(self, model_id: str, version: str) -> Path:
        return self.root / "models" / model_id / "versions" / version

    def get_model(self, model_id: str) -> dict[str, Any]:
        data = read_json(self.model_file(model_id))
        if data is None:
            raise ResourceNotFoundError(f"model {model_id!r} does not exist")
        return data

    def put_model(self, record: dict[str, Any]) -> None:
        atomic_write_json(self.model_file(record["modelId"]), record)

    def list_models(self) -> list[str]:
        base = self.root / "models"
        return sorted(p.parent.name for p in base.glob("*/model.json")) if base.exists() else []

    def version_numbers(self, model_id: str) -> list[str]:
        base = self.root / "models" / model_id / "versions"
        if not base.exists():
            return []
        found = [p.parent.name for p in base.glob("*/version.json")]
        return sorted(found, key=version_key)

    def get_version(self, model_id: str, version: str) -> dict[str, Any]:
        data = read_json(self.version_dir(model_id, version) / "version.json")
        if data is None:
            raise ResourceNotFoundError(f"model version {model_id} {version} does not exist")
        return data

    def put_version(self, record: dict[str, Any]) -> None:
        record["lastUpdatedTime"] = now()
        path = self.version_dir(record["modelId"], record["modelVersionNumber"])
        atomic_write_json(path / "version.json", record)

    # --- detectors ----------------------------------------------------------------------------
    def detector_file(self, detector_id: str) -> Path:
        return self.root / "detectors" / detector_id / "detector.json"

    def get_detector(self, detector_id: str) -> dict[str, Any]:
        data = read_json(self.detector_file(detector_id))
        if data is None:
            raise ResourceNotFoundError(f"detector {detector_id!r} does not exist")
        return data

    def put_detector(self, record: dict[str, Any]) -> None:
        atomic_write_json(self.detector_file(record["detectorId"]), record)

    def list_detectors(self) -> list[str]:
        base = self.root / "detectors"
        if not base.exists():
            return []
        return sorted(p.parent.name for p in base.glob("*/detector.json"))

    def detector_version_file(self, detector_id: str, version: str) -> Path:
        return self.root / "detectors" / detector_id / "versions" / f"{version}.json"

    def detector_versions(self, detector_id: str) -> list[str]:
        base = self.root / "detectors" / detector_id / "versions"
        if not base.exists():
            return []
        return sorted((p.stem for p in base.glob("*.json")), key=int)

    def get_detector_version(self, detector_id: str, version: str) -> dict[str, Any]:
        data = read_json(self.detector_version_file(detector_id, str(version)))
        if data is None:
            raise ResourceNotFoundError(f"detector version {detector_id} {version} does not exist")
        return data

    def put_detector_version(self, record: dict[str, Any]) -> None:
        record["lastUpdatedTime"] = now()
        path = self.detector_version_file(record["detectorId"], record["detectorVersionId"])
        atomic_write_json(path, record)

    # --- batch jobs ---------------------------------------------------------------------------
    def batch_file(self, job_id: str) -> Path:
        return self.root / "batch_jobs" / f"{job_id}.json"

    def get_batch(self, job_id: str) -> dict[str, Any]:
        data = read_json(self.batch_file(job_id))
        if data is None:
            raise ResourceNotFoundError(f"batch prediction job {job_id!r} does not exist")
        return data

    def put_batch(self, record: dict[str, Any]) -> None:
        atomic_write_json(self.batch_file(record["jobId"]), record)

    def list_batches(self) -> list[str]:
        base = self.root / "batch_jobs"
        return sorted(p.stem for p in base.glob("*.json")) if base.exists() else []

    @property
    def entity_store_path(self) -> Path:
        return self.root / "entity_store.sqlite"

    # --- files: the same calls as fraudpipe.engine.s3_registry.S3Registry, nothing to copy ---
    def save_artifacts(self, model_id: str, version: str) -> None:
        """Training wrote the files in place: nothing to store elsewhere."""

    def artifact_dir(self, model_id: str, version: str) -> Path:
        return self.version_dir(model_id, version)

    def artifact_location(self, model_id: str, version: str, path: Path) -> str:
        return str(path)

    def detector_stamp(self, record: dict[str, Any]) -> float:
        """Changes whenever the detector version file is rewritten (scoring-cache key)."""
        path = self.detector_version_file(record["detectorId"], record["detectorVersionId"])
        return path.stat().st_mtime

    def fetch(self, uri: str) -> Path:
        """The data file at ``uri`` (an s3:// URI maps into the workspace)."""
        return self.workspace.local_path(uri)

    def output_path(self, uri: str) -> Path:
        return self.workspace.local_path(uri)

    def publish(self, path: Path, uri: str) -> None:
        """The output is already at its place in the workspace."""

    def forget(self, *paths: Path) -> None:
        """Local data files are the workspace's own: keep them."""

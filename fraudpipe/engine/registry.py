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

import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from filelock import FileLock

from fraudpipe.errors import ResourceNotFoundError
from fraudpipe.workspace import Workspace, atomic_write_json, read_json

__all__ = ["RecordLayout", "Registry", "now", "version_key"]


def now() -> str:
    """AFD's timestamp format (ISO 8601, UTC)."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def version_key(version: str) -> tuple[int, ...]:
    """Sort key of ``"1.0"``, ``"1.0.2"``... (numeric, part by part)."""
    return tuple(int(part) for part in version.split("."))


class RecordLayout:
    """AFD's records in the layout above, over any store of JSON documents.

    Why a base class: the local registry and the S3 one (:mod:`fraudpipe.engine.s3_registry`)
    keep the same records under the same names, with the same errors and orderings; only how a
    document is read, written and listed differs (:meth:`_read`, :meth:`_write`,
    :meth:`_names`).
    """

    #: this process's local folder of the registry (its records locally, a cache on S3)
    root: Path

    def detector_file_stamp(self, detector_id: str) -> tuple[int, int, int] | None:
        """A cheap stamp that changes whenever the detector's ACTIVE version may have, or
        None when the storage has none (then the records are read)."""
        return None

    def version_dir(self, model_id: str, version: str) -> Path:
        """This process's folder of a version's files (training writes here)."""
        return self.root / "models" / model_id / "versions" / version

    def _read(self, name: str) -> dict[str, Any] | None:
        raise NotImplementedError

    def _write(self, name: str, record: dict[str, Any]) -> None:
        raise NotImplementedError

    def _names(self, folder: str, suffix: str) -> list[str]:
        """The part between ``folder/`` and ``suffix`` of each document directly in it."""
        raise NotImplementedError

    def _get(self, name: str, missing: str) -> dict[str, Any]:
        found = self._read(name)
        if found is None:
            raise ResourceNotFoundError(missing)
        return found

    # --- models -------------------------------------------------------------------------------
    def get_model(self, model_id: str) -> dict[str, Any]:
        return self._get(f"models/{model_id}/model.json", f"model {model_id!r} does not exist")

    def put_model(self, record: dict[str, Any]) -> None:
        self._write(f"models/{record['modelId']}/model.json", record)

    def list_models(self) -> list[str]:
        return sorted(self._names("models", "/model.json"))

    def version_numbers(self, model_id: str) -> list[str]:
        return sorted(self._names(f"models/{model_id}/versions", "/version.json"),
                      key=version_key)

    def get_version(self, model_id: str, version: str) -> dict[str, Any]:
        return self._get(f"models/{model_id}/versions/{version}/version.json",
                         f"model version {model_id} {version} does not exist")

    def put_version(self, record: dict[str, Any]) -> None:
        record["lastUpdatedTime"] = now()
        self._write(
            f"models/{record['modelId']}/versions/{record['modelVersionNumber']}/version.json",
            record)

    # --- detectors ----------------------------------------------------------------------------
    def get_detector(self, detector_id: str) -> dict[str, Any]:
        return self._get(f"detectors/{detector_id}/detector.json",
                         f"detector {detector_id!r} does not exist")

    def put_detector(self, record: dict[str, Any]) -> None:
        self._write(f"detectors/{record['detectorId']}/detector.json", record)

    def list_detectors(self) -> list[str]:
        return sorted(self._names("detectors", "/detector.json"))

    @staticmethod
    def _detector_version_name(detector_id: str, version: str) -> str:
        return f"detectors/{detector_id}/versions/{version}.json"

    def detector_versions(self, detector_id: str) -> list[str]:
        return sorted(self._names(f"detectors/{detector_id}/versions", ".json"), key=int)

    def get_detector_version(self, detector_id: str, version: str) -> dict[str, Any]:
        return self._get(self._detector_version_name(detector_id, str(version)),
                         f"detector version {detector_id} {version} does not exist")

    def put_detector_version(self, record: dict[str, Any]) -> None:
        record["lastUpdatedTime"] = now()
        self._write(self._detector_version_name(record["detectorId"],
                                                record["detectorVersionId"]), record)

    # --- batch jobs ---------------------------------------------------------------------------
    def get_batch(self, job_id: str) -> dict[str, Any]:
        return self._get(f"batch_jobs/{job_id}.json",
                         f"batch prediction job {job_id!r} does not exist")

    def put_batch(self, record: dict[str, Any]) -> None:
        self._write(f"batch_jobs/{record['jobId']}.json", record)

    def list_batches(self) -> list[str]:
        return sorted(self._names("batch_jobs", ".json"))


class Registry(RecordLayout):
    """File storage of the registry; the engine puts AFD's rules on top."""

    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace
        self.root = workspace.registry_dir
        self._lock = FileLock(str(self.root / ".lock"), timeout=120)
        self._stamp_paths: dict[str, str] = {}

    @contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the registry lock (re-entrant within a thread)."""
        self.root.mkdir(parents=True, exist_ok=True)
        with self._lock:
            yield

    def _read(self, name: str) -> dict[str, Any] | None:
        return read_json(self.root / name)

    def _write(self, name: str, record: dict[str, Any]) -> None:
        atomic_write_json(self.root / name, record)

    def _names(self, folder: str, suffix: str) -> list[str]:
        base = self.root / folder
        if not base.exists():
            return []
        return [p.as_posix()[len(base.as_posix()) + 1:-len(suffix)]
                for p in base.glob("*" + suffix)]

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
        name = self._detector_version_name(record["detectorId"], record["detectorVersionId"])
        return (self.root / name).stat().st_mtime

    def detector_file_stamp(self, detector_id: str) -> tuple[int, int, int] | None:
        """Identity of ``detectors/<id>/detector.json``, which every status change of any of
        the detector's versions rewrites (atomically: a new inode); None when the file is
        missing (the caller then reads the record, which raises the right error)."""
        path = self._stamp_paths.get(detector_id)
        if path is None:  # built once: pathlib's joins cost more than the stat (per request)
            path = self._stamp_paths[detector_id] = os.fspath(
                self.root / "detectors" / detector_id / "detector.json")
        try:
            found = os.stat(path)
        except OSError:
            return None
        return (found.st_ino, found.st_mtime_ns, found.st_size)

    def fetch(self, uri: str) -> Path:
        """The data file at ``uri`` (an s3:// URI maps into the workspace)."""
        return self.workspace.local_path(uri)

    def output_path(self, uri: str) -> Path:
        return self.workspace.local_path(uri)

    def publish(self, path: Path, uri: str) -> None:
        """The output is already at its place in the workspace."""

    def forget(self, *paths: Path) -> None:
        """Local data files are the workspace's own: keep them."""

"""The built-in engine's registry in S3: what makes the built-in engine work on AWS Lambda.

Why: Lambda's ``/tmp`` is private to one sandbox, so a registry there is lost between
CreateModelVersion, GetTrainingStatus, the training worker and the predict function. This class
keeps the local registry's interface (:class:`fraudpipe.engine.registry.Registry`) and its record
layout, under ``s3://<bucket>/<prefix>/`` instead of ``<workspace>/registry/``::

    models/<model_id>/model.json
    models/<model_id>/versions/<version>/version.json   (+ model.txt, metadata.json,
                                                          entities_*.parquet, report/)
    detectors/<detector_id>/detector.json
    detectors/<detector_id>/versions/<n>.json
    batch_jobs/<job_id>.json
    jobs/<job_id>.json                                  (Lambda worker jobs, fraudpipe.aws_jobs)
    .lock                                               (lease lock, fraudpipe.engine.s3_lock)

Every record is one object, and a PutObject is atomic: readers see the old record or the new
one. Read-modify-write sequences run under :class:`~fraudpipe.engine.s3_lock.S3LeaseLock`,
built on S3's conditional writes. Model files are written once by the training worker and then
only read: a process downloads a version's files into its workspace (``/tmp`` on Lambda) the
first time it scores with it and reuses them after. Data files (training, batch input and
output) are copied between S3 and that workspace by :meth:`fetch` and :meth:`publish`.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from fraudpipe.engine.registry import RecordLayout
from fraudpipe.engine.s3_lock import S3LeaseLock
from fraudpipe.errors import ResourceNotFoundError
from fraudpipe.s3_objects import S3Objects, split_uri
from fraudpipe.workspace import Workspace

__all__ = ["S3Registry"]

COMPLETE_MARKER = ".complete"
#: files of a version a scorer never needs (the report and the validation slice behind it)
NOT_FOR_SCORING = ("report/", "validation.npz", "version.json")


class S3Registry(RecordLayout):
    """Registry records and model files in S3; local copies under the workspace."""

    def __init__(self, workspace: Workspace, objects: S3Objects,
                 lock: S3LeaseLock | None = None) -> None:
        self.workspace = workspace
        self.objects = objects
        self.root = workspace.root / "registry-cache"
        self._lock = lock or S3LeaseLock(objects)

    @property
    def location(self) -> str:
        return self.objects.uri("").rstrip("/")

    @contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the registry's S3 lease lock (re-entrant within a thread)."""
        with self._lock.held():
            yield

    def _read(self, name: str) -> dict[str, Any] | None:
        found = self.objects.get_json(name)
        return None if found is None else found[0]

    def _write(self, name: str, record: dict[str, Any]) -> None:
        self.objects.put_json(name, record)

    def _names(self, folder: str, suffix: str) -> list[str]:
        """The path part between ``folder/`` and ``suffix`` of every matching object."""
        start = len(folder.strip("/")) + 1
        return [name[start:len(name) - len(suffix)] for name in self.objects.list(folder)
                if name.endswith(suffix) and "/" not in name[start:len(name) - len(suffix)]]

    # --- model files --------------------------------------------------------------------------
    def save_artifacts(self, model_id: str, version: str) -> None:
        """Upload the files training wrote into :meth:`version_dir` (all but the record)."""
        folder = self.version_dir(model_id, version)
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            relative = path.relative_to(folder).as_posix()
            if relative != "version.json" and not path.name.startswith("."):
                self.objects.upload(path, f"models/{model_id}/versions/{version}/{relative}")

    def artifact_dir(self, model_id: str, version: str) -> Path:
        """The version's scoring files in a local folder (downloaded once per process)."""
        folder = self.version_dir(model_id, version)
        if (folder / COMPLETE_MARKER).exists():
            return folder
        base = f"models/{model_id}/versions/{version}"
        names = [n for n in self.objects.list(base)
                 if not n[len(base) + 1:].startswith(NOT_FOR_SCORING)]
        if not names:
            raise ResourceNotFoundError(
                f"model version {model_id} {version} has no model files in {self.location}")
        for name in names:
            self.objects.download(name, folder / name[len(base) + 1:])
        (folder / COMPLETE_MARKER).touch()
        return folder

    def artifact_location(self, model_id: str, version: str, path: Path) -> str:
        """Where a file of the version's folder lives for other processes (its S3 URI)."""
        relative = path.relative_to(self.version_dir(model_id, version)).as_posix()
        return self.objects.uri(f"models/{model_id}/versions/{version}/{relative}")

    def detector_stamp(self, record: dict[str, Any]) -> str:
        """Changes whenever the detector version record is written (scoring-cache key)."""
        return str(record.get("lastUpdatedTime"))

    @property
    def entity_store_path(self) -> Path:
        """Realtime card histories: per process (per Lambda container), seeded from the
        version's snapshot; see docs/deploy.md."""
        return self.workspace.root / "registry" / "entity_store.sqlite"

    # --- data files ---------------------------------------------------------------------------
    def _local_copy(self, uri: str) -> Path:
        bucket, key = split_uri(uri)
        return self.workspace.root / "s3-cache" / bucket / key

    def fetch(self, uri: str) -> Path:
        """A local copy of the data file at ``uri`` (ResourceNotFoundError if absent)."""
        if not uri.startswith("s3://"):
            return Path(uri)
        bucket, key = split_uri(uri)
        target = self._local_copy(uri)
        try:
            S3Objects(self.objects.client, bucket).download(key, target)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                raise ResourceNotFoundError(f"data file {uri} does not exist") from exc
            raise
        return target

    def output_path(self, uri: str) -> Path:
        """Where to write a file that :meth:`publish` then stores at ``uri``."""
        return self._local_copy(uri) if uri.startswith("s3://") else Path(uri)

    def publish(self, path: Path, uri: str) -> None:
        if uri.startswith("s3://"):
            bucket, key = split_uri(uri)
            S3Objects(self.objects.client, bucket).upload(path, key)

    def forget(self, *paths: Path) -> None:
        """Remove local copies of data files (``/tmp`` is small and reused by the container)."""
        for path in paths:
            if self.workspace.root not in path.parents:
                continue  # a plain local path given as the URI: not ours to delete
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)

"""The local workspace: one folder that holds everything a local run produces.

Why a folder and not memory: executions, model versions, detector versions, review verdicts and
data files must survive the process (a later ``fraudpipe serve`` uses what the last run
activated; a SIGKILLed run can be redriven). Default ``.fraudpipe/`` in the current directory,
overridden by ``FRAUDPIPE_HOME``.

Local stand-in for S3: ``s3://bucket/key`` lives at ``<root>/s3/bucket/key`` (see
:func:`Workspace.local_path`), so handlers speak in S3 URIs on both sides.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["Workspace", "atomic_write_json", "atomic_write_text", "get_workspace", "read_json"]

DEFAULT_HOME = ".fraudpipe"
HOME_ENV = "FRAUDPIPE_HOME"


@dataclass(frozen=True)
class Workspace:
    """Paths of the local workspace; creating one creates nothing on disk until used."""

    root: Path

    # --- well-known places -------------------------------------------------------------------
    @property
    def s3_root(self) -> Path:
        return self.root / "s3"

    @property
    def executions_dir(self) -> Path:
        return self.root / "executions"

    @property
    def registry_dir(self) -> Path:
        return self.root / "registry"

    @property
    def jobs_dir(self) -> Path:
        return self.root / "jobs"

    @property
    def catalog_dir(self) -> Path:
        return self.root / "catalog"

    @property
    def review_db(self) -> Path:
        return self.root / "review.sqlite"

    @property
    def labels_dir(self) -> Path:
        return self.root / "labels"

    @property
    def schedules_file(self) -> Path:
        return self.root / "schedules.json"

    @property
    def config_file(self) -> Path:
        return self.root / "config.json"

    @property
    def data_dir(self) -> Path:
        """Where `fraudpipe demo` keeps generated raw data between runs."""
        return self.root / "data"

    def ensure(self, path: Path) -> Path:
        """Create ``path`` (a folder) if needed and return it."""
        path.mkdir(parents=True, exist_ok=True)
        return path

    # --- S3 URIs ------------------------------------------------------------------------------
    def local_path(self, uri: str) -> Path:
        """Map ``s3://bucket/key`` (or a plain path) to a path in this workspace."""
        if uri.startswith("s3://"):
            bucket, _, key = uri[len("s3://") :].partition("/")
            if not bucket:
                raise ValueError(f"S3 URI without a bucket: {uri!r}")
            return self.s3_root / bucket / key
        return Path(uri)

    def uri(self, bucket: str, *key_parts: str) -> str:
        """Build ``s3://bucket/a/b`` from parts, without doubled slashes."""
        key = "/".join(p.strip("/") for p in key_parts if p.strip("/"))
        return f"s3://{bucket}/{key}"


def get_workspace(root: str | os.PathLike[str] | None = None) -> Workspace:
    """The workspace named by ``root``, else ``$FRAUDPIPE_HOME``, else ``./.fraudpipe``."""
    chosen = root if root is not None else os.environ.get(HOME_ENV, DEFAULT_HOME)
    return Workspace(Path(chosen).resolve())


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` so readers see the old file or the new one, never half of it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_json(path: Path, data: Any) -> None:
    """Atomically write ``data`` as indented JSON."""
    atomic_write_text(path, json.dumps(data, indent=2, sort_keys=True, default=str) + "\n")


def read_json(path: Path, default: Any = None) -> Any:
    """Read JSON from ``path``; ``default`` if the file does not exist."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return default

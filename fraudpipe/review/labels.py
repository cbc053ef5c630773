"""Labels from verdicts: the file the ETL reads so the next training learns from reviewers.

``labels.csv`` has the columns ``EVENT_ID, EVENT_LABEL, LABEL_TIMESTAMP, source``; one row per
event (a later verdict on the same event replaces the earlier one). Locally it lives in
``ws.labels_dir``; on AWS at ``s3://<bucket>/labels/labels.csv``. Writes are read-modify-write
of a small file, under a file lock locally.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from filelock import FileLock

from fraudpipe.workspace import Workspace, atomic_write_text

__all__ = ["COLUMNS", "Label", "LabelStore", "LocalLabelFile", "S3LabelFile"]

COLUMNS = ("EVENT_ID", "EVENT_LABEL", "LABEL_TIMESTAMP", "source")
S3_KEY = "labels/labels.csv"


@dataclass(frozen=True)
class Label:
    """A corrected label for one event."""

    event_id: str
    label: str
    timestamp: str
    source: str = "review"

    def row(self) -> dict[str, str]:
        values = (self.event_id, self.label, self.timestamp, self.source)
        return dict(zip(COLUMNS, values, strict=True))


class LabelFile(Protocol):
    """Where the CSV text lives (a local file or an S3 object)."""

    def read(self) -> str: ...

    def write(self, text: str) -> None: ...

    def lock(self) -> Any: ...


class LocalLabelFile:
    """``<workspace>/labels/labels.csv`` guarded by a lock file (several processes write it)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def read(self) -> str:
        try:
            return self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return ""

    def write(self, text: str) -> None:
        atomic_write_text(self.path, text)

    def lock(self) -> FileLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        return FileLock(str(self.path) + ".lock", timeout=30)


class S3LabelFile:
    """``s3://<bucket>/labels/labels.csv`` (on AWS; the client is passed in)."""

    def __init__(self, client: Any, bucket: str, key: str = S3_KEY) -> None:
        self.client, self.bucket, self.key = client, bucket, key

    def read(self) -> str:
        try:
            body = self.client.get_object(Bucket=self.bucket, Key=self.key)["Body"].read()
        except self.client.exceptions.NoSuchKey:
            return ""
        return body.decode("utf-8")

    def write(self, text: str) -> None:
        self.client.put_object(
            Bucket=self.bucket, Key=self.key, Body=text.encode("utf-8"), ContentType="text/csv"
        )

    def lock(self) -> Any:
        from contextlib import nullcontext

        return nullcontext()


class LabelStore:
    """Read and upsert review labels."""

    def __init__(self, file: LabelFile) -> None:
        self.file = file

    @classmethod
    def local(cls, ws: Workspace) -> LabelStore:
        return cls(LocalLabelFile(ws.labels_dir / "labels.csv"))

    def read(self) -> list[Label]:
        text = self.file.read()
        if not text.strip():
            return []
        reader = csv.DictReader(io.StringIO(text))
        missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise ValueError(f"labels file lacks columns {missing}")
        return [
            Label(r["EVENT_ID"], r["EVENT_LABEL"], r["LABEL_TIMESTAMP"], r["source"])
            for r in reader
        ]

    def upsert(self, labels: Iterable[Label]) -> int:
        """Add ``labels``, replacing earlier labels of the same events; returns how many."""
        new = list(labels)
        if not new:
            return 0
        with self.file.lock():
            by_event = {label.event_id: label for label in self.read()}
            for label in new:
                if label.label not in ("fraud", "legit"):
                    raise ValueError(f"label of event {label.event_id} must be fraud or legit")
                by_event[label.event_id] = label
            out = io.StringIO()
            writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
            writer.writeheader()
            for label in by_event.values():
                writer.writerow(label.row())
            self.file.write(out.getvalue())
        return len(new)

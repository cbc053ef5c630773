"""JSON documents and files under one S3 prefix, with S3's conditional writes.

Why one small class: the S3 registry, its lease lock and the Lambda job records all need the
same few operations (read a JSON document with its ETag, write it only if it is still the
version read or does not exist yet, list, copy files to and from ``/tmp``). The boto3 client is
passed in, so tests use moto or botocore's Stubber.

Conditional writes (``PutObject`` with ``IfNoneMatch="*"`` or ``IfMatch=<etag>``) are S3's
compare-and-swap: a write that lost a race fails with 412 ``PreconditionFailed`` (or 409
``ConditionalRequestConflict`` while a competing write is in flight) and is reported here as
:class:`ConditionFailed`.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

__all__ = ["ConditionFailed", "S3Objects", "split_uri"]

_LOST_RACE = {"PreconditionFailed", "ConditionalRequestConflict", "412", "409"}
_MISSING = {"NoSuchKey", "404", "NotFound"}


class ConditionFailed(Exception):
    """A conditional write or delete found another version of the object (a lost race)."""


def split_uri(uri: str) -> tuple[str, str]:
    """``s3://bucket/key`` -> (bucket, key); ValueError naming the URI otherwise."""
    if not uri.startswith("s3://"):
        raise ValueError(f"not an S3 URI: {uri!r}")
    bucket, _, key = uri[len("s3://"):].partition("/")
    if not bucket:
        raise ValueError(f"S3 URI without a bucket: {uri!r}")
    return bucket, key


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


@dataclass(frozen=True)
class S3Objects:
    """Objects under ``s3://bucket/prefix`` (``prefix`` without leading slash, may be empty)."""

    client: Any
    bucket: str
    prefix: str = ""

    @classmethod
    def from_uri(cls, uri: str, client: Any) -> S3Objects:
        bucket, key = split_uri(uri)
        return cls(client, bucket, key.strip("/"))

    def key(self, name: str) -> str:
        return f"{self.prefix}/{name}" if self.prefix else name

    def uri(self, name: str) -> str:
        return f"s3://{self.bucket}/{self.key(name)}"

    # --- JSON documents -----------------------------------------------------------------------
    def get_json(self, name: str) -> tuple[Any, str] | None:
        """(document, ETag) or None when the object does not exist."""
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=self.key(name))
        except ClientError as exc:
            if _code(exc) in _MISSING:
                return None
            raise
        return json.loads(response["Body"].read()), response["ETag"]

    def put_json(self, name: str, data: Any, *, if_match: str | None = None,
                 if_none_match: bool = False) -> str:
        """Write ``data``; with a condition, ConditionFailed when another version is there.

        Returns the new ETag (the token of a later ``if_match``)."""
        body = (json.dumps(data, indent=2, sort_keys=True, default=str) + "\n").encode()
        args: dict[str, Any] = {"Bucket": self.bucket, "Key": self.key(name), "Body": body,
                                "ContentType": "application/json"}
        if if_match is not None:
            args["IfMatch"] = if_match
        if if_none_match:
            args["IfNoneMatch"] = "*"
        try:
            return str(self.client.put_object(**args)["ETag"])
        except ClientError as exc:
            if _code(exc) in _LOST_RACE or (if_match and _code(exc) in _MISSING):
                raise ConditionFailed(f"{self.uri(name)} changed meanwhile") from exc
            raise

    def delete(self, name: str, *, if_match: str | None = None) -> None:
        """Delete (only the version ``if_match`` when given: ConditionFailed otherwise)."""
        args: dict[str, Any] = {"Bucket": self.bucket, "Key": self.key(name)}
        if if_match is not None:
            args["IfMatch"] = if_match
        try:
            self.client.delete_object(**args)
        except ClientError as exc:
            if _code(exc) in _LOST_RACE or (if_match and _code(exc) in _MISSING):
                raise ConditionFailed(f"{self.uri(name)} changed meanwhile") from exc
            raise

    # --- listing and files --------------------------------------------------------------------
    def list(self, folder: str) -> list[str]:
        """Names (relative to the prefix) of every object under ``folder/``."""
        start = self.key(folder.strip("/")) + "/"
        names = []
        for page in self.client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=start):
            for item in page.get("Contents", []):
                names.append(item["Key"][len(self.prefix) + 1 if self.prefix else 0:])
        return sorted(names)

    def download(self, name: str, path: Path) -> Path:
        """Copy object ``name`` to ``path`` (atomically: a partial file never has the name,
        and two threads downloading the same file do not write into each other's copy)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.part")
        try:
            self.client.download_file(self.bucket, self.key(name), str(tmp))
            tmp.replace(path)
        finally:
            tmp.unlink(missing_ok=True)
        return path

    def upload(self, path: Path, name: str) -> str:
        self.client.upload_file(str(path), self.bucket, self.key(name))
        return self.uri(name)

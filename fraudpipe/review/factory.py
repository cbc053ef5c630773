"""Pick the review adapters by configuration (``FRAUDPIPE_BACKEND``), never by "is this a test".

On AWS: A2I with the flow definition in ``FRAUDPIPE_FLOW_DEFINITION_ARN`` and bookkeeping in
``FRAUDPIPE_BUCKET``. Locally: the workspace's SQLite queue and labels file.
"""

from __future__ import annotations

import io
import os
from functools import cache
from typing import IO, Any

from fraudpipe.config import settings
from fraudpipe.errors import ReviewError
from fraudpipe.review.labels import LabelStore, S3LabelFile
from fraudpipe.review.reviewers import LocalReviewer, Reviewer
from fraudpipe.workspace import Workspace, get_workspace

__all__ = [
    "FLOW_DEFINITION_ENV",
    "a2i_clients",
    "get_label_store",
    "get_reviewer",
    "output_opener",
    "task_success_sender",
]

FLOW_DEFINITION_ENV = "FRAUDPIPE_FLOW_DEFINITION_ARN"


@cache
def _client(service: str) -> Any:
    import boto3

    return boto3.client(service)


def _bucket() -> str:
    bucket = settings().bucket
    if not bucket:
        raise ReviewError("FRAUDPIPE_BUCKET is not set: the review bookkeeping needs a bucket")
    return bucket


def get_reviewer(ws: Workspace | None = None, flow_definition_arn: str | None = None) -> Reviewer:
    """The reviewer of the configured backend."""
    if settings().is_aws:
        from fraudpipe.review.a2i import A2IReviewer

        return A2IReviewer(
            _client("sagemaker-a2i-runtime"),
            _client("s3"),
            _bucket(),
            flow_definition_arn or os.environ.get(FLOW_DEFINITION_ENV),
        )
    return LocalReviewer(ws or get_workspace())


def get_label_store(ws: Workspace | None = None) -> LabelStore:
    if settings().is_aws:
        return LabelStore(S3LabelFile(_client("s3"), _bucket()))
    return LabelStore.local(ws or get_workspace())


def output_opener(ws: Workspace | None = None) -> Any:
    """A function opening a batch output URI (S3 on AWS, the workspace's stand-in locally)."""
    if settings().is_aws:

        def open_s3(uri: str) -> IO[str]:
            from fraudpipe.review.a2i import parse_s3_uri

            bucket, key = parse_s3_uri(uri)
            body = _client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
            return io.StringIO(body.decode("utf-8"))

        return open_s3
    workspace = ws or get_workspace()

    def open_local(uri: str) -> Any:
        return workspace.local_path(uri)

    return open_local


def task_success_sender() -> Any:
    """On AWS, ``send(token, output)`` via Step Functions; locally None (the runtime polls)."""
    if not settings().is_aws:
        return None
    import json

    def send(token: str, output: dict[str, Any]) -> Any:
        return _client("stepfunctions").send_task_success(
            taskToken=token, output=json.dumps(output)
        )

    return send


def a2i_clients() -> tuple[Any, LabelStore, Any]:
    """``(A2IReviewer, S3 label store, Step Functions client)`` for the resume Lambda."""
    from fraudpipe.review.a2i import A2IReviewer

    reviewer = A2IReviewer(
        _client("sagemaker-a2i-runtime"),
        _client("s3"),
        _bucket(),
        os.environ.get(FLOW_DEFINITION_ENV),
    )
    return reviewer, LabelStore(S3LabelFile(_client("s3"), _bucket())), _client("stepfunctions")

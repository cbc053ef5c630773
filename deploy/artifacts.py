"""Things deploy creates outside the stack: the artifacts bucket (Glue script and SQL) and the
ECR repository of the Lambda image. Teardown removes exactly these (see :func:`remove`).

Why outside the stack: they must exist before the stack is created (the Glue job and the
functions point at them).
"""

from __future__ import annotations

import base64
import hashlib
import subprocess
from pathlib import Path
from typing import Any

from deploy.errors import PackagingError
from deploy.names import StackNames

__all__ = [
    "GLUE_FILES", "ensure_repository", "image_exists", "push_image", "remove", "upload_glue_files",
]

ROOT = Path(__file__).resolve().parents[1]
#: template parameter -> file uploaded
GLUE_FILES = {"GlueScriptKey": ROOT / "glue" / "etl_job.py",
              "GlueSqlKey": ROOT / "glue" / "etl.sql"}


def _ensure_bucket(s3: Any, names: StackNames) -> None:
    bucket = names.artifacts_bucket
    try:
        s3.head_bucket(Bucket=bucket)
        return
    except s3.exceptions.ClientError as exc:
        if exc.response["Error"]["Code"] not in ("404", "NoSuchBucket"):
            raise
    kwargs: dict[str, Any] = {"Bucket": bucket}
    if names.region != "us-east-1":
        kwargs["CreateBucketConfiguration"] = {"LocationConstraint": names.region}
    s3.create_bucket(**kwargs)
    s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration={
        "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True,
        "RestrictPublicBuckets": True})
    s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={"Rules": [
        {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]})


def upload_glue_files(s3: Any, names: StackNames) -> dict[str, str]:
    """Upload the Glue job script and SQL; keys carry a content hash so a change updates the job.

    Returns the template parameters (``ArtifactsBucket``, ``GlueScriptKey``, ``GlueSqlKey``).
    """
    _ensure_bucket(s3, names)
    parameters = {"ArtifactsBucket": names.artifacts_bucket}
    for parameter, path in GLUE_FILES.items():
        body = path.read_bytes()
        key = (f"{names.artifacts_prefix}glue/{hashlib.sha256(body).hexdigest()[:12]}/"
               f"{path.name}")
        s3.put_object(Bucket=names.artifacts_bucket, Key=key, Body=body,
                      ServerSideEncryption="AES256")
        parameters[parameter] = key
    return parameters


def ensure_repository(ecr: Any, names: StackNames) -> str:
    """The repository URI, creating the repository (scan on push, immutable tags) if needed."""
    try:
        repo = ecr.describe_repositories(repositoryNames=[names.ecr_repository])["repositories"][0]
    except ecr.exceptions.RepositoryNotFoundException:
        repo = ecr.create_repository(
            repositoryName=names.ecr_repository, imageTagMutability="IMMUTABLE",
            imageScanningConfiguration={"scanOnPush": True},
            encryptionConfiguration={"encryptionType": "AES256"})["repository"]
    return str(repo["repositoryUri"])


def image_exists(ecr: Any, names: StackNames, tag: str) -> bool:
    """Whether the repository already holds ``tag`` (tags are immutable: never push twice)."""
    try:
        ecr.describe_images(repositoryName=names.ecr_repository, imageIds=[{"imageTag": tag}])
    except (ecr.exceptions.ImageNotFoundException, ecr.exceptions.RepositoryNotFoundException):
        return False
    return True


def push_image(ecr: Any, commands: list[list[str]], registry: str) -> None:
    """Log docker in to ECR with a token, then build and push (needs Docker)."""
    token = ecr.get_authorization_token()["authorizationData"][0]["authorizationToken"]
    user, _, password = base64.b64decode(token).decode().partition(":")
    login = ["docker", "login", "--username", user, "--password-stdin", registry]
    try:
        for command, stdin in [(login, password), *[(c, None) for c in commands]]:
            subprocess.run(command, input=stdin, text=True, check=True)
    except FileNotFoundError as exc:
        raise PackagingError(
            "docker is not installed: build and push the image where Docker runs "
            "('fraudpipe package' writes the build context), then deploy with --image-uri") from exc
    except subprocess.CalledProcessError as exc:
        raise PackagingError(f"{' '.join(exc.cmd[:2])} failed with exit code {exc.returncode}") \
            from exc


def remove(s3: Any, ecr: Any, names: StackNames) -> list[str]:
    """Delete this stack's artifacts, the artifacts bucket once no stack uses it, and the ECR
    repository. Returns what was removed."""
    removed: list[str] = []
    bucket = names.artifacts_bucket
    try:
        keys = [o["Key"] for page in s3.get_paginator("list_objects_v2").paginate(
            Bucket=bucket, Prefix=names.artifacts_prefix) for o in page.get("Contents", [])]
    except s3.exceptions.NoSuchBucket:
        keys = None
    if keys is not None:
        for start in range(0, len(keys), 1000):
            s3.delete_objects(Bucket=bucket, Delete={
                "Objects": [{"Key": k} for k in keys[start:start + 1000]], "Quiet": True})
        removed += [f"s3://{bucket}/{k}" for k in keys]
        if not s3.list_objects_v2(Bucket=bucket, MaxKeys=1).get("KeyCount"):
            s3.delete_bucket(Bucket=bucket)
            removed.append(f"s3://{bucket}")
    try:
        ecr.delete_repository(repositoryName=names.ecr_repository, force=True)
        removed.append(f"ecr:{names.ecr_repository}")
    except ecr.exceptions.RepositoryNotFoundException:
        pass
    return removed

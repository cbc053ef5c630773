"""A boto3 session that is known to have credentials and a region before any AWS call is made.

Why check up front: botocore only finds out at the first request, deep inside a deploy, with
"Unable to locate credentials" or "You must specify a region". Here both are refused first,
saying where they can come from.
"""

from __future__ import annotations

import boto3
import botocore.session

from deploy.errors import AwsCredentialsError, AwsRegionError

__all__ = ["aws_session"]


def aws_session(region: str | None = None, profile: str | None = None) -> boto3.Session:
    """A session with credentials and a region, or a clear error naming what is missing."""
    core = botocore.session.Session(profile=profile)
    if region:
        core.set_config_variable("region", region)
    if not core.get_config_variable("region"):
        raise AwsRegionError(
            "no AWS region: pass --region or set AWS_REGION / AWS_DEFAULT_REGION "
            "(or a region in your AWS profile)")
    if core.get_credentials() is None:
        raise AwsCredentialsError(
            "no AWS credentials: set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE, "
            "or run 'aws configure' / 'aws sso login'")
    return boto3.Session(botocore_session=core)

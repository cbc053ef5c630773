"""The data bucket: encrypted, public access blocked, TLS only, named from stack/account/region.

Why a predictable name (``<stack>-data-<account>-<region>``): the schedule's execution input and
the ``--stack`` commands need the bucket before the stack exists; the stack name is limited so the
name stays within S3's 63 characters (see ``deploy.names``).
"""

from __future__ import annotations

from typing import Any

from deploy.cfn import getatt, ref, sub
from deploy.resources.context import BUCKET, Context

__all__ = ["BUCKET_NAME", "resources"]

BUCKET_NAME = "${AWS::StackName}-data-${AWS::AccountId}-${AWS::Region}"


def resources(ctx: Context) -> dict[str, Any]:
    bucket = {
        "Type": "AWS::S3::Bucket",
        "DeletionPolicy": "Delete",
        "UpdateReplacePolicy": "Retain",
        "Properties": {
            "BucketName": sub(BUCKET_NAME),
            "BucketEncryption": {"ServerSideEncryptionConfiguration": [
                {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"},
                 "BucketKeyEnabled": True}]},
            "PublicAccessBlockConfiguration": {
                "BlockPublicAcls": True, "BlockPublicPolicy": True,
                "IgnorePublicAcls": True, "RestrictPublicBuckets": True},
            "OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},
            "LifecycleConfiguration": {"Rules": [
                {"Id": "abort-incomplete-uploads", "Status": "Enabled",
                 "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7}}]},
        },
    }
    tls_only = {
        "Type": "AWS::S3::BucketPolicy",
        "Properties": {
            "Bucket": ref(BUCKET),
            "PolicyDocument": {"Version": "2012-10-17", "Statement": [{
                "Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*",
                "Action": "s3:*",
                "Resource": [getatt(BUCKET, "Arn"), sub("${DataBucket.Arn}/*")],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            }]},
        },
    }
    return {BUCKET: bucket, "DataBucketPolicy": tls_only}

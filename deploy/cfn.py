"""Small builders for CloudFormation JSON: intrinsic functions, ARNs and IAM documents.

Why: the template is plain data; these keep the resource modules short and make every ARN in a
policy come from one place, so scoping stays consistent.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "arn",
    "assume_role",
    "getatt",
    "policy",
    "ref",
    "statement",
    "sub",
]

Json = dict[str, Any]


def ref(name: str) -> Json:
    return {"Ref": name}


def getatt(name: str, attribute: str) -> Json:
    return {"Fn::GetAtt": [name, attribute]}


def sub(text: str) -> Json:
    return {"Fn::Sub": text}


def arn(service: str, resource: str, *, region: bool = True, account: bool = True) -> Json:
    """``arn:${AWS::Partition}:<service>:${AWS::Region}:${AWS::AccountId}:<resource>``."""
    parts = ["arn:${AWS::Partition}", service, "${AWS::Region}" if region else "",
             "${AWS::AccountId}" if account else "", resource]
    return sub(":".join(parts))


def statement(sid: str, actions: list[str], resources: list[Any]) -> Json:
    return {"Sid": sid, "Effect": "Allow", "Action": sorted(actions), "Resource": resources}


def policy(name: str, statements: list[Json]) -> Json:
    """An inline policy of an ``AWS::IAM::Role``."""
    return {"PolicyName": name,
            "PolicyDocument": {"Version": "2012-10-17", "Statement": statements}}


def assume_role(service: str, conditions: Json | None = None) -> Json:
    """Trust policy letting ``service`` (e.g. ``lambda.amazonaws.com``) assume the role."""
    trust: Json = {"Effect": "Allow", "Principal": {"Service": service},
                   "Action": "sts:AssumeRole"}
    if conditions:
        trust["Condition"] = conditions
    return {"Version": "2012-10-17", "Statement": [trust]}

"""Every IAM policy in the template: no ``Action: "*"``, and ``Resource: "*"`` only for actions
AWS accepts on ``*`` alone (each listed below with the reason)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from deploy.template import build_template

#: actions that have no resource-level permissions, so AWS only accepts them on "*"
STAR_ONLY_ACTIONS = {
    # X-Ray: trace segments and sampling rules are not resources
    "xray:PutTraceSegments": "X-Ray write API has no resource types",
    "xray:PutTelemetryRecords": "X-Ray write API has no resource types",
    "xray:GetSamplingRules": "X-Ray sampling API has no resource types",
    "xray:GetSamplingTargets": "X-Ray sampling API has no resource types",
    # Step Functions logging to CloudWatch Logs (vended logs): documented on "*"
    "logs:CreateLogDelivery": "log deliveries support no resource-level permissions",
    "logs:GetLogDelivery": "log deliveries support no resource-level permissions",
    "logs:UpdateLogDelivery": "log deliveries support no resource-level permissions",
    "logs:DeleteLogDelivery": "log deliveries support no resource-level permissions",
    "logs:ListLogDeliveries": "log deliveries support no resource-level permissions",
    "logs:PutResourcePolicy": "account-level resource policy, no resource ARN",
    "logs:DescribeResourcePolicies": "account-level list, no resource ARN",
    "logs:DescribeLogGroups": "list operation; Step Functions calls it on *",
}


def _documents(template: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for name, resource in template["Resources"].items():
        props = resource.get("Properties", {})
        for policy in props.get("Policies", []):
            yield f"{name}/{policy['PolicyName']}", policy["PolicyDocument"]
        if "PolicyDocument" in props:
            yield name, props["PolicyDocument"]


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


@pytest.mark.parametrize("engine", ["builtin", "afd"])
def test_no_wildcard_actions_or_resources(engine: str) -> None:
    template = build_template(engine)
    documents = list(_documents(template))
    roles = [k for k, v in template["Resources"].items() if v["Type"] == "AWS::IAM::Role"]
    assert len(documents) >= len(roles) > 10  # every role has an inline policy we read
    problems = []
    for where, document in documents:
        for st in document["Statement"]:
            actions = _as_list(st["Action"])
            resources = _as_list(st["Resource"])
            if "*" in actions:
                problems.append(f"{where} {st.get('Sid')}: Action '*'")
            if st["Effect"] == "Allow" and "*" in resources:
                others = [a for a in actions if a not in STAR_ONLY_ACTIONS]
                if others:
                    problems.append(f"{where} {st.get('Sid')}: Resource '*' for {others}")
    assert problems == []


def test_roles_trust_only_their_service() -> None:
    template = build_template("afd")
    for name, resource in template["Resources"].items():
        if resource["Type"] != "AWS::IAM::Role":
            continue
        trust = resource["Properties"]["AssumeRolePolicyDocument"]["Statement"]
        assert len(trust) == 1 and trust[0]["Action"] == "sts:AssumeRole", name
        assert list(trust[0]["Principal"]) == ["Service"], name


def test_each_handler_role_is_scoped_to_what_it_touches() -> None:
    resources = build_template()["Resources"]

    def actions(role: str) -> set[str]:
        statements = resources[role]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
        return {a for st in statements for a in _as_list(st["Action"])}

    assert "glue:StartCrawler" in actions("StartCrawlerFunctionRole")
    assert not any(a.startswith("s3:") for a in actions("StartCrawlerFunctionRole"))
    assert "states:SendTaskSuccess" in actions("ResumeReviewFunctionRole")
    assert "states:SendTaskSuccess" not in actions("PredictFunctionRole")
    assert actions("QualityGateFunctionRole") & {"s3:PutObject", "glue:StartJobRun"} == set()
    invoke = resources["StateMachineRole"]["Properties"]["Policies"][0]["PolicyDocument"][
        "Statement"][0]
    assert invoke["Action"] == ["lambda:InvokeFunction"]
    assert all("function:${AWS::StackName}-" in r["Fn::Sub"] for r in invoke["Resource"])


def _statements(resources: dict[str, Any], role: str) -> list[dict[str, Any]]:
    return resources[role]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]


def test_only_the_starting_handlers_invoke_the_engine_worker() -> None:
    resources = build_template()["Resources"]
    invokers = sorted(name for name, r in resources.items() if r["Type"] == "AWS::IAM::Role"
                      and any("lambda:InvokeFunction" in _as_list(st["Action"])
                              for st in r["Properties"].get("Policies", [{}])[0]
                              .get("PolicyDocument", {}).get("Statement", [])))
    assert invokers == ["CreateModelVersionFunctionRole", "StartBatchPredictionFunctionRole",
                        "StateMachineRole"]
    invoke = next(st for st in _statements(resources, "CreateModelVersionFunctionRole")
                  if st["Sid"] == "StartEngineWorker")
    assert invoke["Resource"] == [
        {"Fn::Sub": "arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:"
                    "function:${AWS::StackName}-run-engine-job"}]


def test_registry_access_is_the_registry_prefix_only() -> None:
    resources = build_template()["Resources"]
    registry = {st["Sid"]: st for st in _statements(resources, "GetTrainingStatusFunctionRole")}
    assert registry["Registry"]["Resource"] == [{"Fn::Sub": "${DataBucket.Arn}/registry/*"}]
    assert registry["ListRegistry"]["Condition"] == \
        {"StringLike": {"s3:prefix": ["registry/*"]}}
    # realtime scoring reads the registry and never writes it
    predict = {st["Sid"]: st for st in _statements(resources, "PredictFunctionRole")}
    assert predict["ReadRegistry"]["Action"] == ["s3:GetObject"]
    assert "Registry" not in predict

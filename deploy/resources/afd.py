"""Amazon Fraud Detector resources for ``--engine afd`` (existing AFD customers only).

Like the seed: the event type ``credit_card_transaction`` with entity type ``card``, the 14 event
variables with AFD's variable types, labels ``fraud``/``legit``, outcomes high/medium/low risk,
and a detector whose first DRAFT version uses amount-only rules (the model score variable only
exists after the first training; DeployDetectorVersion creates the versions with model rules).
Also the role AFD assumes to read training data from the data bucket.
"""

from __future__ import annotations

from typing import Any

from deploy.cfn import assume_role, getatt, policy, ref, statement, sub
from deploy.resources.context import Context

__all__ = ["VARIABLES", "resources"]

#: event variable -> AFD variable type (NOTES: the seed's choices)
VARIABLES: dict[str, str] = {
    "trans_num": "ORDER_ID", "amt": "PRICE", "city_pop": "NUMERIC", "cc_num": "NUMERIC",
    "job": "CATEGORICAL", "gender": "CATEGORICAL", "merchant": "CATEGORICAL",
    "street": "BILLING_ADDRESS_L1", "first": "BILLING_NAME", "last": "BILLING_NAME",
    "state": "BILLING_STATE", "city": "BILLING_CITY", "zip": "BILLING_ZIP",
    "category": "PRODUCT_CATEGORY",
}
NUMERIC_TYPES = {"PRICE", "NUMERIC"}
OUTCOMES = {"high_risk": "investigate", "medium_risk": "review", "low_risk": "approve"}
DETECTOR_ID = "fraud_detector"
EVENT_TYPE = "credit_card_transaction"
ENTITY_TYPE = "card"
TAGS = [{"Key": "stack", "Value": ref("AWS::StackName")}]


def _logical(prefix: str, name: str) -> str:
    return prefix + "".join(part.capitalize() for part in name.split("_"))


def _variable(name: str, kind: str) -> dict[str, Any]:
    numeric = kind in NUMERIC_TYPES
    return {"Type": "AWS::FraudDetector::Variable", "Properties": {
        "Name": name, "DataSource": "EVENT", "DataType": "FLOAT" if numeric else "STRING",
        "DefaultValue": "0.0" if numeric else "<unknown>", "VariableType": kind,
        "Description": f"transaction {name}", "Tags": TAGS}}


def _data_role() -> dict[str, Any]:
    return {"Type": "AWS::IAM::Role", "Properties": {
        "AssumeRolePolicyDocument": assume_role(
            "frauddetector.amazonaws.com",
            {"StringEquals": {"aws:SourceAccount": ref("AWS::AccountId")}}),
        "Description": "Amazon Fraud Detector reading training and batch files",
        "Policies": [policy("afd-data", [
            statement("ListData", ["s3:ListBucket"], [getatt("DataBucket", "Arn")]),
            statement("ReadWriteData", ["s3:GetObject", "s3:PutObject"],
                      [sub("${DataBucket.Arn}/*")])])]}}


def resources(ctx: Context) -> dict[str, Any]:
    if not ctx.afd:
        return {}
    out: dict[str, Any] = {"FraudDetectorDataRole": _data_role()}
    for name, kind in VARIABLES.items():
        out[_logical("Variable", name)] = _variable(name, kind)
    for label in ("fraud", "legit"):
        out[_logical("Label", label)] = {"Type": "AWS::FraudDetector::Label", "Properties": {
            "Name": label, "Description": f"{label} transaction", "Tags": TAGS}}
    for outcome in OUTCOMES:
        out[_logical("Outcome", outcome)] = {"Type": "AWS::FraudDetector::Outcome",
                                             "Properties": {"Name": outcome, "Tags": TAGS}}
    out["EntityTypeCard"] = {"Type": "AWS::FraudDetector::EntityType", "Properties": {
        "Name": ENTITY_TYPE, "Description": "payment card", "Tags": TAGS}}
    out["EventTypeTransaction"] = {"Type": "AWS::FraudDetector::EventType", "Properties": {
        "Name": EVENT_TYPE, "Description": "card transaction",
        "EntityTypes": [{"Arn": getatt("EntityTypeCard", "Arn"), "Inline": False}],
        "EventVariables": [{"Arn": getatt(_logical("Variable", n), "Arn"), "Inline": False}
                           for n in VARIABLES],
        "Labels": [{"Arn": getatt(_logical("Label", n), "Arn"), "Inline": False}
                   for n in ("fraud", "legit")],
        "Tags": TAGS}}
    rules = [("investigate", "$amt > 5000", "high_risk"),
             ("review", "$amt > 1000 and $amt <= 5000", "medium_risk"),
             ("approve", "$amt <= 1000", "low_risk")]
    out["FraudDetector"] = {"Type": "AWS::FraudDetector::Detector", "Properties": {
        "DetectorId": DETECTOR_ID, "Description": "fraudpipe detector (first version: amount)",
        "DetectorVersionStatus": "DRAFT", "RuleExecutionMode": "FIRST_MATCHED",
        "EventType": {"Arn": getatt("EventTypeTransaction", "Arn"), "Inline": False},
        "Rules": [{"RuleId": rule_id, "DetectorId": DETECTOR_ID, "Expression": expression,
                   "Language": "DETECTORPL",
                   "Outcomes": [{"Arn": getatt(_logical("Outcome", outcome), "Arn"),
                                 "Inline": False}]}
                  for rule_id, expression, outcome in rules],
        "Tags": TAGS}}
    return out

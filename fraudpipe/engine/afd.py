"""The engine interface on Amazon Fraud Detector itself (for existing AFD customers).

Why a thin adapter: the built-in engine already speaks AFD's API in snake_case, so this class
mostly forwards to a boto3 ``frauddetector`` client (passed in, so tests attach botocore's
Stubber) and maps AFD's errors onto fraudpipe's: the ValidationException "Simultaneous
training for the same major version not allowed" becomes SimultaneousTrainingError, which the
state machine catches. Rules are parsed locally first, so a bad expression is refused with its
position before anything is created in the account.
"""

from __future__ import annotations

import os
from typing import Any

from botocore.exceptions import ClientError

from fraudpipe.engine.dataset import EVENT_VARIABLES
from fraudpipe.engine.rules import RuleSet, score_variable
from fraudpipe.engine.versions import parse_major
from fraudpipe.errors import (
    EngineError,
    NoActiveDetectorError,
    ResourceNotFoundError,
    SimultaneousTrainingError,
    TransientError,
)

__all__ = ["AfdEngine"]

MODEL_TYPE = "TRANSACTION_FRAUD_INSIGHTS"
EVENT_TYPE = "credit_card_transaction"
ENTITY_TYPE = "card"
LABEL_SCHEMA = {"labelMapper": {"FRAUD": ["fraud"], "LEGIT": ["legit"]},
                "unlabeledEventsTreatment": "IGNORE"}
TRANSIENT = {"ThrottlingException", "InternalServerException", "ServiceUnavailableException"}


def _translate(exc: ClientError) -> Exception:
    """fraudpipe's error for an AFD ClientError."""
    error = exc.response.get("Error", {})
    code, message = error.get("Code", ""), error.get("Message", str(exc))
    if code == "ValidationException" and "simultaneous training" in message.lower():
        return SimultaneousTrainingError(message)
    if code == "ResourceNotFoundException":
        return ResourceNotFoundError(message)
    if code in TRANSIENT:
        return TransientError(f"{code}: {message}")
    return EngineError(f"{code}: {message}")


class AfdEngine:
    """AFD through boto3; same methods and shapes as :class:`BuiltinEngine`."""

    name = "afd"

    def __init__(self, client: Any = None, role_arn: str | None = None,
                 event_type: str = EVENT_TYPE, model_type: str = MODEL_TYPE) -> None:
        if client is None:
            import boto3

            client = boto3.client("frauddetector")
        self.client = client
        self.role_arn = role_arn or os.environ.get("FRAUDPIPE_AFD_ROLE_ARN", "")
        self.event_type = event_type
        self.model_type = model_type

    def _call(self, operation: str, **params: Any) -> dict[str, Any]:
        try:
            response = getattr(self.client, operation)(**params)
        except ClientError as exc:
            raise _translate(exc) from exc
        response.pop("ResponseMetadata", None)
        return response

    # --- models -------------------------------------------------------------------------------
    def put_model(self, model_id: str, event_type: str | None = None) -> dict[str, Any]:
        """create_model, treating "already exists" as success (as the seed did)."""
        try:
            self.client.create_model(modelId=model_id, modelType=self.model_type,
                                     eventTypeName=event_type or self.event_type)
        except ClientError as exc:
            if "already exists" not in exc.response.get("Error", {}).get("Message", ""):
                raise _translate(exc) from exc
        return {"modelId": model_id, "modelType": self.model_type}

    def _role(self) -> str:
        if not self.role_arn:
            raise EngineError("the AFD engine needs the IAM role AFD reads S3 with: set "
                              "FRAUDPIPE_AFD_ROLE_ARN (the stack sets it)")
        return self.role_arn

    def _events_detail(self, uri: str) -> dict[str, str]:
        return {"dataLocation": uri, "dataAccessRoleArn": self._role()}

    def create_model_version(self, model_id: str, training_data_uri: str,
                             variables: list[str] | None = None) -> dict[str, Any]:
        return self._call(
            "create_model_version", modelId=model_id, modelType=self.model_type,
            trainingDataSource="EXTERNAL_EVENTS",
            trainingDataSchema={"modelVariables": list(variables or EVENT_VARIABLES),
                                "labelSchema": LABEL_SCHEMA},
            externalEventsDetail=self._events_detail(training_data_uri))

    def update_model_version(self, model_id: str, major_version: str | int,
                             training_data_uri: str,
                             variables: list[str] | None = None) -> dict[str, Any]:
        return self._call(
            "update_model_version", modelId=model_id, modelType=self.model_type,
            majorVersionNumber=str(parse_major(major_version)),
            externalEventsDetail=self._events_detail(training_data_uri))

    def get_model_version(self, model_id: str, version: str) -> dict[str, Any]:
        """get_model_version plus ``trainingResult.metrics`` {auc} from describe_model_versions
        once training is complete."""
        record = self._call("get_model_version", modelId=model_id, modelType=self.model_type,
                            modelVersionNumber=version)
        if record.get("status") in ("TRAINING_COMPLETE", "ACTIVE", "INACTIVE"):
            details = self._call("describe_model_versions", modelId=model_id,
                                 modelVersionNumber=version, modelType=self.model_type)
            detail = (details.get("modelVersionDetails") or [{}])[0]
            result = dict(detail.get("trainingResult") or {})
            auc = (result.get("trainingMetrics") or {}).get("auc")
            v2 = (detail.get("trainingResultV2") or {}).get("trainingMetricsV2") or {}
            for kind in ("tfi", "ofi", "ati"):
                performance = (v2.get(kind) or {}).get("modelPerformance") or {}
                auc = performance.get("auc", auc)
            result["metrics"] = {"auc": auc}
            record["trainingResult"] = result
        return record

    def update_model_version_status(self, model_id: str, version: str, status: str) -> dict:
        return self._call("update_model_version_status", modelId=model_id,
                          modelType=self.model_type, modelVersionNumber=version, status=status)

    # --- detectors ----------------------------------------------------------------------------
    def _rule_version(self, detector_id: str, rule: dict[str, Any]) -> str:
        """The rule's version with this expression: reuse, update (new version) or create."""
        try:
            existing = self.client.get_rules(detectorId=detector_id, ruleId=rule["ruleId"])
            details = existing.get("ruleDetails") or []
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ResourceNotFoundException":
                raise _translate(exc) from exc
            details = []
        body = {"expression": rule["expression"], "language": "DETECTORPL",
                "outcomes": list(rule["outcomes"])}
        if not details:
            created = self._call("create_rule", ruleId=rule["ruleId"], detectorId=detector_id,
                                 **body)
            return str(created["rule"]["ruleVersion"])
        latest = max(details, key=lambda d: int(d["ruleVersion"]))
        if latest.get("expression") == rule["expression"] and list(
                latest.get("outcomes") or []) == list(rule["outcomes"]):
            return str(latest["ruleVersion"])
        updated = self._call("update_rule_version", rule={
            "detectorId": detector_id, "ruleId": rule["ruleId"],
            "ruleVersion": str(latest["ruleVersion"])}, **body)
        return str(updated["rule"]["ruleVersion"])

    def create_detector_version(
        self, detector_id: str, model_versions: list[dict[str, Any]], rules: list[dict[str, Any]],
        rule_execution_mode: str = "FIRST_MATCHED", event_type: str | None = None,
    ) -> dict[str, Any]:
        known = set(EVENT_VARIABLES) | {score_variable(m["modelId"]) for m in model_versions}
        RuleSet(rules, rule_execution_mode, variables=known)
        self._call("put_detector", detectorId=detector_id,
                   eventTypeName=event_type or self.event_type)
        for outcome in sorted({o for r in rules for o in r.get("outcomes") or []}):
            self._call("put_outcome", name=outcome)
        refs = [{"detectorId": detector_id, "ruleId": r["ruleId"],
                 "ruleVersion": self._rule_version(detector_id, r)} for r in rules]
        models = [{"modelId": m["modelId"], "modelType": m.get("modelType", self.model_type),
                   "modelVersionNumber": m["modelVersionNumber"]} for m in model_versions]
        return self._call("create_detector_version", detectorId=detector_id, rules=refs,
                          modelVersions=models, ruleExecutionMode=rule_execution_mode)

    def get_detector_version(self, detector_id: str, version: str) -> dict[str, Any]:
        return self._call("get_detector_version", detectorId=detector_id,
                          detectorVersionId=str(version))

    def update_detector_version_status(self, detector_id: str, version: str,
                                       status: str) -> dict:
        return self._call("update_detector_version_status", detectorId=detector_id,
                          detectorVersionId=str(version), status=status)

    def get_active_detector_version(self, detector_id: str) -> dict[str, Any]:
        try:
            described = self._call("describe_detector", detectorId=detector_id)
        except ResourceNotFoundError as exc:
            raise NoActiveDetectorError(f"detector {detector_id!r} does not exist") from exc
        active = [s for s in described.get("detectorVersionSummaries") or []
                  if s.get("status") == "ACTIVE"]
        if not active:
            raise NoActiveDetectorError(f"detector {detector_id!r} has no ACTIVE version")
        return self.get_detector_version(detector_id, active[0]["detectorVersionId"])

    # --- scoring ------------------------------------------------------------------------------
    def create_batch_prediction_job(
        self, job_id: str, input_uri: str, output_uri: str, detector_id: str,
        detector_version: str | None = None,
    ) -> dict[str, Any]:
        if detector_version is None:
            detector_version = self.get_active_detector_version(detector_id)["detectorVersionId"]
        return self._call(
            "create_batch_prediction_job", jobId=job_id, inputPath=input_uri,
            outputPath=output_uri, eventTypeName=self.event_type, detectorName=detector_id,
            detectorVersion=str(detector_version), iamRoleArn=self._role())

    def get_batch_prediction_jobs(self, job_id: str | None = None) -> dict[str, Any]:
        params = {"jobId": job_id} if job_id else {}
        return self._call("get_batch_prediction_jobs", **params)

    def get_event_prediction(
        self, detector_id: str, event_id: str, event_timestamp: str, entity_id: str,
        event_variables: dict[str, Any], detector_version: str | None = None,
    ) -> dict[str, Any]:
        params: dict[str, Any] = {
            "detectorId": detector_id, "eventId": event_id, "eventTypeName": self.event_type,
            "entities": [{"entityType": ENTITY_TYPE, "entityId": str(entity_id)}],
            "eventTimestamp": event_timestamp,
            "eventVariables": {k: str(v) for k, v in event_variables.items() if v is not None},
        }
        if detector_version is not None:
            params["detectorVersionId"] = str(detector_version)
        return self._call("get_event_prediction", **params)

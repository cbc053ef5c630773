"""The built-in fraud engine: Amazon Fraud Detector's API on local, open components.

Method names are AFD's operations in snake_case and return boto3-shaped dicts, so callers
(handlers, the realtime API, the CLI) use this and :class:`~fraudpipe.engine.afd.AfdEngine`
interchangeably. State lives in the registry and trainings and batch jobs run as jobs, both
chosen by configuration (:mod:`fraudpipe.engine.backends`): locally the workspace registry and
:class:`fraudpipe.jobs.LocalJobs` worker processes; on AWS the S3 registry and a worker Lambda
invoked asynchronously (:class:`fraudpipe.aws_jobs.LambdaJobs`).
"""

from __future__ import annotations

import threading
import time
import uuid
from typing import Any

from fraudpipe.engine.artifact import load_artifact
from fraudpipe.engine.backends import detector_ttl, open_jobs, open_registry
from fraudpipe.engine.dataset import EVENT_VARIABLES
from fraudpipe.engine.entities import EntityStore
from fraudpipe.engine.realtime import RealtimeEvent, predict_event, predict_events
from fraudpipe.engine.registry import Registry, now
from fraudpipe.engine.rules import RuleSet, score_variable
from fraudpipe.engine.scoring import Detector, ScoringModel
from fraudpipe.engine.versions import (
    ACTIVE,
    DRAFT,
    ERROR,
    INACTIVE,
    TRAINING_COMPLETE,
    TRAINING_IN_PROGRESS,
    check_transition,
    major_of,
    next_major,
    next_minor,
    parse_major,
)
from fraudpipe.errors import (
    DataValidationError,
    NoActiveDetectorError,
    ResourceNotFoundError,
    SimultaneousTrainingError,
    StatusTransitionError,
)
from fraudpipe.jobs import FAILED, SUCCEEDED
from fraudpipe.workspace import Workspace, get_workspace

__all__ = ["SIMULTANEOUS_TRAINING_MESSAGE", "BuiltinEngine"]

SIMULTANEOUS_TRAINING_MESSAGE = "Simultaneous training for the same major version not allowed"
MODEL_TYPE = "TRANSACTION_FRAUD_INSIGHTS"
LABEL_SCHEMA = {"labelMapper": {"FRAUD": ["fraud"], "LEGIT": ["legit"]},
                "unlabeledEventsTreatment": "IGNORE"}
TRAIN_TARGET = "fraudpipe.engine.workers:run_training"
BATCH_TARGET = "fraudpipe.engine.workers:run_batch"
#: Detector versions an engine keeps built (a long-lived server sees one per deployment).
MAX_DETECTORS = 8


class BuiltinEngine:
    """AFD semantics over a registry (workspace or S3), LightGBM and asynchronous jobs."""

    name = "builtin"

    def __init__(self, workspace: Workspace | None = None, jobs: Any = None,
                 registry: Any = None) -> None:
        self.workspace = workspace or get_workspace()
        self.registry: Registry = registry or open_registry(self.workspace)
        self.jobs = jobs or open_jobs(self.workspace, self.registry)
        self._store: EntityStore | None = None
        self._realtime = threading.Lock()
        #: (detector id, version) -> (stamp of the version's record, its detector)
        self._detectors: dict[tuple[str, str], tuple[Any, Detector]] = {}
        #: detector id -> (checked at, stamp of its detector.json, the ACTIVE detector)
        self._active: dict[str, tuple[float, Any, Detector]] = {}
        self._active_ttl = detector_ttl()
        self.clock = time.monotonic  # of the ACTIVE-version cache (tests move it forward)

    # --- models -------------------------------------------------------------------------------
    def put_model(self, model_id: str, event_type: str = "credit_card_transaction") -> dict:
        """Create the model container if needed (AFD's create_model, idempotent here)."""
        with self.registry.locked():
            try:
                return self.registry.get_model(model_id)
            except ResourceNotFoundError:
                record = {"modelId": model_id, "modelType": MODEL_TYPE,
                          "eventTypeName": event_type, "createdTime": now()}
                self.registry.put_model(record)
                return record

    def create_model_version(
        self, model_id: str, training_data_uri: str, variables: list[str] | None = None
    ) -> dict[str, Any]:
        """Start training the next major version (``"1.0"``, ``"2.0"``...); returns at once."""
        with self.registry.locked():
            self.registry.get_model(model_id)
            version = next_major(self.registry.version_numbers(model_id))
            return self._start_training(model_id, version, training_data_uri, variables)

    def update_model_version(
        self, model_id: str, major_version: str | int, training_data_uri: str,
        variables: list[str] | None = None,
    ) -> dict[str, Any]:
        """Retrain major ``M`` into the next minor version ``M.0.k``; returns at once.

        Raises SimultaneousTrainingError while another version of that major is training.
        """
        major = parse_major(major_version)
        with self.registry.locked():
            self.registry.get_model(model_id)
            existing = self.registry.version_numbers(model_id)
            for version in existing:
                if major_of(version) == major:
                    status = self._refresh(self.registry.get_version(model_id, version))["status"]
                    if status == TRAINING_IN_PROGRESS:
                        raise SimultaneousTrainingError(SIMULTANEOUS_TRAINING_MESSAGE)
            version = next_minor(existing, major)
            return self._start_training(model_id, version, training_data_uri, variables)

    def _start_training(
        self, model_id: str, version: str, uri: str, variables: list[str] | None
    ) -> dict[str, Any]:
        job_id = f"train-{model_id}-{version}-{uuid.uuid4().hex[:8]}"
        record = {
            "modelId": model_id, "modelType": MODEL_TYPE, "modelVersionNumber": version,
            "status": TRAINING_IN_PROGRESS, "trainingDataSource": "EXTERNAL_EVENTS",
            "trainingDataSchema": {"modelVariables": list(variables or EVENT_VARIABLES),
                                   "labelSchema": LABEL_SCHEMA},
            "externalEventsDetail": {"dataLocation": uri}, "jobId": job_id,
            "createdTime": now(), "statusReason": None, "trainingResult": None,
            "reportPath": None,
        }
        self.registry.put_version(record)
        self.jobs.start("training", TRAIN_TARGET, {
            "workspace": str(self.workspace.root), "model_id": model_id, "version": version,
            "training_uri": uri,
        }, job_id=job_id)
        return {"modelId": model_id, "modelType": MODEL_TYPE, "modelVersionNumber": version,
                "status": TRAINING_IN_PROGRESS}

    def _refresh(self, record: dict[str, Any]) -> dict[str, Any]:
        """A TRAINING_IN_PROGRESS version whose worker failed or died becomes ERROR."""
        if record["status"] != TRAINING_IN_PROGRESS:
            return record
        job = self.jobs.get(record["jobId"])
        if job.status == FAILED:
            with self.registry.locked():
                record = self.registry.get_version(record["modelId"],
                                                   record["modelVersionNumber"])
                if record["status"] == TRAINING_IN_PROGRESS:
                    record["status"] = ERROR
                    record["statusReason"] = f"{job.error_type}: {job.error}"
                    self.registry.put_version(record)
        elif job.status == SUCCEEDED:  # the worker records completion itself; re-read
            record = self.registry.get_version(record["modelId"], record["modelVersionNumber"])
        return record

    def get_model_version(self, model_id: str, version: str) -> dict[str, Any]:
        """AFD's get_model_version plus ``trainingResult`` (metrics) and ``reportPath``."""
        return self._refresh(self.registry.get_version(model_id, version))

    def list_model_versions(self, model_id: str | None = None) -> list[dict[str, Any]]:
        models = [model_id] if model_id else self.registry.list_models()
        return [self.get_model_version(m, v) for m in models
                for v in self.registry.version_numbers(m)]

    def update_model_version_status(self, model_id: str, version: str, status: str) -> dict:
        """ACTIVE / INACTIVE (or TRAINING_CANCELLED); refuses changes AFD refuses."""
        with self.registry.locked():
            record = self.get_model_version(model_id, version)
            name = f"{model_id} {version}"
            check_transition("model", name, record["status"], status)
            record["status"] = status
            self.registry.put_version(record)
        return {}

    # --- detectors ----------------------------------------------------------------------------
    def create_detector_version(
        self, detector_id: str, model_versions: list[dict[str, Any]], rules: list[dict[str, Any]],
        rule_execution_mode: str = "FIRST_MATCHED", event_type: str = "credit_card_transaction",
    ) -> dict[str, Any]:
        """A DRAFT detector version; every rule is parsed now (RuleSyntaxError if refused)."""
        models = []
        for item in model_versions:
            record = self.get_model_version(item["modelId"], item["modelVersionNumber"])
            if record["status"] != ACTIVE:
                raise StatusTransitionError(
                    f"model version {item['modelId']} {item['modelVersionNumber']} is "
                    f"{record['status']}; only ACTIVE model versions can be used in a detector"
                )
            models.append({"modelId": record["modelId"], "modelType": MODEL_TYPE,
                           "modelVersionNumber": record["modelVersionNumber"]})
        known = set(EVENT_VARIABLES) | {score_variable(m["modelId"]) for m in models}
        RuleSet(rules, rule_execution_mode, variables=known)
        with self.registry.locked():
            try:
                detector = self.registry.get_detector(detector_id)
            except ResourceNotFoundError:
                detector = {"detectorId": detector_id, "eventTypeName": event_type,
                            "createdTime": now(), "activeVersion": None}
                self.registry.put_detector(detector)
            numbers = self.registry.detector_versions(detector_id)
            version = str(max((int(v) for v in numbers), default=0) + 1)
            self.registry.put_detector_version({
                "detectorId": detector_id, "detectorVersionId": version, "status": DRAFT,
                "modelVersions": models,
                "rules": [{"detectorId": detector_id, "ruleId": r["ruleId"], "ruleVersion": "1",
                           "expression": r["expression"], "language": "DETECTORPL",
                           "outcomes": list(r.get("outcomes") or [])} for r in rules],
                "ruleExecutionMode": rule_execution_mode, "createdTime": now(),
            })
        return {"detectorId": detector_id, "detectorVersionId": version, "status": DRAFT}

    def get_detector_version(self, detector_id: str, version: str) -> dict[str, Any]:
        return self.registry.get_detector_version(detector_id, str(version))

    def update_detector_version_status(self, detector_id: str, version: str, status: str) -> dict:
        """ACTIVE makes the previously ACTIVE version INACTIVE (at most one ACTIVE)."""
        version = str(version)
        with self.registry.locked():
            record = self.registry.get_detector_version(detector_id, version)
            check_transition("detector", f"{detector_id} {version}", record["status"], status)
            detector = self.registry.get_detector(detector_id)
            if status == ACTIVE:
                for other in self.registry.detector_versions(detector_id):
                    old = self.registry.get_detector_version(detector_id, other)
                    if other != version and old["status"] == ACTIVE:
                        old["status"] = INACTIVE
                        self.registry.put_detector_version(old)
                detector["activeVersion"] = version
            elif detector.get("activeVersion") == version:
                detector["activeVersion"] = None
            record["status"] = status
            self.registry.put_detector_version(record)
            self.registry.put_detector(detector)
        return {}

    def get_active_detector_version(self, detector_id: str) -> dict[str, Any]:
        """The ACTIVE detector version record (``detectorVersionId``, ``modelVersions``,
        ``rules``, ``ruleExecutionMode``...); NoActiveDetectorError if there is none."""
        try:
            detector = self.registry.get_detector(detector_id)
        except ResourceNotFoundError as exc:
            raise NoActiveDetectorError(f"detector {detector_id!r} does not exist") from exc
        if not detector.get("activeVersion"):
            raise NoActiveDetectorError(f"detector {detector_id!r} has no ACTIVE version")
        return self.registry.get_detector_version(detector_id, detector["activeVersion"])

    def list_detector_versions(self, detector_id: str | None = None) -> list[dict[str, Any]]:
        detectors = [detector_id] if detector_id else self.registry.list_detectors()
        return [self.registry.get_detector_version(d, v) for d in detectors
                for v in self.registry.detector_versions(d)]

    def load_detector(self, detector_id: str, version: str | None = None) -> Detector:
        """The scoring form of a detector version (cached while its record is unchanged);
        without ``version``, the ACTIVE one (:meth:`_active_detector`)."""
        if version is None:
            return self._active_detector(detector_id)
        return self._detector_of(self.get_detector_version(detector_id, version))

    def _active_detector(self, detector_id: str) -> Detector:
        """The ACTIVE version's detector, its record read again only when it may have changed.

        Why: reading the registry's two JSON files cost 5-10 % of a realtime prediction.
        - Workspace registry: every call checks the ``stat`` of ``detector.json`` (a few µs),
          which is rewritten (atomically: a new inode) by every status change of any of the
          detector's versions; the record is re-read only when that stamp changed, so a newly
          ACTIVE version is used by the next prediction of every process (no staleness).
        - Any registry: ``FRAUDPIPE_DETECTOR_TTL`` seconds (0 by default) during which the
          detector is reused without any check. The S3 registry has no cheap stamp, so with a
          TTL of 0 it reads both records on every call; the stack's predict function sets 10 (a
          newly ACTIVE version is used within 10 s, and a request costs no S3 round trip).
        """
        checked = self._active.get(detector_id)
        now_ = self.clock()
        if checked is not None and self._active_ttl > 0 and now_ - checked[0] < self._active_ttl:
            return checked[2]
        stamp = self.registry.detector_file_stamp(detector_id)
        if checked is not None and stamp is not None and stamp == checked[1]:
            return checked[2]
        detector = self._detector_of(self.get_active_detector_version(detector_id))
        self._active[detector_id] = (now_, stamp, detector)
        return detector

    def _detector_of(self, record: dict[str, Any]) -> Detector:
        """The detector of a version record, built once per version and record stamp (a
        re-read record of an unchanged version gets the detector already built); at most
        :data:`MAX_DETECTORS` kept, least recently used dropped first."""
        detector_id = record["detectorId"]
        key = (detector_id, record["detectorVersionId"])
        stamp = self.registry.detector_stamp(record)
        cached = self._detectors.pop(key, None)  # (an older stamp's detector is dropped)
        if cached is not None and cached[0] == stamp:
            self._detectors[key] = cached  # the most recently used is last
            return cached[1]
        models = [
            ScoringModel(m["modelId"], m["modelVersionNumber"], m["modelType"],
                         load_artifact(self.registry.artifact_dir(m["modelId"],
                                                                  m["modelVersionNumber"])))
            for m in record["modelVersions"]
        ]
        rules = [{"ruleId": r["ruleId"], "expression": r["expression"], "outcomes": r["outcomes"]}
                 for r in record["rules"]]
        detector = Detector(detector_id, record["detectorVersionId"], models,
                            RuleSet(rules, record["ruleExecutionMode"]))
        self._detectors[key] = (stamp, detector)
        while len(self._detectors) > MAX_DETECTORS:  # each holds its models' loaded artifacts
            del self._detectors[next(iter(self._detectors))]
        return detector

    # --- batch --------------------------------------------------------------------------------
    def create_batch_prediction_job(
        self, job_id: str, input_uri: str, output_uri: str, detector_id: str,
        detector_version: str | None = None, history_uri: str | None = None,
    ) -> dict[str, Any]:
        """Start scoring ``input_uri`` into ``output_uri``; ``history_uri`` (optional) is an
        event file whose earlier events give the batch's cards their history."""
        record = (self.get_active_detector_version(detector_id) if detector_version is None
                  else self.get_detector_version(detector_id, detector_version))
        version = record["detectorVersionId"]
        with self.registry.locked():
            try:
                existing = self.registry.get_batch(job_id)
            except ResourceNotFoundError:
                existing = None
            if existing is not None and existing["status"] != FAILED:
                return {}
            self.registry.put_batch({
                "jobId": job_id, "status": "IN_PROGRESS", "inputPath": input_uri,
                "outputPath": output_uri, "historyPath": history_uri,
                "eventTypeName": "credit_card_transaction", "detectorName": detector_id,
                "detectorVersion": version, "startTime": now(), "completionTime": None,
                "failureReason": None, "processedRecordsCount": 0, "totalRecordsCount": None,
                "outcomeCounts": None, "workerJobId": f"batch-{job_id}-{uuid.uuid4().hex[:6]}",
            })
            record = self.registry.get_batch(job_id)
            self.jobs.start("batch", BATCH_TARGET, {
                "workspace": str(self.workspace.root), "job_id": job_id,
            }, job_id=record["workerJobId"])
        return {}

    def get_batch_prediction_jobs(self, job_id: str | None = None) -> dict[str, Any]:
        """AFD's shape: ``{"batchPredictions": [{jobId, status, failureReason, ...}]}``."""
        ids = [job_id] if job_id else self.registry.list_batches()
        return {"batchPredictions": [self._refresh_batch(self.registry.get_batch(i))
                                     for i in ids]}

    def _refresh_batch(self, record: dict[str, Any]) -> dict[str, Any]:
        if record["status"] != "IN_PROGRESS":
            return record
        job = self.jobs.get(record["workerJobId"])
        if job.status == FAILED:
            with self.registry.locked():
                record = self.registry.get_batch(record["jobId"])
                if record["status"] == "IN_PROGRESS":
                    record.update(status="FAILED", failureReason=f"{job.error_type}: {job.error}",
                                  completionTime=now())
                    self.registry.put_batch(record)
        elif job.status == SUCCEEDED:
            record = self.registry.get_batch(record["jobId"])
        return record

    # --- realtime -----------------------------------------------------------------------------
    def get_event_prediction(
        self, detector_id: str, event_id: str, event_timestamp: str, entity_id: str,
        event_variables: dict[str, Any], detector_version: str | None = None,
    ) -> dict[str, Any]:
        """Score one event (AFD's GetEventPrediction response shape)::

            {"modelScores": [{"modelVersion": {"modelId", "modelType", "modelVersionNumber"},
                              "scores": {"fraud_model_insightscore": 912.0}}],
             "ruleResults": [{"ruleId": "investigate", "outcomes": ["high_risk"]}],
             "imputedVariables": ["city_pop"], "detectorId", "detectorVersionId"}

        ``ruleResults`` lists the matched rules. Missing numeric variables get the training
        median, missing categorical ones the missing category; both are listed in
        ``imputedVariables``. The card's history in the entity store is updated.
        """
        detector = self.load_detector(detector_id, detector_version)
        with self._realtime:
            return predict_event(detector, self._entity_store(), event_id, event_timestamp,
                                 entity_id, event_variables)

    def get_event_predictions(
        self, detector_id: str, events: list[RealtimeEvent],
    ) -> list[dict[str, Any] | DataValidationError]:
        """:meth:`get_event_prediction` of several events with the ACTIVE version, as if one
        after the other in the given order (a realtime server's requests that arrived
        together); an event the engine refuses gets its DataValidationError in its place."""
        detector = self.load_detector(detector_id)
        with self._realtime:
            return predict_events(detector, self._entity_store(), events)

    def _entity_store(self) -> EntityStore:
        if self._store is None:
            self._store = EntityStore(self.registry.entity_store_path)
        return self._store

    def serve_realtime(self) -> None:
        """Prepare this engine for a long-running realtime server: the entity store opened
        and checkpointing its WAL in the background (see
        :meth:`EntityStore.checkpoint_in_background`)."""
        with self._realtime:
            self._entity_store().checkpoint_in_background()

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None


def complete_training(
    registry: Registry, model_id: str, version: str, result: dict[str, Any],
    report_path: str | None,
) -> None:
    """Called by the training worker: TRAINING_COMPLETE with the results (under the lock)."""
    with registry.locked():
        record = registry.get_version(model_id, version)
        if record["status"] != TRAINING_IN_PROGRESS:
            return  # cancelled meanwhile
        record["status"] = TRAINING_COMPLETE
        record["trainingResult"] = {
            "trainingMetrics": {"auc": result["metrics"]["auc"],
                                "metricDataPoints": result["metricDataPoints"]},
            "metrics": result["metrics"],
            "variableImportanceMetrics": {"logOddsMetrics": [
                {"variableName": v["variableName"], "variableType": "MODEL_FEATURE",
                 "variableImportance": v["variableImportance"]}
                for v in result["variableImportance"]]},
        }
        record["reportPath"] = report_path
        registry.put_version(record)

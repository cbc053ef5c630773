"""Model versions and detector versions as the console lists them, read from the engine.

Why a thin mapping layer: the engine answers in AFD's (boto3) shapes; the page needs a few flat
fields per row (status, AUC, report link, rules). Reports are files the engine writes next to a
model version; they are served only from inside that version's report folder.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fraudpipe.errors import FraudpipeError, ResourceNotFoundError
from fraudpipe.workspace import Workspace

__all__ = [
    "DetectorRow",
    "ModelRow",
    "RegistryUnavailableError",
    "ReportNotFoundError",
    "list_detectors",
    "list_models",
    "report_file",
]

SHOWN_METRICS = (
    "pr_auc", "recall_at_1pct_fpr", "tpr_at_900", "fpr_at_900", "fpr_at_700", "fraud_rate",
    "events",
)


class ReportNotFoundError(ResourceNotFoundError):
    """The model version has no report (or the file asked for is not part of it)."""


class RegistryUnavailableError(FraudpipeError):
    """The engine's registry cannot be read."""


@dataclass
class ModelRow:
    model_id: str
    version: str
    model_type: str
    status: str
    auc: float | None
    metrics: list[tuple[str, str]]
    created: str | None
    report_url: str | None

    @property
    def auc_text(self) -> str:
        return "" if self.auc is None else f"{self.auc:.4f}"


@dataclass
class RuleRow:
    rule_id: str
    expression: str
    outcomes: list[str]


@dataclass
class DetectorRow:
    detector_id: str
    version: str
    status: str
    model_versions: list[str]
    rules: list[RuleRow] = field(default_factory=list)
    rule_execution_mode: str = ""
    updated: str | None = None


def _engine(workspace: Workspace) -> Any:
    try:
        from fraudpipe.engine import get_engine
    except ImportError as exc:
        raise RegistryUnavailableError(f"the fraud engine is not available: {exc}") from exc
    return get_engine("builtin", workspace=workspace)


def _pick(record: dict[str, Any], *keys: str, default: Any = None) -> Any:
    for key in keys:
        if record.get(key) not in (None, ""):
            return record[key]
    return default


def _metrics(record: dict[str, Any]) -> dict[str, Any]:
    """Flat scalar metrics from AFD's ``trainingResult`` (plus the engine's ``metrics``)."""
    training = record.get("trainingResult") or {}
    found = {k: v for k, v in (training.get("metrics") or {}).items() if _scalar(v)}
    auc = (training.get("trainingMetrics") or {}).get("auc")
    if _scalar(auc):
        found.setdefault("auc", auc)
    return found


def _scalar(value: Any) -> bool:
    return isinstance(value, int | float | str) and not isinstance(value, bool)


def _model_versions(workspace: Workspace) -> list[dict[str, Any]]:
    engine = _engine(workspace)
    try:
        return list(engine.list_model_versions())
    finally:
        engine.close()


def report_path(workspace: Workspace, model_id: str, version: str) -> Path | None:
    """The report HTML of a model version, if the engine wrote one."""
    engine = _engine(workspace)
    try:
        record = engine.get_model_version(model_id, version)
    except (ResourceNotFoundError, ValueError, OSError):
        return None
    finally:
        engine.close()
    declared = record.get("reportPath")
    if not declared:
        return None
    path = Path(str(declared))
    path = path if path.is_absolute() else workspace.root / path
    return path if path.is_file() else None


def list_models(workspace: Workspace) -> list[ModelRow]:
    """Every model version, newest first, with its status, metrics and report link."""
    rows: list[ModelRow] = []
    for record in _model_versions(workspace):
        model_id, version = str(record.get("modelId")), str(record.get("modelVersionNumber"))
        metrics = _metrics(record)
        auc = metrics.pop("auc", None)
        shown = [(k, _fmt(metrics[k])) for k in SHOWN_METRICS if k in metrics]
        if record.get("statusReason"):
            shown.append(("reason", str(record["statusReason"])))
        rows.append(
            ModelRow(
                model_id=model_id,
                version=version,
                model_type=str(record.get("modelType") or ""),
                status=str(record.get("status") or "UNKNOWN"),
                auc=float(auc) if isinstance(auc, int | float) else None,
                metrics=shown,
                created=record.get("createdTime"),
                report_url=(
                    f"/models/{quote(model_id)}/{quote(version)}/report/"
                    if record.get("reportPath")
                    else None
                ),
            )
        )
    rows.sort(key=lambda r: (r.model_id, _version_key(r.version)), reverse=True)
    return rows


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(p) if p.isdigit() else -1 for p in version.split("."))


def list_detectors(workspace: Workspace) -> list[DetectorRow]:
    """Every detector version, newest first, with its rules and status."""
    engine = _engine(workspace)
    try:
        records = list(engine.list_detector_versions())
    finally:
        engine.close()
    rows = [
        DetectorRow(
            detector_id=str(record.get("detectorId")),
            version=str(record.get("detectorVersionId")),
            status=str(record.get("status") or "UNKNOWN"),
            model_versions=[_model_version_text(m) for m in record.get("modelVersions") or []],
            rules=[_rule(r) for r in record.get("rules") or []],
            rule_execution_mode=str(record.get("ruleExecutionMode") or ""),
            updated=_pick(record, "lastUpdatedTime", "createdTime"),
        )
        for record in records
    ]
    rows.sort(key=lambda r: (r.detector_id, _version_key(r.version)), reverse=True)
    return rows


def _model_version_text(entry: Any) -> str:
    if isinstance(entry, dict):
        model = _pick(entry, "modelId", "model_id", default="?")
        number = _pick(entry, "modelVersionNumber", "model_version", "version", default="?")
        return f"{model} {number}"
    return str(entry)


def _rule(entry: Any) -> RuleRow:
    if not isinstance(entry, dict):
        return RuleRow(str(entry), "", [])
    outcomes = _pick(entry, "outcomes", default=[])
    return RuleRow(
        rule_id=str(_pick(entry, "ruleId", "rule_id", default="?")),
        expression=str(_pick(entry, "expression", default="")),
        outcomes=[str(o) for o in outcomes] if isinstance(outcomes, list) else [str(outcomes)],
    )


def _fmt(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def report_file(workspace: Workspace, model_id: str, version: str, filename: str) -> Path:
    """The report (``filename`` empty) or a file beside it; never a file outside its folder."""
    report = report_path(workspace, model_id, version)
    if report is None:
        raise ReportNotFoundError(f"model {model_id} version {version} has no report")
    if not filename:
        return report
    folder = report.parent.resolve()
    wanted = (folder / filename).resolve()
    if not wanted.is_relative_to(folder) or not wanted.is_file():
        raise ReportNotFoundError(f"{filename!r} is not part of the report of {model_id} {version}")
    return wanted

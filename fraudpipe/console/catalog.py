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
    "ReportNotFoundError",
    "list_detectors",
    "list_models",
    "report_file",
]

REPORT_NAMES = ("report.html", "index.html")
SHOWN_METRICS = ("pr_auc", "precision", "recall", "tpr_at_2pct_fpr", "rows_train", "rows_test")


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


def _registry(workspace: Workspace) -> Any:
    try:
        from fraudpipe.engine.registry import Registry
    except ImportError as exc:
        raise RegistryUnavailableError(f"the engine registry is not available: {exc}") from exc
    return Registry(workspace)


def _pick(record: dict[str, Any], *keys: str, default: Any = None) -> Any:
    for key in keys:
        if record.get(key) not in (None, ""):
            return record[key]
    return default


def _metrics(record: dict[str, Any]) -> dict[str, Any]:
    """Flat metrics from ``metrics`` or AFD's ``trainingResult`` shapes."""
    found: dict[str, Any] = {}
    training = record.get("trainingResult") or {}
    performance = training.get("trainingMetrics") or {}
    if isinstance(performance.get("auc"), int | float):
        found["auc"] = performance["auc"]
    model_perf = (training.get("trainingMetricsV2") or {}).get("transactionFraudInsights") or {}
    if isinstance((model_perf.get("modelPerformance") or {}).get("auc"), int | float):
        found.setdefault("auc", model_perf["modelPerformance"]["auc"])
    found.update({k: v for k, v in (record.get("metrics") or {}).items() if _scalar(v)})
    return found


def _scalar(value: Any) -> bool:
    return isinstance(value, int | float | str) and not isinstance(value, bool)


def report_path(workspace: Workspace, model_id: str, version: str) -> Path | None:
    """The report HTML of a model version, if the engine wrote one."""
    registry = _registry(workspace)
    try:
        record = registry.get_version(model_id, version)
    except ResourceNotFoundError:
        return None
    declared = _pick(record, "report", "report_path", "reportPath")
    candidates = [Path(str(declared))] if declared else []
    folder = registry.version_dir(model_id, version)
    candidates += [folder / "report" / name for name in REPORT_NAMES]
    candidates += [folder / name for name in REPORT_NAMES]
    for candidate in candidates:
        path = candidate if candidate.is_absolute() else folder / candidate
        if path.is_file():
            return path
    return None


def list_models(workspace: Workspace) -> list[ModelRow]:
    """Every model version, newest model first, with its status, metrics and report link."""
    registry = _registry(workspace)
    rows: list[ModelRow] = []
    for model_id in registry.list_models():
        model = _safe(registry.get_model, model_id) or {}
        for version in reversed(registry.version_numbers(model_id)):
            record = _safe(registry.get_version, model_id, version) or {}
            metrics = _metrics(record)
            auc = metrics.pop("auc", None)
            shown = [(k, _fmt(metrics[k])) for k in SHOWN_METRICS if k in metrics]
            has_report = report_path(workspace, model_id, version) is not None
            rows.append(
                ModelRow(
                    model_id=model_id,
                    version=version,
                    model_type=str(_pick(record, "modelType", "model_type", default="")
                                   or _pick(model, "modelType", "model_type", default="")),
                    status=str(_pick(record, "status", default="UNKNOWN")),
                    auc=float(auc) if isinstance(auc, int | float) else None,
                    metrics=shown,
                    created=_pick(record, "createdTime", "created_time", "created"),
                    report_url=(
                        f"/models/{quote(model_id)}/{quote(version)}/report/"
                        if has_report
                        else None
                    ),
                )
            )
    return rows


def list_detectors(workspace: Workspace) -> list[DetectorRow]:
    """Every detector version, newest first, with its rules and status."""
    registry = _registry(workspace)
    rows: list[DetectorRow] = []
    for detector_id in registry.list_detectors():
        for version in reversed(registry.detector_versions(detector_id)):
            record = _safe(registry.get_detector_version, detector_id, version) or {}
            rows.append(
                DetectorRow(
                    detector_id=detector_id,
                    version=str(version),
                    status=str(_pick(record, "status", default="UNKNOWN")),
                    model_versions=[_model_version_text(m) for m in
                                    _pick(record, "modelVersions", "model_versions", default=[])],
                    rules=[_rule(r) for r in _pick(record, "rules", default=[])],
                    rule_execution_mode=str(
                        _pick(record, "ruleExecutionMode", "rule_execution_mode", default="")
                    ),
                    updated=_pick(record, "lastUpdatedTime", "last_updated_time", "createdTime"),
                )
            )
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


def _safe(getter: Any, *args: str) -> dict[str, Any] | None:
    try:
        return getter(*args)
    except (ResourceNotFoundError, ValueError, OSError):
        return None


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

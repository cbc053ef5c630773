"""``fraudpipe models list|show|report`` and ``fraudpipe detectors list`` (built-in engine).

Thin: commands read the workspace registry through the engine and print; the formatting lives
in small pure functions that the tests call directly.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from fraudpipe.workspace import get_workspace

__all__ = ["format_detectors", "format_versions", "register"]

ModelOption = Annotated[str, typer.Option("--model", help="Model id.")]


def format_versions(versions: list[dict[str, Any]]) -> str:
    """One line per model version: id, version, status, AUC, PR-AUC."""
    if not versions:
        return "no model versions (train one with `fraudpipe run`)"
    lines = [f"{'MODEL':<16} {'VERSION':<9} {'STATUS':<22} {'AUC':>8} {'PR-AUC':>8}  CREATED"]
    for v in versions:
        metrics = (v.get("trainingResult") or {}).get("metrics") or {}
        auc = f"{metrics['auc']:.4f}" if "auc" in metrics else "-"
        pr_auc = f"{metrics['pr_auc']:.4f}" if "pr_auc" in metrics else "-"
        lines.append(f"{v['modelId']:<16} {v['modelVersionNumber']:<9} {v['status']:<22} "
                     f"{auc:>8} {pr_auc:>8}  {v.get('createdTime', '')[:19]}")
    return "\n".join(lines)


def format_detectors(versions: list[dict[str, Any]]) -> str:
    if not versions:
        return "no detector versions"
    lines = [f"{'DETECTOR':<16} {'VERSION':<8} {'STATUS':<9} {'MODELS':<24} RULES"]
    for d in versions:
        models = ",".join(f"{m['modelId']}:{m['modelVersionNumber']}" for m in d["modelVersions"])
        rules = "; ".join(f"{r['ruleId']}: {r['expression']} -> {','.join(r['outcomes'])}"
                          for r in d["rules"])
        lines.append(f"{d['detectorId']:<16} {d['detectorVersionId']:<8} {d['status']:<9} "
                     f"{models:<24} {rules}")
    return "\n".join(lines)


def _version_summary(record: dict[str, Any]) -> dict[str, Any]:
    """A model version without the long metricDataPoints list (for ``models show``)."""
    result = dict(record.get("trainingResult") or {})
    if "trainingMetrics" in result:
        points = result["trainingMetrics"].get("metricDataPoints") or []
        result["trainingMetrics"] = {
            "auc": result["trainingMetrics"].get("auc"),
            "metricDataPoints": [p for p in points if p["threshold"] % 100 == 0],
        }
    return {**record, "trainingResult": result or None}


def register(app: typer.Typer) -> None:
    """Add the ``models`` and ``detectors`` groups to ``app``."""
    from fraudpipe.errors import EngineError

    models = typer.Typer(help="Model versions of the built-in engine.", no_args_is_help=True)
    detectors = typer.Typer(help="Detector versions of the built-in engine.",
                            no_args_is_help=True)
    app.add_typer(models, name="models")
    app.add_typer(detectors, name="detectors")

    def engine() -> Any:
        from fraudpipe.engine.builtin import BuiltinEngine  # lazy: keeps `fraudpipe` fast

        return BuiltinEngine(get_workspace())

    @models.command("list")
    def list_models(
        as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    ) -> None:
        """Every model version with its status and validation metrics."""
        versions = engine().list_model_versions()
        if as_json:
            typer.echo(json.dumps([_version_summary(v) for v in versions], indent=2))
        else:
            typer.echo(format_versions(versions))

    @models.command("show")
    def show(
        version: Annotated[str, typer.Argument(help="Version number, e.g. 1.0.")],
        model: ModelOption = "fraud_model",
    ) -> None:
        """One model version as JSON (metrics at every 100 score points)."""
        try:
            record = engine().get_model_version(model, version)
        except EngineError as exc:
            typer.echo(str(exc), err=True)
            raise typer.Exit(1) from exc
        typer.echo(json.dumps(_version_summary(record), indent=2))

    @models.command("report")
    def report(
        version: Annotated[str, typer.Argument(help="Version number, e.g. 1.0.")],
        model: ModelOption = "fraud_model",
        threshold: Annotated[float | None, typer.Option(
            help="Rewrite the report with the confusion matrix at this score.")] = None,
    ) -> None:
        """Print the path of the version's HTML report (rewritten for ``--threshold``)."""
        from fraudpipe.engine.report import write_report

        eng = engine()
        try:
            record = eng.get_model_version(model, version)
        except EngineError as exc:
            typer.echo(str(exc), err=True)
            raise typer.Exit(1) from exc
        if not record.get("reportPath"):
            typer.echo(f"model version {model} {version} has no report ({record['status']})",
                       err=True)
            raise typer.Exit(1)
        path = record["reportPath"]
        if threshold is not None:
            result = record["trainingResult"]
            importance = [{"variableName": v["variableName"],
                           "variableImportance": v["variableImportance"]}
                          for v in result["variableImportanceMetrics"]["logOddsMetrics"]]
            path = str(write_report(
                eng.registry.version_dir(model, version), model, version,
                {"metrics": result["metrics"],
                 "metricDataPoints": result["trainingMetrics"]["metricDataPoints"],
                 "variableImportance": importance}, threshold))
        typer.echo(path)

    @detectors.command("list")
    def list_detectors(
        as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    ) -> None:
        """Every detector version with its status, models and rules."""
        versions = engine().list_detector_versions()
        if as_json:
            typer.echo(json.dumps(versions, indent=2))
        else:
            typer.echo(format_detectors(versions))

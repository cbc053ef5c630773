"""The model report of a version: one HTML page with PNG charts, like AFD's model console page.

Charts use matplotlib's object API (``Figure``), not pyplot, and one process draws one report
at a time: matplotlib's text layout (mathtext tick labels) is not thread-safe, and two
trainings may finish together in threads of one process.

Why from saved files: the report reads the version's ``validation.npz`` (raw margins, scores,
labels of the validation slice) and the training result, so it can be written right after
training and rewritten later for another threshold (``fraudpipe models report``).
"""

from __future__ import annotations

import html
import threading
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from sklearn.metrics import roc_curve

from fraudpipe.workspace import atomic_write_text

__all__ = ["confusion_at", "write_report"]

SCALE_EVENTS = 100_000


def confusion_at(
    scores: np.ndarray, labels: np.ndarray, threshold: float, total: int = SCALE_EVENTS
) -> dict[str, int]:
    """Confusion matrix of ``score > threshold`` scaled to ``total`` events at the observed
    fraud rate."""
    fraud, legit = labels == 1, labels == 0
    tpr = float(np.mean(scores[fraud] > threshold)) if fraud.any() else 0.0
    fpr = float(np.mean(scores[legit] > threshold)) if legit.any() else 0.0
    n_fraud = round(total * float(np.mean(fraud)))
    n_legit = total - n_fraud
    tp, fp = round(n_fraud * tpr), round(n_legit * fpr)
    return {"tp": tp, "fn": n_fraud - tp, "fp": fp, "tn": n_legit - fp}


def _save(fig: Any, path: Path) -> str:
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    return path.name


_DRAWING = threading.Lock()


def write_report(
    folder: Path, model_id: str, version: str, result: dict[str, Any], threshold: float = 900
) -> Path:
    """Write ``folder/report/index.html`` and its charts; returns the HTML path."""
    with _DRAWING:
        return _write_report(folder, model_id, version, result, threshold)


def _write_report(
    folder: Path, model_id: str, version: str, result: dict[str, Any], threshold: float
) -> Path:
    out = folder / "report"
    out.mkdir(parents=True, exist_ok=True)
    data = np.load(folder / "validation.npz", allow_pickle=False)
    raw, scores, labels = data["raw"], data["scores"], data["labels"]
    metrics = result["metrics"]
    charts: dict[str, str] = {}

    fpr, tpr, _ = roc_curve(labels, raw)
    fig = Figure(figsize=(5, 4))
    ax = fig.subplots()
    ax.plot(fpr, tpr, label=f"AUC {metrics['auc']:.4f}")
    ax.plot([0, 1], [0, 1], "--", color="grey")
    ax.set(xlabel="false positive rate", ylabel="true positive rate", title="ROC curve")
    ax.legend(loc="lower right")
    charts["roc"] = _save(fig, out / "roc.png")

    fig = Figure(figsize=(5, 4))
    ax = fig.subplots()
    bins = np.linspace(0, 1000, 41)
    ax.hist(scores[labels == 0], bins=bins, alpha=0.6, density=True, label="legit")
    ax.hist(scores[labels == 1], bins=bins, alpha=0.6, density=True, label="fraud")
    ax.axvline(threshold, color="black", linestyle=":")
    ax.set(xlabel="score", ylabel="density", title="Score distribution", yscale="log")
    ax.legend()
    charts["scores"] = _save(fig, out / "score_distribution.png")

    cm = confusion_at(scores, labels, threshold)
    fig = Figure(figsize=(4, 3.5))
    ax = fig.subplots()
    grid = np.array([[cm["tp"], cm["fn"]], [cm["fp"], cm["tn"]]])
    ax.imshow(np.log1p(grid), cmap="Blues")
    for (i, j), value in np.ndenumerate(grid):
        ax.text(j, i, f"{value:,}", ha="center", va="center")
    ax.set_xticks([0, 1], ["flagged", "passed"])
    ax.set_yticks([0, 1], ["fraud", "legit"])
    ax.set_title(f"score > {threshold:g}, per {SCALE_EVENTS:,} events")
    charts["confusion"] = _save(fig, out / "confusion_matrix.png")

    importance = result["variableImportance"][:15]
    fig = Figure(figsize=(5, 4.5))
    ax = fig.subplots()
    ax.barh([v["variableName"] for v in importance][::-1],
            [v["variableImportance"] for v in importance][::-1])
    ax.set(xlabel="share of gain", title="Variable importance")
    charts["importance"] = _save(fig, out / "variable_importance.png")

    rows = "".join(
        f"<tr><td>{p['threshold']:.0f}</td><td>{p['tpr']:.4f}</td><td>{p['fpr']:.4f}</td>"
        f"<td>{p['precision']:.4f}</td></tr>"
        for p in result["metricDataPoints"] if p["threshold"] % 50 == 0
    )
    summary = "".join(
        f"<tr><th>{html.escape(k)}</th><td>{html.escape(str(v))}</td></tr>"
        for k, v in metrics.items()
    )
    images = "".join(f'<figure><img src="{name}" alt="{key}"></figure>'
                     for key, name in charts.items())
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>{html.escape(model_id)} {html.escape(version)} - model report</title>
<style>body{{font-family:sans-serif;margin:2em}} figure{{display:inline-block;margin:.5em}}
table{{border-collapse:collapse}} td,th{{border:1px solid #ccc;padding:2px 8px;text-align:right}}
</style></head><body>
<h1>Model {html.escape(model_id)} version {html.escape(version)}</h1>
<p>Measured on the validation slice (the last 15% of the training data by EVENT_TIMESTAMP).
Scores are calibrated to false-positive rate (600 &asymp; 10%, 900 &asymp; 2%).</p>
<table id="metrics">{summary}</table>
<h2>Charts</h2>{images}
<h2>Confusion matrix at score &gt; {threshold:g} (per {SCALE_EVENTS:,} events)</h2>
<table id="confusion"><tr><th></th><th>flagged</th><th>passed</th></tr>
<tr><th>fraud</th><td>{cm['tp']:,}</td><td>{cm['fn']:,}</td></tr>
<tr><th>legit</th><td>{cm['fp']:,}</td><td>{cm['tn']:,}</td></tr></table>
<h2>By threshold (score &gt; threshold)</h2>
<table id="thresholds"><tr><th>threshold</th><th>TPR</th><th>FPR</th><th>precision</th></tr>
{rows}</table></body></html>
"""
    path = out / "index.html"
    atomic_write_text(path, page)
    return path

"""``fraudpipe models ...`` / ``detectors list`` and the model report files."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from typer.testing import CliRunner

from fraudpipe.cli import app
from fraudpipe.engine import BuiltinEngine
from fraudpipe.engine.report import SCALE_EVENTS, confusion_at

runner = CliRunner()


def test_models_list_show_report(trained: BuiltinEngine) -> None:
    listed = runner.invoke(app, ["models", "list"])
    assert listed.exit_code == 0, listed.output
    assert "fraud_model" in listed.output and "ACTIVE" in listed.output
    shown = runner.invoke(app, ["models", "show", "1.0"])
    assert shown.exit_code == 0, shown.output
    record = json.loads(shown.output)
    assert record["modelVersionNumber"] == "1.0"
    points = record["trainingResult"]["trainingMetrics"]["metricDataPoints"]
    assert {"threshold", "fpr", "tpr", "precision"} <= set(points[0])
    missing = runner.invoke(app, ["models", "show", "9.0"])
    assert missing.exit_code == 1 and "9.0 does not exist" in missing.output
    reported = runner.invoke(app, ["models", "report", "1.0"])
    assert reported.exit_code == 0
    path = Path(reported.output.strip())
    assert path.name == "index.html" and path.exists()
    detectors = runner.invoke(app, ["detectors", "list"])
    assert "fraud_detector" in detectors.output and "investigate" in detectors.output


def test_report_has_every_chart_and_table(trained: BuiltinEngine) -> None:
    result = runner.invoke(app, ["models", "report", "1.0", "--threshold", "800"])
    assert result.exit_code == 0, result.output
    page = Path(result.output.strip())
    html = page.read_text()
    for chart in ("roc.png", "score_distribution.png", "confusion_matrix.png",
                  "variable_importance.png"):
        assert f'src="{chart}"' in html
        assert (page.parent / chart).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "score &gt; 800" in html and 'id="thresholds"' in html


def test_confusion_matrix_is_scaled_to_100000_events_at_the_fraud_rate() -> None:
    labels = np.array([1] * 10 + [0] * 990)
    scores = np.concatenate([np.full(8, 950.0), np.full(2, 100.0), np.full(20, 920.0),
                             np.full(970, 10.0)])
    cm = confusion_at(scores, labels, 900)
    assert sum(cm.values()) == SCALE_EVENTS
    assert cm["tp"] + cm["fn"] == 1000  # 1% fraud
    assert cm["tp"] == 800 and cm["fp"] == round(99_000 * 20 / 990)

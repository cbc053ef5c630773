"""The local CLI: refusal of bad input, executions list/show, schedules (exit codes and output)."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from fraudpipe.cli import app
from tests.local.fake_pipeline import HANDLERS

runner = CliRunner()


def test_run_refuses_invalid_input_and_starts_nothing(workspace):
    result = runner.invoke(app, ["run", "--input", '{"review": {"min": 950}, "mode": "x"}'])
    assert result.exit_code == 2
    assert "mode: 'x' is not one of ['create', 'update']" in result.output
    assert not workspace.executions_dir.exists()
    assert not (workspace.s3_root).exists()  # no data generated either


def test_run_refuses_cross_field_problems_with_path_and_reason(workspace):
    result = runner.invoke(app, ["run", "--input", '{"review": {"min": 950}}'])
    assert result.exit_code == 2
    assert "review.min: must be <= review.max" in result.output


def test_run_refuses_a_missing_or_broken_input_file(workspace, tmp_path):
    assert runner.invoke(app, ["run", "--input", str(tmp_path / "nope.json")]).exit_code == 2
    broken = tmp_path / "broken.json"
    broken.write_text("{oops")
    result = runner.invoke(app, ["run", "--input", str(broken)])
    assert result.exit_code == 2
    assert f"(JSON) {broken}, line 1, column 2: Expecting property name" in result.output


def test_run_refuses_a_raw_dir_without_the_kaggle_files(workspace, tmp_path):
    result = runner.invoke(app, ["run", "--raw-dir", str(tmp_path)])
    assert result.exit_code == 2
    assert "missing fraudTrain.csv, fraudTest.csv" in result.output


def test_executions_list_and_show(make_runtime, fake_conf, workspace):
    fake_conf(auc=0.5)
    runtime = make_runtime(functions=HANDLERS)
    name = runtime.run({}, timeout=60)["name"]
    listed = runner.invoke(app, ["executions", "list", "--json"])
    assert listed.exit_code == 0
    assert [(r["name"], r["status"]) for r in json.loads(listed.stdout)] == [(name, "FAILED")]
    shown = runner.invoke(app, ["executions", "show", name, "--json"])
    summary = json.loads(shown.stdout)
    assert summary["execution"] == name and summary["status"] == "FAILED"
    assert summary["error"] == "QualityGateError"
    assert summary["model_version"] == "1.0"
    assert summary["metrics"] == {"auc": 0.5, "pr_auc": 0.8}
    assert summary["states"][-1] == {
        "name": "QualityGateFailed",
        "status": "FAILED",
        "seconds": None,
    }
    assert {
        "execution",
        "status",
        "states",
        "model_version",
        "metrics",
        "batch_output",
        "report",
        "review",
    } <= set(summary)
    text = runner.invoke(app, ["executions", "show", name])
    assert "QualityGateFailed" in text.stdout and "AUC" in text.stdout
    assert runner.invoke(app, ["executions", "show", "nope"]).exit_code == 1


def test_redrive_refuses_an_unknown_execution(workspace):
    result = runner.invoke(app, ["redrive", "nope"])
    assert result.exit_code == 2 and "no local execution named 'nope'" in result.output


def test_schedule_commands(workspace, tmp_path):
    source = tmp_path / "input.json"
    source.write_text('{"mode": "create"}')
    added = runner.invoke(
        app, ["schedule", "add", "nightly", "--cron", "0 2 * * *", "--input", str(source)]
    )
    assert added.exit_code == 0, added.output
    listed = json.loads(runner.invoke(app, ["schedule", "list", "--json"]).stdout)
    assert listed[0]["name"] == "nightly" and listed[0]["input"] == {"mode": "create"}
    bad = runner.invoke(
        app, ["schedule", "add", "x", "--cron", "0 2 * * *", "--input", '{"min_auc": 7}']
    )
    assert bad.exit_code == 2 and "min_auc" in bad.output
    assert runner.invoke(app, ["schedule", "remove", "nightly"]).exit_code == 0
    assert json.loads(runner.invoke(app, ["schedule", "list", "--json"]).stdout) == []


def test_start_refuses_invalid_input_and_starts_nothing(workspace):
    result = runner.invoke(app, ["start", "--input", '{"engine": "sagemaker"}'])
    assert result.exit_code == 2
    assert "engine: 'sagemaker' is not one of ['builtin', 'afd']" in result.output
    assert not (workspace.root / "logs").exists()


def test_summary_lines_show_status_model_metrics_outputs_and_review():
    from fraudpipe.local.render import summary_lines

    lines = "\n".join(
        summary_lines(
            {
                "execution": "run-1",
                "status": "SUCCEEDED",
                "model_version": "2.0",
                "metrics": {"auc": 0.98765, "pr_auc": 0.5},
                "outcome_counts": {"high_risk": 3},
                "batch_output": "/ws/out.csv",
                "report": "/ws/report.html",
                "review": {
                    "items": 4,
                    "pending": 4,
                    "answered": 0,
                    "url": "http://127.0.0.1:8000/review",
                },
            }
        )
    )
    for text in (
        "run-1",
        "SUCCEEDED",
        "2.0",
        "0.9877",
        "0.5000",
        "high_risk=3",
        "/ws/out.csv",
        "/ws/report.html",
        "review items  4 (pending 4, answered 0)",
        "http://127.0.0.1:8000/review",
    ):
        assert text in lines

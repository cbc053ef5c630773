"""``fraudpipe template|package|deploy|teardown`` through typer, and the image build context."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from deploy.cli import register
from deploy.functions import FUNCTION_SPECS
from deploy.packaging import (
    CODE_PACKAGES,
    EXCLUDED_REQUIREMENTS,
    build_context,
    context_tag,
    image_commands,
    requirements,
)


@pytest.fixture
def cli() -> typer.Typer:
    app = typer.Typer()
    register(app)
    return app


def test_template_prints_the_template_without_aws(cli: typer.Typer,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID", raising=False)
    result = CliRunner().invoke(cli, ["template", "--engine", "afd"])
    assert result.exit_code == 0
    template = json.loads(result.stdout)
    assert "FraudDetector" in template["Resources"]


def test_template_refuses_an_unknown_engine(cli: typer.Typer) -> None:
    result = CliRunner().invoke(cli, ["template", "--engine", "sagemaker"])
    assert result.exit_code == 2 and "builtin, afd" in result.output


def test_deploy_without_region_fails_clearly(cli: typer.Typer, monkeypatch: pytest.MonkeyPatch,
                                             tmp_path: Path) -> None:
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    result = CliRunner().invoke(cli, ["deploy", "--stack", "demo"])
    assert result.exit_code == 1 and "no AWS region" in result.output


def test_teardown_refuses_a_bad_stack_name(cli: typer.Typer) -> None:
    result = CliRunner().invoke(cli, ["teardown", "--stack", "Bad_Name", "--yes"])
    assert result.exit_code == 1 and "2-24 characters" in result.output


def test_package_writes_a_build_context(cli: typer.Typer, tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["package", "--output", str(tmp_path / "ctx")])
    assert result.exit_code == 0, result.output
    context = tmp_path / "ctx"
    dockerfile = (context / "Dockerfile").read_text()
    assert dockerfile.startswith("# fraudpipe Lambda image")
    assert "FROM --platform=linux/amd64 public.ecr.aws/lambda/python:3.12" in dockerfile
    for name in CODE_PACKAGES:
        assert f"COPY {name} ${{LAMBDA_TASK_ROOT}}/{name}" in dockerfile
        assert (context / name / "__init__.py").exists()
    for spec in FUNCTION_SPECS.values():
        assert (context / "functions" / f"{spec.module}.py").exists()
    assert (context / "glue" / "crawler.json").exists()  # read by fraudpipe.etl.locations
    assert not list(context.rglob("__pycache__"))
    pins = (context / "requirements.txt").read_text().split()
    assert pins == requirements() and all("==" in p for p in pins)
    assert any(p.startswith("lightgbm==") for p in pins)
    assert not any(p.startswith(EXCLUDED_REQUIREMENTS) for p in pins)


def test_context_tag_follows_content(tmp_path: Path) -> None:
    context = build_context(tmp_path / "ctx")
    tag = context_tag(context)
    assert context_tag(context) == tag
    (context / "functions" / "extra.py").write_text("# changed\n")
    assert context_tag(context) != tag
    build, push = image_commands(context, "1.dkr.ecr.eu-west-1.amazonaws.com/fraudpipe/x", tag)
    assert build[:4] == ["docker", "build", "--platform", "linux/amd64"]
    assert push == ["docker", "push", f"1.dkr.ecr.eu-west-1.amazonaws.com/fraudpipe/x:{tag}"]


@pytest.mark.slow
def test_every_handler_imports_without_the_excluded_packages() -> None:
    # the image leaves out moto and uvicorn: importing every handler must not need them
    modules = [f"functions.{m}" for m in FUNCTION_SPECS]
    code = (
        "import importlib, sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        f"        if name.split('.')[0] in {list(EXCLUDED_REQUIREMENTS)!r}:\n"
        "            raise ImportError('excluded from the Lambda image: ' + name)\n"
        "sys.meta_path.insert(0, Block())\n"
        f"for m in {modules!r}: importlib.import_module(m)\n"
        "print('ok')\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=Path(__file__).resolve().parents[2],
                            env={"FRAUDPIPE_BACKEND": "aws", "PATH": "/usr/bin:/bin"},
                            timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "ok"

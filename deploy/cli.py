"""AWS commands (template, deploy, teardown), added to the main app by :func:`register`."""

from __future__ import annotations

from pathlib import Path

import typer

from deploy.template import ENGINES, template_json


def template_command(
    engine: str = typer.Option("builtin", help="builtin | afd (adds Fraud Detector resources)"),
    output: Path | None = typer.Option(None, "--output", "-o", help="Write to this file"),
) -> None:
    """Print the CloudFormation template of the whole pipeline (needs no AWS account)."""
    if engine not in ENGINES:
        raise typer.BadParameter(f"must be one of {', '.join(ENGINES)}", param_hint="--engine")
    text = template_json(engine)
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        typer.echo(f"template written to {output}")


def register(app: typer.Typer) -> None:
    """Add the AWS commands to ``app``."""
    app.command("template")(template_command)

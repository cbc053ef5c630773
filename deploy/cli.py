"""AWS commands (template, package, deploy, teardown), added to the main app by :func:`register`.

Thin: parse, call ``deploy.*``, print. Credentials and region are checked before any AWS call.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from botocore.exceptions import BotoCoreError, ClientError

from fraudpipe.errors import FraudpipeError

REGION = Annotated[str | None, typer.Option(help="AWS region (default: AWS_REGION / profile)")]


def _fail(exc: Exception) -> typer.Exit:
    typer.echo(f"error: {exc}", err=True)
    return typer.Exit(code=1)


def format_outputs(outputs: dict[str, str]) -> str:
    keys = ("ApiUrl", "ApiKeyId", "StateMachineArn", "DataBucketName", "ScheduleName")
    return "\n".join(f"{k:16} {outputs[k]}" for k in keys if k in outputs)


def template_command(
    engine: Annotated[str, typer.Option(help="builtin | afd (adds Fraud Detector)")] = "builtin",
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write here")] = None,
) -> None:
    """Print the CloudFormation template of the whole pipeline (needs no AWS account)."""
    from deploy.template import ENGINES, template_json  # lazy: keeps every `fraudpipe` start fast

    if engine not in ENGINES:
        raise typer.BadParameter(f"must be one of {', '.join(ENGINES)}", param_hint="--engine")
    text = template_json(engine)
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        typer.echo(f"template written to {output}")


def package_command(
    output: Annotated[Path, typer.Option("--output", "-o")] = Path("build/lambda-image"),
) -> None:
    """Write the Lambda image's build context (Dockerfile, requirements, code); build it with
    ``docker build --platform linux/amd64 -t IMAGE <folder>`` on any machine with Docker."""
    from deploy.packaging import build_context, context_tag

    context = build_context(output)
    typer.echo(f"build context in {context} (tag {context_tag(context)})")


def _read_input(path: Path | None) -> dict[str, Any]:
    if path is None:
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise typer.BadParameter(f"{path}: {exc}", param_hint="--input") from exc
    if not isinstance(data, dict):
        raise typer.BadParameter(f"{path}: must hold a JSON object", param_hint="--input")
    return data


def deploy_command(
    stack: Annotated[str, typer.Option(help="Stack name (2-24 lowercase letters/digits/-)")],
    region: REGION = None,
    engine: Annotated[str, typer.Option(help="builtin | afd")] = "builtin",
    schedule: Annotated[str | None, typer.Option(
        help="Run on this schedule, e.g. 'cron(0 6 * * ? *)' (UTC); disabled if not given")] = None,
    schedule_input: Annotated[Path | None, typer.Option(
        "--input", help="Execution input (JSON file) the schedule starts with")] = None,
    image_uri: Annotated[str | None, typer.Option(
        help="Use this pushed image instead of building one with Docker")] = None,
    flow_definition_arn: Annotated[str, typer.Option(help="A2I flow definition")] = "",
    log_retention_days: Annotated[int, typer.Option(help="CloudWatch Logs retention")] = 30,
) -> None:
    """Build and upload artifacts, create or update the stack, wait, print its outputs."""
    from deploy.names import check_stack_name
    from deploy.session import aws_session
    from deploy.stack import DeployRequest, deploy_stack

    try:
        check_stack_name(stack)
        request = DeployRequest(stack=stack, engine=engine, image_uri=image_uri,
                                schedule=schedule, schedule_input=_read_input(schedule_input),
                                flow_definition_arn=flow_definition_arn,
                                log_retention_days=log_retention_days)
        session = aws_session(region)
        outputs = deploy_stack(session, request, build_image=_build_image)
    except (FraudpipeError, ClientError, BotoCoreError) as exc:
        raise _fail(exc) from exc
    typer.echo(format_outputs(outputs))


def _build_image(ecr: Any, names: Any) -> str:
    """Build the image with Docker and push it to the stack's ECR repository."""
    import tempfile

    from deploy import artifacts
    from deploy.packaging import build_context, context_tag, image_commands

    repository = artifacts.ensure_repository(ecr, names)
    with tempfile.TemporaryDirectory() as folder:
        context = build_context(Path(folder) / "image")
        tag = context_tag(context)
        if artifacts.image_exists(ecr, names, tag):
            typer.echo(f"image {repository}:{tag} already pushed (code unchanged)")
        else:
            artifacts.push_image(ecr, image_commands(context, repository, tag),
                                 repository.split("/", 1)[0])
    return f"{repository}:{tag}"


def teardown_command(
    stack: Annotated[str, typer.Option(help="Stack name")],
    region: REGION = None,
    yes: Annotated[bool, typer.Option("--yes", help="Empty the bucket without asking")] = False,
) -> None:
    """Empty the data bucket (after asking), delete the stack, the artifacts and the image."""
    from deploy.names import check_stack_name
    from deploy.session import aws_session
    from deploy.stack import teardown_stack

    def confirm(bucket: str) -> bool:
        return yes or typer.confirm(f"Delete every object in s3://{bucket} and the stack {stack}?")

    try:
        check_stack_name(stack)
        removed = teardown_stack(aws_session(region), stack, confirm)
    except (FraudpipeError, ClientError, BotoCoreError) as exc:
        raise _fail(exc) from exc
    typer.echo("\n".join(f"removed {item}" for item in removed) or "nothing to remove")


def register(app: typer.Typer) -> None:
    """Add the AWS commands to ``app``."""
    app.command("template")(template_command)
    app.command("package")(package_command)
    app.command("deploy")(deploy_command)
    app.command("teardown")(teardown_command)

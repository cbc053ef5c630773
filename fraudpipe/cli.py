"""The ``fraudpipe`` command line: each area registers its own commands (parse, call, print)."""

from __future__ import annotations

import typer

from fraudpipe.api.cli import register as register_api
from fraudpipe.data.cli import register as register_data
from fraudpipe.engine.cli import register as register_engine
from fraudpipe.local.cli import register as register_local
from fraudpipe.review.cli import register as register_review

app = typer.Typer(
    name="fraudpipe",
    help="Fraud-detection pipeline on AWS Step Functions, run locally or deployed to AWS.",
    no_args_is_help=True,
    add_completion=False,
)

for register in (register_local, register_data, register_engine, register_review, register_api):
    register(app)

try:  # deploy ships with the same distribution; kept separate so the local CLI never needs it
    from deploy.cli import register as register_deploy
except ImportError:  # pragma: no cover - only when deploy/ is not installed
    register_deploy = None
if register_deploy is not None:
    register_deploy(app)


if __name__ == "__main__":
    app()

"""Deploy benchmark: template build and size, cfn-lint time, and a full stack lifecycle on moto.

What it measures (no AWS account: the stack goes into moto's CloudFormation, with the providers
of ``tests/deploy/moto_cfn.py`` for the types moto lacks):
1. building the template in Python (median of 20) and its size, per engine;
2. cfn-lint over each template (errors, warnings, seconds);
3. ``deploy_stack`` (artifacts upload + create + wait), one execution through the crawl and the
   ETL start with the handlers in-process, and ``teardown_stack``; seconds for each.

Prints a table and writes ``benchmarks/output/bench_deploy.json``.

    .venv/bin/python benchmarks/bench_deploy.py
"""

from __future__ import annotations

import io
import json
import os
import statistics
import sys
import time
import warnings
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
OUTPUT = ROOT / "benchmarks" / "output" / "bench_deploy.json"

os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
os.environ["AWS_EC2_METADATA_DISABLED"] = "true"
os.environ["POWERTOOLS_LOG_LEVEL"] = "WARNING"
warnings.simplefilter("ignore")


def _templates() -> dict[str, dict]:
    from deploy.template import build_template, template_json

    figures = {}
    for engine in ("builtin", "afd"):
        times = []
        for _ in range(20):
            start = time.perf_counter()
            text = template_json(engine)
            times.append(time.perf_counter() - start)
        kinds = Counter(r["Type"] for r in build_template(engine)["Resources"].values())
        figures[engine] = {"build_ms": round(statistics.median(times) * 1000, 2),
                           "bytes": len(text), "resources": sum(kinds.values()),
                           "resource_types": len(kinds),
                           "iam_roles": kinds["AWS::IAM::Role"],
                           "functions": kinds["AWS::Lambda::Function"]}
    return figures


def _lint(figures: dict[str, dict]) -> None:
    from cfnlint.api import ManualArgs, lint

    from deploy.template import template_json

    for engine, row in figures.items():
        start = time.perf_counter()
        matches = lint(template_json(engine), config=ManualArgs(regions=["us-east-1"]))
        row["lint_s"] = round(time.perf_counter() - start, 2)
        row["lint_errors"] = sum(m.rule.id.startswith("E") for m in matches)
        row["lint_warnings"] = sum(m.rule.id.startswith("W") for m in matches)


def _lifecycle() -> dict[str, float | str]:
    import boto3
    from moto import mock_aws
    from moto.moto_api import state_manager

    from deploy import artifacts
    from deploy.operations import describe_execution, start_execution
    from deploy.session import aws_session
    from deploy.stack import DeployRequest, deploy_stack, stack_names, teardown_stack
    from fraudpipe.data import generate_kaggle_frames
    from fraudpipe.local import moto_patches
    from tests.deploy.moto_cfn import extended_cloudformation

    region, stack = "us-east-1", "bench"
    for model in ("glue::crawl", "glue::job_run"):
        state_manager.set_transition(model, {"progression": "immediate"})
    moto_patches.apply()
    result: dict[str, float | str] = {}
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}), \
            extended_cloudformation():
        session = aws_session(region)
        start = time.perf_counter()
        outputs = deploy_stack(session, DeployRequest(stack=stack, schedule="rate(1 day)"),
                               build_image=lambda ecr, n: artifacts.ensure_repository(ecr, n)
                               + ":bench")
        result["deploy_s"] = round(time.perf_counter() - start, 2)
        names = stack_names(session, stack)
        env = boto3.client("lambda", region_name=region).get_function_configuration(
            FunctionName=f"{stack}-start-crawler")["Environment"]["Variables"]
        # what Lambda's runtime sets besides the function's own variables
        os.environ.update({**env, "AWS_REGION": region, "AWS_DEFAULT_REGION": region,
                           "FRAUDPIPE_TIME_SCALE": "0.001"})
        train, test = generate_kaggle_frames(customers=3, start="2020-01-01", end="2020-03-31")
        s3 = session.client("s3")
        for name, frame in (("fraudTrain.csv", train.head(40)), ("fraudTest.csv", test.head(20))):
            buffer = io.StringIO()
            frame.to_csv(buffer, index=False)
            s3.put_object(Bucket=outputs["DataBucketName"], Key=f"input/{name}",
                          Body=buffer.getvalue().encode())
        start = time.perf_counter()
        execution = start_execution(stack, region, {}, session=session)
        while (info := describe_execution(stack, region, execution, session=session))[
                "status"] == "RUNNING":
            time.sleep(0.02)
        result["execution_s"] = round(time.perf_counter() - start, 2)
        result["execution_states"] = len(info["states"])
        result["execution_last_state"] = info["states"][-1]
        result["execution_error"] = info["error"] or ""
        start = time.perf_counter()
        teardown_stack(session, stack, confirm=lambda bucket: True)
        result["teardown_s"] = round(time.perf_counter() - start, 2)
        result["left_after_teardown"] = len(s3.list_buckets()["Buckets"]) + len(
            session.client("lambda").list_functions()["Functions"])
        assert names.data_bucket == outputs["DataBucketName"]
    return result


def main() -> None:
    figures = _templates()
    _lint(figures)
    lifecycle = _lifecycle()
    header = f"{'engine':8} {'build ms':>9} {'KB':>6} {'resources':>9} {'roles':>5} " \
             f"{'lambdas':>7} {'lint s':>7} {'errors':>6} {'warnings':>8}"
    print(header)
    for engine, row in figures.items():
        print(f"{engine:8} {row['build_ms']:>9} {row['bytes'] // 1024:>6} {row['resources']:>9} "
              f"{row['iam_roles']:>5} {row['functions']:>7} {row['lint_s']:>7} "
              f"{row['lint_errors']:>6} {row['lint_warnings']:>8}")
    print()
    print("moto lifecycle (builtin): " + ", ".join(f"{k} {v}" for k, v in lifecycle.items()))
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text(json.dumps({"templates": figures, "moto_lifecycle": lifecycle}, indent=2))
    print(f"figures written to {OUTPUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()

"""Deploy benchmark: template build and size, cfn-lint time, and a full stack lifecycle on moto.

What it measures (no AWS account: the stack goes into moto's CloudFormation, with the providers
of ``tests/deploy/moto_cfn.py`` for the types moto lacks):
1. building the template in Python (median of 20) and its size, per engine;
2. cfn-lint over each template (errors, warnings, seconds);
3. ``deploy_stack`` (artifacts upload + create + wait), one whole execution with the handlers
   in-process and the built-in engine on the stack's S3 registry and worker function (moto's
   Glue job runs the ETL and Event invocations run asynchronously through the test harness of
   ``tests/deploy``), and ``teardown_stack``; seconds for each, seconds per state, and the S3
   requests the engine made (by operation; lock takes), which is what the registry costs on AWS;
4. the predict path from a fresh container: first request (reads the ACTIVE version, downloads
   and loads the model files) and warm requests (milliseconds, S3 requests per request).

Prints a table and writes ``benchmarks/output/bench_deploy.json``.

    .venv/bin/python benchmarks/bench_deploy.py
"""

from __future__ import annotations

import io
import itertools
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


class _S3Requests:
    """Counts the requests of one boto3 client by operation (and the registry lock's writes)."""

    def __init__(self, client: object) -> None:
        self.counts: Counter[str] = Counter()
        client.meta.events.register(  # type: ignore[attr-defined]
            "before-parameter-build.s3.*", self._count)

    def _count(self, params: dict, model: object, **_: object) -> None:
        self.counts[model.name] += 1  # type: ignore[attr-defined]
        if str(params.get("Key", "")).endswith("/.lock") and model.name == "PutObject":
            self.counts["lock takes"] += 1

    def snapshot(self) -> Counter[str]:
        return Counter(self.counts)


def _state_seconds(session: object, arn: str) -> dict[str, float]:
    """Seconds spent in each state (entered -> next state entered), summed over its visits."""
    sfn = session.client("stepfunctions")  # type: ignore[attr-defined]
    events = sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"]
    entered = [(e["stateEnteredEventDetails"]["name"], e["timestamp"]) for e in events
               if "stateEnteredEventDetails" in e] + [("end", events[-1]["timestamp"])]
    spent: Counter[str] = Counter()
    for (name, at), (_, then) in itertools.pairwise(entered):
        spent[name] += (then - at).total_seconds()
    return {k: round(v, 2) for k, v in spent.most_common()}


def _predict(tmp: Path, row: dict[str, str]) -> dict[str, float | int]:
    """A fresh predict container: first request, then warm requests, against the S3 registry."""
    from fraudpipe.engine import BuiltinEngine
    from fraudpipe.engine.backends import aws_client
    from fraudpipe.workspace import get_workspace

    os.environ["FRAUDPIPE_DETECTOR_TTL"] = "10"
    requests = _S3Requests(aws_client("s3"))
    engine = BuiltinEngine(get_workspace(tmp / "predict-container"))
    variables = {k: row[k] for k in ("amt", "category", "merchant", "city_pop", "gender",
                                     "state", "zip", "job")}

    def once(i: int) -> float:
        start = time.perf_counter()
        engine.get_event_prediction("fraud_detector", f"bench-{i}", row["EVENT_TIMESTAMP"],
                                    row["cc_num"], variables)
        return (time.perf_counter() - start) * 1000

    first = once(0)
    after_first = sum(requests.snapshot().values())
    warm = [once(i) for i in range(1, 201)]
    return {"first_request_ms": round(first, 1), "first_request_s3_requests": after_first,
            "warm_p50_ms": round(statistics.median(warm), 2),
            "warm_p95_ms": round(sorted(warm)[int(len(warm) * 0.95)], 2),
            "warm_s3_requests_per_request": round(
                (sum(requests.snapshot().values()) - after_first) / len(warm), 3)}


def _lifecycle() -> dict[str, object]:
    import tempfile

    import boto3
    from moto import mock_aws
    from moto.moto_api import state_manager

    from deploy import artifacts
    from deploy.operations import describe_execution, start_execution
    from deploy.session import aws_session
    from deploy.stack import DeployRequest, deploy_stack, stack_names, teardown_stack
    from fraudpipe.data import generate_kaggle_frames
    from fraudpipe.engine.backends import aws_client, reset_clients
    from fraudpipe.local import moto_patches
    from tests.deploy.moto_cfn import extended_cloudformation
    from tests.deploy.moto_glue import glue_job_runs_run_the_etl
    from tests.deploy.moto_lambda import asynchronous_events

    region, stack = "us-east-1", "bench"
    for model in ("glue::crawl", "glue::job_run"):
        state_manager.set_transition(model, {"progression": "immediate"})
    moto_patches.apply()
    reset_clients()
    result: dict[str, object] = {}
    tmp = Path(tempfile.mkdtemp(prefix="bench-deploy-"))
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
                           "FRAUDPIPE_TIME_SCALE": "0.001", "FRAUDPIPE_HOME": str(tmp / "ws")})
        train, test = generate_kaggle_frames(customers=10, start="2019-06-01", end="2020-06-30",
                                             seed=7)
        s3 = session.client("s3")
        for name, frame in (("fraudTrain.csv", train), ("fraudTest.csv", test)):
            buffer = io.StringIO()
            frame.to_csv(buffer, index=False)
            s3.put_object(Bucket=outputs["DataBucketName"], Key=f"input/{name}",
                          Body=buffer.getvalue().encode())
        result["raw_rows"] = len(train) + len(test)
        requests = _S3Requests(aws_client("s3"))
        run_input = {"min_auc": 0.5, "review": {"enabled": False},
                     "poll_seconds": {"crawler": 5, "etl": 10, "training": 1000, "batch": 200,
                                      "simultaneous_training": 60}}
        start = time.perf_counter()
        with glue_job_runs_run_the_etl(), asynchronous_events():
            execution = start_execution(stack, region, run_input, session=session)
            while (info := describe_execution(stack, region, execution, session=session))[
                    "status"] == "RUNNING":
                time.sleep(0.5)
        result["execution_s"] = round(time.perf_counter() - start, 2)
        result["execution_status"] = info["status"]
        result["execution_states"] = len(info["states"])
        result["execution_last_state"] = info["states"][-1]
        result["execution_error"] = info["error"] or ""
        result["seconds_per_state"] = _state_seconds(session, names.state_machine_arn().replace(
            ":stateMachine:", ":execution:") + f":{execution}")
        result["engine_s3_requests"] = dict(requests.snapshot().most_common())
        row = next(iter(__import__("csv").DictReader(io.StringIO(s3.get_object(
            Bucket=outputs["DataBucketName"],
            Key=f"glue_transformed/{execution}/test/fraudTest.csv")["Body"].read().decode()))))
        result["predict"] = _predict(tmp, row)
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
    print("moto lifecycle (builtin): " + ", ".join(
        f"{k} {v}" for k, v in lifecycle.items() if not isinstance(v, dict)))
    for key in ("seconds_per_state", "engine_s3_requests", "predict"):
        print(f"{key}: " + ", ".join(f"{k} {v}" for k, v in lifecycle[key].items()))
    print(f"load average {os.getloadavg()[0]:.1f} (1 min)")
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text(json.dumps({"templates": figures, "moto_lifecycle": lifecycle,
                                  "load_average_1min": round(os.getloadavg()[0], 1)}, indent=2))
    print(f"figures written to {OUTPUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()

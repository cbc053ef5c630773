"""The template: cfn-lint finds no error, the definition is the runtime's ASL, and the pieces the
issue asks for are there with the settings a careful AWS engineer would pick."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import pytest
from cfnlint.api import ManualArgs, lint

from deploy.functions import FUNCTION_SPECS, WORKER_FUNCTIONS, logical_id, missing_specs
from deploy.resources.api import required_parameters
from deploy.template import build_template
from statemachines.pipeline import ASL_PATH, FUNCTIONS, NON_STATE_FUNCTIONS


def _lint(template: dict) -> list:
    return lint(json.dumps(template), config=ManualArgs(regions=["us-east-1"]))


def _of_type(template: dict, kind: str) -> dict:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == kind}


@pytest.mark.slow
@pytest.mark.parametrize("engine", ["builtin", "afd"])
def test_cfn_lint_reports_no_errors(engine: str) -> None:
    matches = _lint(build_template(engine))
    errors = [f"{m.rule.id} {m.path_string}: {m.message}" for m in matches
              if m.rule.id.startswith("E")]
    assert errors == []
    # only the Fraud Detector end-of-sale warning is expected
    assert {m.rule.id for m in matches} <= {"W3696"}
    assert ("W3696" in {m.rule.id for m in matches}) == (engine == "afd")


@pytest.mark.slow
def test_cfn_lint_checks_the_inline_definition() -> None:
    # GIVEN the definition with a state of a type ASL does not have
    broken = copy.deepcopy(build_template())
    sm = broken["Resources"]["PipelineStateMachine"]["Properties"]["Definition"]
    sm["States"][sm["StartAt"]]["Type"] = "Sleep"
    # THEN cfn-lint refuses it (E3601): the zero-error result above is not vacuous
    assert [m.rule.id for m in _lint(broken) if "Sleep" in m.message] == ["E3601"]


def test_every_handler_has_a_function() -> None:
    assert missing_specs() == []
    functions = _of_type(build_template(), "AWS::Lambda::Function")
    assert set(functions) == {logical_id(m) for m in [*FUNCTIONS, *NON_STATE_FUNCTIONS,
                                                      *WORKER_FUNCTIONS]}
    for module, spec in FUNCTION_SPECS.items():
        props = functions[logical_id(module)]["Properties"]
        assert props["PackageType"] == "Image"
        assert props["ImageConfig"]["Command"] == [f"functions.{module}.handler"]
        assert props["TracingConfig"] == {"Mode": "Active"}
        assert props["Environment"]["Variables"]["FRAUDPIPE_BACKEND"] == "aws"
        assert props["Environment"]["Variables"]["FRAUDPIPE_BUCKET"] == {"Ref": "DataBucket"}
        assert props["MemorySize"] == spec.memory
    heavy = functions["RunEngineJobFunction"]["Properties"]
    assert heavy["MemorySize"] >= 3008 and heavy["Timeout"] == 900
    assert heavy["EphemeralStorage"] == {"Size": 10240}


def test_log_groups_have_retention() -> None:
    groups = _of_type(build_template(), "AWS::Logs::LogGroup")
    assert len(groups) == len(FUNCTION_SPECS) + 1
    assert all(g["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}
               for g in groups.values())


def test_state_machine_is_the_generated_asl_with_substitutions() -> None:
    sm = build_template()["Resources"]["PipelineStateMachine"]["Properties"]
    assert sm["Definition"] == json.loads(ASL_PATH.read_text())
    assert sm["StateMachineType"] == "STANDARD"
    assert sm["TracingConfiguration"] == {"Enabled": True}
    assert sm["LoggingConfiguration"]["IncludeExecutionData"] is False  # card data stays out
    text = ASL_PATH.read_text()
    for key, value in sm["DefinitionSubstitutions"].items():
        assert "${" + key + "}" in text
        assert value == {"Fn::GetAtt": [key.removesuffix("Arn"), "Arn"]}
    assert set(sm["DefinitionSubstitutions"]) == set(FUNCTIONS.values())


def test_bucket_is_encrypted_private_and_tls_only() -> None:
    resources = build_template()["Resources"]
    props = resources["DataBucket"]["Properties"]
    assert props["BucketEncryption"]["ServerSideEncryptionConfiguration"][0][
        "ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    assert all(props["PublicAccessBlockConfiguration"].values())
    deny = resources["DataBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"][0]
    assert deny["Effect"] == "Deny"
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_api_validates_required_parameters_and_needs_a_key() -> None:
    resources = build_template()["Resources"]
    method = resources["PredictMethod"]["Properties"]
    assert method["HttpMethod"] == "GET" and method["ApiKeyRequired"] is True
    assert method["Integration"]["Type"] == "AWS_PROXY"
    required = {k.rsplit(".", 1)[1] for k, v in method["RequestParameters"].items() if v}
    assert required == set(required_parameters())
    assert {"cc_num", "amt", "trans_num", "event_timestamp"} <= required
    assert resources["PredictValidator"]["Properties"]["ValidateRequestParameters"] is True
    plan = resources["PredictUsagePlan"]["Properties"]
    assert plan["ApiStages"] == [{"ApiId": {"Ref": "PredictApi"}, "Stage": {"Ref": "PredictStage"}}]
    assert resources["PredictUsagePlanKey"]["Properties"]["KeyId"] == {"Ref": "PredictApiKey"}


def test_schedule_is_disabled_by_default_and_starts_the_pipeline() -> None:
    template = build_template()
    assert template["Parameters"]["ScheduleState"]["Default"] == "DISABLED"
    props = template["Resources"]["PipelineSchedule"]["Properties"]
    assert props["State"] == {"Ref": "ScheduleState"}
    assert props["Target"]["Arn"] == {"Ref": "PipelineStateMachine"}
    assert props["Target"]["Input"] == {"Ref": "ScheduleInput"}


def test_review_rule_resumes_through_the_resume_lambda() -> None:
    resources = build_template()["Resources"]
    rule = resources["ReviewStatusRule"]["Properties"]
    assert rule["EventPattern"]["detail-type"] == ["SageMaker A2I HumanLoop Status Change"]
    assert rule["Targets"][0]["Arn"] == {"Fn::GetAtt": ["ResumeReviewFunction", "Arn"]}
    assert resources["ResumeReviewPermission"]["Properties"]["Principal"] == \
        "events.amazonaws.com"


def test_glue_job_runs_the_uploaded_script_with_its_sql() -> None:
    resources = build_template()["Resources"]
    job = resources["EtlJob"]["Properties"]
    assert job["Command"]["Name"] == "glueetl"
    assert job["Command"]["ScriptLocation"] == {"Fn::Sub": "s3://${ArtifactsBucket}/${GlueScriptKey}"}
    assert job["DefaultArguments"]["--sql_path"] == {"Fn::Sub": "s3://${ArtifactsBucket}/${GlueSqlKey}"}
    crawler = resources["RawCrawler"]["Properties"]
    assert crawler["Targets"]["S3Targets"][0]["Path"] == {"Fn::Sub": "s3://${DataBucket}/${RawPrefix}"}


def test_afd_resources_only_with_the_afd_engine() -> None:
    assert not [k for k, v in build_template()["Resources"].items()
                if v["Type"].startswith("AWS::FraudDetector::")]
    afd = build_template("afd")["Resources"]
    kinds = {v["Type"] for v in afd.values() if v["Type"].startswith("AWS::FraudDetector::")}
    assert kinds == {f"AWS::FraudDetector::{k}" for k in
                     ("Variable", "Label", "Outcome", "EntityType", "EventType", "Detector")}
    variables = {v["Properties"]["Name"]: v["Properties"]["VariableType"]
                 for v in afd.values() if v["Type"] == "AWS::FraudDetector::Variable"}
    assert variables["amt"] == "PRICE" and variables["trans_num"] == "ORDER_ID"
    assert len(variables) == 14
    env = afd["CreateModelVersionFunction"]["Properties"]["Environment"]["Variables"]
    assert env["FRAUDPIPE_ENGINE"] == "afd"
    assert env["FRAUDPIPE_AFD_ROLE_ARN"] == {"Fn::GetAtt": ["FraudDetectorDataRole", "Arn"]}


def test_unknown_engine_is_refused() -> None:
    with pytest.raises(ValueError, match="engine must be one of"):
        build_template("sagemaker")


#: variables the library reads that the stack deliberately leaves unset, with the reason
LOCAL_ONLY_VARIABLES = {
    "FRAUDPIPE_TIME_SCALE": "speeds up the local runtime's waits; AWS waits in real time",
    "FRAUDPIPE_JOB_MODE": "local async jobs only",
    "FRAUDPIPE_S3A": "local PySpark parity test only",
    "FRAUDPIPE_DETECTOR_ID": "optional: the execution input and the engine default name it",
    "FRAUDPIPE_API_AUTH": "local `fraudpipe serve --no-auth` only; API Gateway checks keys on AWS",
}


def test_functions_get_every_variable_the_library_reads() -> None:
    root = Path(__file__).resolve().parents[2]
    read = set()
    for folder in ("fraudpipe", "functions", "glue"):
        for path in (root / folder).rglob("*.py"):
            read |= set(re.findall(r"\"(FRAUDPIPE_[A-Z_]+)\"", path.read_text()))
    assert {"FRAUDPIPE_BACKEND", "FRAUDPIPE_BUCKET"} <= read
    env: set[str] = set()
    for engine in ("builtin", "afd"):
        for function in _of_type(build_template(engine), "AWS::Lambda::Function").values():
            env |= set(function["Properties"]["Environment"]["Variables"])
    assert read - set(LOCAL_ONLY_VARIABLES) - env == set()


def test_builtin_engine_registry_and_worker_are_configured() -> None:
    resources = build_template()["Resources"]
    env = resources["CreateModelVersionFunction"]["Properties"]["Environment"]["Variables"]
    assert env["FRAUDPIPE_REGISTRY"] == {"Fn::Sub": "s3://${DataBucket}/registry"}
    assert env["FRAUDPIPE_WORKER_FUNCTION"] == {"Fn::Sub": "${AWS::StackName}-run-engine-job"}
    predict = resources["PredictFunction"]["Properties"]["Environment"]["Variables"]
    assert predict["FRAUDPIPE_DETECTOR_TTL"] == "10"
    # the worker is never retried by Lambda (a failed job is recorded, not re-run)
    invoke = resources["RunEngineJobFunctionEventInvokeConfig"]["Properties"]
    assert invoke["MaximumRetryAttempts"] == 0
    assert invoke["FunctionName"] == {"Ref": "RunEngineJobFunction"}
    # with AFD there is neither a worker nor an S3 registry
    afd = build_template("afd")["Resources"]
    assert "RunEngineJobFunction" not in afd
    assert "FRAUDPIPE_REGISTRY" not in \
        afd["CreateModelVersionFunction"]["Properties"]["Environment"]["Variables"]

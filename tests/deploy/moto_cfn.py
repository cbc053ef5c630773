"""Resource types moto's CloudFormation lacks or only half-supports, provided through moto's own
service APIs, so the real template deploys into moto unchanged.

moto 5.2.5 CloudFormation skips AWS::Glue::* and AWS::Scheduler::Schedule, drops a Lambda's
PackageType/ImageConfig, and creates state machines from ``DefinitionString`` only, without
``DefinitionSubstitutions`` and outside the ASL interpreter's backend. Each provider below does
what CloudFormation does for its type by calling the moto service API, and deletes on teardown.
Lambda image functions get their ``ImageConfig.Command`` as ``Handler`` so the in-process
invocation of ``fraudpipe.local.moto_patches`` can run them.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import boto3
from botocore.exceptions import ClientError
from moto.cloudformation import parsing

__all__ = ["PROVIDERS", "extended_cloudformation"]


class _Provisioned:
    """What the stack remembers of a resource: its Ref, its attributes, how to delete it."""

    def __init__(self, physical_id: str, attributes: dict[str, str],
                 delete: Callable[[], None]) -> None:
        self.physical_resource_id = physical_id
        self._attributes = attributes
        self._delete = delete

    def get_cfn_attribute(self, name: str) -> str:
        return self._attributes[name]

    def delete(self, account_id: str, region: str) -> None:
        try:
            self._delete()
        except ClientError as exc:  # gone with its parent (e.g. a stage with its API): done
            if "NotFound" not in exc.response["Error"]["Code"]:
                raise

    def is_created(self) -> bool:
        return True


class _Provider:
    """Stands where moto expects a CloudFormationModel class for one resource type."""

    def __init__(self, create: Callable[[dict[str, Any], str, str], _Provisioned],
                 attributes: tuple[str, ...] = ()) -> None:
        self._create, self._attributes = create, attributes

    def has_cfn_attr(self, attr: str) -> bool:
        return attr in self._attributes

    def create_from_cloudformation_json(self, resource_name: str, cloudformation_json: dict,
                                        account_id: str, region_name: str,
                                        **kwargs: Any) -> _Provisioned:
        return self._create(cloudformation_json.get("Properties", {}), account_id, region_name)

    def update_from_cloudformation_json(self, original_resource: _Provisioned,
                                        new_resource_name: str, cloudformation_json: dict,
                                        account_id: str, region_name: str) -> _Provisioned:
        """Replacement: delete, then create with the new properties."""
        original_resource.delete(account_id, region_name)
        return self.create_from_cloudformation_json(new_resource_name, cloudformation_json,
                                                    account_id, region_name)


def _glue_database(props: dict, account: str, region: str) -> _Provisioned:
    glue = boto3.client("glue", region_name=region)
    name = props["DatabaseInput"]["Name"]
    glue.create_database(DatabaseInput=props["DatabaseInput"])
    return _Provisioned(name, {}, lambda: glue.delete_database(Name=name))


def _glue_crawler(props: dict, account: str, region: str) -> _Provisioned:
    glue = boto3.client("glue", region_name=region)
    glue.create_crawler(**props)
    return _Provisioned(props["Name"], {}, lambda: glue.delete_crawler(Name=props["Name"]))


def _glue_job(props: dict, account: str, region: str) -> _Provisioned:
    glue = boto3.client("glue", region_name=region)
    glue.create_job(**props)
    return _Provisioned(props["Name"], {}, lambda: glue.delete_job(JobName=props["Name"]))


def _schedule(props: dict, account: str, region: str) -> _Provisioned:
    scheduler = boto3.client("scheduler", region_name=region)
    name = props["Name"]
    scheduler.create_schedule(**props)
    return _Provisioned(name, {"Arn": scheduler.get_schedule(Name=name)["Arn"]},
                        lambda: scheduler.delete_schedule(Name=name))


def _rest_api(props: dict, account: str, region: str) -> _Provisioned:
    client = boto3.client("apigateway", region_name=region)
    api = client.create_rest_api(name=props["Name"], description=props.get("Description", ""),
                                 endpointConfiguration=_lower(props["EndpointConfiguration"]))
    return _Provisioned(api["id"], {"RootResourceId": api["rootResourceId"]},
                        lambda: client.delete_rest_api(restApiId=api["id"]))


def _state_machine(props: dict, account: str, region: str) -> _Provisioned:
    sfn = boto3.client("stepfunctions", region_name=region)
    text = json.dumps(props["Definition"])
    for key, value in props.get("DefinitionSubstitutions", {}).items():
        text = text.replace("${" + key + "}", str(value))
    arn = sfn.create_state_machine(
        name=props["StateMachineName"], definition=text, roleArn=props["RoleArn"],
        type=props.get("StateMachineType", "STANDARD"))["stateMachineArn"]
    return _Provisioned(arn, {"Arn": arn, "Name": props["StateMachineName"]},
                        lambda: sfn.delete_state_machine(stateMachineArn=arn))


def _function(props: dict, account: str, region: str) -> _Provisioned:
    client = boto3.client("lambda", region_name=region)
    spec = {k: v for k, v in props.items() if k not in ("LoggingConfig", "EphemeralStorage")}
    if spec.get("PackageType") == "Image":
        spec["Handler"] = spec["ImageConfig"]["Command"][0]
    arn = client.create_function(**spec)["FunctionArn"]
    name = props["FunctionName"]
    return _Provisioned(name, {"Arn": arn}, lambda: client.delete_function(FunctionName=name))


def _api(create: str, delete: str, id_key: str, delete_args: Callable[[dict, str], dict],
         translate: Callable[[dict], dict]) -> Callable[[dict, str, str], _Provisioned]:
    """A provider for an API Gateway resource: ``create(**translate(props))``."""

    def provide(props: dict, account: str, region: str) -> _Provisioned:
        client = boto3.client("apigateway", region_name=region)
        made = getattr(client, create)(**translate(props))
        ident = made[id_key]
        return _Provisioned(ident, {}, lambda: getattr(client, delete)(
            **delete_args(props, ident)))

    return provide


def _lower(props: dict) -> dict:
    return {k[0].lower() + k[1:]: v for k, v in props.items()}


_API_PROVIDERS = {
    "AWS::ApiGateway::RequestValidator": _api(
        "create_request_validator", "delete_request_validator", "id",
        lambda p, i: {"restApiId": p["RestApiId"], "requestValidatorId": i},
        lambda p: {"restApiId": p["RestApiId"], "name": p["Name"],
                   "validateRequestParameters": p["ValidateRequestParameters"],
                   "validateRequestBody": p["ValidateRequestBody"]}),
    "AWS::ApiGateway::Stage": _api(
        "create_stage", "delete_stage", "stageName",
        lambda p, i: {"restApiId": p["RestApiId"], "stageName": i},
        lambda p: {"restApiId": p["RestApiId"], "stageName": p["StageName"],
                   "deploymentId": getattr(p["DeploymentId"], "id", p["DeploymentId"]),
                   "tracingEnabled": p["TracingEnabled"]}),
    "AWS::ApiGateway::ApiKey": _api(
        "create_api_key", "delete_api_key", "id", lambda p, i: {"apiKey": i},
        lambda p: {"name": p["Name"], "enabled": p["Enabled"]}),
    "AWS::ApiGateway::UsagePlan": _api(
        "create_usage_plan", "delete_usage_plan", "id", lambda p, i: {"usagePlanId": i},
        lambda p: {"name": p["UsagePlanName"], "throttle": _lower(p["Throttle"]),
                   "quota": _lower(p["Quota"]),
                   "apiStages": [_lower(s) for s in p["ApiStages"]]}),
    "AWS::ApiGateway::UsagePlanKey": _api(
        "create_usage_plan_key", "delete_usage_plan_key", "id",
        lambda p, i: {"usagePlanId": p["UsagePlanId"], "keyId": i},
        lambda p: {"usagePlanId": p["UsagePlanId"], "keyId": p["KeyId"],
                   "keyType": p["KeyType"]}),
}


PROVIDERS: dict[str, _Provider] = {
    **{kind: _Provider(create) for kind, create in _API_PROVIDERS.items()},
    "AWS::ApiGateway::RestApi": _Provider(_rest_api, ("RootResourceId",)),
    "AWS::Glue::Database": _Provider(_glue_database),
    "AWS::Glue::Crawler": _Provider(_glue_crawler),
    "AWS::Glue::Job": _Provider(_glue_job),
    "AWS::Scheduler::Schedule": _Provider(_schedule, ("Arn",)),
    "AWS::StepFunctions::StateMachine": _Provider(_state_machine, ("Arn", "Name")),
    "AWS::Lambda::Function": _Provider(_function, ("Arn",)),
}


@contextmanager
def extended_cloudformation() -> Iterator[None]:
    """moto's CloudFormation with :data:`PROVIDERS` (restored afterwards)."""
    original = parsing.get_model_map

    def model_map() -> dict[str, Any]:
        return {**original(), **PROVIDERS}

    parsing.get_model_map = model_map  # type: ignore[assignment]
    try:
        yield
    finally:
        parsing.get_model_map = original

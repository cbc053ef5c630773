"""The realtime API: REST API ``GET /predict`` → the predict Lambda (proxy integration).

API Gateway refuses a request missing a required query parameter before Lambda runs (request
validator); every call needs the API key of the stack's usage plan (throttled, with a quota).
The required parameters are those of ``fraudpipe.api.schema.PredictRequest``, the same model the
Lambda and ``fraudpipe serve`` validate with.
"""

from __future__ import annotations

from typing import Any

from deploy.cfn import getatt, ref, sub
from deploy.resources.context import Context
from fraudpipe.api.schema import PredictRequest

__all__ = ["STAGE", "required_parameters", "resources"]

STAGE = "prod"
API = "PredictApi"


def required_parameters() -> list[str]:
    return list(PredictRequest.model_json_schema().get("required", []))


def resources(ctx: Context) -> dict[str, Any]:
    parameters = {f"method.request.querystring.{name}": True for name in required_parameters()}
    parameters["method.request.querystring.flow_definition"] = False
    uri = sub("arn:${AWS::Partition}:apigateway:${AWS::Region}:lambda:path/2015-03-31/"
              "functions/${PredictFunction.Arn}/invocations")
    return {
        API: {"Type": "AWS::ApiGateway::RestApi", "Properties": {
            "Name": sub("${AWS::StackName}-api"),
            "Description": "fraudpipe realtime fraud prediction",
            "EndpointConfiguration": {"Types": ["REGIONAL"]}}},
        "PredictResource": {"Type": "AWS::ApiGateway::Resource", "Properties": {
            "RestApiId": ref(API), "ParentId": getatt(API, "RootResourceId"),
            "PathPart": "predict"}},
        "PredictValidator": {"Type": "AWS::ApiGateway::RequestValidator", "Properties": {
            "RestApiId": ref(API), "Name": "required-query-parameters",
            "ValidateRequestParameters": True, "ValidateRequestBody": False}},
        "PredictMethod": {"Type": "AWS::ApiGateway::Method", "Properties": {
            "RestApiId": ref(API), "ResourceId": ref("PredictResource"), "HttpMethod": "GET",
            "AuthorizationType": "NONE", "ApiKeyRequired": True,
            "RequestValidatorId": ref("PredictValidator"), "RequestParameters": parameters,
            "Integration": {"Type": "AWS_PROXY", "IntegrationHttpMethod": "POST", "Uri": uri}}},
        "PredictDeployment": {"Type": "AWS::ApiGateway::Deployment",
                              "DependsOn": ["PredictMethod"],
                              "Properties": {"RestApiId": ref(API)}},
        "PredictStage": {"Type": "AWS::ApiGateway::Stage", "Properties": {
            "RestApiId": ref(API), "DeploymentId": ref("PredictDeployment"),
            "StageName": STAGE, "TracingEnabled": True,
            "MethodSettings": [{"ResourcePath": "/*", "HttpMethod": "*",
                                "ThrottlingBurstLimit": 100, "ThrottlingRateLimit": 50}]}},
        "PredictApiKey": {"Type": "AWS::ApiGateway::ApiKey", "Properties": {
            "Name": sub("${AWS::StackName}-key"), "Enabled": True}},
        "PredictUsagePlan": {"Type": "AWS::ApiGateway::UsagePlan", "Properties": {
            "UsagePlanName": sub("${AWS::StackName}-plan"),
            "ApiStages": [{"ApiId": ref(API), "Stage": ref("PredictStage")}],
            "Throttle": {"BurstLimit": 100, "RateLimit": 50},
            "Quota": {"Limit": 100000, "Period": "DAY"}}},
        "PredictUsagePlanKey": {"Type": "AWS::ApiGateway::UsagePlanKey", "Properties": {
            "KeyId": ref("PredictApiKey"), "KeyType": "API_KEY",
            "UsagePlanId": ref("PredictUsagePlan")}},
        "PredictPermission": {"Type": "AWS::Lambda::Permission", "Properties": {
            "Action": "lambda:InvokeFunction", "FunctionName": getatt("PredictFunction", "Arn"),
            "Principal": "apigateway.amazonaws.com",
            "SourceAccount": ref("AWS::AccountId"),
            "SourceArn": sub("arn:${AWS::Partition}:execute-api:${AWS::Region}:"
                             "${AWS::AccountId}:${PredictApi}/*/GET/predict")}},
    }

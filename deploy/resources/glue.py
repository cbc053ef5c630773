"""Glue: database, CSV classifier, crawler over the raw prefix, the Spark ETL job, their role.

Settings (classifier, sampling, schema policies, worker type) come from ``glue/crawler.json``,
the file the local crawler reads too; only the names are made per stack. The job's script and
SQL are uploaded by ``fraudpipe deploy`` to the artifacts bucket (parameters ``ArtifactsBucket``,
``GlueScriptKey``, ``GlueSqlKey``); the SQL is passed as ``--sql_path`` because Glue downloads the
script alone.
"""

from __future__ import annotations

import json
from typing import Any

from deploy.cfn import arn, assume_role, getatt, policy, ref, statement, sub
from deploy.resources.context import Context
from fraudpipe.etl.locations import glue_settings

__all__ = ["CRAWLER_NAME", "DATABASE", "JOB_NAME", "resources"]

CRAWLER_NAME = "${AWS::StackName}-raw-crawler"
JOB_NAME = "${AWS::StackName}-etl"
CLASSIFIER_NAME = "${AWS::StackName}-csv"
DATABASE = "GlueDatabaseName"  # parameter
GLUE_LOGS = "log-group:/aws-glue/*"


def _role() -> dict[str, Any]:
    data = [getatt("DataBucket", "Arn")]
    objects = [sub("${DataBucket.Arn}/*")]
    catalog = [arn("glue", "catalog"), arn("glue", "database/${GlueDatabaseName}"),
               arn("glue", "table/${GlueDatabaseName}/*")]
    statements = [
        statement("ListData", ["s3:ListBucket", "s3:GetBucketLocation"], data),
        statement("ReadWriteData", ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"], objects),
        statement("ReadArtifacts", ["s3:GetObject"],
                  [sub("arn:${AWS::Partition}:s3:::${ArtifactsBucket}/${AWS::StackName}/*")]),
        statement("Catalog", ["glue:GetDatabase", "glue:GetDatabases", "glue:GetTable",
                              "glue:GetTables", "glue:CreateTable", "glue:UpdateTable",
                              "glue:GetPartition", "glue:GetPartitions",
                              "glue:BatchCreatePartition", "glue:BatchGetPartition",
                              "glue:UpdatePartition"], catalog),
        statement("Logs", ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents",
                           "logs:AssociateKmsKey"], [arn("logs", GLUE_LOGS),
                                                     arn("logs", GLUE_LOGS + ":log-stream:*")]),
    ]
    return {"Type": "AWS::IAM::Role", "Properties": {
        "AssumeRolePolicyDocument": assume_role(
            "glue.amazonaws.com", {"StringEquals": {"aws:SourceAccount": ref("AWS::AccountId")}}),
        "Description": "Glue crawler and ETL job of the fraudpipe stack",
        "Policies": [policy("glue-data-and-catalog", statements)]}}


def resources(ctx: Context) -> dict[str, Any]:
    conf = glue_settings()
    job = conf["etl_job"]
    classifier = conf["classifier"]
    return {
        "GlueRole": _role(),
        "GlueDatabase": {"Type": "AWS::Glue::Database", "Properties": {
            "CatalogId": ref("AWS::AccountId"),
            "DatabaseInput": {"Name": ref(DATABASE),
                              "Description": "fraudpipe raw card transactions"}}},
        "CsvClassifier": {"Type": "AWS::Glue::Classifier", "Properties": {"CsvClassifier": {
            "Name": sub(CLASSIFIER_NAME), "Delimiter": classifier["delimiter"],
            "QuoteSymbol": classifier["quote_symbol"],
            "ContainsHeader": classifier["contains_header"]}}},
        "RawCrawler": {"Type": "AWS::Glue::Crawler", "Properties": {
            "Name": sub(CRAWLER_NAME), "Role": getatt("GlueRole", "Arn"),
            "Description": conf["description"], "DatabaseName": ref("GlueDatabase"),
            "Classifiers": [sub(CLASSIFIER_NAME)],
            "Targets": {"S3Targets": [{"Path": sub("s3://${DataBucket}/${RawPrefix}")}]},
            "SchemaChangePolicy": conf["schema_change_policy"],
            "RecrawlPolicy": conf["recrawl_policy"],
            "Configuration": json.dumps(conf["configuration"])},
            "DependsOn": ["CsvClassifier"]},
        "EtlJob": {"Type": "AWS::Glue::Job", "Properties": {
            "Name": sub(JOB_NAME), "Role": getatt("GlueRole", "Arn"),
            "Description": "fraudpipe ETL (glue/etl_job.py running glue/etl.sql)",
            "Command": {"Name": "glueetl", "PythonVersion": "3",
                        "ScriptLocation": sub("s3://${ArtifactsBucket}/${GlueScriptKey}")},
            "GlueVersion": job["glue_version"], "WorkerType": job["worker_type"],
            "NumberOfWorkers": job["number_of_workers"], "Timeout": 120, "MaxRetries": 0,
            "ExecutionProperty": {"MaxConcurrentRuns": 3},
            "DefaultArguments": {
                "--job-language": "python",
                "--sql_path": sub("s3://${ArtifactsBucket}/${GlueSqlKey}"),
                "--enable-continuous-cloudwatch-log": "true",
                "--TempDir": sub("s3://${DataBucket}/glue_temp/"),
            }}},
    }

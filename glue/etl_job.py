"""The fraudpipe ETL as an AWS Glue Spark job: plain PySpark running ``glue/etl.sql``.

Why plain PySpark: the same script runs on Glue (arguments parsed by
``awsglue.utils.getResolvedOptions``) and under a local ``pyspark`` (argparse fallback), which
lets a test prove that Spark and the local DuckDB runner give the same rows. The first half of
this module (no Spark import) is shared with the DuckDB runner in ``fraudpipe.etl``: the
statement loader, parameter rendering, the required columns and the header checks.

Arguments (all ``--name value``): raw_path (folder or s3:// prefix of the raw CSVs),
training_output, test_output, batch_output, quarantine_output, counts_output (file paths or
s3:// URIs), labels_path (optional), train_cutoff / test_cutoff (ISO timestamps or empty for
the default), batch_mode (full|sample), fraud_samples, legit_samples, batch_seed, sql_path
(optional; default: etl.sql next to this script), test_file (default fraudTest.csv).
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import json
import os
import re
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "ARGUMENTS",
    "DEFAULT_CUTOFF",
    "OUTPUTS",
    "REQUIRED_COLUMNS",
    "SEED_MODULUS",
    "EtlInputError",
    "Statement",
    "check_header",
    "load_statements",
    "normalise_header",
    "render",
    "string_literal",
    "timestamp_literal",
]

SQL_PATH = Path(__file__).with_name("etl.sql")
#: Columns the transform reads; a raw file without one of them cannot be used.
REQUIRED_COLUMNS: tuple[str, ...] = (
    "trans_date_trans_time", "cc_num", "merchant", "category", "amt", "first", "last", "gender",
    "street", "city", "state", "zip", "city_pop", "job", "trans_num", "is_fraud",
)
#: Batch seeds are reduced modulo this so the sampling hash never overflows a BIGINT.
SEED_MODULUS = 1_000_003
#: Statements whose result is written to a file, by output name.
OUTPUTS = ("training", "test", "batch", "quarantine")
ARGUMENTS = (
    "raw_path", "training_output", "test_output", "batch_output", "quarantine_output",
    "counts_output", "labels_path", "train_cutoff", "test_cutoff", "batch_mode",
    "fraud_samples", "legit_samples", "batch_seed", "sql_path", "test_file",
)
_NAME = re.compile(r"^--\s*name:\s*(\w+)\s*(.*)$")
_PARAM = re.compile(r"\{\{(\w+)\}\}")


class EtlInputError(ValueError):
    """The raw data cannot be transformed (empty file, missing columns, bad argument)."""


@dataclass(frozen=True)
class Statement:
    """One named statement of etl.sql; ``flags`` holds words after the name (materialize/output)."""

    name: str
    sql: str
    flags: frozenset[str]


def load_statements(text: str | None = None) -> list[Statement]:
    """Split etl.sql into its named statements, in file order."""
    source = SQL_PATH.read_text(encoding="utf-8") if text is None else text
    statements: list[Statement] = []
    name, flags, body = "", frozenset[str](), []

    def flush() -> None:
        sql = "\n".join(body).strip().rstrip(";").strip()
        if name and sql:
            statements.append(Statement(name, sql, flags))

    for line in source.splitlines():
        match = _NAME.match(line.strip())
        if match:
            flush()
            name, flags, body = match.group(1), frozenset(match.group(2).split()), []
        elif name and not line.strip().startswith("--"):
            body.append(line)
    flush()
    return statements


def render(sql: str, params: dict[str, str]) -> str:
    """Substitute ``{{name}}`` placeholders; an unknown placeholder is an error, not blank."""

    def value(match: re.Match[str]) -> str:
        key = match.group(1)
        if key not in params:
            raise KeyError(f"etl.sql needs parameter {key!r}")
        return params[key]

    return _PARAM.sub(value, sql)


#: The default cutoff (either side): the first timestamp of the raw test file, computed once by
#: statement ``test_start`` of etl.sql for the file named by parameter ``test_file_literal``.
DEFAULT_CUTOFF = "test_start.first_ts"


def timestamp_literal(value: str | None) -> str | None:
    """An ISO 8601 cutoff (``2020-06-21T12:00:00Z``) as a SQL TIMESTAMP expression (UTC)."""
    if value is None or str(value).strip() == "":
        return None
    text = str(value).strip().replace("Z", "+00:00")
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError as exc:
        raise EtlInputError(f"cutoff {value!r} is not an ISO 8601 timestamp") from exc
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.UTC).replace(tzinfo=None)
    return f"CAST('{moment.strftime('%Y-%m-%d %H:%M:%S')}' AS TIMESTAMP)"


def string_literal(text: str) -> str:
    """``text`` as a SQL string literal (both engines)."""
    return "'" + text.replace("'", "''") + "'"


def normalise_header(names: list[str]) -> list[str]:
    """Name the unnamed index column as pandas does (``Unnamed: 0``) and strip spaces."""
    out = []
    for position, raw in enumerate(names):
        name = raw.strip().lstrip("\ufeff")
        out.append(name if name else f"Unnamed: {position}")
    return out


def check_header(file_name: str, header_line: bytes) -> list[str]:
    """Column names of a raw file, or :class:`EtlInputError` naming the file and problem."""
    if not header_line.strip():
        raise EtlInputError(f"input file {file_name} is empty (no header row)")
    names = normalise_header(next(csv.reader(io.StringIO(
        header_line.decode("utf-8", errors="replace")))))
    seen = set()
    duplicated = sorted({n for n in names if n in seen or seen.add(n)})
    if duplicated:
        raise EtlInputError(f"input file {file_name} repeats columns: {', '.join(duplicated)}")
    missing = [c for c in REQUIRED_COLUMNS if c not in names]
    if missing:
        raise EtlInputError(
            f"input file {file_name} lacks required columns: {', '.join(missing)}")
    return names


def first_line(data: bytes) -> bytes:
    return data.split(b"\n", 1)[0].rstrip(b"\r")


# --------------------------------------------------------------------------------------------
# Storage: local paths and s3:// URIs (boto3 is present on Glue)
# --------------------------------------------------------------------------------------------


def _s3(uri: str) -> tuple[Any, str, str]:
    import boto3

    bucket, _, key = uri[len("s3://"):].partition("/")
    return boto3.client("s3"), bucket, key


def list_csv(raw_path: str) -> list[tuple[str, str]]:
    """(file name, location) of the CSV files directly under ``raw_path``, sorted by name."""
    if raw_path.startswith("s3://"):
        client, bucket, prefix = _s3(raw_path.rstrip("/") + "/")
        found = []
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket,
                                                                     Prefix=prefix):
            for item in page.get("Contents", []):
                rest = item["Key"][len(prefix):]
                if rest.lower().endswith(".csv") and "/" not in rest:
                    found.append((rest, f"s3://{bucket}/{item['Key']}"))
        return sorted(found)
    root = Path(raw_path)
    return sorted((p.name, str(p)) for p in root.glob("*.csv") if p.is_file())


def read_head(location: str, size: int = 65536) -> bytes:
    if location.startswith("s3://"):
        client, bucket, key = _s3(location)
        body = client.get_object(Bucket=bucket, Key=key, Range=f"bytes=0-{size - 1}")["Body"]
        return body.read()
    with open(location, "rb") as handle:
        return handle.read(size)


def read_text(location: str) -> str:
    """A small text file (the SQL) from a path or an s3:// URI."""
    if location.startswith("s3://"):
        client, bucket, key = _s3(location)
        return client.get_object(Bucket=bucket, Key=key)["Body"].read().decode("utf-8")
    return Path(location).read_text(encoding="utf-8")


def write_text(location: str, text: str) -> None:
    if location.startswith("s3://"):
        client, bucket, key = _s3(location)
        client.put_object(Bucket=bucket, Key=key, Body=text.encode("utf-8"))
        return
    Path(location).parent.mkdir(parents=True, exist_ok=True)
    Path(location).write_text(text, encoding="utf-8")


# --------------------------------------------------------------------------------------------
# Spark
# --------------------------------------------------------------------------------------------


def parse_arguments(argv: list[str]) -> dict[str, str]:
    """Glue's resolver when running on Glue, else argparse with the same ``--name value`` form."""
    optional = {"labels_path", "train_cutoff", "test_cutoff", "sql_path", "test_file"}
    try:
        from awsglue.utils import getResolvedOptions
    except ImportError:
        parser = argparse.ArgumentParser(description="fraudpipe ETL (Spark)")
        for name in ARGUMENTS:
            parser.add_argument(f"--{name}", required=name not in optional, default="")
        args, _ = parser.parse_known_args(argv[1:])
        return vars(args)
    present = [n for n in ARGUMENTS if n not in optional or f"--{n}" in argv]
    resolved = getResolvedOptions(argv, present)
    return {name: resolved.get(name, "") for name in ARGUMENTS}


def _session() -> Any:
    from pyspark import SparkConf
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.appName("fraudpipe-etl")
    if not SparkConf().contains("spark.master"):  # plain `python etl_job.py`: local Spark
        builder = (builder.master("local[1]")
                   .config("spark.ui.enabled", "false")
                   .config("spark.sql.shuffle.partitions", "1")
                   .config("spark.ui.showConsoleProgress", "false")
                   .config("spark.driver.host", "127.0.0.1"))
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    spark.conf.set("spark.sql.session.timeZone", "UTC")
    return spark


def _spark_path(location: str) -> str:
    return location.replace("s3://", "s3a://", 1) if os.environ.get("FRAUDPIPE_S3A") else location


def _number_rows(frame: Any) -> Any:
    """Add ``row_number`` (1-based, file order) without moving rows to one partition.

    The partitions of one CSV are its splits in file order, and
    ``monotonically_increasing_id`` is ``partition << 33 | index in partition``; so a row's
    number is the rows of earlier partitions plus its index, all computed where the row is.
    """
    from pyspark.sql import functions as F

    frame = frame.withColumn("_part", F.spark_partition_id()).withColumn(
        "_pos", F.monotonically_increasing_id())
    sizes = {row["_part"]: row["count"] for row in frame.groupBy("_part").count().collect()}
    offset, cases = 0, []
    for part in sorted(sizes):
        cases.append(f"WHEN {int(part)} THEN {offset}")
        offset += int(sizes[part])
    before = F.expr(f"CASE _part {' '.join(cases)} ELSE 0 END") if cases else F.lit(0)
    index = F.col("_pos") - F.shiftleft(F.col("_part").cast("long"), 33)
    return frame.withColumn("row_number", before + index + 1).drop("_part", "_pos")


def _read_raw(spark: Any, files: list[tuple[str, str, list[str]]]) -> None:
    """Register ``raw_rows``: all columns as strings plus provenance and row flags."""
    from pyspark.sql import functions as F
    from pyspark.sql.types import StringType, StructField, StructType

    frames = []
    for order, (name, location, header) in enumerate(files):
        schema = StructType([StructField(c, StringType()) for c in header]
                            + [StructField("_corrupt_record", StringType())])
        frame = (spark.read.option("header", True).option("escape", '"')
                 .option("mode", "PERMISSIVE").option("multiLine", False)
                 .option("columnNameOfCorruptRecord", "_corrupt_record")
                 .option("enforceSchema", True).schema(schema).csv(_spark_path(location)))
        frame = _number_rows(frame)
        text = F.concat_ws("", *[F.coalesce(F.col(f"`{c}`"), F.lit("")) for c in header])
        frame = (frame
                 .withColumn("bad_encoding", F.instr(text, "\ufffd") > 0)
                 .withColumn("malformed", F.col("_corrupt_record").isNotNull()
                             & ~(F.instr(text, "\ufffd") > 0))
                 .withColumn("source_file", F.lit(name))
                 .withColumn("file_order", F.lit(order))
                 .drop("_corrupt_record"))
        frames.append(frame)
    raw = frames[0]
    for frame in frames[1:]:
        raw = raw.unionByName(frame, allowMissingColumns=True)
    raw.cache().createOrReplaceTempView("raw_rows")


def _read_labels(spark: Any, labels_path: str) -> None:
    """``human_labels`` from the verdicts file; empty when there is none (yet)."""
    from pyspark.sql import functions as F
    from pyspark.sql.types import StringType, StructField, StructType

    names = ("EVENT_ID", "EVENT_LABEL", "LABEL_TIMESTAMP")
    schema = StructType([StructField(n, StringType()) for n in names])
    frame = spark.createDataFrame([], schema)
    if labels_path:
        try:
            head = read_head(labels_path, 4096)
        except (FileNotFoundError, OSError):
            head = b""
        except Exception as exc:  # S3 NoSuchKey: no verdicts yet
            if "NoSuchKey" not in str(exc) and "Not Found" not in str(exc):
                raise
            head = b""
        header = normalise_header(next(csv.reader(io.StringIO(
            first_line(head).decode("utf-8", errors="replace"))), []))
        missing = [n for n in names[:2] if n not in header]
        if head.strip() and missing:
            raise EtlInputError(f"labels file {labels_path} lacks columns: {', '.join(missing)}")
        if head.strip():
            frame = spark.read.option("header", True).option("escape", '"').csv(
                _spark_path(labels_path))
            if "LABEL_TIMESTAMP" not in header:
                frame = frame.withColumn("LABEL_TIMESTAMP", F.lit(None).cast("string"))
            frame = frame.select(*names)
    frame.createOrReplaceTempView("human_labels")


def _csv_writer(frame: Any) -> Any:
    """One part, a header, RFC 4180 quoting, values kept as they are (Spark trims by default)."""
    return (frame.coalesce(1).write.mode("overwrite").option("header", True)
            .option("escape", '"').option("ignoreLeadingWhiteSpace", False)
            .option("ignoreTrailingWhiteSpace", False))


def _write_single_csv(frame: Any, location: str) -> None:
    """Write one CSV file with a header at ``location`` (Spark writes a folder; move its part)."""
    if location.startswith("s3://"):
        client, bucket, key = _s3(location)
        staging = f"{location}.parts"
        _csv_writer(frame).csv(_spark_path(staging))
        _, _, staging_key = staging[len("s3://"):].partition("/")
        parts = client.list_objects_v2(Bucket=bucket, Prefix=staging_key + "/")
        for item in parts.get("Contents", []):
            if item["Key"].endswith(".csv"):
                client.copy_object(Bucket=bucket, Key=key,
                                   CopySource={"Bucket": bucket, "Key": item["Key"]})
            client.delete_object(Bucket=bucket, Key=item["Key"])
        return
    target = Path(location)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging_dir = Path(tempfile.mkdtemp(prefix=".spark-", dir=target.parent))
    try:
        _csv_writer(frame).csv(str(staging_dir / "out"))
        part = next((staging_dir / "out").glob("part-*.csv"))
        os.replace(part, target)
    finally:
        shutil.rmtree(staging_dir, ignore_errors=True)


def run_spark(args: dict[str, str]) -> dict[str, Any]:
    """Run the transform on Spark; writes the outputs and the counts JSON, returns the counts."""
    test_file = args.get("test_file") or "fraudTest.csv"
    files = []
    for name, location in list_csv(args["raw_path"]):
        files.append((name, location, check_header(name, first_line(read_head(location)))))
    if not files:
        raise EtlInputError(f"no CSV files under {args['raw_path']}")
    spark = _session()
    _read_raw(spark, files)
    _read_labels(spark, args.get("labels_path", ""))
    columns: list[str] = []
    for _, _, header in files:
        columns += [c for c in header if c not in columns]
    params = {
        "train_cutoff": timestamp_literal(args.get("train_cutoff")) or DEFAULT_CUTOFF,
        "test_cutoff": timestamp_literal(args.get("test_cutoff")) or DEFAULT_CUTOFF,
        "batch_seed": str(int(args.get("batch_seed") or 0) % SEED_MODULUS),
        "fraud_samples": str(int(args.get("fraud_samples") or 0)),
        "legit_samples": str(int(args.get("legit_samples") or 0)),
        "raw_columns": ", ".join(f"r.`{c.replace('`', '``')}`" for c in columns),
        "test_file_literal": string_literal(test_file),
    }
    batch = "batch_full" if args.get("batch_mode") == "full" else "batch_sample"
    targets = {"training": "training_output", "test": "test_output", batch: "batch_output",
               "quarantine": "quarantine_output"}
    sql_text = read_text(args["sql_path"]) if args.get("sql_path") else None
    results: dict[str, Any] = {}
    for statement in load_statements(sql_text):
        frame = spark.sql(render(statement.sql, params))
        if "materialize" in statement.flags:
            frame = frame.cache()
        frame.createOrReplaceTempView(statement.name)
        if statement.name in targets:
            frame = frame.cache()
            _write_single_csv(frame, args[targets[statement.name]])
            results[statement.name.split("_")[0] + "_rows"] = frame.count()
        elif statement.name in ("counts", "reasons", "cutoff_values"):
            results[statement.name] = [row.asDict() for row in frame.collect()]
    summary = summarise(results)
    write_text(args["counts_output"], json.dumps(summary, indent=2, sort_keys=True))
    spark.stop()
    return summary


def summarise(results: dict[str, Any]) -> dict[str, Any]:
    """The counts document both engines write: per input file, per output, the cutoffs."""
    counts = {r["source_file"]: {k: int(r[k] or 0) for k in
                                 ("rows_in", "rows_out", "quarantined", "dropped_by_cutoff")}
              for r in results.get("counts", [])}
    reasons: dict[str, dict[str, int]] = {}
    for r in results.get("reasons", []):
        reasons.setdefault(r["source_file"], {})[r["reason"]] = int(r["n"])
    cut = (results.get("cutoff_values") or [{}])[0]
    return {
        "counts": counts,
        "output_rows": {name: int(results.get(f"{name}_rows", 0)) for name in OUTPUTS},
        "quarantine_reasons": reasons,
        "cutoffs": {"train": _iso(cut.get("train_cutoff")), "test": _iso(cut.get("test_cutoff"))},
    }


def _iso(value: Any) -> str | None:
    if value is None:
        return None
    return str(value).replace(" ", "T") + ("" if str(value).endswith("Z") else "Z")


def main(argv: list[str] | None = None) -> int:
    args = parse_arguments(list(sys.argv if argv is None else argv))
    summary = run_spark(args)
    print(json.dumps(summary["counts"], sort_keys=True))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

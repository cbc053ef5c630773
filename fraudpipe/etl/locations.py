"""Where the crawl and the ETL read and write, per execution, and the names of the Glue resources.

Why one place: the handlers, the local runner, the Glue job arguments and the tests must agree
on the S3 layout of docs/contracts.md (``glue_transformed/<execution>/...``), and on the crawler
and job names the stack deploys (``glue/crawler.json``, overridable by environment variables
``FRAUDPIPE_CRAWLER_NAME``, ``FRAUDPIPE_GLUE_DATABASE``, ``FRAUDPIPE_ETL_JOB_NAME``).
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from functools import cache
from pathlib import Path
from typing import Any

__all__ = ["EtlLocations", "GlueNames", "etl_locations", "glue_names", "glue_settings"]

SETTINGS_FILE = Path(__file__).resolve().parents[2] / "glue" / "crawler.json"
LABELS_KEY = "labels/labels.csv"


@cache
def glue_settings() -> dict[str, Any]:
    """The crawler and job settings shipped in ``glue/crawler.json``."""
    return json.loads(SETTINGS_FILE.read_text(encoding="utf-8"))


@dataclass(frozen=True)
class GlueNames:
    crawler: str
    database: str
    etl_job: str


def glue_names() -> GlueNames:
    conf = glue_settings()
    return GlueNames(
        crawler=os.environ.get("FRAUDPIPE_CRAWLER_NAME", conf["name"]),
        database=os.environ.get("FRAUDPIPE_GLUE_DATABASE", conf["database"]),
        etl_job=os.environ.get("FRAUDPIPE_ETL_JOB_NAME", conf["etl_job"]["name"]),
    )


@dataclass(frozen=True)
class EtlLocations:
    """S3 URIs of one execution's ETL inputs and outputs."""

    raw: str
    training: str
    test: str
    batch: str
    quarantine: str
    counts: str
    labels: str

    def outputs(self) -> dict[str, str]:
        """The ``outputs`` of GetEtlStatus."""
        return {"training": self.training, "test": self.test, "batch": self.batch,
                "quarantine": self.quarantine}

    def to_dict(self) -> dict[str, str]:
        return asdict(self)


def etl_locations(bucket: str, raw_prefix: str, execution: str) -> EtlLocations:
    """The contract's layout: ``B/glue_transformed/E/...``, ``B/batch_predict/E/...``."""
    base = f"s3://{bucket}"
    prefix = raw_prefix.strip("/")
    return EtlLocations(
        raw=f"{base}/{prefix}/" if prefix else f"{base}/",
        training=f"{base}/glue_transformed/{execution}/train/fraudTrain.csv",
        test=f"{base}/glue_transformed/{execution}/test/fraudTest.csv",
        batch=f"{base}/batch_predict/{execution}/fraudTest.csv",
        quarantine=f"{base}/glue_transformed/{execution}/quarantine/quarantine.csv",
        counts=f"{base}/glue_transformed/{execution}/counts.json",
        labels=f"{base}/{LABELS_KEY}",
    )

"""Write a crawled table to the Glue Data Catalog (boto3) and keep a copy in the workspace.

Why both: locally the Glue Data Catalog is moto's, which lives only as long as the process; the
copy under ``ws.catalog_dir`` is what survives, and it is written again into whichever catalog
the current process talks to each time the crawl status is read.
"""

from __future__ import annotations

import contextlib
import json
from typing import Any

from fraudpipe.workspace import Workspace, atomic_write_json

__all__ = ["table_input", "upsert_table"]


def table_input(table: str, result: dict[str, Any]) -> dict[str, Any]:
    """The ``TableInput`` a Glue CSV crawler would write for ``result`` (see crawl_folder)."""
    return {
        "Name": table,
        "TableType": "EXTERNAL_TABLE",
        "Parameters": {
            "classification": "csv",
            "delimiter": ",",
            "skip.header.line.count": "1",
            "columnsOrdered": "true",
            "areColumnsQuoted": "false",
            "sizeKey": str(result.get("size_bytes", 0)),
            "objectCount": str(len(result.get("files", []))),
            "typeOfData": "file",
            "fraudpipe.files": json.dumps(result.get("files", [])),
        },
        "StorageDescriptor": {
            "Columns": [{"Name": c["Name"], "Type": c["Type"]} for c in result["columns"]],
            "Location": result["location"],
            "InputFormat": "org.apache.hadoop.mapred.TextInputFormat",
            "OutputFormat": "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat",
            "SerdeInfo": {
                "SerializationLibrary": "org.apache.hadoop.hive.serde2.OpenCSVSerde",
                "Parameters": {"separatorChar": ",", "quoteChar": '"'},
            },
        },
    }


def upsert_table(glue: Any, workspace: Workspace, database: str, table: str,
                 result: dict[str, Any]) -> dict[str, Any]:
    """Create the database if needed, then create or update the table; returns its input."""
    spec = table_input(table, result)
    with contextlib.suppress(glue.exceptions.AlreadyExistsException):
        glue.create_database(DatabaseInput={"Name": database,
                                            "Description": "fraudpipe raw transactions"})
    try:
        glue.create_table(DatabaseName=database, TableInput=spec)
    except glue.exceptions.AlreadyExistsException:
        glue.update_table(DatabaseName=database, TableInput=spec)
    atomic_write_json(workspace.catalog_dir / "tables" / f"{database}.{table}.json", spec)
    return spec

"""The local crawl: read the raw CSVs' headers and a sample, infer one table's schema.

Why real reading: the crawl is what notices that the raw files do not fit together (headers that
disagree) before the ETL spends time on them, exactly as a Glue crawler would refuse to combine
them into one table. It only reads headers and ``sample_rows`` rows per file, so it is quick.
:func:`crawl_job` is a ``fraudpipe.jobs`` target and does no AWS call (a worker process has no
moto); the catalog is written by the status poll (see :mod:`fraudpipe.etl.catalog`).
"""

from __future__ import annotations

import csv
import re
from pathlib import Path
from typing import Any

from fraudpipe.errors import CrawlerError
from fraudpipe.jobs import ProgressFn

__all__ = ["crawl_folder", "crawl_job", "infer_type", "table_name"]

_UNNAMED = re.compile(r"^Unnamed: (\d+)$")
_INT = re.compile(r"^[+-]?\d+$")
_FLOAT = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
_BIGINT_MAX = 2**63 - 1


def table_name(raw_prefix: str) -> str:
    """Glue names a crawled table after its folder: ``input/`` -> ``input``."""
    folder = [p for p in raw_prefix.split("/") if p][-1:] or ["raw"]
    return re.sub(r"[^a-z0-9_]", "_", folder[0].lower())


def infer_type(values: list[str]) -> str:
    """Glue-style type of a CSV column from sample values: bigint, double, boolean or string."""
    present = [v.strip() for v in values if v is not None and v.strip() != ""]
    if not present:
        return "string"
    if all(_INT.match(v) and abs(int(v)) <= _BIGINT_MAX for v in present):
        return "bigint"
    if all(_FLOAT.match(v) for v in present):
        return "double"
    if all(v.lower() in ("true", "false") for v in present):
        return "boolean"
    return "string"


def _read_sample(path: Path, sample_rows: int) -> tuple[list[str], list[list[str]]]:
    with path.open("r", encoding="utf-8", errors="replace", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if header is None:
            return [], []
        rows = []
        for row in reader:
            rows.append(row)
            if len(rows) >= sample_rows:
                break
    return [_column_name(i, h) for i, h in enumerate(header)], rows


def _column_name(position: int, raw: str) -> str:
    """Glue calls an unnamed column ``col<N>`` (pandas writes it as ``Unnamed: <N>``)."""
    name = raw.strip().lstrip("\ufeff")
    unnamed = _UNNAMED.match(name)
    if unnamed:
        return f"col{unnamed.group(1)}"
    return name or f"col{position}"


def _disagreement(first: str, expected: list[str], other: str, header: list[str]) -> str:
    missing = [c for c in expected if c not in header]
    extra = [c for c in header if c not in expected]
    parts = []
    if missing:
        parts.append(f"{other} lacks {', '.join(missing)}")
    if extra:
        parts.append(f"{other} has {', '.join(extra)} not in {first}")
    if not parts:
        parts.append(f"{other} orders the columns differently from {first}")
    return "; ".join(parts)


def crawl_folder(raw_dir: Path, sample_rows: int = 1000) -> dict[str, Any]:
    """Schema of the CSVs in ``raw_dir``: ``columns`` [{Name, Type}], ``files``, sizes.

    Raises :class:`CrawlerError` when there is no CSV or when headers disagree (the message
    names the files and the columns).
    """
    paths = sorted(p for p in raw_dir.glob("*.csv") if p.is_file()) if raw_dir.is_dir() else []
    if not paths:
        raise CrawlerError(f"no CSV files to crawl under {raw_dir}")
    headers: dict[str, list[str]] = {}
    samples: dict[str, list[list[str]]] = {}
    skipped = []
    for path in paths:
        header, rows = _read_sample(path, sample_rows)
        if not header:
            skipped.append(path.name)  # an empty object: Glue skips it, the ETL reports it
            continue
        headers[path.name], samples[path.name] = header, rows
    if not headers:
        raise CrawlerError(f"every CSV under {raw_dir} is empty: {', '.join(skipped)}")
    first = next(iter(headers))
    problems = [_disagreement(first, headers[first], name, header)
                for name, header in headers.items() if header != headers[first]]
    if problems:
        raise CrawlerError("headers disagree, cannot make one table: " + " | ".join(problems))
    names = headers[first]
    columns = []
    for i, name in enumerate(names):
        values = [row[i] for rows in samples.values() for row in rows if i < len(row)]
        columns.append({"Name": name, "Type": infer_type(values)})
    return {
        "columns": columns,
        "files": sorted(headers),
        "skipped": skipped,
        "size_bytes": sum(p.stat().st_size for p in paths),
        "sampled_rows": sum(len(rows) for rows in samples.values()),
    }


def crawl_job(params: dict[str, Any], progress: ProgressFn) -> dict[str, Any]:
    """Job target: crawl ``params["raw_dir"]``; the result is the table schema."""
    progress(f"crawling {params['raw_dir']}")
    result = crawl_folder(Path(params["raw_dir"]), int(params.get("sample_rows", 1000)))
    return {**result, "location": params["location"], "database": params["database"],
            "table": params["table"]}

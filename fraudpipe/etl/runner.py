"""Run glue/etl.sql on DuckDB: the local twin of the Glue Spark job.

Why this split of work: pyarrow reads the CSVs (``raw``, in pieces on every core, which also
parse the canonical timestamps: ``times``), DuckDB runs the same SQL as Spark over those
Arrow tables in place, and for each output DuckDB only chooses and orders rows
while Arrow gathers the pass-through values and pyarrow writes the file (``late``), in
background threads so writing overlaps the next statements. Materialised relations stay in
Arrow, in raw-row order where they carry the row keys (``order``), so an ORDER BY the rows
already satisfy is dropped and a plain filter runs in Arrow (``scan``); repeated hash keys
are found by sorting (``repeats``), counts per file over runs of equal values (``tally``).
A ``trim`` of values with nothing to trim is dropped (``trims``). Each shortcut checks its
shape and otherwise leaves the statement to DuckDB as written. Each stage's wall and CPU
seconds are returned for the benchmark. :func:`run_etl` is a ``fraudpipe.jobs`` target:
``run_etl(params, progress) -> summary``.
"""

from __future__ import annotations

import csv
import os
import time
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from fraudpipe.errors import DataValidationError, EtlError
from fraudpipe.etl.late import OrderedTables, assemble, gather, plan_gather, plan_late
from fraudpipe.etl.order import drop_satisfied_order, materialise_in_order
from fraudpipe.etl.picks import sample_picks
from fraudpipe.etl.raw import RawRows, inspect_files, load_raw_rows, quote
from fraudpipe.etl.repeats import materialise_repeated
from fraudpipe.etl.scan import filter_scan
from fraudpipe.etl.sources import restore_source, split_source
from fraudpipe.etl.stamps import TEXT_COLUMN, add_stamps, split_stamp
from fraudpipe.etl.tally import tally
from fraudpipe.etl.times import ISO, PARSED, with_parsed_stamps
from fraudpipe.etl.trims import without_trims
from fraudpipe.jobs import ProgressFn
from fraudpipe.workspace import atomic_write_json
from glue.etl_job import (
    DEFAULT_CUTOFF,
    SEED_MODULUS,
    EtlInputError,
    Statement,
    load_statements,
    render,
    string_literal,
    summarise,
    timestamp_literal,
)

__all__ = ["EtlParams", "run_etl"]

EtlParams = dict[str, Any]
LABEL_COLUMNS = ("EVENT_ID", "EVENT_LABEL", "LABEL_TIMESTAMP")


def _load_labels(con: duckdb.DuckDBPyConnection, labels_path: str | None) -> None:
    """``human_labels`` from the review verdicts file, empty when there is none yet."""
    con.execute("CREATE TEMP TABLE human_labels (EVENT_ID VARCHAR, EVENT_LABEL VARCHAR, "
                "LABEL_TIMESTAMP VARCHAR)")
    path = Path(labels_path) if labels_path else None
    if path is None or not path.is_file():
        return
    with path.open("r", encoding="utf-8", errors="replace", newline="") as handle:
        header = [h.strip() for h in next(csv.reader(handle), [])]
    if not header:
        return
    missing = [c for c in LABEL_COLUMNS[:2] if c not in header]
    if missing:
        raise DataValidationError(f"labels file {path} lacks columns: {', '.join(missing)}")
    stamp = quote("LABEL_TIMESTAMP") if "LABEL_TIMESTAMP" in header else "NULL"
    con.execute(
        f"INSERT INTO human_labels SELECT {quote('EVENT_ID')}, {quote('EVENT_LABEL')}, {stamp} "
        f"FROM read_csv({string_literal(str(path))}, header = true, all_varchar = true)")


def _result(con: duckdb.DuckDBPyConnection, sql: str, raw: RawRows,
            ordered: dict[str, pa.Table]) -> pa.Table:
    """The rows of output statement ``sql``, pass-through values gathered from Arrow.

    DuckDB only chooses and orders the rows (``fraudpipe.etl.late``); the raw values never
    travel through it, an ORDER BY the rows already satisfy is not sorted again
    (``fraudpipe.etl.order``), and what is then a plain filter runs in Arrow
    (``fraudpipe.etl.scan``).
    """
    plan = plan_late(sql, raw.bases)
    if plan is None:
        return con.sql(sql).to_arrow_table()
    narrow = drop_satisfied_order(plan.sql, ordered)
    chosen = filter_scan(narrow, ordered)  # a plain filter is done in Arrow
    return assemble(plan, con.sql(narrow).to_arrow_table() if chosen is None else chosen, raw)


#: rows pyarrow formats at a time: the default (1,024) spent ~15% of the writing on its
#: per-batch overhead; the bytes written are the same whatever the batch
WRITE_BATCH_ROWS = 65_536


def _write_csv(table: pa.Table, path: Path) -> None:
    """CSV with a header, written to a temporary name and renamed (readers never see half)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    pacsv.write_csv(table, tmp, pacsv.WriteOptions(batch_size=WRITE_BATCH_ROWS))
    os.replace(tmp, path)


def _params(params: EtlParams, columns: list[str]) -> dict[str, str]:
    test_file = params.get("test_file") or "fraudTest.csv"
    batch = params.get("batch") or {}
    try:
        train = timestamp_literal(params.get("train_cutoff"))
        test = timestamp_literal(params.get("test_cutoff"))
    except EtlInputError as exc:
        raise EtlError(str(exc)) from exc
    return {
        "train_cutoff": train or DEFAULT_CUTOFF,
        "test_cutoff": test or DEFAULT_CUTOFF,
        "batch_seed": str(int(batch.get("seed", 42)) % SEED_MODULUS),
        "fraud_samples": str(int(batch.get("fraud_samples", 12))),
        "legit_samples": str(int(batch.get("legit_samples", 130))),
        "raw_columns": ", ".join("r." + quote(c) for c in columns),
        "test_file": test_file,
        "test_file_literal": string_literal(test_file),
    }


class _Stages:
    """Wall and CPU seconds (all threads of this process) per stage, for the benchmark."""

    def __init__(self) -> None:
        self.wall: dict[str, float] = {}
        self.cpu: dict[str, float] = {}
        self._mark = (time.perf_counter(), time.process_time())

    def done(self, name: str) -> None:
        now = (time.perf_counter(), time.process_time())
        self.wall[name] = round(now[0] - self._mark[0], 3)
        self.cpu[name] = round(now[1] - self._mark[1], 3)
        self._mark = now


def run_etl(params: EtlParams, progress: ProgressFn | None = None) -> dict[str, Any]:
    """Transform the raw CSVs of ``params["raw_dir"]`` into the four output files.

    ``params``: raw_dir, outputs {training, test, batch, quarantine} (paths), counts_path,
    labels_path (optional), train_cutoff / test_cutoff (ISO or None), batch {mode,
    fraud_samples, legit_samples, seed}, threads (optional). Returns the counts summary
    with ``seconds``, ``timings`` (wall seconds per stage) and ``cpu_timings``.
    """
    say = progress or (lambda _message: None)
    began = time.perf_counter()
    stages = _Stages()
    files = inspect_files(Path(params["raw_dir"]))
    con = duckdb.connect(config={"threads": int(params.get("threads") or os.cpu_count() or 1),
                                 "preserve_insertion_order": True})
    con.execute("SET enable_progress_bar = false")
    try:
        say(f"reading {len(files)} file(s)")
        raw = load_raw_rows(con, files)
        _load_labels(con, params.get("labels_path"))
        stages.done("read")
        results = _transform(con, raw, params, stages, say)
    except duckdb.Error as exc:
        raise EtlError(f"the ETL SQL failed: {exc}") from exc
    finally:
        con.close()
    summary = summarise(results)
    _check_counts(summary, files)
    summary["seconds"] = round(time.perf_counter() - began, 3)
    summary["timings"], summary["cpu_timings"] = stages.wall, stages.cpu
    if params.get("counts_path"):
        atomic_write_json(Path(params["counts_path"]), summary)
    return summary


def _transform(con: duckdb.DuckDBPyConnection, raw: RawRows, params: EtlParams,
               stages: _Stages, say: ProgressFn) -> dict[str, Any]:
    """Run the statements of etl.sql in order; write the outputs; collect the counts."""
    values = _params(params, raw.columns)
    mode = (params.get("batch") or {}).get("mode", "sample")
    outputs = {"training": "training", "test": "test", f"batch_{mode}": "batch",
               "quarantine": "quarantine"}
    results: dict[str, Any] = {}
    ordered = OrderedTables()  # materialised relations kept in raw-row order
    writes: list[Future[None]] = []
    # two writers: the training and the test file (the largest) are written side by side
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="etl-write") as writer:
        for statement in load_statements():
            sql = render(statement.sql, values)
            if raw.parsed_stamps:  # timestamps parsed at read time, DuckDB casts the rest
                sql = with_parsed_stamps(sql) or sql
            sql = without_trims(sql, raw.table) or sql  # no trim of values with nothing to trim
            if statement.name in outputs:
                name = outputs[statement.name]
                say(f"writing {name}")
                table = _result(con, sql, raw, ordered)
                results[f"{name}_rows"] = table.num_rows
                # written while DuckDB runs the next statements (pyarrow releases the GIL)
                writes.append(writer.submit(_write_csv, table, Path(params["outputs"][name])))
            elif "output" not in statement.flags:  # (the other batch mode's file is not made)
                _create(con, statement, sql, raw, ordered)
                if statement.name == "cutoffs":
                    _check_cutoffs(con, values["test_file"])
                elif statement.name in ("counts", "reasons", "cutoff_values"):
                    cursor = con.execute(f"SELECT * FROM {statement.name}")
                    keys = [d[0] for d in cursor.description]
                    results[statement.name] = [dict(zip(keys, row, strict=True))
                                               for row in cursor.fetchall()]
            stages.done(statement.name)
        for write in writes:
            write.result()
        stages.done("write_wait")
    return results


def _create(con: duckdb.DuckDBPyConnection, statement: Statement, sql: str, raw: RawRows,
            ordered: dict[str, pa.Table]) -> None:
    """A view, or for ``materialize`` a table: repeated keys found by sorting
    (``fraudpipe.etl.repeats``), rows in Arrow and raw-row order when they have the keys.
    The batch sample's top-N picks over an ordered table are drawn in numpy
    (``fraudpipe.etl.picks``) and the per-file counts counted over runs of equal values
    (``fraudpipe.etl.tally``), each registered as a table instead of a view; the routing's
    ``EVENT_TIMESTAMP`` is built from the raw text when it checks (``fraudpipe.etl.stamps``)."""
    if "materialize" not in statement.flags:
        found = sample_picks(sql, ordered)
        if found is None:
            found = tally(sql, ordered)
        if found is not None:
            con.register(statement.name, found)
            return
        con.execute(f"CREATE TEMP VIEW {statement.name} AS {sql}")
        return
    if materialise_repeated(con, statement.name, sql):
        return
    if not raw.bases:  # a set-aside line: positions do not follow row numbers
        con.execute(f"CREATE TEMP TABLE {statement.name} AS {sql}")
        return
    split = split_stamp(sql)  # EVENT_TIMESTAMP from the raw text when it checks
    query = split.sql if split else sql
    found = _materialise_sources(con, statement.name, query, raw)
    table, positions = found if found is not None else (None, None)
    if split is not None:
        text, parsed = _raw_text(raw, positions)
        full = add_stamps(con, statement.name, table, split, text, parsed)
        table = None if table is None else full
    if table is not None:
        ordered[statement.name] = table


def _materialise_sources(con: duckdb.DuckDBPyConnection, name: str, sql: str,
                         raw: RawRows) -> tuple[pa.Table, np.ndarray] | None:
    """``materialise_in_order`` of ``sql``, its ``source_file`` rebuilt from ``file_order``
    when every row checks (``fraudpipe.etl.sources``); else of ``sql`` as written."""
    source = split_source(sql, raw.sources)
    if source is not None:
        found = materialise_in_order(con, name, source.sql, raw.bases)
        restored = None if found is None else restore_source(found[0], source)
        if restored is not None:
            con.register(name, restored)
            return restored, found[1]
    return materialise_in_order(con, name, sql, raw.bases)


def _raw_text(raw: RawRows, positions: np.ndarray | None
              ) -> tuple[pa.ChunkedArray | None, tuple[pa.ChunkedArray, pa.ChunkedArray] | None]:
    """The raw timestamp text at each raw position (None without positions); and that text's
    read-time parse and ISO form (``fraudpipe.etl.times``) when they were made."""
    if positions is None or TEXT_COLUMN not in raw.columns:
        return None, None
    how = plan_gather(positions)
    parsed = None
    if raw.parsed_stamps:
        # (NULL in the rows of a file read whole: the text check decides there)
        parsed = (gather(raw.table.column(PARSED), positions, how),
                  gather(raw.table.column(ISO), positions, how))
    return raw.values(TEXT_COLUMN, positions, how), parsed


def _check_cutoffs(con: duckdb.DuckDBPyConnection, test_file: str) -> None:
    train, test = con.execute("SELECT train_cutoff, test_cutoff FROM cutoffs").fetchall()[0]
    if train is None or test is None:
        raise DataValidationError(
            f"no cutoff given and {test_file} has no valid row to take the default from")
    if train > test:
        raise EtlError(f"train_cutoff {train} is after test_cutoff {test}: rows would be in "
                       "both the training and the test file")


def _check_counts(summary: dict[str, Any], files: list[Any]) -> None:
    """rows_in = rows_out + quarantined + dropped_by_cutoff, per file, or the ETL is wrong."""
    for raw in files:
        c = summary["counts"].get(raw.name)
        if c is None or c["rows_in"] == 0:
            raise DataValidationError(f"input file {raw.name} has a header but no data rows")
        if c["rows_in"] != c["rows_out"] + c["quarantined"] + c["dropped_by_cutoff"]:
            raise EtlError(f"row counts of {raw.name} do not add up: {c}")

"""A batch job's files: the input read as Arrow strings, the output columns and CSV written.

Why a module: the output text is part of the contract (``{"fraud_model": 753.0}``,
``["medium_risk"]``, ``{"review": ["medium_risk"]}``, ``SUCCESS`` or the reason), and on a big
batch building it row by row in Python costs more than scoring. Here each distinct rule-match
pattern is turned into JSON once and scores are formatted by Arrow, so the text is the same as
``json.dumps`` would write.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from fraudpipe.engine.dataset import NUMERIC_VARIABLES, read_csv_table
from fraudpipe.errors import DataValidationError

__all__ = [
    "history_columns",
    "outcome_counts",
    "read_batch",
    "rule_json",
    "scores_json",
    "status_column",
    "write_output",
]

#: Highest calibrated score.
MAX_SCORE = 1000
#: The columns of a history file that batch scoring reads (what ``parse_events`` checks, the
#: card, the category and the event id that tells a history event from a batch event).
history_columns = ["EVENT_TIMESTAMP", "ENTITY_ID", "cc_num", *NUMERIC_VARIABLES, "category",
                   "EVENT_ID"]


def read_batch(path: Path) -> pa.Table:
    """Every column of a batch file as Arrow strings; a file without rows is refused."""
    table = read_csv_table(path)
    if table.num_rows == 0:
        raise DataValidationError(f"batch file {path.name} has no rows")
    return table


def scores_json(scores: dict[str, np.ndarray], ok: np.ndarray) -> pa.Array:
    """``{"fraud_model": 753.0}`` per row (``{}`` where ``ok`` is False).

    Scores are whole numbers 0..1000, so each model's 1001 possible texts are written once
    (as ``json.dumps`` writes them) and taken per row; several models are joined by Arrow.
    """
    pieces = []
    last = len(scores) - 1
    for i, (model_id, values) in enumerate(scores.items()):
        whole = np.where(ok, values, 0).astype(np.int64)
        name = json.dumps(model_id)
        start, end = ("{" if i == 0 else ""), ("}" if i == last else "")
        if len(whole) and (whole.min() < 0 or whole.max() > MAX_SCORE):
            raise ValueError(f"scores of {model_id} outside 0..{MAX_SCORE}")
        texts = pa.array([f"{start}{name}: {score}.0{end}" for score in range(MAX_SCORE + 1)],
                         type=pa.string())
        pieces.append(texts.take(pa.array(whole)))
    joined = pieces[0] if len(pieces) == 1 else pc.binary_join_element_wise(*pieces, ", ")
    return joined if ok.all() else pc.if_else(pa.array(ok), joined, "{}")


def rule_json(
    rules: Sequence[Any], hits: np.ndarray, ok: np.ndarray
) -> tuple[pa.Array, pa.Array, tuple[list[str], np.ndarray, np.ndarray]]:
    """OUTCOMES and RULE_RESULTS per row, and (outcome text, first row, rows) per pattern.

    ``hits`` is (rules x rows); rows that are not ``ok`` must have no hits, so they get ``[]``
    and ``{}``. The JSON of each distinct match pattern is written once and taken per row.
    """
    weights = (1 << np.arange(hits.shape[0], dtype=np.int64))[:, None]
    pattern = (hits * weights).sum(axis=0)
    uniques, first, inverse, counts = _distinct(pattern)
    outcome_text, result_text = [], []
    for code in uniques.tolist():
        matched = [r for i, r in enumerate(rules) if code >> i & 1]
        outcomes: list[str] = []
        for rule in matched:
            outcomes.extend(o for o in rule.outcomes if o not in outcomes)
        outcome_text.append(json.dumps(outcomes))
        result_text.append(json.dumps({r.rule_id: r.outcomes for r in matched}))
    rows = pa.array(inverse.astype(np.int32))
    return (pa.array(outcome_text, type=pa.string()).take(rows),
            pa.array(result_text, type=pa.string()).take(rows),
            (outcome_text, first, counts))


def _distinct(pattern: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``np.unique(pattern, return_index, return_inverse, return_counts)``; with few rules the
    patterns are small integers, counted without sorting the rows; the first row of each is found
    without a scan per pattern when there are many."""
    if len(pattern) == 0 or pattern.max() >= 1 << 16:
        return np.unique(pattern, return_index=True, return_inverse=True, return_counts=True)
    every = np.bincount(pattern)
    uniques = np.flatnonzero(every)
    position = np.zeros(len(every), dtype=np.int64)
    position[uniques] = np.arange(len(uniques))
    if len(uniques) <= 16:  # a vectorised scan per pattern: the fastest for the usual few
        first = np.array([int(np.argmax(pattern == code)) for code in uniques], dtype=np.int64)
    else:  # one pass, however many patterns
        earliest = np.full(len(every), len(pattern), dtype=np.int64)
        np.minimum.at(earliest, pattern, np.arange(len(pattern), dtype=np.int64))
        first = earliest[uniques]
    return uniques, first, position[pattern], every[uniques]


def outcome_counts(texts: list[str], first: np.ndarray, counts: np.ndarray) -> dict[str, int]:
    """Rows per outcome, from the rows per distinct OUTCOMES text (most frequent text first,
    ties in order of first appearance, as ``pandas.Series.value_counts`` orders them)."""
    by_text: dict[str, list[int]] = {}
    for text, at, n in zip(texts, first.tolist(), counts.tolist(), strict=True):
        entry = by_text.setdefault(text, [at, 0])
        entry[0], entry[1] = min(entry[0], at), entry[1] + n
    result: dict[str, int] = {}
    for text, (_, n) in sorted(by_text.items(), key=lambda item: (-item[1][1], item[1][0])):
        for outcome in json.loads(text):
            result[outcome] = result.get(outcome, 0) + n
    return result


def status_column(error: np.ndarray, ok: np.ndarray) -> pa.Array:
    """``SUCCESS``, or why the row could not be scored."""
    if ok.all():
        return pc.cast(pa.repeat(pa.scalar("SUCCESS"), len(ok)), pa.string())
    reasons = pa.array(np.where(ok, None, error), type=pa.string(), from_pandas=True)
    return reasons.fill_null("SUCCESS")


def write_output(table: pa.Table, path: Path) -> None:
    """Write ``table`` as CSV to ``path`` atomically (a reader never sees half a file).

    One ``write_csv`` straight to the file: rendering slices on parallel threads into memory
    and joining them measured slower and costlier than this on a busy 2-core machine (the
    buffers' growth and page faults cost more than a second core saved).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    pacsv.write_csv(table, tmp, pacsv.WriteOptions(quoting_style="needed"))
    tmp.replace(path)

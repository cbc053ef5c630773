"""Scoring with a detector version: batch files and single events, one feature path.

Why both live here: a batch row and a realtime event must get the same score when they carry
the same event after the same card history. Both build history rows the same way (the model
version's training snapshot, then the events scored since) and call
:meth:`ModelArtifact.matrix` (features.build_features) on them.

Batch history: AFD's Transaction Fraud Insights keeps entity aggregates from the training data
and from prior predictions. A batch job here starts from the training snapshot and, when given
``history_path`` (the pipeline passes the ETL's test file, labels ignored), adds the events of
that file that came after the snapshot and are not themselves in the batch, so a *sample* of
the test period is scored with each card's real recent history. Realtime starts from the same
snapshot and updates the entity store with every event it scores.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from fraudpipe.engine.artifact import ModelArtifact
from fraudpipe.engine.dataset import (
    CATEGORICAL_VARIABLES,
    EVENT_VARIABLES,
    NUMERIC_VARIABLES,
    parse_events,
    read_csv_strings,
    read_csv_table,
)
from fraudpipe.engine.entities import CATEGORY_STATS, Snapshot, entity_keys
from fraudpipe.engine.features import CardBase, time_band, to_cents
from fraudpipe.engine.rules import RuleSet, score_variable
from fraudpipe.errors import DataValidationError

__all__ = ["Detector", "score_batch"]

OUTPUT_COLUMNS = ["MODEL_SCORES", "OUTCOMES", "RULE_RESULTS", "STATUS"]


@dataclass
class ScoringModel:
    model_id: str
    version: str
    model_type: str
    artifact: ModelArtifact


@dataclass
class Detector:
    """A loaded detector version: its models and compiled rules."""

    detector_id: str
    version: str
    models: list[ScoringModel]
    rules: RuleSet

    # --- shared -------------------------------------------------------------------------------
    def rule_variables(
        self, strings: dict[str, np.ndarray], numbers: dict[str, np.ndarray],
        scores: dict[str, np.ndarray],
    ) -> dict[str, Any]:
        env: dict[str, Any] = dict(strings)
        env.update(numbers)
        for model_id, values in scores.items():
            env[score_variable(model_id)] = values
        return env

    # --- batch --------------------------------------------------------------------------------
    def score_columns(
        self, frame: pd.DataFrame, name: str, history: pd.DataFrame | None = None
    ) -> dict[str, np.ndarray]:
        """The four output columns (MODEL_SCORES, OUTCOMES, RULE_RESULTS, STATUS) of ``frame``,
        which needs only the columns of :meth:`input_columns`."""
        events = parse_events(frame, name, entity_column="ENTITY_ID")
        ok = pd.isna(events.error)
        n = len(frame)
        scores: dict[str, np.ndarray] = {}
        for model in self.models:
            scores[model.model_id] = np.full(n, np.nan)
            if ok.any():
                raw = self._batch_raw(model.artifact, events, ok, history)
                scores[model.model_id][ok] = model.artifact.calibration.score(raw)
        used = self.rules.used_variables
        strings = {c: frame[c].to_numpy(dtype=object) for c in EVENT_VARIABLES
                   if c in frame and c in used}
        numbers = {c: events.numeric[c] for c in NUMERIC_VARIABLES}
        hits = self.rules.matches(self.rule_variables(strings, numbers, scores), n)
        hits[:, ~ok] = False
        model_scores = np.array(_scores_json(scores, ok).to_numpy(), dtype=object)
        outcomes, results = self._rule_json(hits)
        model_scores[~ok], outcomes[~ok], results[~ok] = "{}", "[]", "{}"
        status = np.where(ok, "SUCCESS", events.error.astype(str)).astype(object)
        return {"MODEL_SCORES": model_scores, "OUTCOMES": outcomes, "RULE_RESULTS": results,
                "STATUS": status}

    def input_columns(self, available: list[str]) -> list[str]:
        """The columns of a batch file that scoring reads (the others are only passed on)."""
        wanted = {"EVENT_TIMESTAMP", "ENTITY_ID", "EVENT_ID", "cc_num", *NUMERIC_VARIABLES,
                  *CATEGORICAL_VARIABLES, *self.rules.used_variables}
        return [c for c in available if c in wanted]

    def raw_margins(self, frame: pd.DataFrame, history: pd.DataFrame | None = None
                    ) -> np.ndarray:
        """Raw margins of the first model for the rows of ``frame`` that can be scored (NaN
        for the others): what the benchmark ranks by, free of the ties of integer scores."""
        events = parse_events(frame, "events", entity_column="ENTITY_ID")
        ok = pd.isna(events.error)
        raw = np.full(len(frame), np.nan)
        raw[ok] = self._batch_raw(self.models[0].artifact, events, ok, history)
        return raw

    def _batch_raw(
        self, artifact: ModelArtifact, events: Any, ok: np.ndarray,
        history: pd.DataFrame | None,
    ) -> np.ndarray:
        keys = entity_keys(events.card[ok])
        snapshot = artifact.snapshot
        end = int(artifact.metadata["snapshot_end"])
        parts_key, parts_ts, parts_cents, parts_category = [], [], [], []
        recent = snapshot.recent[snapshot.recent["key"].isin(set(keys))]
        parts_key.append(recent["key"].to_numpy(dtype=object))
        parts_ts.append(recent["ts"].to_numpy(dtype=np.int64))
        parts_cents.append(recent["cents"].to_numpy(dtype=np.int64))
        parts_category.append(recent["category"].to_numpy(dtype=object))
        if history is not None and len(history):
            h = _history_events(history, events, keys, end)
            if h is not None:
                h_keys, h_ts, h_amt, h_category = h
                parts_key.append(h_keys)
                parts_ts.append(h_ts)
                parts_cents.append(to_cents(artifact.impute({"amt": h_amt})["amt"]))
                parts_category.append(h_category)
        n_context = sum(len(p) for p in parts_key)
        all_keys = np.concatenate([*parts_key, keys])
        ts = np.concatenate([*parts_ts, events.ts[ok]])
        context_cents = np.concatenate(parts_cents) if n_context else np.zeros(0, np.int64)
        target_numeric = artifact.impute({c: events.numeric[c][ok] for c in NUMERIC_VARIABLES})
        numeric = {}
        for c in NUMERIC_VARIABLES:
            filler = context_cents / 100.0 if c == "amt" else np.zeros(n_context)
            numeric[c] = np.concatenate([filler, target_numeric[c]])
        categorical = {
            c: np.concatenate([np.full(n_context, "", dtype=object),
                               events.raw[c].to_numpy(dtype=object)[ok]
                               if c in events.raw else np.full(int(ok.sum()), "", dtype=object)])
            for c in CATEGORICAL_VARIABLES
        }
        context_category = (np.concatenate(parts_category) if n_context
                            else np.zeros(0, dtype=object))
        categorical["category"][:n_context] = context_category
        codes, uniques = pd.factorize(all_keys)
        base = base_from_snapshot(snapshot, uniques, codes, all_keys,
                                   categorical["category"], ts)
        matrix = artifact.matrix(codes, ts, numeric, categorical, base)
        return artifact.raw(matrix[n_context:])

    def _rule_json(self, hits: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """OUTCOMES and RULE_RESULTS JSON per row, built once per distinct match pattern."""
        weights = (1 << np.arange(hits.shape[0], dtype=np.int64))[:, None]
        pattern = (hits * weights).sum(axis=0)
        uniques, inverse = np.unique(pattern, return_inverse=True)
        outcome_text, result_text = [], []
        for code in uniques:
            matched = [r for i, r in enumerate(self.rules.rules) if code >> i & 1]
            outcomes: list[str] = []
            for rule in matched:
                outcomes.extend(o for o in rule.outcomes if o not in outcomes)
            outcome_text.append(json.dumps(outcomes))
            result_text.append(json.dumps({r.rule_id: r.outcomes for r in matched}))
        return np.array(outcome_text, dtype=object)[inverse], np.array(
            result_text, dtype=object)[inverse]


def _scores_json(scores: dict[str, np.ndarray], ok: np.ndarray) -> pd.Series:
    """``{"fraud_model": 753.0}`` per row, joined by Arrow (scores are whole numbers)."""
    pieces: list[Any] = []
    for model_id, values in scores.items():
        whole = pa.array(np.where(ok, values, 0).astype(np.int64))
        pieces += [", " if pieces else "{", json.dumps(model_id), ": ",
                   pc.cast(whole, pa.string()), ".0"]
    pieces.append("}")
    joined = pc.binary_join_element_wise(*pieces, "")
    return pd.Series(joined.to_numpy(zero_copy_only=False), dtype=object)


def _history_events(
    history: pd.DataFrame, events: Any, batch_keys: np.ndarray, end: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None:
    """Events of the history file after the snapshot, of the batch's cards, not in the batch."""
    parsed = parse_events(history.drop(columns=["EVENT_LABEL"], errors="ignore"),
                          "history file", entity_column="ENTITY_ID")
    keep = pd.isna(parsed.error) & (parsed.ts > end)
    if "EVENT_ID" in history.columns and "EVENT_ID" in events.raw.columns:
        keep &= ~history["EVENT_ID"].isin(set(events.raw["EVENT_ID"])).to_numpy()
    if not keep.any():
        return None
    keys = entity_keys(parsed.card[keep])
    mine = np.isin(keys, np.unique(batch_keys))
    if not mine.any():
        return None
    category = (history["category"].to_numpy(dtype=object) if "category" in history.columns
                else np.full(len(history), "", dtype=object))
    return keys[mine], parsed.ts[keep][mine], parsed.amt[keep][mine], category[keep][mine]


def base_from_snapshot(
    snapshot: Snapshot, uniques: np.ndarray, codes: np.ndarray, keys: np.ndarray,
    categories: np.ndarray, ts: np.ndarray,
) -> CardBase:
    """Each row's older history from the snapshot: the card's summary, the card's older events
    in the row's category and in the row's time band."""
    older = snapshot.older
    pos = older.index.get_indexer(pd.Index(uniques, dtype=object))[codes]
    known = pos >= 0
    pos = np.maximum(pos, 0)

    def column(name: str, empty: float) -> np.ndarray:
        # integer sums stay integers (a float round trip would round sums above 2**53)
        values = older[name].to_numpy()
        if len(values) == 0:
            return np.full(len(codes), empty)
        return np.where(known, values[pos], empty)

    bands = snapshot.older_bands(uniques)[codes, time_band(ts)]
    stats = _category_stats(snapshot.categories, uniques, codes, categories)
    return CardBase(
        column("older_count", 0).astype(np.int64), column("older_sum", 0).astype(np.int64),
        column("last_ts", np.nan).astype(float), column("last_cents", np.nan).astype(float),
        column("older_sumsq", 0).astype(np.int64), column("first_ts", np.nan).astype(float),
        cat_count=stats[:, 0], cat_sum=stats[:, 1], cat_sumsq=stats[:, 2],
        cat_log_sum=stats[:, 3], cat_log_sumsq=stats[:, 4], band_count=bands,
    )


def _category_stats(
    table: pd.DataFrame, uniques: np.ndarray, codes: np.ndarray, categories: np.ndarray
) -> np.ndarray:
    """(rows, CATEGORY_STATS) older sums of each row's card in the row's category.

    Cards and categories become integer codes and one composite key is looked up with
    ``searchsorted``: much faster than a two-level pandas index on a big batch.
    """
    rows = np.zeros((len(codes), len(CATEGORY_STATS)), dtype=np.int64)
    if len(table) == 0:
        return rows
    card_of_row = pd.Index(uniques, dtype=object).get_indexer(table["key"].to_numpy(dtype=object))
    table = table[card_of_row >= 0]
    card_of_row = card_of_row[card_of_row >= 0]
    row_names = pc.utf8_trim_whitespace(pa.array(categories, type=pa.string(), from_pandas=True))
    names, vocabulary = pd.factorize(np.concatenate([
        table["category"].to_numpy(dtype=object),
        row_names.fill_null("").to_numpy(zero_copy_only=False).astype(object)]))
    width = len(vocabulary) + 1
    table_key = card_of_row.astype(np.int64) * width + names[:len(table)]
    row_key = codes.astype(np.int64) * width + names[len(table):]
    order = np.argsort(table_key, kind="stable")
    sorted_key = table_key[order]
    values = table[list(CATEGORY_STATS)].to_numpy(dtype=np.int64)[order]
    at = np.minimum(np.searchsorted(sorted_key, row_key), max(len(sorted_key) - 1, 0))
    hit = len(sorted_key) > 0
    found = hit & (sorted_key[at] == row_key) if hit else np.zeros(len(row_key), bool)
    rows[found] = values[at[found]]
    return rows


def score_batch(
    detector: Detector, input_path: Path, output_path: Path, history_path: Path | None = None
) -> dict[str, Any]:
    """Score a batch file into ``output_path``; one row out per row in."""
    table = read_csv_table(input_path)
    if table.num_rows == 0:
        raise DataValidationError(f"batch file {input_path.name} has no rows")
    # only the columns scoring reads become pandas; the others go from Arrow to Arrow
    frame = table.select(detector.input_columns(table.column_names)).to_pandas()
    history = read_csv_strings(history_path) if history_path is not None else None
    columns = detector.score_columns(frame, f"batch file {input_path.name}", history)
    for name, values in columns.items():
        table = table.append_column(name, pa.array(values, type=pa.string()))
    output_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = output_path.with_name(f".{output_path.name}.tmp")
    pacsv.write_csv(table, tmp, pacsv.WriteOptions(quoting_style="needed"))
    tmp.replace(output_path)
    out = pd.DataFrame({"OUTCOMES": columns["OUTCOMES"], "STATUS": columns["STATUS"]})
    counts: dict[str, int] = {}
    for text, n in pd.Series(out["OUTCOMES"]).value_counts().items():
        for outcome in json.loads(str(text)):
            counts[outcome] = counts.get(outcome, 0) + int(n)
    return {
        "rows": len(out),
        "failed_rows": int((out["STATUS"] != "SUCCESS").sum()),
        "outcome_counts": counts,
    }

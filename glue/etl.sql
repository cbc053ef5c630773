-- The fraudpipe ETL as one SQL transform, run by DuckDB locally and by Spark SQL on AWS Glue.
--
-- Why one file: the local and the AWS pipeline must produce the same training, test and batch
-- files. The statements below use only SQL both engines understand (TRY_CAST, CASE, window
-- functions, ORDER BY ... LIMIT in a subquery, hash, substr, concat, replace; hash values
-- differ between the engines, so they only ever pre-select candidates that an exact step
-- then checks). Each engine's runner prepares two relations and then runs
-- the named statements in order, each becoming a view (or a cached table when marked
-- `materialize`) that later statements read; those marked `output` are written to files.
-- What the runner provides:
--
--   raw_rows      every data row of every raw CSV (blank lines are not rows), the columns
--                 the statements read as strings (the quarantine's other columns may be
--                 filled in by the runner after the rows are chosen), plus
--                 source_file (file name), file_order (int), row_number (1-based data row),
--                 bad_encoding (row had invalid UTF-8), malformed (wrong number of fields)
--   human_labels  EVENT_ID, EVENT_LABEL, LABEL_TIMESTAMP from review verdicts (may be empty)
--
-- The batch sample is drawn with an integer hash of each row's position and the seed, which
-- both engines compute identically (and far faster than hashing strings).
--
-- Parameters {{name}} are substituted by the runner as already-quoted SQL literals or
-- expressions: train_cutoff / test_cutoff (a TIMESTAMP expression, or test_start.first_ts for
-- the default), test_file_literal (the test file's name as a string literal), batch_seed,
-- fraud_samples, legit_samples, raw_columns (the engine-quoted original columns, as r.<column>).

-- name: latest_labels
SELECT EVENT_ID, EVENT_LABEL
FROM (
    SELECT trim(EVENT_ID) AS EVENT_ID,
           lower(trim(EVENT_LABEL)) AS EVENT_LABEL,
           ROW_NUMBER() OVER (PARTITION BY trim(EVENT_ID) ORDER BY LABEL_TIMESTAMP DESC) AS pick
    FROM human_labels
    WHERE lower(trim(EVENT_LABEL)) IN ('fraud', 'legit')
) AS ranked
WHERE pick = 1;

-- Duplicates are found in two steps: group the ids' hashes (8-byte keys, cheap), then group
-- only the ids whose hash repeats. A hash collision only adds a candidate; the second step
-- is exact, so the result is the same as grouping every id.
-- name: repeated_hashes  materialize
SELECT hash(trans_num) AS id_hash
FROM raw_rows
WHERE trans_num IS NOT NULL AND NOT bad_encoding AND NOT malformed
GROUP BY hash(trans_num)
HAVING COUNT(*) > 1;

-- name: duplicates  materialize
SELECT trans_num, MIN(file_order * 10000000000 + row_number) AS keep_key
FROM raw_rows
WHERE trans_num IS NOT NULL AND NOT bad_encoding AND NOT malformed
  AND hash(trans_num) IN (SELECT id_hash FROM repeated_hashes)
GROUP BY trans_num
HAVING COUNT(*) > 1;

-- name: parsed
SELECT r.file_order, r.row_number, r.source_file, r.bad_encoding, r.malformed, r.trans_num,
       TRY_CAST(r.trans_date_trans_time AS TIMESTAMP) AS event_ts,
       TRY_CAST(r.amt AS DOUBLE) AS amount,
       trim(r.is_fraud) AS label_code
FROM raw_rows AS r;

-- name: classified
SELECT p.file_order, p.row_number, p.source_file, p.event_ts,
       COALESCE(l.EVENT_LABEL,
                CASE p.label_code WHEN '1' THEN 'fraud' WHEN '0' THEN 'legit' END)
           AS event_label,
       CASE
           WHEN p.bad_encoding THEN 'invalid UTF-8'
           WHEN p.malformed THEN 'malformed CSV row'
           -- blank = empty or only spaces; trim() only where a space could make it so
           WHEN p.trans_num IS NULL OR p.trans_num = ''
                OR (substr(p.trans_num, 1, 1) = ' ' AND trim(p.trans_num) = '')
               THEN 'missing trans_num'
           WHEN p.amount IS NULL OR NOT (abs(p.amount) < 1e12) THEN 'unparseable amount'
           WHEN p.amount < 0 THEN 'negative amount'
           WHEN p.event_ts IS NULL THEN 'unparseable timestamp'
           WHEN l.EVENT_LABEL IS NULL AND (p.label_code IS NULL OR p.label_code = '')
               THEN 'missing label'
           WHEN l.EVENT_LABEL IS NULL AND p.label_code NOT IN ('0', '1')
               THEN 'unknown label'
           WHEN d.keep_key IS NOT NULL
                AND d.keep_key <> p.file_order * 10000000000 + p.row_number
               THEN 'duplicate trans_num'
       END AS reason
FROM parsed AS p
LEFT JOIN latest_labels AS l ON l.EVENT_ID = p.trans_num
LEFT JOIN duplicates AS d ON d.trans_num = p.trans_num;

-- The default cutoff (for either side) is the first timestamp of the test file, computed once
-- here and read by name (two scalar subqueries would parse that file's timestamps twice).
-- name: test_start
SELECT MIN(TRY_CAST(trans_date_trans_time AS TIMESTAMP)) AS first_ts
FROM raw_rows
WHERE source_file = {{test_file_literal}} AND NOT bad_encoding AND NOT malformed;

-- name: cutoffs  materialize
SELECT {{train_cutoff}} AS train_cutoff, {{test_cutoff}} AS test_cutoff
FROM test_start;

-- name: routed  materialize
SELECT c.file_order, c.row_number, c.source_file, c.event_ts, c.event_label, c.reason,
       CASE
           WHEN c.reason IS NOT NULL THEN 'quarantine'
           WHEN c.event_ts < k.train_cutoff THEN 'training'
           WHEN c.event_ts >= k.test_cutoff THEN 'test'
           ELSE 'dropped'
       END AS route,
       concat(replace(CAST(c.event_ts AS STRING), ' ', 'T'), 'Z') AS EVENT_TIMESTAMP
FROM classified AS c
CROSS JOIN cutoffs AS k;

-- Each output below reads the routing decision (k) and the row's raw values (r); the raw
-- values are only passed through, so a runner may fetch them after the rows are chosen.

-- name: training  output
SELECT r.cc_num, r.merchant, r.category, r.amt, r.first, r.last, r.gender, r.street, r.city,
       r.state, r.zip, r.city_pop, r.job, r.trans_num, k.EVENT_TIMESTAMP,
       k.event_label AS EVENT_LABEL
FROM routed AS k
JOIN raw_rows AS r ON r.file_order = k.file_order AND r.row_number = k.row_number
WHERE k.route = 'training'
ORDER BY k.event_ts, k.file_order, k.row_number;

-- name: test  output
SELECT r.cc_num, r.merchant, r.category, r.amt, r.first, r.last, r.gender, r.street, r.city,
       r.state, r.zip, r.city_pop, r.job, r.trans_num, k.EVENT_TIMESTAMP,
       'card' AS ENTITY_TYPE, r.cc_num AS ENTITY_ID, r.trans_num AS EVENT_ID,
       k.event_label AS EVENT_LABEL
FROM routed AS k
JOIN raw_rows AS r ON r.file_order = k.file_order AND r.row_number = k.row_number
WHERE k.route = 'test'
ORDER BY k.event_ts, k.file_order, k.row_number;

-- name: batch_full  output
SELECT r.cc_num, r.merchant, r.category, r.amt, r.first, r.last, r.gender, r.street, r.city,
       r.state, r.zip, r.city_pop, r.job, r.trans_num, k.EVENT_TIMESTAMP,
       'card' AS ENTITY_TYPE, r.cc_num AS ENTITY_ID, r.trans_num AS EVENT_ID
FROM routed AS k
JOIN raw_rows AS r ON r.file_order = k.file_order AND r.row_number = k.row_number
WHERE k.route = 'test'
ORDER BY k.event_ts, k.file_order, k.row_number;

-- The picks carry the routed values the batch file needs, so it joins only the raw rows.
-- name: batch_picks
SELECT file_order, row_number, event_ts, EVENT_TIMESTAMP
FROM (
    SELECT file_order, row_number, event_ts, EVENT_TIMESTAMP
    FROM routed
    WHERE route = 'test' AND event_label = 'fraud'
    ORDER BY (row_number * 2654435761 + file_order * 40503
              + {{batch_seed}} * 2246822519) % 4294967291, file_order, row_number
    LIMIT {{fraud_samples}}
) AS fraud_picks
UNION ALL
SELECT file_order, row_number, event_ts, EVENT_TIMESTAMP
FROM (
    SELECT file_order, row_number, event_ts, EVENT_TIMESTAMP
    FROM routed
    WHERE route = 'test' AND event_label = 'legit'
    ORDER BY (row_number * 2654435761 + file_order * 40503
              + {{batch_seed}} * 2246822519) % 4294967291, file_order, row_number
    LIMIT {{legit_samples}}
) AS legit_picks;

-- name: batch_sample  output
SELECT r.cc_num, r.merchant, r.category, r.amt, r.first, r.last, r.gender, r.street, r.city,
       r.state, r.zip, r.city_pop, r.job, r.trans_num, p.EVENT_TIMESTAMP, 'card' AS ENTITY_TYPE,
       r.cc_num AS ENTITY_ID, r.trans_num AS EVENT_ID
FROM batch_picks AS p
JOIN raw_rows AS r ON r.file_order = p.file_order AND r.row_number = p.row_number
ORDER BY p.event_ts, p.file_order, p.row_number;

-- name: quarantine  output
SELECT {{raw_columns}}, k.source_file, k.row_number, k.reason
FROM routed AS k
JOIN raw_rows AS r ON r.file_order = k.file_order AND r.row_number = k.row_number
WHERE k.route = 'quarantine'
ORDER BY k.file_order, k.row_number;

-- name: counts
SELECT source_file,
       COUNT(*) AS rows_in,
       SUM(CASE WHEN route IN ('training', 'test') THEN 1 ELSE 0 END) AS rows_out,
       SUM(CASE WHEN route = 'quarantine' THEN 1 ELSE 0 END) AS quarantined,
       SUM(CASE WHEN route = 'dropped' THEN 1 ELSE 0 END) AS dropped_by_cutoff
FROM routed
GROUP BY source_file;

-- name: reasons
SELECT source_file, reason, COUNT(*) AS n
FROM routed
WHERE reason IS NOT NULL
GROUP BY source_file, reason;

-- name: cutoff_values
SELECT CAST(train_cutoff AS STRING) AS train_cutoff, CAST(test_cutoff AS STRING) AS test_cutoff
FROM cutoffs;

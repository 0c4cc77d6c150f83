-- The contract's public names: one row per fact, no FINAL or argMax needed by the reader.
--
-- Each view reads its store table with FINAL: ClickHouse merges the rows of one sorting key at
-- read time and keeps the highest version, exactly what a background merge will leave. Chosen
-- over GROUP BY + argMax: argMax skips NULL arguments (a Nullable column would come from an
-- older row), argMax over a tuple of all columns is 2-3x slower, and on current ClickHouse an
-- outer WHERE on a FINAL view is pushed into the scan (measured in docs/ARCHITECTURE.md).

CREATE VIEW IF NOT EXISTS {db}.touchpoints AS
SELECT
    touchpoint_id, occurred_at, occurred_at_ms, agency, service, channel,
    outcome, wait_seconds, handle_seconds, survey_offered
FROM {db}.touchpoints_store FINAL;

CREATE VIEW IF NOT EXISTS {db}.feedback AS
SELECT
    feedback_id, touchpoint_id, submitted_at, submitted_at_ms, agency, service, channel, matched,
    satisfaction, trust, quality, ease, efficiency, equity, helpfulness, comment
FROM {db}.feedback_store FINAL;

CREATE VIEW IF NOT EXISTS {db}.dead_letters AS
SELECT source_topic, `partition`, `offset`, reason, detail, received_at, received_at_ms, key, raw
FROM {db}.dead_letters_store FINAL;

-- Latest state per 1-minute window cell, with the Wilson 95% interval of pct_positive (the
-- formula of cxstream.scores.wilson_interval) and `suppressed` when responses are below the
-- min-n in view_settings.
CREATE VIEW IF NOT EXISTS {db}.domain_scores AS
SELECT
    window_start, window_seconds, agency, service, channel, domain,
    responses, count_1, count_2, count_3, count_4, count_5, mean, pct_positive,
    pct_positive_low, pct_positive_high, suppressed
FROM
(
    SELECT
        window_start, window_seconds, agency, service, channel, domain,
        responses, count_1, count_2, count_3, count_4, count_5, mean, pct_positive,
        if(responses = 0, 0., (count_4 + count_5) / responses) AS p,
        1.959963984540054 AS z,
        z * z AS z2,
        (p + z2 / (2 * responses)) / (1 + z2 / responses) AS centre,
        (z / (1 + z2 / responses)) * sqrt(p * (1 - p) / responses + z2 / (4 * responses * responses)) AS half,
        if(responses = 0, 0., greatest(0., 100. * (centre - half))) AS pct_positive_low,
        if(responses = 0, 100., least(100., 100. * (centre + half))) AS pct_positive_high,
        responses < (SELECT argMax(value, version) FROM {db}.view_settings WHERE name = 'min_responses') AS suppressed
    FROM {db}.domain_scores_store FINAL
);

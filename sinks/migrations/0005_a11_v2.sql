-- The current A-11 form (FY2024 on, "A-11 v2"): its answers in the feedback facts, and live
-- scores of the trust question (per scale) and of each driver. {db} is the database.
-- Same dialect as 0001-0004 (ClickHouse 18.16 and current releases). 18.16 has no
-- ADD COLUMN IF NOT EXISTS: each column is its own statement, and sinks/migrate.py treats
-- "column already exists" of an ADD COLUMN as done, so a rerun and concurrent runs converge.
--
-- Feedback: question_1 is the trust answer (thumbs 0/1, or 1..5), named as in the government's
-- per-response file because `trust` is the 2019-2023 form's domain column (both may be present
-- in one feedback, and a thumbs answer must never be read as a 1-5 one). positive_<driver> /
-- negative_<driver>: 1 chosen under went well / didn't go well, 0 offered and not chosen, NULL
-- not offered. All NULL for a feedback without v2 answers: v1 rows are unchanged.

ALTER TABLE {db}.feedback_store ADD COLUMN question_1 Nullable(UInt8);
ALTER TABLE {db}.feedback_store ADD COLUMN trust_scale Nullable(String);
ALTER TABLE {db}.feedback_store ADD COLUMN transaction_point Nullable(String);
ALTER TABLE {db}.feedback_store ADD COLUMN positive_effectiveness Nullable(UInt8);
ALTER TABLE {db}.feedback_store ADD COLUMN positive_ease Nullable(UInt8);
ALTER TABLE {db}.feedback_store ADD COLUMN positive_efficiency Nullable(UInt8);
ALTER TABLE {db}.feedback_store ADD COLUMN positive_transparency Nullable(UInt8);
ALTER TABLE {db}.feedback_store ADD COLUMN positive_humanity Nullable(UInt8);
ALTER TABLE {db}.feedback_store ADD COLUMN positive_employee Nullable(UInt8);
ALTER TABLE {db}.feedback_store ADD COLUMN positive_other Nullable(UInt8);
ALTER TABLE {db}.feedback_store ADD COLUMN negative_effectiveness Nullable(UInt8);
ALTER TABLE {db}.feedback_store ADD COLUMN negative_ease Nullable(UInt8);
ALTER TABLE {db}.feedback_store ADD COLUMN negative_efficiency Nullable(UInt8);
ALTER TABLE {db}.feedback_store ADD COLUMN negative_transparency Nullable(UInt8);
ALTER TABLE {db}.feedback_store ADD COLUMN negative_humanity Nullable(UInt8);
ALTER TABLE {db}.feedback_store ADD COLUMN negative_employee Nullable(UInt8);
ALTER TABLE {db}.feedback_store ADD COLUMN negative_other Nullable(UInt8);

-- The feedback view with the new columns (18.16 has neither CREATE OR REPLACE VIEW nor DROP VIEW).
DROP TABLE IF EXISTS {db}.feedback;

CREATE VIEW IF NOT EXISTS {db}.feedback AS
SELECT
    feedback_id, touchpoint_id, submitted_at, submitted_at_ms, agency, service, channel, matched,
    satisfaction, trust, quality, ease, efficiency, equity, helpfulness, comment,
    question_1, trust_scale, transaction_point,
    positive_effectiveness, positive_ease, positive_efficiency, positive_transparency, positive_humanity, positive_employee, positive_other,
    negative_effectiveness, negative_ease, negative_efficiency, negative_transparency, negative_humanity, negative_employee, negative_other
FROM {db}.feedback_store FINAL;

-- Latest state of each 1-minute window cell's trust question, per scale (the TrustScore topic).
CREATE TABLE IF NOT EXISTS {db}.trust_scores_store
(
    window_start DateTime('UTC'),
    window_seconds UInt32,
    agency String,
    service String,
    channel String,
    trust_scale String,
    responses UInt64,
    favourable UInt64,
    count_0 UInt64,
    count_1 UInt64,
    count_2 UInt64,
    count_3 UInt64,
    count_4 UInt64,
    count_5 UInt64,
    pct_favourable Float64,
    version UInt64
)
ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(window_start)
ORDER BY (window_start, agency, service, channel, trust_scale, window_seconds);

-- Latest state of each 1-minute window cell's counts per driver (the DriverScore topic).
CREATE TABLE IF NOT EXISTS {db}.driver_scores_store
(
    window_start DateTime('UTC'),
    window_seconds UInt32,
    agency String,
    service String,
    channel String,
    driver String,
    offered UInt64,
    went_well UInt64,
    did_not_go_well UInt64,
    pct_went_well Float64,
    pct_did_not_go_well Float64,
    version UInt64
)
ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(window_start)
ORDER BY (window_start, agency, service, channel, driver, window_seconds);


-- One row per window cell and scale, with the Wilson 95% interval of pct_favourable and
-- `suppressed` (responses below view_settings' min_responses), like domain_scores.
CREATE VIEW IF NOT EXISTS {db}.trust_scores AS
SELECT
    window_start, window_seconds, agency, service, channel, trust_scale,
    responses, favourable, pct_favourable, count_0, count_1, count_2, count_3, count_4, count_5,
    pct_favourable_low, pct_favourable_high, suppressed
FROM
(
    SELECT
        window_start, window_seconds, agency, service, channel, trust_scale,
        responses, favourable, pct_favourable, count_0, count_1, count_2, count_3, count_4, count_5,
        if(responses = 0, 0., favourable / responses) AS p,
        1.959963984540054 AS z,
        z * z AS z2,
        (p + z2 / (2 * responses)) / (1 + z2 / responses) AS centre,
        (z / (1 + z2 / responses)) * sqrt(p * (1 - p) / responses + z2 / (4 * responses * responses)) AS half,
        if(responses = 0, 0., greatest(0., 100. * (centre - half))) AS pct_favourable_low,
        if(responses = 0, 100., least(100., 100. * (centre + half))) AS pct_favourable_high,
        responses < (SELECT argMax(value, version) FROM {db}.view_settings WHERE name = 'min_responses') AS suppressed
    FROM {db}.trust_scores_store FINAL
);

-- One row per window cell and driver; percentages over the respondents offered the driver.
CREATE VIEW IF NOT EXISTS {db}.driver_scores AS
SELECT
    window_start, window_seconds, agency, service, channel, driver,
    offered, went_well, did_not_go_well, pct_went_well, pct_did_not_go_well
FROM {db}.driver_scores_store FINAL;


-- Trust, rolling: the last 15 minutes.
CREATE VIEW IF NOT EXISTS {db}.trust_scores_15m AS
SELECT
    span_start, span_end, agency, service, channel, trust_scale,
    responses, favourable, pct_favourable, count_0, count_1, count_2, count_3, count_4, count_5,
    pct_favourable_low, pct_favourable_high, suppressed
FROM
(
    SELECT
        agency, service, channel, trust_scale,
        any(window_from) AS span_start,
        any(window_to) AS span_end,
        sum(c0) AS count_0, sum(c1) AS count_1, sum(c2) AS count_2, sum(c3) AS count_3, sum(c4) AS count_4,
        sum(c5) AS count_5,
        count_0 + count_1 + count_2 + count_3 + count_4 + count_5 AS responses,
        if(trust_scale = 'thumbs', count_1, count_4 + count_5) AS favourable,
        if(responses = 0, 0., 100. * favourable / responses) AS pct_favourable,
        if(responses = 0, 0., favourable / responses) AS p,
        1.959963984540054 AS z,
        z * z AS z2,
        (p + z2 / (2 * responses)) / (1 + z2 / responses) AS centre,
        (z / (1 + z2 / responses)) * sqrt(p * (1 - p) / responses + z2 / (4 * responses * responses)) AS half,
        if(responses = 0, 0., greatest(0., 100. * (centre - half))) AS pct_favourable_low,
        if(responses = 0, 100., least(100., 100. * (centre + half))) AS pct_favourable_high,
        responses < (SELECT argMax(value, version) FROM {db}.view_settings WHERE name = 'min_responses') AS suppressed
    FROM
    (
        SELECT
            toStartOfMinute(now()) - INTERVAL 14 MINUTE AS window_from,
            toStartOfMinute(now()) + INTERVAL 1 MINUTE AS window_to,
            agency, service, channel, trust_scale,
            count_0 AS c0, count_1 AS c1, count_2 AS c2, count_3 AS c3, count_4 AS c4, count_5 AS c5
        FROM {db}.trust_scores_store FINAL
        WHERE window_seconds = 60 AND window_start >= window_from AND window_start < window_to
    )
    GROUP BY agency, service, channel, trust_scale
);

-- Drivers, rolling: the last 15 minutes.
CREATE VIEW IF NOT EXISTS {db}.driver_scores_15m AS
SELECT
    span_start, span_end, agency, service, channel, driver,
    offered, went_well, did_not_go_well, pct_went_well, pct_did_not_go_well
FROM
(
    SELECT
        agency, service, channel, driver,
        any(window_from) AS span_start,
        any(window_to) AS span_end,
        sum(o) AS offered, sum(w) AS went_well, sum(n) AS did_not_go_well,
        if(offered = 0, 0., 100. * went_well / offered) AS pct_went_well,
        if(offered = 0, 0., 100. * did_not_go_well / offered) AS pct_did_not_go_well
    FROM
    (
        SELECT
            toStartOfMinute(now()) - INTERVAL 14 MINUTE AS window_from,
            toStartOfMinute(now()) + INTERVAL 1 MINUTE AS window_to,
            agency, service, channel, driver,
            offered AS o, went_well AS w, did_not_go_well AS n
        FROM {db}.driver_scores_store FINAL
        WHERE window_seconds = 60 AND window_start >= window_from AND window_start < window_to
    )
    GROUP BY agency, service, channel, driver
);


-- Trust, rolling: the last 15 minutes, all channels together (channel = 'all').
CREATE VIEW IF NOT EXISTS {db}.trust_scores_15m_all_channels AS
SELECT
    span_start, span_end, agency, service, channel, trust_scale,
    responses, favourable, pct_favourable, count_0, count_1, count_2, count_3, count_4, count_5,
    pct_favourable_low, pct_favourable_high, suppressed
FROM
(
    SELECT
        agency, service, 'all' AS channel, trust_scale,
        any(window_from) AS span_start,
        any(window_to) AS span_end,
        sum(c0) AS count_0, sum(c1) AS count_1, sum(c2) AS count_2, sum(c3) AS count_3, sum(c4) AS count_4,
        sum(c5) AS count_5,
        count_0 + count_1 + count_2 + count_3 + count_4 + count_5 AS responses,
        if(trust_scale = 'thumbs', count_1, count_4 + count_5) AS favourable,
        if(responses = 0, 0., 100. * favourable / responses) AS pct_favourable,
        if(responses = 0, 0., favourable / responses) AS p,
        1.959963984540054 AS z,
        z * z AS z2,
        (p + z2 / (2 * responses)) / (1 + z2 / responses) AS centre,
        (z / (1 + z2 / responses)) * sqrt(p * (1 - p) / responses + z2 / (4 * responses * responses)) AS half,
        if(responses = 0, 0., greatest(0., 100. * (centre - half))) AS pct_favourable_low,
        if(responses = 0, 100., least(100., 100. * (centre + half))) AS pct_favourable_high,
        responses < (SELECT argMax(value, version) FROM {db}.view_settings WHERE name = 'min_responses') AS suppressed
    FROM
    (
        SELECT
            toStartOfMinute(now()) - INTERVAL 14 MINUTE AS window_from,
            toStartOfMinute(now()) + INTERVAL 1 MINUTE AS window_to,
            agency, service, trust_scale,
            count_0 AS c0, count_1 AS c1, count_2 AS c2, count_3 AS c3, count_4 AS c4, count_5 AS c5
        FROM {db}.trust_scores_store FINAL
        WHERE window_seconds = 60 AND window_start >= window_from AND window_start < window_to
    )
    GROUP BY agency, service, trust_scale
);

-- Drivers, rolling: the last 15 minutes, all channels together (channel = 'all').
CREATE VIEW IF NOT EXISTS {db}.driver_scores_15m_all_channels AS
SELECT
    span_start, span_end, agency, service, channel, driver,
    offered, went_well, did_not_go_well, pct_went_well, pct_did_not_go_well
FROM
(
    SELECT
        agency, service, 'all' AS channel, driver,
        any(window_from) AS span_start,
        any(window_to) AS span_end,
        sum(o) AS offered, sum(w) AS went_well, sum(n) AS did_not_go_well,
        if(offered = 0, 0., 100. * went_well / offered) AS pct_went_well,
        if(offered = 0, 0., 100. * did_not_go_well / offered) AS pct_did_not_go_well
    FROM
    (
        SELECT
            toStartOfMinute(now()) - INTERVAL 14 MINUTE AS window_from,
            toStartOfMinute(now()) + INTERVAL 1 MINUTE AS window_to,
            agency, service, driver,
            offered AS o, went_well AS w, did_not_go_well AS n
        FROM {db}.driver_scores_store FINAL
        WHERE window_seconds = 60 AND window_start >= window_from AND window_start < window_to
    )
    GROUP BY agency, service, driver
);


-- Trust, rolling: the last hour.
CREATE VIEW IF NOT EXISTS {db}.trust_scores_1h AS
SELECT
    span_start, span_end, agency, service, channel, trust_scale,
    responses, favourable, pct_favourable, count_0, count_1, count_2, count_3, count_4, count_5,
    pct_favourable_low, pct_favourable_high, suppressed
FROM
(
    SELECT
        agency, service, channel, trust_scale,
        any(window_from) AS span_start,
        any(window_to) AS span_end,
        sum(c0) AS count_0, sum(c1) AS count_1, sum(c2) AS count_2, sum(c3) AS count_3, sum(c4) AS count_4,
        sum(c5) AS count_5,
        count_0 + count_1 + count_2 + count_3 + count_4 + count_5 AS responses,
        if(trust_scale = 'thumbs', count_1, count_4 + count_5) AS favourable,
        if(responses = 0, 0., 100. * favourable / responses) AS pct_favourable,
        if(responses = 0, 0., favourable / responses) AS p,
        1.959963984540054 AS z,
        z * z AS z2,
        (p + z2 / (2 * responses)) / (1 + z2 / responses) AS centre,
        (z / (1 + z2 / responses)) * sqrt(p * (1 - p) / responses + z2 / (4 * responses * responses)) AS half,
        if(responses = 0, 0., greatest(0., 100. * (centre - half))) AS pct_favourable_low,
        if(responses = 0, 100., least(100., 100. * (centre + half))) AS pct_favourable_high,
        responses < (SELECT argMax(value, version) FROM {db}.view_settings WHERE name = 'min_responses') AS suppressed
    FROM
    (
        SELECT
            toStartOfMinute(now()) - INTERVAL 59 MINUTE AS window_from,
            toStartOfMinute(now()) + INTERVAL 1 MINUTE AS window_to,
            agency, service, channel, trust_scale,
            count_0 AS c0, count_1 AS c1, count_2 AS c2, count_3 AS c3, count_4 AS c4, count_5 AS c5
        FROM {db}.trust_scores_store FINAL
        WHERE window_seconds = 60 AND window_start >= window_from AND window_start < window_to
    )
    GROUP BY agency, service, channel, trust_scale
);

-- Drivers, rolling: the last hour.
CREATE VIEW IF NOT EXISTS {db}.driver_scores_1h AS
SELECT
    span_start, span_end, agency, service, channel, driver,
    offered, went_well, did_not_go_well, pct_went_well, pct_did_not_go_well
FROM
(
    SELECT
        agency, service, channel, driver,
        any(window_from) AS span_start,
        any(window_to) AS span_end,
        sum(o) AS offered, sum(w) AS went_well, sum(n) AS did_not_go_well,
        if(offered = 0, 0., 100. * went_well / offered) AS pct_went_well,
        if(offered = 0, 0., 100. * did_not_go_well / offered) AS pct_did_not_go_well
    FROM
    (
        SELECT
            toStartOfMinute(now()) - INTERVAL 59 MINUTE AS window_from,
            toStartOfMinute(now()) + INTERVAL 1 MINUTE AS window_to,
            agency, service, channel, driver,
            offered AS o, went_well AS w, did_not_go_well AS n
        FROM {db}.driver_scores_store FINAL
        WHERE window_seconds = 60 AND window_start >= window_from AND window_start < window_to
    )
    GROUP BY agency, service, channel, driver
);


-- Trust, rolling: the last hour, all channels together (channel = 'all').
CREATE VIEW IF NOT EXISTS {db}.trust_scores_1h_all_channels AS
SELECT
    span_start, span_end, agency, service, channel, trust_scale,
    responses, favourable, pct_favourable, count_0, count_1, count_2, count_3, count_4, count_5,
    pct_favourable_low, pct_favourable_high, suppressed
FROM
(
    SELECT
        agency, service, 'all' AS channel, trust_scale,
        any(window_from) AS span_start,
        any(window_to) AS span_end,
        sum(c0) AS count_0, sum(c1) AS count_1, sum(c2) AS count_2, sum(c3) AS count_3, sum(c4) AS count_4,
        sum(c5) AS count_5,
        count_0 + count_1 + count_2 + count_3 + count_4 + count_5 AS responses,
        if(trust_scale = 'thumbs', count_1, count_4 + count_5) AS favourable,
        if(responses = 0, 0., 100. * favourable / responses) AS pct_favourable,
        if(responses = 0, 0., favourable / responses) AS p,
        1.959963984540054 AS z,
        z * z AS z2,
        (p + z2 / (2 * responses)) / (1 + z2 / responses) AS centre,
        (z / (1 + z2 / responses)) * sqrt(p * (1 - p) / responses + z2 / (4 * responses * responses)) AS half,
        if(responses = 0, 0., greatest(0., 100. * (centre - half))) AS pct_favourable_low,
        if(responses = 0, 100., least(100., 100. * (centre + half))) AS pct_favourable_high,
        responses < (SELECT argMax(value, version) FROM {db}.view_settings WHERE name = 'min_responses') AS suppressed
    FROM
    (
        SELECT
            toStartOfMinute(now()) - INTERVAL 59 MINUTE AS window_from,
            toStartOfMinute(now()) + INTERVAL 1 MINUTE AS window_to,
            agency, service, trust_scale,
            count_0 AS c0, count_1 AS c1, count_2 AS c2, count_3 AS c3, count_4 AS c4, count_5 AS c5
        FROM {db}.trust_scores_store FINAL
        WHERE window_seconds = 60 AND window_start >= window_from AND window_start < window_to
    )
    GROUP BY agency, service, trust_scale
);

-- Drivers, rolling: the last hour, all channels together (channel = 'all').
CREATE VIEW IF NOT EXISTS {db}.driver_scores_1h_all_channels AS
SELECT
    span_start, span_end, agency, service, channel, driver,
    offered, went_well, did_not_go_well, pct_went_well, pct_did_not_go_well
FROM
(
    SELECT
        agency, service, 'all' AS channel, driver,
        any(window_from) AS span_start,
        any(window_to) AS span_end,
        sum(o) AS offered, sum(w) AS went_well, sum(n) AS did_not_go_well,
        if(offered = 0, 0., 100. * went_well / offered) AS pct_went_well,
        if(offered = 0, 0., 100. * did_not_go_well / offered) AS pct_did_not_go_well
    FROM
    (
        SELECT
            toStartOfMinute(now()) - INTERVAL 59 MINUTE AS window_from,
            toStartOfMinute(now()) + INTERVAL 1 MINUTE AS window_to,
            agency, service, driver,
            offered AS o, went_well AS w, did_not_go_well AS n
        FROM {db}.driver_scores_store FINAL
        WHERE window_seconds = 60 AND window_start >= window_from AND window_start < window_to
    )
    GROUP BY agency, service, driver
);


-- Trust, rolling: the last 24 hours.
CREATE VIEW IF NOT EXISTS {db}.trust_scores_24h AS
SELECT
    span_start, span_end, agency, service, channel, trust_scale,
    responses, favourable, pct_favourable, count_0, count_1, count_2, count_3, count_4, count_5,
    pct_favourable_low, pct_favourable_high, suppressed
FROM
(
    SELECT
        agency, service, channel, trust_scale,
        any(window_from) AS span_start,
        any(window_to) AS span_end,
        sum(c0) AS count_0, sum(c1) AS count_1, sum(c2) AS count_2, sum(c3) AS count_3, sum(c4) AS count_4,
        sum(c5) AS count_5,
        count_0 + count_1 + count_2 + count_3 + count_4 + count_5 AS responses,
        if(trust_scale = 'thumbs', count_1, count_4 + count_5) AS favourable,
        if(responses = 0, 0., 100. * favourable / responses) AS pct_favourable,
        if(responses = 0, 0., favourable / responses) AS p,
        1.959963984540054 AS z,
        z * z AS z2,
        (p + z2 / (2 * responses)) / (1 + z2 / responses) AS centre,
        (z / (1 + z2 / responses)) * sqrt(p * (1 - p) / responses + z2 / (4 * responses * responses)) AS half,
        if(responses = 0, 0., greatest(0., 100. * (centre - half))) AS pct_favourable_low,
        if(responses = 0, 100., least(100., 100. * (centre + half))) AS pct_favourable_high,
        responses < (SELECT argMax(value, version) FROM {db}.view_settings WHERE name = 'min_responses') AS suppressed
    FROM
    (
        SELECT
            toStartOfMinute(now()) - INTERVAL 1439 MINUTE AS window_from,
            toStartOfMinute(now()) + INTERVAL 1 MINUTE AS window_to,
            agency, service, channel, trust_scale,
            count_0 AS c0, count_1 AS c1, count_2 AS c2, count_3 AS c3, count_4 AS c4, count_5 AS c5
        FROM {db}.trust_scores_store FINAL
        WHERE window_seconds = 60 AND window_start >= window_from AND window_start < window_to
    )
    GROUP BY agency, service, channel, trust_scale
);

-- Drivers, rolling: the last 24 hours.
CREATE VIEW IF NOT EXISTS {db}.driver_scores_24h AS
SELECT
    span_start, span_end, agency, service, channel, driver,
    offered, went_well, did_not_go_well, pct_went_well, pct_did_not_go_well
FROM
(
    SELECT
        agency, service, channel, driver,
        any(window_from) AS span_start,
        any(window_to) AS span_end,
        sum(o) AS offered, sum(w) AS went_well, sum(n) AS did_not_go_well,
        if(offered = 0, 0., 100. * went_well / offered) AS pct_went_well,
        if(offered = 0, 0., 100. * did_not_go_well / offered) AS pct_did_not_go_well
    FROM
    (
        SELECT
            toStartOfMinute(now()) - INTERVAL 1439 MINUTE AS window_from,
            toStartOfMinute(now()) + INTERVAL 1 MINUTE AS window_to,
            agency, service, channel, driver,
            offered AS o, went_well AS w, did_not_go_well AS n
        FROM {db}.driver_scores_store FINAL
        WHERE window_seconds = 60 AND window_start >= window_from AND window_start < window_to
    )
    GROUP BY agency, service, channel, driver
);


-- Trust, rolling: the last 24 hours, all channels together (channel = 'all').
CREATE VIEW IF NOT EXISTS {db}.trust_scores_24h_all_channels AS
SELECT
    span_start, span_end, agency, service, channel, trust_scale,
    responses, favourable, pct_favourable, count_0, count_1, count_2, count_3, count_4, count_5,
    pct_favourable_low, pct_favourable_high, suppressed
FROM
(
    SELECT
        agency, service, 'all' AS channel, trust_scale,
        any(window_from) AS span_start,
        any(window_to) AS span_end,
        sum(c0) AS count_0, sum(c1) AS count_1, sum(c2) AS count_2, sum(c3) AS count_3, sum(c4) AS count_4,
        sum(c5) AS count_5,
        count_0 + count_1 + count_2 + count_3 + count_4 + count_5 AS responses,
        if(trust_scale = 'thumbs', count_1, count_4 + count_5) AS favourable,
        if(responses = 0, 0., 100. * favourable / responses) AS pct_favourable,
        if(responses = 0, 0., favourable / responses) AS p,
        1.959963984540054 AS z,
        z * z AS z2,
        (p + z2 / (2 * responses)) / (1 + z2 / responses) AS centre,
        (z / (1 + z2 / responses)) * sqrt(p * (1 - p) / responses + z2 / (4 * responses * responses)) AS half,
        if(responses = 0, 0., greatest(0., 100. * (centre - half))) AS pct_favourable_low,
        if(responses = 0, 100., least(100., 100. * (centre + half))) AS pct_favourable_high,
        responses < (SELECT argMax(value, version) FROM {db}.view_settings WHERE name = 'min_responses') AS suppressed
    FROM
    (
        SELECT
            toStartOfMinute(now()) - INTERVAL 1439 MINUTE AS window_from,
            toStartOfMinute(now()) + INTERVAL 1 MINUTE AS window_to,
            agency, service, trust_scale,
            count_0 AS c0, count_1 AS c1, count_2 AS c2, count_3 AS c3, count_4 AS c4, count_5 AS c5
        FROM {db}.trust_scores_store FINAL
        WHERE window_seconds = 60 AND window_start >= window_from AND window_start < window_to
    )
    GROUP BY agency, service, trust_scale
);

-- Drivers, rolling: the last 24 hours, all channels together (channel = 'all').
CREATE VIEW IF NOT EXISTS {db}.driver_scores_24h_all_channels AS
SELECT
    span_start, span_end, agency, service, channel, driver,
    offered, went_well, did_not_go_well, pct_went_well, pct_did_not_go_well
FROM
(
    SELECT
        agency, service, 'all' AS channel, driver,
        any(window_from) AS span_start,
        any(window_to) AS span_end,
        sum(o) AS offered, sum(w) AS went_well, sum(n) AS did_not_go_well,
        if(offered = 0, 0., 100. * went_well / offered) AS pct_went_well,
        if(offered = 0, 0., 100. * did_not_go_well / offered) AS pct_did_not_go_well
    FROM
    (
        SELECT
            toStartOfMinute(now()) - INTERVAL 1439 MINUTE AS window_from,
            toStartOfMinute(now()) + INTERVAL 1 MINUTE AS window_to,
            agency, service, driver,
            offered AS o, went_well AS w, did_not_go_well AS n
        FROM {db}.driver_scores_store FINAL
        WHERE window_seconds = 60 AND window_start >= window_from AND window_start < window_to
    )
    GROUP BY agency, service, driver
);

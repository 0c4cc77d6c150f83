-- Comment insights: what each stored (redacted) comment says, and themes per window. {db} is the
-- database; same dialect as 0001-0005 (ClickHouse 18.16 and current releases).
--
-- feedback_store gets, per feedback with a comment: comment_sentiment (compound score -1..1, NULL
-- without a comment), comment_label (negative / neutral / positive, NULL without a comment) and
-- comment_drivers (the A-11 drivers the comment talks about; empty without a comment). The sink
-- computes them from the redacted text it stores (cxstream/insights, docs/INSIGHTS.md).
ALTER TABLE {db}.feedback_store ADD COLUMN comment_sentiment Nullable(Float32);
ALTER TABLE {db}.feedback_store ADD COLUMN comment_label Nullable(String);
ALTER TABLE {db}.feedback_store ADD COLUMN comment_drivers Array(String);

DROP TABLE IF EXISTS {db}.feedback;

CREATE VIEW IF NOT EXISTS {db}.feedback AS
SELECT
    feedback_id, touchpoint_id, submitted_at, submitted_at_ms, agency, service, channel, matched,
    satisfaction, trust, quality, ease, efficiency, equity, helpfulness, comment,
    question_1, trust_scale, transaction_point,
    positive_effectiveness, positive_ease, positive_efficiency, positive_transparency, positive_humanity, positive_employee, positive_other,
    negative_effectiveness, negative_ease, negative_efficiency, negative_transparency, negative_humanity, negative_employee, negative_other,
    comment_sentiment, comment_label, comment_drivers
FROM {db}.feedback_store FINAL;

-- One row per 1-minute window (by submitted_at), agency, service, channel and driver a comment
-- talks about: how many comments mention it, and how many of them read negative or positive.
-- Counted from the deduplicated facts, so exact after replays like every other count.
CREATE VIEW IF NOT EXISTS {db}.comment_themes AS
SELECT
    toStartOfMinute(submitted_at) AS window_start,
    toUInt32(60) AS window_seconds,
    agency, service, channel, driver,
    count() AS mentions,
    countIf(label = 'negative') AS negative_mentions,
    countIf(label = 'positive') AS positive_mentions
FROM
(
    SELECT submitted_at, agency, service, channel, ifNull(comment_label, '') AS label, comment_drivers
    FROM {db}.feedback_store FINAL
    WHERE notEmpty(comment_drivers)
)
ARRAY JOIN comment_drivers AS driver
GROUP BY window_start, agency, service, channel, driver;


-- Themes, rolling: the last 15 minutes.
CREATE VIEW IF NOT EXISTS {db}.comment_themes_15m AS
SELECT
    span_start, span_end, agency, service, channel, driver, mentions, negative_mentions, positive_mentions
FROM
(
    SELECT
        agency, service, channel, driver,
        any(window_from) AS span_start,
        any(window_to) AS span_end,
        count() AS mentions,
        countIf(label = 'negative') AS negative_mentions,
        countIf(label = 'positive') AS positive_mentions
    FROM
    (
        SELECT
            toStartOfMinute(now()) - INTERVAL 14 MINUTE AS window_from,
            toStartOfMinute(now()) + INTERVAL 1 MINUTE AS window_to,
            agency, service, channel, ifNull(comment_label, '') AS label, comment_drivers
        FROM {db}.feedback_store FINAL
        WHERE notEmpty(comment_drivers) AND submitted_at >= window_from AND submitted_at < window_to
    )
    ARRAY JOIN comment_drivers AS driver
    GROUP BY agency, service, channel, driver
);


-- Themes, rolling: the last 15 minutes, all channels together (channel = 'all').
CREATE VIEW IF NOT EXISTS {db}.comment_themes_15m_all_channels AS
SELECT
    span_start, span_end, agency, service, channel, driver, mentions, negative_mentions, positive_mentions
FROM
(
    SELECT
        agency, service, 'all' AS channel, driver,
        any(window_from) AS span_start,
        any(window_to) AS span_end,
        count() AS mentions,
        countIf(label = 'negative') AS negative_mentions,
        countIf(label = 'positive') AS positive_mentions
    FROM
    (
        SELECT
            toStartOfMinute(now()) - INTERVAL 14 MINUTE AS window_from,
            toStartOfMinute(now()) + INTERVAL 1 MINUTE AS window_to,
            agency, service, channel, ifNull(comment_label, '') AS label, comment_drivers
        FROM {db}.feedback_store FINAL
        WHERE notEmpty(comment_drivers) AND submitted_at >= window_from AND submitted_at < window_to
    )
    ARRAY JOIN comment_drivers AS driver
    GROUP BY agency, service, driver
);


-- Themes, rolling: the last hour.
CREATE VIEW IF NOT EXISTS {db}.comment_themes_1h AS
SELECT
    span_start, span_end, agency, service, channel, driver, mentions, negative_mentions, positive_mentions
FROM
(
    SELECT
        agency, service, channel, driver,
        any(window_from) AS span_start,
        any(window_to) AS span_end,
        count() AS mentions,
        countIf(label = 'negative') AS negative_mentions,
        countIf(label = 'positive') AS positive_mentions
    FROM
    (
        SELECT
            toStartOfMinute(now()) - INTERVAL 59 MINUTE AS window_from,
            toStartOfMinute(now()) + INTERVAL 1 MINUTE AS window_to,
            agency, service, channel, ifNull(comment_label, '') AS label, comment_drivers
        FROM {db}.feedback_store FINAL
        WHERE notEmpty(comment_drivers) AND submitted_at >= window_from AND submitted_at < window_to
    )
    ARRAY JOIN comment_drivers AS driver
    GROUP BY agency, service, channel, driver
);


-- Themes, rolling: the last hour, all channels together (channel = 'all').
CREATE VIEW IF NOT EXISTS {db}.comment_themes_1h_all_channels AS
SELECT
    span_start, span_end, agency, service, channel, driver, mentions, negative_mentions, positive_mentions
FROM
(
    SELECT
        agency, service, 'all' AS channel, driver,
        any(window_from) AS span_start,
        any(window_to) AS span_end,
        count() AS mentions,
        countIf(label = 'negative') AS negative_mentions,
        countIf(label = 'positive') AS positive_mentions
    FROM
    (
        SELECT
            toStartOfMinute(now()) - INTERVAL 59 MINUTE AS window_from,
            toStartOfMinute(now()) + INTERVAL 1 MINUTE AS window_to,
            agency, service, channel, ifNull(comment_label, '') AS label, comment_drivers
        FROM {db}.feedback_store FINAL
        WHERE notEmpty(comment_drivers) AND submitted_at >= window_from AND submitted_at < window_to
    )
    ARRAY JOIN comment_drivers AS driver
    GROUP BY agency, service, driver
);


-- Themes, rolling: the last 24 hours.
CREATE VIEW IF NOT EXISTS {db}.comment_themes_24h AS
SELECT
    span_start, span_end, agency, service, channel, driver, mentions, negative_mentions, positive_mentions
FROM
(
    SELECT
        agency, service, channel, driver,
        any(window_from) AS span_start,
        any(window_to) AS span_end,
        count() AS mentions,
        countIf(label = 'negative') AS negative_mentions,
        countIf(label = 'positive') AS positive_mentions
    FROM
    (
        SELECT
            toStartOfMinute(now()) - INTERVAL 1439 MINUTE AS window_from,
            toStartOfMinute(now()) + INTERVAL 1 MINUTE AS window_to,
            agency, service, channel, ifNull(comment_label, '') AS label, comment_drivers
        FROM {db}.feedback_store FINAL
        WHERE notEmpty(comment_drivers) AND submitted_at >= window_from AND submitted_at < window_to
    )
    ARRAY JOIN comment_drivers AS driver
    GROUP BY agency, service, channel, driver
);


-- Themes, rolling: the last 24 hours, all channels together (channel = 'all').
CREATE VIEW IF NOT EXISTS {db}.comment_themes_24h_all_channels AS
SELECT
    span_start, span_end, agency, service, channel, driver, mentions, negative_mentions, positive_mentions
FROM
(
    SELECT
        agency, service, 'all' AS channel, driver,
        any(window_from) AS span_start,
        any(window_to) AS span_end,
        count() AS mentions,
        countIf(label = 'negative') AS negative_mentions,
        countIf(label = 'positive') AS positive_mentions
    FROM
    (
        SELECT
            toStartOfMinute(now()) - INTERVAL 1439 MINUTE AS window_from,
            toStartOfMinute(now()) + INTERVAL 1 MINUTE AS window_to,
            agency, service, channel, ifNull(comment_label, '') AS label, comment_drivers
        FROM {db}.feedback_store FINAL
        WHERE notEmpty(comment_drivers) AND submitted_at >= window_from AND submitted_at < window_to
    )
    ARRAY JOIN comment_drivers AS driver
    GROUP BY agency, service, driver
);

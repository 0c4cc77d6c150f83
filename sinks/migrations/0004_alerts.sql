-- Alerts as the worker raised them (topic alerts.v1), and the ones open now. {db} is the database.
-- Same dialect as 0001-0003 (ClickHouse 18.16 and current releases): DateTime('UTC') plus the
-- exact epoch milliseconds, no DateTime64, no TTL.
--
-- One row per transition: an (agency, service, domain) fires when its rolling 15-minute
-- pct_positive falls below the threshold and resolves when it recovers. The identity of a
-- transition is its key, the end of the rolling span it was computed on and its state; a
-- transition the worker publishes again after a restart (same span, same state, a later
-- raised_at) or a replayed sink batch is absorbed by the ReplacingMergeTree and the views' FINAL.
CREATE TABLE IF NOT EXISTS {db}.alerts_store
(
    agency String,
    service String,
    domain String,
    state String,                      -- firing | resolved (unknown: a state this release does not know)
    window_end DateTime('UTC'),        -- end of the rolling span the score covers
    window_end_ms Int64,
    raised_at DateTime('UTC'),         -- when the worker raised it
    raised_at_ms Int64,
    pct_positive Float64,
    responses UInt64,
    threshold Float64,
    min_responses UInt64,
    _version UInt64                    -- from the Kafka record: the latest copy of a transition is kept
)
ENGINE = ReplacingMergeTree(_version)
ORDER BY (agency, service, domain, window_end_ms, state);

-- Every transition, once.
CREATE VIEW IF NOT EXISTS {db}.alerts AS
SELECT
    agency, service, domain, state, window_end, window_end_ms, raised_at, raised_at_ms,
    pct_positive, responses, threshold, min_responses
FROM {db}.alerts_store FINAL;

-- One row per (agency, service, domain) whose latest transition is `firing`: firing_since is when
-- it fired, pct_positive and responses are the figures it fired on. Transitions of one key are
-- ordered by their span's end, then by when they were raised (a fire and a resolve may share a span).
CREATE VIEW IF NOT EXISTS {db}.open_alerts AS
SELECT
    agency, service, domain,
    last_raised_at AS firing_since, last_raised_at_ms AS firing_since_ms, last_window_end AS window_end,
    last_pct_positive AS pct_positive, last_responses AS responses, last_threshold AS threshold,
    last_min_responses AS min_responses
FROM
(
    SELECT
        agency, service, domain,
        argMax(state, (window_end_ms, raised_at_ms)) AS last_state,
        argMax(raised_at, (window_end_ms, raised_at_ms)) AS last_raised_at,
        argMax(raised_at_ms, (window_end_ms, raised_at_ms)) AS last_raised_at_ms,
        argMax(window_end, (window_end_ms, raised_at_ms)) AS last_window_end,
        argMax(pct_positive, (window_end_ms, raised_at_ms)) AS last_pct_positive,
        argMax(responses, (window_end_ms, raised_at_ms)) AS last_responses,
        argMax(threshold, (window_end_ms, raised_at_ms)) AS last_threshold,
        argMax(min_responses, (window_end_ms, raised_at_ms)) AS last_min_responses
    FROM {db}.alerts_store FINAL
    GROUP BY agency, service, domain
)
WHERE last_state = 'firing';

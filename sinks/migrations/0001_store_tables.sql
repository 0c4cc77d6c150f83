-- The tables the sink writes, one per kind of fact. {db} is the database (Settings.clickhouse_database).
-- Kept to the SQL that both ClickHouse 18.16 (the local server) and current releases accept: no
-- DateTime64 (times are DateTime('UTC') plus the exact epoch milliseconds), no LowCardinality.
--
-- Every table is a ReplacingMergeTree whose sorting key is the fact's identity (plus columns that
-- never change for one identity), so a replayed sink batch is absorbed: after a merge one row is
-- left per key, and the public views (0002) read with FINAL so that holds before merges too.

CREATE TABLE IF NOT EXISTS {db}.touchpoints_store
(
    touchpoint_id String,
    occurred_at DateTime('UTC'),
    occurred_at_ms Int64,              -- the same instant, exact: UTC epoch milliseconds
    agency String,
    service String,
    channel String,
    outcome Nullable(String),
    wait_seconds Nullable(Int32),
    handle_seconds Nullable(Int32),
    survey_offered Nullable(UInt8),
    _version UInt64                    -- from the Kafka offset: the highest version is kept
)
ENGINE = ReplacingMergeTree(_version)
PARTITION BY toYYYYMM(occurred_at)
ORDER BY (agency, service, channel, occurred_at, touchpoint_id);

-- Sorted by time first: reports and BI select a span of submitted_at. A feedback_id's
-- submitted_at never changes (stage B passes on the first occurrence only), so the key
-- identifies the feedback_id and the partition holds all its copies.
CREATE TABLE IF NOT EXISTS {db}.feedback_store
(
    feedback_id String,
    touchpoint_id Nullable(String),
    submitted_at DateTime('UTC'),
    submitted_at_ms Int64,
    agency String,
    service String,
    channel String,
    matched UInt8,
    satisfaction Nullable(UInt8),
    trust Nullable(UInt8),
    quality Nullable(UInt8),
    ease Nullable(UInt8),
    efficiency Nullable(UInt8),
    equity Nullable(UInt8),
    helpfulness Nullable(UInt8),
    comment Nullable(String),
    _version UInt64
)
ENGINE = ReplacingMergeTree(_version)
PARTITION BY toYYYYMM(submitted_at)
ORDER BY (submitted_at, feedback_id);

-- Latest state of each 1-minute window cell; the merge stage's version grows with every change.
-- Sorted by time first: the rolling views read the last minutes or hours of every cell.
CREATE TABLE IF NOT EXISTS {db}.domain_scores_store
(
    window_start DateTime('UTC'),
    window_seconds UInt32,
    agency String,
    service String,
    channel String,
    domain String,
    responses UInt64,
    count_1 UInt64,
    count_2 UInt64,
    count_3 UInt64,
    count_4 UInt64,
    count_5 UInt64,
    mean Float64,
    pct_positive Float64,
    version UInt64
)
ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(window_start)
ORDER BY (window_start, agency, service, channel, domain, window_seconds);

-- One row per dead-lettered input position. A replay dead-letters the same position again
-- (with a later received_at); no partitioning by time, so every copy of a position can merge.
CREATE TABLE IF NOT EXISTS {db}.dead_letters_store
(
    source_topic String,
    `partition` Int32,
    `offset` Int64,
    reason String,
    detail String,
    received_at DateTime('UTC'),
    received_at_ms Int64,
    key Nullable(String),
    raw String
)
ENGINE = ReplacingMergeTree
ORDER BY (source_topic, `partition`, `offset`);

-- Settings the views read (views cannot read cxstream's settings): `cxstream db migrate` writes
-- min_responses from CXSTREAM_BI_MIN_RESPONSES; the highest version of a name is current.
CREATE TABLE IF NOT EXISTS {db}.view_settings
(
    name String,
    value Int64,
    version UInt64
)
ENGINE = ReplacingMergeTree(version)
ORDER BY name;

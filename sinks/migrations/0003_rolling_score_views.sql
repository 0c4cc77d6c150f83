-- Rolling scores relative to now(): the last N 1-minute windows, the current one included
-- (span_start <= window_start < span_end, span_end = the end of the current minute), as the
-- alerts count them. Only the 1-minute answer counts are summed; mean, pct_positive and the
-- Wilson interval are derived from the sums, never averaged. Each window cell is read with
-- FINAL and the time filter is on the sorting key, so only the span's latest cell states count.
-- `suppressed` = responses below view_settings' min_responses (CXSTREAM_BI_MIN_RESPONSES).
-- The *_all_channels views add up every channel of an (agency, service, domain): channel = 'all'.

-- The last 5 minutes.
CREATE VIEW IF NOT EXISTS {db}.domain_scores_5m AS
SELECT
    span_start, span_end, agency, service, channel, domain,
    responses, count_1, count_2, count_3, count_4, count_5, mean, pct_positive,
    pct_positive_low, pct_positive_high, suppressed
FROM
(
    SELECT
        agency, service, channel, domain,
        any(window_from) AS span_start,
        any(window_to) AS span_end,
        sum(c1) AS count_1, sum(c2) AS count_2, sum(c3) AS count_3, sum(c4) AS count_4, sum(c5) AS count_5,
        count_1 + count_2 + count_3 + count_4 + count_5 AS responses,
        if(responses = 0, 0., (count_1 + 2 * count_2 + 3 * count_3 + 4 * count_4 + 5 * count_5) / responses) AS mean,
        if(responses = 0, 0., 100. * (count_4 + count_5) / responses) AS pct_positive,
        if(responses = 0, 0., (count_4 + count_5) / responses) AS p,
        1.959963984540054 AS z,
        z * z AS z2,
        (p + z2 / (2 * responses)) / (1 + z2 / responses) AS centre,
        (z / (1 + z2 / responses)) * sqrt(p * (1 - p) / responses + z2 / (4 * responses * responses)) AS half,
        if(responses = 0, 0., greatest(0., 100. * (centre - half))) AS pct_positive_low,
        if(responses = 0, 100., least(100., 100. * (centre + half))) AS pct_positive_high,
        responses < (SELECT argMax(value, version) FROM {db}.view_settings WHERE name = 'min_responses') AS suppressed
    FROM
    (
        SELECT
            toStartOfMinute(now()) - INTERVAL 4 MINUTE AS window_from,
            toStartOfMinute(now()) + INTERVAL 1 MINUTE AS window_to,
            agency, service, channel, domain,
            count_1 AS c1, count_2 AS c2, count_3 AS c3, count_4 AS c4, count_5 AS c5
        FROM {db}.domain_scores_store FINAL
        WHERE window_seconds = 60 AND window_start >= window_from AND window_start < window_to
    )
    GROUP BY agency, service, channel, domain
);

-- The last 5 minutes, all channels together.
CREATE VIEW IF NOT EXISTS {db}.domain_scores_5m_all_channels AS
SELECT
    span_start, span_end, agency, service, channel, domain,
    responses, count_1, count_2, count_3, count_4, count_5, mean, pct_positive,
    pct_positive_low, pct_positive_high, suppressed
FROM
(
    SELECT
        agency, service, 'all' AS channel, domain,
        any(window_from) AS span_start,
        any(window_to) AS span_end,
        sum(c1) AS count_1, sum(c2) AS count_2, sum(c3) AS count_3, sum(c4) AS count_4, sum(c5) AS count_5,
        count_1 + count_2 + count_3 + count_4 + count_5 AS responses,
        if(responses = 0, 0., (count_1 + 2 * count_2 + 3 * count_3 + 4 * count_4 + 5 * count_5) / responses) AS mean,
        if(responses = 0, 0., 100. * (count_4 + count_5) / responses) AS pct_positive,
        if(responses = 0, 0., (count_4 + count_5) / responses) AS p,
        1.959963984540054 AS z,
        z * z AS z2,
        (p + z2 / (2 * responses)) / (1 + z2 / responses) AS centre,
        (z / (1 + z2 / responses)) * sqrt(p * (1 - p) / responses + z2 / (4 * responses * responses)) AS half,
        if(responses = 0, 0., greatest(0., 100. * (centre - half))) AS pct_positive_low,
        if(responses = 0, 100., least(100., 100. * (centre + half))) AS pct_positive_high,
        responses < (SELECT argMax(value, version) FROM {db}.view_settings WHERE name = 'min_responses') AS suppressed
    FROM
    (
        SELECT
            toStartOfMinute(now()) - INTERVAL 4 MINUTE AS window_from,
            toStartOfMinute(now()) + INTERVAL 1 MINUTE AS window_to,
            agency, service, domain,
            count_1 AS c1, count_2 AS c2, count_3 AS c3, count_4 AS c4, count_5 AS c5
        FROM {db}.domain_scores_store FINAL
        WHERE window_seconds = 60 AND window_start >= window_from AND window_start < window_to
    )
    GROUP BY agency, service, domain
);

-- The last 15 minutes.
CREATE VIEW IF NOT EXISTS {db}.domain_scores_15m AS
SELECT
    span_start, span_end, agency, service, channel, domain,
    responses, count_1, count_2, count_3, count_4, count_5, mean, pct_positive,
    pct_positive_low, pct_positive_high, suppressed
FROM
(
    SELECT
        agency, service, channel, domain,
        any(window_from) AS span_start,
        any(window_to) AS span_end,
        sum(c1) AS count_1, sum(c2) AS count_2, sum(c3) AS count_3, sum(c4) AS count_4, sum(c5) AS count_5,
        count_1 + count_2 + count_3 + count_4 + count_5 AS responses,
        if(responses = 0, 0., (count_1 + 2 * count_2 + 3 * count_3 + 4 * count_4 + 5 * count_5) / responses) AS mean,
        if(responses = 0, 0., 100. * (count_4 + count_5) / responses) AS pct_positive,
        if(responses = 0, 0., (count_4 + count_5) / responses) AS p,
        1.959963984540054 AS z,
        z * z AS z2,
        (p + z2 / (2 * responses)) / (1 + z2 / responses) AS centre,
        (z / (1 + z2 / responses)) * sqrt(p * (1 - p) / responses + z2 / (4 * responses * responses)) AS half,
        if(responses = 0, 0., greatest(0., 100. * (centre - half))) AS pct_positive_low,
        if(responses = 0, 100., least(100., 100. * (centre + half))) AS pct_positive_high,
        responses < (SELECT argMax(value, version) FROM {db}.view_settings WHERE name = 'min_responses') AS suppressed
    FROM
    (
        SELECT
            toStartOfMinute(now()) - INTERVAL 14 MINUTE AS window_from,
            toStartOfMinute(now()) + INTERVAL 1 MINUTE AS window_to,
            agency, service, channel, domain,
            count_1 AS c1, count_2 AS c2, count_3 AS c3, count_4 AS c4, count_5 AS c5
        FROM {db}.domain_scores_store FINAL
        WHERE window_seconds = 60 AND window_start >= window_from AND window_start < window_to
    )
    GROUP BY agency, service, channel, domain
);

-- The last 15 minutes, all channels together.
CREATE VIEW IF NOT EXISTS {db}.domain_scores_15m_all_channels AS
SELECT
    span_start, span_end, agency, service, channel, domain,
    responses, count_1, count_2, count_3, count_4, count_5, mean, pct_positive,
    pct_positive_low, pct_positive_high, suppressed
FROM
(
    SELECT
        agency, service, 'all' AS channel, domain,
        any(window_from) AS span_start,
        any(window_to) AS span_end,
        sum(c1) AS count_1, sum(c2) AS count_2, sum(c3) AS count_3, sum(c4) AS count_4, sum(c5) AS count_5,
        count_1 + count_2 + count_3 + count_4 + count_5 AS responses,
        if(responses = 0, 0., (count_1 + 2 * count_2 + 3 * count_3 + 4 * count_4 + 5 * count_5) / responses) AS mean,
        if(responses = 0, 0., 100. * (count_4 + count_5) / responses) AS pct_positive,
        if(responses = 0, 0., (count_4 + count_5) / responses) AS p,
        1.959963984540054 AS z,
        z * z AS z2,
        (p + z2 / (2 * responses)) / (1 + z2 / responses) AS centre,
        (z / (1 + z2 / responses)) * sqrt(p * (1 - p) / responses + z2 / (4 * responses * responses)) AS half,
        if(responses = 0, 0., greatest(0., 100. * (centre - half))) AS pct_positive_low,
        if(responses = 0, 100., least(100., 100. * (centre + half))) AS pct_positive_high,
        responses < (SELECT argMax(value, version) FROM {db}.view_settings WHERE name = 'min_responses') AS suppressed
    FROM
    (
        SELECT
            toStartOfMinute(now()) - INTERVAL 14 MINUTE AS window_from,
            toStartOfMinute(now()) + INTERVAL 1 MINUTE AS window_to,
            agency, service, domain,
            count_1 AS c1, count_2 AS c2, count_3 AS c3, count_4 AS c4, count_5 AS c5
        FROM {db}.domain_scores_store FINAL
        WHERE window_seconds = 60 AND window_start >= window_from AND window_start < window_to
    )
    GROUP BY agency, service, domain
);

-- The last hour.
CREATE VIEW IF NOT EXISTS {db}.domain_scores_1h AS
SELECT
    span_start, span_end, agency, service, channel, domain,
    responses, count_1, count_2, count_3, count_4, count_5, mean, pct_positive,
    pct_positive_low, pct_positive_high, suppressed
FROM
(
    SELECT
        agency, service, channel, domain,
        any(window_from) AS span_start,
        any(window_to) AS span_end,
        sum(c1) AS count_1, sum(c2) AS count_2, sum(c3) AS count_3, sum(c4) AS count_4, sum(c5) AS count_5,
        count_1 + count_2 + count_3 + count_4 + count_5 AS responses,
        if(responses = 0, 0., (count_1 + 2 * count_2 + 3 * count_3 + 4 * count_4 + 5 * count_5) / responses) AS mean,
        if(responses = 0, 0., 100. * (count_4 + count_5) / responses) AS pct_positive,
        if(responses = 0, 0., (count_4 + count_5) / responses) AS p,
        1.959963984540054 AS z,
        z * z AS z2,
        (p + z2 / (2 * responses)) / (1 + z2 / responses) AS centre,
        (z / (1 + z2 / responses)) * sqrt(p * (1 - p) / responses + z2 / (4 * responses * responses)) AS half,
        if(responses = 0, 0., greatest(0., 100. * (centre - half))) AS pct_positive_low,
        if(responses = 0, 100., least(100., 100. * (centre + half))) AS pct_positive_high,
        responses < (SELECT argMax(value, version) FROM {db}.view_settings WHERE name = 'min_responses') AS suppressed
    FROM
    (
        SELECT
            toStartOfMinute(now()) - INTERVAL 59 MINUTE AS window_from,
            toStartOfMinute(now()) + INTERVAL 1 MINUTE AS window_to,
            agency, service, channel, domain,
            count_1 AS c1, count_2 AS c2, count_3 AS c3, count_4 AS c4, count_5 AS c5
        FROM {db}.domain_scores_store FINAL
        WHERE window_seconds = 60 AND window_start >= window_from AND window_start < window_to
    )
    GROUP BY agency, service, channel, domain
);

-- The last hour, all channels together.
CREATE VIEW IF NOT EXISTS {db}.domain_scores_1h_all_channels AS
SELECT
    span_start, span_end, agency, service, channel, domain,
    responses, count_1, count_2, count_3, count_4, count_5, mean, pct_positive,
    pct_positive_low, pct_positive_high, suppressed
FROM
(
    SELECT
        agency, service, 'all' AS channel, domain,
        any(window_from) AS span_start,
        any(window_to) AS span_end,
        sum(c1) AS count_1, sum(c2) AS count_2, sum(c3) AS count_3, sum(c4) AS count_4, sum(c5) AS count_5,
        count_1 + count_2 + count_3 + count_4 + count_5 AS responses,
        if(responses = 0, 0., (count_1 + 2 * count_2 + 3 * count_3 + 4 * count_4 + 5 * count_5) / responses) AS mean,
        if(responses = 0, 0., 100. * (count_4 + count_5) / responses) AS pct_positive,
        if(responses = 0, 0., (count_4 + count_5) / responses) AS p,
        1.959963984540054 AS z,
        z * z AS z2,
        (p + z2 / (2 * responses)) / (1 + z2 / responses) AS centre,
        (z / (1 + z2 / responses)) * sqrt(p * (1 - p) / responses + z2 / (4 * responses * responses)) AS half,
        if(responses = 0, 0., greatest(0., 100. * (centre - half))) AS pct_positive_low,
        if(responses = 0, 100., least(100., 100. * (centre + half))) AS pct_positive_high,
        responses < (SELECT argMax(value, version) FROM {db}.view_settings WHERE name = 'min_responses') AS suppressed
    FROM
    (
        SELECT
            toStartOfMinute(now()) - INTERVAL 59 MINUTE AS window_from,
            toStartOfMinute(now()) + INTERVAL 1 MINUTE AS window_to,
            agency, service, domain,
            count_1 AS c1, count_2 AS c2, count_3 AS c3, count_4 AS c4, count_5 AS c5
        FROM {db}.domain_scores_store FINAL
        WHERE window_seconds = 60 AND window_start >= window_from AND window_start < window_to
    )
    GROUP BY agency, service, domain
);

-- The last 24 hours.
CREATE VIEW IF NOT EXISTS {db}.domain_scores_24h AS
SELECT
    span_start, span_end, agency, service, channel, domain,
    responses, count_1, count_2, count_3, count_4, count_5, mean, pct_positive,
    pct_positive_low, pct_positive_high, suppressed
FROM
(
    SELECT
        agency, service, channel, domain,
        any(window_from) AS span_start,
        any(window_to) AS span_end,
        sum(c1) AS count_1, sum(c2) AS count_2, sum(c3) AS count_3, sum(c4) AS count_4, sum(c5) AS count_5,
        count_1 + count_2 + count_3 + count_4 + count_5 AS responses,
        if(responses = 0, 0., (count_1 + 2 * count_2 + 3 * count_3 + 4 * count_4 + 5 * count_5) / responses) AS mean,
        if(responses = 0, 0., 100. * (count_4 + count_5) / responses) AS pct_positive,
        if(responses = 0, 0., (count_4 + count_5) / responses) AS p,
        1.959963984540054 AS z,
        z * z AS z2,
        (p + z2 / (2 * responses)) / (1 + z2 / responses) AS centre,
        (z / (1 + z2 / responses)) * sqrt(p * (1 - p) / responses + z2 / (4 * responses * responses)) AS half,
        if(responses = 0, 0., greatest(0., 100. * (centre - half))) AS pct_positive_low,
        if(responses = 0, 100., least(100., 100. * (centre + half))) AS pct_positive_high,
        responses < (SELECT argMax(value, version) FROM {db}.view_settings WHERE name = 'min_responses') AS suppressed
    FROM
    (
        SELECT
            toStartOfMinute(now()) - INTERVAL 1439 MINUTE AS window_from,
            toStartOfMinute(now()) + INTERVAL 1 MINUTE AS window_to,
            agency, service, channel, domain,
            count_1 AS c1, count_2 AS c2, count_3 AS c3, count_4 AS c4, count_5 AS c5
        FROM {db}.domain_scores_store FINAL
        WHERE window_seconds = 60 AND window_start >= window_from AND window_start < window_to
    )
    GROUP BY agency, service, channel, domain
);

-- The last 24 hours, all channels together.
CREATE VIEW IF NOT EXISTS {db}.domain_scores_24h_all_channels AS
SELECT
    span_start, span_end, agency, service, channel, domain,
    responses, count_1, count_2, count_3, count_4, count_5, mean, pct_positive,
    pct_positive_low, pct_positive_high, suppressed
FROM
(
    SELECT
        agency, service, 'all' AS channel, domain,
        any(window_from) AS span_start,
        any(window_to) AS span_end,
        sum(c1) AS count_1, sum(c2) AS count_2, sum(c3) AS count_3, sum(c4) AS count_4, sum(c5) AS count_5,
        count_1 + count_2 + count_3 + count_4 + count_5 AS responses,
        if(responses = 0, 0., (count_1 + 2 * count_2 + 3 * count_3 + 4 * count_4 + 5 * count_5) / responses) AS mean,
        if(responses = 0, 0., 100. * (count_4 + count_5) / responses) AS pct_positive,
        if(responses = 0, 0., (count_4 + count_5) / responses) AS p,
        1.959963984540054 AS z,
        z * z AS z2,
        (p + z2 / (2 * responses)) / (1 + z2 / responses) AS centre,
        (z / (1 + z2 / responses)) * sqrt(p * (1 - p) / responses + z2 / (4 * responses * responses)) AS half,
        if(responses = 0, 0., greatest(0., 100. * (centre - half))) AS pct_positive_low,
        if(responses = 0, 100., least(100., 100. * (centre + half))) AS pct_positive_high,
        responses < (SELECT argMax(value, version) FROM {db}.view_settings WHERE name = 'min_responses') AS suppressed
    FROM
    (
        SELECT
            toStartOfMinute(now()) - INTERVAL 1439 MINUTE AS window_from,
            toStartOfMinute(now()) + INTERVAL 1 MINUTE AS window_to,
            agency, service, domain,
            count_1 AS c1, count_2 AS c2, count_3 AS c3, count_4 AS c4, count_5 AS c5
        FROM {db}.domain_scores_store FINAL
        WHERE window_seconds = 60 AND window_start >= window_from AND window_start < window_to
    )
    GROUP BY agency, service, domain
);

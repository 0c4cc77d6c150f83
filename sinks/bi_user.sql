-- Read-only access for BI tools on ClickHouse with SQL-defined users (20.5 and later; the local
-- 18.16 server has none: its BI user is in stack/clickhouse-users.xml). `cxstream db bi-user`
-- fills in the database, the user and the SHA-256 of the password from the settings
-- (CXSTREAM_CLICKHOUSE_DATABASE, _BI_USER, _BI_PASSWORD): the password itself is never printed.
-- Run it as a user with access management (e.g. the docker compose stack's cxstream user).
-- IF NOT EXISTS keeps it idempotent; to change the password later use ALTER USER.
CREATE ROLE IF NOT EXISTS {db}_bi_reader;
GRANT SELECT ON {db}.* TO {db}_bi_reader;
CREATE USER IF NOT EXISTS {user} IDENTIFIED WITH sha256_hash BY '{password_sha256}' SETTINGS readonly = 1;
GRANT {db}_bi_reader TO {user};

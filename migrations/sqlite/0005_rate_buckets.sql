-- Allowances of rate-limited clients (public contributions), shared by every instance on
-- this store: a token bucket per client key, refilled continuously.
CREATE TABLE rate_buckets (
    key    TEXT    NOT NULL PRIMARY KEY,
    tokens REAL    NOT NULL,
    at_ms  INTEGER NOT NULL  -- Unix time of the last refill, milliseconds
) WITHOUT ROWID;

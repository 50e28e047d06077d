-- The contact ledger: every attempt or outcome a dialer or collector records, and every gate
-- decision made on the stored history. Portable SQL: the same file runs on SQLite and PostgreSQL
-- (ids are text made by the host, times are milliseconds since the epoch, flags are 0/1).

CREATE TABLE ledger_meta (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE contacts (
    id TEXT PRIMARY KEY,
    debtor_id TEXT NOT NULL,
    debt_id TEXT,
    -- the attempt's instant as the caller gave it (RFC 3339 with its offset), and in ms
    at TEXT NOT NULL,
    at_ms BIGINT NOT NULL,
    party TEXT NOT NULL,
    -- keyed hash of the number (HMAC-SHA256 with the server's phone key); never the number
    phone_hash TEXT,
    channel TEXT NOT NULL,
    -- connected / unanswered / refused, or pending for a reservation not yet completed
    outcome TEXT NOT NULL,
    collector_id TEXT,
    idempotency_key TEXT UNIQUE,
    recorded_at_ms BIGINT NOT NULL,
    -- a pending reservation counts as unanswered once this passes without an outcome
    expires_at_ms BIGINT,
    completed_at_ms BIGINT
);

CREATE INDEX contacts_by_debtor ON contacts (debtor_id, at_ms);
CREATE INDEX contacts_by_time ON contacts (at_ms);

CREATE TABLE gate_decisions (
    id TEXT PRIMARY KEY,
    decided_at_ms BIGINT NOT NULL,
    debtor_id TEXT NOT NULL,
    -- the pending attempt a reservation recorded, if any
    contact_id TEXT,
    allowed BIGINT NOT NULL,
    pack_id TEXT NOT NULL,
    pack_version TEXT NOT NULL,
    pack_sha256 TEXT NOT NULL,
    module_sha256 TEXT NOT NULL,
    -- the call handed to the module (phone numbers as their keyed hashes) and its answer
    request TEXT NOT NULL,
    answer TEXT NOT NULL,
    -- a reservation's idempotency key: asking again replays this decision
    idempotency_key TEXT UNIQUE
);

CREATE INDEX gate_decisions_by_time ON gate_decisions (decided_at_ms);
CREATE INDEX gate_decisions_by_debtor ON gate_decisions (debtor_id, decided_at_ms);

-- Reviewers' work on scored calls, as an append-only log: a verdict on a finding (confirmed or
-- disputed, i.e. a false alarm), a note on a call or a finding, a score adjusted with its reason.
-- Each row says who and when; the latest row of a kind for a call or finding is what stands.

CREATE TABLE reviews (
    id TEXT PRIMARY KEY,
    -- the call: the sha256 of the transcript file's content, so the same file is the same call
    call_key TEXT NOT NULL,
    call_label TEXT,
    -- the finding (`rule@turn:start-end`), or NULL for the call itself
    finding_key TEXT,
    -- verdict / note / score
    kind TEXT NOT NULL,
    -- JSON: {"verdict": "confirmed" | "disputed"}, {"note": "…"}, {"score": 85, "reason": "…"}
    value TEXT NOT NULL,
    -- the finding as the reviewer saw it (JSON), for the pack's authors
    finding TEXT,
    reviewer TEXT NOT NULL,
    at_ms BIGINT NOT NULL
);

CREATE INDEX reviews_by_call ON reviews (call_key, at_ms);
CREATE INDEX reviews_by_time ON reviews (at_ms);

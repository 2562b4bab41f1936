-- id: 715b51339ec9
-- parents: 6f5b0dbe1cf1
-- message: create audit log
-- created: 2026-11-19T11:25:00Z
-- labels: audit

-- migrate:up
CREATE TABLE audit_log (
    id BIGINT PRIMARY KEY,
    customer_id BIGINT REFERENCES customers (id),
    action VARCHAR(64) NOT NULL,
    detail TEXT,
    logged_at VARCHAR(32) NOT NULL
);
CREATE INDEX ix_audit_log_customer_id ON audit_log (customer_id);

-- migrate:down
DROP TABLE audit_log;

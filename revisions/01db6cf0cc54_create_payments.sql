-- id: 01db6cf0cc54
-- parents: d795e90cb440
-- message: create payments
-- created: 2026-11-12T16:48:00Z

-- migrate:up
CREATE TABLE payments (
    id BIGINT PRIMARY KEY,
    invoice_id BIGINT NOT NULL REFERENCES invoices (id),
    amount NUMERIC(10,2) NOT NULL,
    provider VARCHAR(32) NOT NULL,
    paid_at VARCHAR(32) NOT NULL
);
CREATE INDEX ix_payments_invoice_id ON payments (invoice_id);

-- migrate:down
DROP TABLE payments;

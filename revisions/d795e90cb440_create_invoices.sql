-- id: d795e90cb440
-- parents: 70934d49a34c
-- message: create invoices
-- created: 2026-11-09T10:05:00Z
-- labels: billing

-- migrate:up
CREATE TABLE invoices (
    id BIGINT PRIMARY KEY,
    order_id BIGINT NOT NULL REFERENCES orders (id),
    number VARCHAR(32) NOT NULL,
    total NUMERIC(10,2) NOT NULL,
    issued_at VARCHAR(32) NOT NULL
);
CREATE INDEX ix_invoices_order_id ON invoices (order_id);

-- migrate:down
DROP TABLE invoices;

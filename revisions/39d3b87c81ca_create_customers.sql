-- id: 39d3b87c81ca
-- parents:
-- message: create customers
-- created: 2026-11-02T09:14:00Z

-- migrate:up
CREATE TABLE customers (
    id BIGINT PRIMARY KEY,
    email VARCHAR(255) NOT NULL,
    full_name VARCHAR(200) NOT NULL,
    created_at VARCHAR(32) NOT NULL
);
CREATE INDEX ix_customers_email ON customers (email);

-- migrate:down
DROP TABLE customers;

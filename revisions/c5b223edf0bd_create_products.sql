-- id: c5b223edf0bd
-- parents: 39d3b87c81ca
-- message: create products with seed catalogue
-- created: 2026-11-03T11:02:00Z

-- migrate:up
CREATE TABLE products (
    id BIGINT PRIMARY KEY,
    sku VARCHAR(32) NOT NULL,
    name VARCHAR(200) NOT NULL,
    description TEXT,
    price NUMERIC(10,2) NOT NULL,
    active INTEGER DEFAULT 1 NOT NULL
);
CREATE INDEX ix_products_sku ON products (sku);
INSERT INTO products (id, sku, name, price) VALUES (1, 'MUG-001', 'Coffee mug', 9.50);
INSERT INTO products (id, sku, name, price) VALUES (2, 'TEE-001', 'T-shirt', 19.00);
INSERT INTO products (id, sku, name, price) VALUES (3, 'CAP-001', 'Baseball cap', 14.25);

-- migrate:down
DROP TABLE products;

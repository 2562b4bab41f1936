-- id: 70934d49a34c
-- parents: c5b223edf0bd
-- message: create orders and order items
-- created: 2026-11-05T15:30:00Z

-- migrate:up
CREATE TABLE orders (
    id BIGINT PRIMARY KEY,
    customer_id BIGINT NOT NULL REFERENCES customers (id),
    state VARCHAR(16) DEFAULT 'new' NOT NULL,
    placed_at VARCHAR(32) NOT NULL
);
CREATE INDEX ix_orders_customer_id ON orders (customer_id);
CREATE TABLE order_items (
    order_id BIGINT NOT NULL REFERENCES orders (id),
    line_no INTEGER NOT NULL,
    product_id BIGINT NOT NULL REFERENCES products (id),
    quantity INTEGER DEFAULT 1 NOT NULL,
    unit_price NUMERIC(10,2) NOT NULL,
    PRIMARY KEY (order_id, line_no)
);
CREATE INDEX ix_order_items_product_id ON order_items (product_id);

-- migrate:down
DROP TABLE order_items;
DROP TABLE orders;

-- id: 6f5b0dbe1cf1
-- parents: 01db6cf0cc54 4217f8527f4a
-- message: merge billing and search
-- created: 2026-11-16T09:00:00Z

-- migrate:up
CREATE VIEW product_sales AS
SELECT p.id, p.name, p.search_rank, SUM(oi.quantity) AS units_sold
FROM products p
JOIN order_items oi ON oi.product_id = p.id
GROUP BY p.id, p.name, p.search_rank;

-- migrate:down
DROP VIEW product_sales;

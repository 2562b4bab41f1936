-- id: 4217f8527f4a
-- parents: b276e67b9c34
-- message: add products.search_rank
-- created: 2026-11-13T13:37:00Z

-- migrate:up
ALTER TABLE products ADD COLUMN search_rank INTEGER DEFAULT 0 NOT NULL;

-- migrate:down
ALTER TABLE products DROP COLUMN search_rank;

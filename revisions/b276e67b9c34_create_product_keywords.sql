-- id: b276e67b9c34
-- parents: 70934d49a34c
-- message: create product keywords
-- created: 2026-11-10T08:20:00Z
-- labels: search

-- migrate:up
CREATE TABLE product_keywords (
    product_id BIGINT NOT NULL REFERENCES products (id),
    keyword VARCHAR(64) NOT NULL,
    weight INTEGER DEFAULT 1 NOT NULL,
    PRIMARY KEY (product_id, keyword)
);
CREATE INDEX ix_product_keywords_keyword ON product_keywords (keyword);

-- migrate:down
DROP TABLE product_keywords;

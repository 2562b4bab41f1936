-- id: 29bb7cfae2a9
-- parents: 6f5b0dbe1cf1
-- message: add customers.phone
-- created: 2026-11-18T14:12:00Z
-- labels: customers

-- migrate:up
ALTER TABLE customers ADD COLUMN phone VARCHAR(32);

-- migrate:down
ALTER TABLE customers DROP COLUMN phone;

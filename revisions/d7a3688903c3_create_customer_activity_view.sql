-- id: d7a3688903c3
-- parents: 715b51339ec9
-- message: create customer activity view
-- created: 2026-11-21T10:42:00Z

-- migrate:up
CREATE VIEW customer_activity AS
SELECT c.id, c.email, COUNT(a.id) AS events
FROM customers c
LEFT JOIN audit_log a ON a.customer_id = c.id
GROUP BY c.id, c.email;

-- migrate:down
DROP VIEW customer_activity;

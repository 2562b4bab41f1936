DELETE FROM roles WHERE id = 1;
DROP TABLE posts;

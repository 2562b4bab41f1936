CREATE TABLE posts (
  id INTEGER PRIMARY KEY NOT NULL,
  user_id INTEGER NOT NULL REFERENCES users (id),
  title TEXT NOT NULL DEFAULT 'untitled; really'
);
INSERT INTO roles (id, name) VALUES (1, 'admin');

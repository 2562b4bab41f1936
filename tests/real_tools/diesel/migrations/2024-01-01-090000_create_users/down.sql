DROP TABLE roles;
DROP TABLE users;

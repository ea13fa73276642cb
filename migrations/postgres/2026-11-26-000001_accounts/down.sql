DROP TABLE users;
DROP TABLE clients;
DROP TABLE groups;

-- Statements on other databases: qualified names while the default database is another
-- one, USE switching the default, CREATE/ALTER/DROP DATABASE (with charsets), tables of
-- the same name in two databases, and cross-database RENAME. From Debezium's
-- ddl_create.sql (create database/schema forms, RENAME TABLE current_db.tbl_name TO
-- other_db.tbl_name) and its multitable_dbz_871.sql / db_default_charset.sql.

CREATE DATABASE other_db_12a;

CREATE SCHEMA IF NOT EXISTS other_db_12b DEFAULT CHARACTER SET = latin1;

CREATE DATABASE IF NOT EXISTS other_db_12a;

CREATE DATABASE `other db 12c` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci COMMENT 'spaces';

CREATE SCHEMA `select_12` DEFAULT CHARACTER SET = utf8;

CREATE TABLE other_db_12a.same_name (a INT, b INT);

CREATE TABLE same_name (x VARCHAR(10), y DATE, z INT);

CREATE TABLE `other db 12c`.`t c` (`c 1` INT);

ALTER TABLE other_db_12a.same_name ADD COLUMN c INT;

ALTER TABLE same_name DROP COLUMN z;

USE other_db_12a;

CREATE TABLE in_a (id INT PRIMARY KEY);

ALTER TABLE same_name ADD COLUMN d INT FIRST;

ALTER TABLE corpus_12_other_databases.same_name ADD COLUMN w INT;

USE other_db_12b;

CREATE TABLE latin_default (s VARCHAR(10), t TEXT);

ALTER DATABASE other_db_12b CHARACTER SET utf8mb4;

CREATE TABLE utf8_default (s VARCHAR(10));

ALTER SCHEMA other_db_12b DEFAULT COLLATE = utf8mb4_bin;

ALTER DATABASE `other db 12c` COMMENT = 'new comment';

USE corpus_12_other_databases;

RENAME TABLE other_db_12a.in_a TO other_db_12b.in_b, same_name TO other_db_12b.same_name_moved;

CREATE TABLE other_db_12b.from_select SELECT * FROM other_db_12a.same_name;

CREATE TABLE other_db_12a.like_other LIKE other_db_12b.latin_default;

DROP TABLE other_db_12a.same_name, other_db_12b.in_b;

DROP DATABASE IF EXISTS not_there_12;

DROP SCHEMA `select_12`;

DROP DATABASE other_db_12a;

CREATE TABLE same_name (recreated INT);

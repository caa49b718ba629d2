-- RENAME TABLE (multi-table, swaps through a temporary name, across databases, IF
-- EXISTS), ALTER TABLE … RENAME, DROP TABLE with several tables, IF EXISTS, TEMPORARY,
-- RESTRICT/CASCADE, TRUNCATE. From Debezium's ddl_create.sql / ddl_drop.sql (RENAME TABLE
-- old_table TO tmp_table, …) and MariaDB mysql-test main/rename.test, main/drop.test.

CREATE TABLE old_table (a INT, b VARCHAR(10));

CREATE TABLE new_table (x DATE, y INT, z INT);

-- The online-schema-change swap: both names end up with the other's structure.
RENAME TABLE old_table TO tmp_table, new_table TO old_table, tmp_table TO new_table;

CREATE TABLE table_b (id INT PRIMARY KEY, v TEXT);

RENAME TABLE table_b TO table_a;

CREATE DATABASE other_db_08;

CREATE TABLE tbl_name (k INT, v INT);

RENAME TABLE corpus_08_rename_drop.tbl_name TO other_db_08.tbl_name;

RENAME TABLE other_db_08.tbl_name TO corpus_08_rename_drop.tbl_back;

CREATE TABLE debezium_all_types_old (c1 INT, c2 TINYTEXT);

CREATE TABLE test_json_object_old (j JSON);

RENAME TABLE debezium_all_types_old TO debezium_all_types, test_json_object_old WAIT 10 TO test_json_object;

RENAME TABLE IF EXISTS no_such_table TO still_no_table;

RENAME TABLE IF EXISTS table_a TO table_a2;

ALTER TABLE table_a2 RENAME TO table_a3;

ALTER TABLE table_a3 RENAME table_a4;

ALTER TABLE table_a4 RENAME AS table_a5, ADD COLUMN added INT;

ALTER TABLE table_a5 ADD COLUMN added2 INT, RENAME TO `table a6`;

ALTER TABLE `table a6` RENAME other_db_08.`table a7`;

CREATE TABLE d1 (a INT);

CREATE TABLE d2 (b INT);

CREATE TABLE d3 (c INT);

CREATE TABLE d4 (d INT);

DROP TABLE d1, d2;

DROP TABLE IF EXISTS d3, no_such_d;

DROP TABLE IF EXISTS nothing_here;

DROP TABLE d4 RESTRICT;

CREATE TABLE d5 (e INT);

DROP TABLE IF EXISTS `d5` CASCADE;

CREATE TABLE d6 (f INT);

CREATE TEMPORARY TABLE d6 (shadow INT);

DROP TEMPORARY TABLE d6;

DROP TABLE /* comment between */ d6;

CREATE TABLE d7 (g INT);

CREATE TABLE d7_new (g INT, h INT);

DROP TABLE d7;

RENAME TABLE d7_new TO d7;

CREATE TABLE trunc_me (a INT AUTO_INCREMENT PRIMARY KEY, b INT);

TRUNCATE trunc_me;

TRUNCATE TABLE trunc_me;

CREATE TABLE `#` (a INT);

TRUNCATE `#`;

CREATE TABLE `#!^%$` (b INT);

TRUNCATE `#!^%$`;

RENAME TABLE `#` TO `#2`, `#!^%$` TO `#!^%$2`;

DROP TABLE `#2`, `#!^%$2`;

DROP DATABASE other_db_08;

CREATE TABLE after_drop_db (a INT);

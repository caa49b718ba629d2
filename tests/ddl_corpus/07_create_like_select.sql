-- CREATE TABLE … LIKE, CREATE TABLE … SELECT (columns from the query, rows logged as row
-- events of the new table), CREATE OR REPLACE, IF NOT EXISTS on an existing table (a
-- no-op that must not reset anything), and temporary tables (never in the binlog's row
-- events). From MariaDB mysql-test main/create.test, main/create_or_replace.test and
-- Debezium's ddl_create.sql (new_t like t1, `another some table $$`).

CREATE TABLE t1 (id INT PRIMARY KEY, name VARCHAR(20) NOT NULL DEFAULT 'x', amount DECIMAL(8,2), created DATETIME);

INSERT INTO t1 VALUES (1, 'one', 1.50, '2020-01-01 00:00:00'), (2, 'two', 2.50, '2020-01-02 00:00:00');

CREATE TABLE new_t (LIKE t1);

CREATE TABLE t1_like LIKE t1;

CREATE TABLE IF NOT EXISTS t1_like LIKE t1;

CREATE TABLE `some table $$` (id INT AUTO_INCREMENT KEY, class VARCHAR(10), data BINARY) ENGINE=MYISAM;

CREATE TABLE `another some table $$` LIKE `some table $$`;

CREATE TABLE t_select AS SELECT id, name FROM t1;

CREATE TABLE t_select_cols (extra INT DEFAULT 3, PRIMARY KEY (id)) SELECT id, amount * 2 AS doubled, CONCAT(name, '!') AS shout FROM t1;

CREATE TABLE t_select_expr SELECT 1 AS one, 'abc' AS s, NOW() AS ts, CAST(1.5 AS DECIMAL(5,2)) AS d, NULL AS n;

CREATE TABLE t_select_empty SELECT * FROM t1 WHERE 1 = 0;

CREATE TABLE t_select_typed (id BIGINT, name VARCHAR(100)) SELECT id, name FROM t1;

CREATE TABLE t_select_ignore (id INT PRIMARY KEY) IGNORE SELECT id FROM t1 UNION ALL SELECT id FROM t1;

CREATE TABLE t_select_replace (id INT PRIMARY KEY, name VARCHAR(20)) REPLACE SELECT id, name FROM t1;

CREATE TABLE IF NOT EXISTS t1 (completely_different INT);

CREATE TABLE IF NOT EXISTS t1_brand_new (a INT, b VARCHAR(5));

CREATE OR REPLACE TABLE t1_brand_new (c INT, d DATE, e INT);

CREATE OR REPLACE TABLE t_select AS SELECT id, name, amount FROM t1;

CREATE OR REPLACE TABLE t1_like LIKE t_select_cols;

CREATE OR REPLACE TABLE t_select_expr (x INT);

CREATE TEMPORARY TABLE tmp_work (a INT, b INT);

CREATE TEMPORARY TABLE IF NOT EXISTS tmp_work (a INT);

CREATE TEMPORARY TABLE tmp_select SELECT * FROM t1;

DROP TEMPORARY TABLE tmp_work;

DROP TEMPORARY TABLE IF EXISTS tmp_select, tmp_nothing;

CREATE TABLE t_select_join SELECT a.id, a.name, b.doubled FROM t1 a JOIN t_select_cols b ON a.id = b.id;

CREATE TABLE t_select_group AS SELECT name, COUNT(*) AS cnt, SUM(amount) AS total FROM t1 GROUP BY name;

CREATE TABLE t_select_union SELECT id FROM t1 UNION SELECT id FROM t_select;

CREATE TABLE t_with_cte AS WITH cte AS (SELECT id, name FROM t1) SELECT * FROM cte;

CREATE TABLE t_values SELECT * FROM (VALUES (1, 'a'), (2, 'b')) AS v;

CREATE DATABASE other_db_07;

CREATE TABLE other_db_07.source_table (id INT PRIMARY KEY, e ENUM('a','b') DEFAULT 'b', s SET('x','y'), note TEXT);

CREATE TABLE t_like_other_db LIKE other_db_07.source_table;

CREATE TABLE t_generated_like (a INT, b INT AS (a * 2) VIRTUAL, c INT INVISIBLE);

CREATE TABLE t_generated_like2 LIKE t_generated_like;

CREATE TABLE t_generated_select SELECT * FROM t_generated_like;

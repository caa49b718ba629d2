-- CHECK constraints: column-level, table-level, named, with functions, added and dropped by
-- ALTER. None changes the columns. From MariaDB mysql-test main/check_constraint.test and
-- Debezium's ddl_create.sql (parent_table, staff pens_in_drawer_range, T1 ENFORCED).

CREATE TABLE parent_table (id INT PRIMARY KEY, column1 VARCHAR(30), INDEX parent_table_i1(column1(20)), CHECK (CHAR_LENGTH(column1) < 10)) ENGINE InnoDB;

CREATE TABLE staff (PRIMARY KEY (staff_num), staff_num INT(5) NOT NULL, first_name VARCHAR(100) NOT NULL, pens_in_drawer INT(2) NOT NULL, CONSTRAINT pens_in_drawer_range CHECK(pens_in_drawer BETWEEN 1 AND 99));

CREATE TABLE t1 (a INT CHECK (a > 0), b INT CHECK (b > a), c INT, CONSTRAINT c_positive CHECK (c >= 0), CHECK (a + b < 100000));

CREATE TABLE t2 (a INT, b INT, CONSTRAINT `min` CHECK (a + b > 0), CONSTRAINT `max` CHECK (a + b < 10000)) ;

CREATE TABLE t3 (price DECIMAL(10,2) NOT NULL CHECK (price >= 0), discount DECIMAL(10,2) CHECK (discount <= price), CHECK (discount IS NULL OR discount >= 0));

ALTER TABLE t1 ADD CONSTRAINT c_small CHECK (c < 1000000);

ALTER TABLE t1 DROP CONSTRAINT c_small;

ALTER TABLE t1 ADD COLUMN d INT DEFAULT 1 CHECK (d <> 0), ADD CHECK (d < 1000000);

ALTER TABLE t2 DROP CONSTRAINT `max`, ADD CONSTRAINT `max` CHECK (a + b < 100000);

ALTER TABLE t2 ADD CONSTRAINT IF NOT EXISTS `min` CHECK (a > -1);

ALTER TABLE t2 DROP CONSTRAINT IF EXISTS no_such_constraint;

CREATE TABLE t4 (email VARCHAR(100) CHECK (email LIKE '%'), status ENUM('new','done') NOT NULL DEFAULT 'new', CHECK (status IN ('new', 'done')));

CREATE TABLE t5 (start_date DATE, end_date DATE, CONSTRAINT valid_range CHECK (end_date IS NULL OR end_date >= start_date));

CREATE TABLE t6 (id BIGINT, s VARCHAR(100), i INT, CONSTRAINT abc CHECK (id < 5000000));

CREATE TABLE t7 (j LONGTEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL DEFAULT '{}' CHECK (JSON_VALID(j)), k JSON CHECK (JSON_TYPE(k) IN ('OBJECT','INTEGER','ARRAY')));

ALTER TABLE t7 MODIFY k JSON;

CREATE TABLE t8 (a INT, b VARCHAR(10), CONSTRAINT CHECK (a IS NOT NULL), CONSTRAINT chk_b CHECK (b IS NULL OR LENGTH(b) > 0));

ALTER TABLE t8 CHANGE a a2 BIGINT, DROP CONSTRAINT chk_b;

CREATE TABLE global_priv (
    `Host` CHAR(60) COLLATE utf8_bin NOT NULL DEFAULT '',
    `User` CHAR(80) COLLATE utf8_bin NOT NULL DEFAULT '',
    `Privilege` LONGTEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL DEFAULT '{}' CHECK (json_valid(`Privilege`)),
    PRIMARY KEY (`Host`,`User`)
) ENGINE=Aria DEFAULT CHARSET=utf8 COLLATE=utf8_bin PAGE_CHECKSUM=1 TRANSACTIONAL=1 COMMENT='Users and global privileges';

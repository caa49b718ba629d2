-- One ALTER TABLE, many operations: columns added, dropped, renamed, reordered and
-- retyped at once, mixed with key, constraint, option and partition clauses. The server
-- applies them as one change; the order within the statement matters (a column dropped
-- and another added with its name, AFTER a column added earlier in the same statement).
-- From MariaDB mysql-test main/alter_table.test, innodb/t/instant_alter*.test and
-- Debezium's ddl_alter.sql.

CREATE TABLE orders (
  id INT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  customer VARCHAR(50) NOT NULL,
  amount DECIMAL(10,2),
  status VARCHAR(10) DEFAULT 'new',
  created DATETIME,
  note TEXT
);

ALTER TABLE orders
  ADD COLUMN currency CHAR(3) NOT NULL DEFAULT 'EUR' AFTER amount,
  DROP COLUMN note,
  CHANGE COLUMN customer customer_name VARCHAR(100) NOT NULL,
  MODIFY COLUMN status ENUM('new','paid','shipped') NOT NULL DEFAULT 'new',
  ADD COLUMN updated TIMESTAMP NULL DEFAULT NULL ON UPDATE CURRENT_TIMESTAMP,
  ADD INDEX idx_status (status),
  ADD CONSTRAINT chk_amount CHECK (amount IS NULL OR amount >= 0),
  COMMENT = 'orders, reshaped',
  ALGORITHM = COPY;

ALTER TABLE orders
  ADD COLUMN a INT FIRST,
  ADD COLUMN b INT AFTER a,
  ADD COLUMN c INT AFTER b,
  DROP COLUMN created;

ALTER TABLE orders
  DROP COLUMN a,
  ADD COLUMN a VARCHAR(5) AFTER c,
  RENAME COLUMN b TO b2,
  MODIFY c BIGINT FIRST;

ALTER TABLE orders
  RENAME COLUMN b2 TO b3,
  RENAME COLUMN c TO c2,
  ALTER COLUMN currency SET DEFAULT 'USD',
  ALTER COLUMN status DROP DEFAULT;

ALTER TABLE orders
  DROP PRIMARY KEY,
  CHANGE id id BIGINT NOT NULL,
  ADD PRIMARY KEY (id, customer_name(10));

ALTER TABLE orders
  DROP CONSTRAINT chk_amount,
  DROP INDEX idx_status,
  ADD UNIQUE KEY uk_a (a),
  ADD FULLTEXT KEY ft_name (customer_name),
  ENGINE = InnoDB,
  ROW_FORMAT = DYNAMIC,
  DEFAULT CHARSET = utf8mb4;

ALTER TABLE orders CONVERT TO CHARACTER SET latin1 COLLATE latin1_swedish_ci;

ALTER TABLE orders CHARACTER SET utf8mb4, MODIFY customer_name VARCHAR(120) CHARSET utf8mb4 NOT NULL;

ALTER TABLE orders
  ADD COLUMN x1 INT, ADD COLUMN x2 INT, ADD COLUMN x3 INT, ADD COLUMN x4 INT,
  ADD COLUMN x5 INT, ADD COLUMN x6 INT, ADD COLUMN x7 INT, ADD COLUMN x8 INT;

ALTER TABLE orders
  DROP x1, DROP x3, DROP x5, DROP x7,
  CHANGE x2 y2 SMALLINT AFTER id,
  CHANGE x4 y4 MEDIUMINT FIRST,
  MODIFY x6 TINYINT AFTER y2,
  MODIFY x8 BIGINT UNSIGNED;

ALTER TABLE orders DROP COLUMN y4, DROP COLUMN y2, DROP COLUMN x6, DROP COLUMN x8, ADD COLUMN (z1 INT, z2 VARCHAR(3)), FORCE;

ALTER TABLE orders ADD COLUMN w INT AFTER id, ADD COLUMN w2 INT AFTER w, ADD COLUMN w3 INT AFTER w2, LOCK = SHARED;

CREATE TABLE reorder (a INT, b INT, c INT, d INT);

ALTER TABLE reorder MODIFY a INT AFTER d, MODIFY b INT AFTER a;

ALTER TABLE reorder MODIFY d INT FIRST, CHANGE c c INT AFTER d;

ALTER TABLE reorder CHANGE a b INT, CHANGE b a INT;

CREATE TABLE swap_cols (x INT, y VARCHAR(10));

ALTER TABLE swap_cols CHANGE x y INT, CHANGE y x VARCHAR(10);

ALTER TABLE swap_cols RENAME COLUMN x TO y, RENAME COLUMN y TO x;

CREATE TABLE instant_t (id INT PRIMARY KEY, a INT, b INT, c INT);

ALTER TABLE instant_t ADD COLUMN d INT FIRST, ALGORITHM = INSTANT;

ALTER TABLE instant_t DROP COLUMN b, ALGORITHM = INSTANT;

ALTER TABLE instant_t MODIFY c INT AFTER id, ALGORITHM = INSTANT;

ALTER TABLE instant_t ADD COLUMN e VARCHAR(10) DEFAULT 'e' AFTER c, DROP COLUMN a, ALGORITHM = NOCOPY;

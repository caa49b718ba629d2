-- Generated (VIRTUAL, STORED, PERSISTENT) and INVISIBLE columns. A row image carries them
-- all, in table order. From MariaDB mysql-test main/invisible_field.test,
-- suite/vcol/t/*.test and Debezium's ddl_create.sql (generated_persistent,
-- invisible_column_test, tab_with_json_value).

CREATE TABLE invisible_column_test (id INT, col1 INT INVISIBLE);

CREATE TABLE visible_column_test (id INT, col1 INT);

CREATE TABLE t_inv (a INT, b INT INVISIBLE DEFAULT 5, c INT NOT NULL INVISIBLE DEFAULT 7, d INT);

ALTER TABLE t_inv ADD COLUMN e INT INVISIBLE FIRST;

ALTER TABLE t_inv MODIFY b INT DEFAULT 6;

ALTER TABLE t_inv MODIFY a INT INVISIBLE;

ALTER TABLE t_inv ADD COLUMN f VARCHAR(10) INVISIBLE AFTER c, ALTER COLUMN d SET DEFAULT 4;

CREATE TABLE t_inv_pk (id INT NOT NULL AUTO_INCREMENT PRIMARY KEY INVISIBLE, v VARCHAR(10));

CREATE TABLE generated_persistent (
  id INT NOT NULL AUTO_INCREMENT,
  token VARCHAR(32),
  ip VARCHAR(45),
  ip_hash CHAR(64) AS (SHA2(CONCAT(`token`, COALESCE(`ip`, "")), 256)) PERSISTENT,
  persistent INT,
  PRIMARY KEY (`id`),
  UNIQUE KEY `token_and_ip_hash` (`ip_hash`)
) ENGINE=InnoDB;

CREATE TABLE vcols (
  a INT,
  b INT AS (a * 2) VIRTUAL,
  c INT GENERATED ALWAYS AS (a + 1) STORED,
  d VARCHAR(20) AS (CONCAT('x', a)) VIRTUAL INVISIBLE,
  e DATE,
  f INT AS (YEAR(e)) PERSISTENT,
  g BIGINT GENERATED ALWAYS AS (a * a) VIRTUAL COMMENT 'square',
  INDEX (c),
  INDEX (b)
);

ALTER TABLE vcols ADD COLUMN h INT AS (a - 1) VIRTUAL AFTER a;

ALTER TABLE vcols DROP COLUMN g, ADD COLUMN i TEXT AS (REPEAT('i', a)) STORED;

ALTER TABLE vcols MODIFY COLUMN b BIGINT AS (a * 3) VIRTUAL;

CREATE TABLE tab_with_json_value (
   `col0` JSON NOT NULL,
   `col1` VARCHAR(36) COLLATE utf8mb4_bin GENERATED ALWAYS AS (
      JSON_VALUE(`col0`, '$._field1')
   ) STORED,
   `col4` JSON NOT NULL,
   KEY (`col1`)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE TABLE json_extract_vcol (
  doc LONGTEXT CHECK (JSON_VALID(doc)),
  name VARCHAR(50) AS (JSON_UNQUOTE(JSON_EXTRACT(doc, '$.name'))) VIRTUAL,
  age INT AS (JSON_EXTRACT(doc, '$.age')) STORED
);

-- A hidden hash column backs each long UNIQUE key (a BLOB/TEXT or USING HASH).
CREATE TABLE long_unique (id INT PRIMARY KEY, body TEXT, UNIQUE KEY (body));

ALTER TABLE long_unique ADD COLUMN url VARCHAR(2000), ADD UNIQUE KEY (url) USING HASH;

ALTER TABLE long_unique DROP INDEX body;

CREATE TABLE long_unique_inv (a INT, b BLOB INVISIBLE, UNIQUE (b), c INT AS (a + 1) VIRTUAL);

ALTER TABLE long_unique_inv ADD COLUMN d INT FIRST;

CREATE TABLE gen_after_inv (a INT INVISIBLE, b INT AS (a) VIRTUAL INVISIBLE, c INT);

-- Scripts Debezium's MySQL connector tests replay against a live server: tables with their
-- first rows (the rows are row events the oracle checks too), integer display widths,
-- fractional seconds, ENUM/SET, character sets, zero dates, BIT literals, CREATE … LIKE
-- across databases, a function with a body. From Debezium
-- `debezium-connector-mysql/src/test/resources/ddl/regression_test.sql`,
-- `connector_test.sql`, `mysql-dbz-*.ddl`, `decimal_test.sql`, `year_test.sql`,
-- `binary_column_test.sql`, `enum_column_test.sql`.

CREATE TABLE t1464075356413_testtable6 (
  pk_column int auto_increment NOT NULL,
  varbinary_col varbinary(20) NOT NULL,
  PRIMARY KEY(pk_column)
);

INSERT INTO t1464075356413_testtable6 (pk_column, varbinary_col) VALUES (default, 0x4D7953514C);

CREATE TABLE dbz84_integer_types_table (
  colTinyIntA tinyint NOT NULL DEFAULT 100,
  colTinyIntB tinyint(1) NOT NULL DEFAULT 101,
  colTinyIntC tinyint(2) UNSIGNED NOT NULL DEFAULT 102,
  colTinyIntD tinyint(3) UNSIGNED NOT NULL DEFAULT 103,
  colSmallIntA smallint NOT NULL DEFAULT 200,
  colSmallIntB smallint(1) NOT NULL DEFAULT 201,
  colMediumIntA mediumint NOT NULL DEFAULT 300,
  colMediumIntB mediumint(1) NOT NULL DEFAULT 301,
  colIntA int NOT NULL DEFAULT 400,
  colIntB int(1) NOT NULL DEFAULT 401,
  colBigIntA bigint NOT NULL DEFAULT 500,
  colBigIntB bigint(1) NOT NULL DEFAULT 501
);

INSERT INTO dbz84_integer_types_table VALUES (127, -128, 128, 255, default, 201, default, 301, default, 401, default, 501);

CREATE TABLE dbz_85_fractest (c1 DATE, c2 TIME(2), c3 DATETIME(2), c4 TIMESTAMP(2));

INSERT INTO dbz_85_fractest VALUES ('2014-09-08', '17:51:04.777', '2014-09-08 17:51:04.777', '2014-09-08 17:51:04.777');

CREATE TABLE dbz_100_enumsettest (c1 ENUM('a','b','c'), c2 SET('a','b','c'));

INSERT INTO dbz_100_enumsettest VALUES ('a', 'a,b,c'), ('b', 'b,a'), ('c', 'a');

set character_set_client=utf8;

set character_set_connection=utf8;

CREATE TABLE dbz_102_charsettest (
  id INT(11) NOT NULL AUTO_INCREMENT,
  text VARCHAR(255) DEFAULT NULL,
  PRIMARY KEY (`id`)
) ENGINE=InnoDB AUTO_INCREMENT=2001 DEFAULT CHARSET=utf8;

INSERT INTO dbz_102_charsettest VALUES (default, "产品");

set character_set_client=utf8mb4;

set character_set_connection=utf8mb4;

CREATE TABLE dbz_114_zerovaluetest (c1 DATE, c2 TIME(2), c3 DATETIME(2), c4 TIMESTAMP(2));

INSERT IGNORE INTO dbz_114_zerovaluetest VALUES ('0000-00-00', '00:00:00.000', '0000-00-00 00:00:00.000', '0000-00-00 00:00:00.000');

CREATE TABLE dbz_123_bitvaluetest (c1 BIT, c2 BIT(2), c3 BIT(8) NOT NULL, c4 BIT(64));

INSERT INTO dbz_123_bitvaluetest VALUES (1,2,64,23989979), (b'1',b'10',b'01000000',b'1011011100000111011011011');

CREATE DATABASE connector_test_19;

CREATE TABLE connector_test_19.customers (
  id INTEGER NOT NULL AUTO_INCREMENT PRIMARY KEY,
  first_name VARCHAR(255) NOT NULL,
  last_name VARCHAR(255) NOT NULL,
  email VARCHAR(255) NOT NULL UNIQUE KEY
) AUTO_INCREMENT=1001;

INSERT INTO connector_test_19.customers VALUES (default,"Sally","Thomas","sally.thomas@acme.com"), (default,"George","Bailey","gbailey@foobar.com");

CREATE TABLE dbz_104_customers LIKE connector_test_19.customers;

INSERT INTO dbz_104_customers SELECT * FROM connector_test_19.customers;

CREATE TABLE dbz_147_decimalvalues (pk_column int auto_increment NOT NULL, decimal_value decimal(7,2) NOT NULL, PRIMARY KEY(pk_column));

INSERT INTO dbz_147_decimalvalues (pk_column, decimal_value) VALUES (default, 12345.67);

DELIMITER $$
CREATE FUNCTION fnDbz162( p_creditLimit DOUBLE ) RETURNS VARCHAR(10)
    DETERMINISTIC
BEGIN
 DECLARE lvl VARCHAR(10);
 IF p_creditLimit > 50000 THEN
   SET lvl = 'PLATINUM';
 ELSEIF (p_creditLimit <= 50000 AND p_creditLimit >= 10000) THEN
   SET lvl = 'GOLD';
 ELSEIF p_creditLimit < 10000 THEN
   SET lvl = 'SILVER';
 END IF;
 RETURN (lvl);
END$$
DELIMITER ;

CREATE TABLE dbz_195_numvalues (
  id int auto_increment NOT NULL,
  `search_version_read` int(11) NOT NULL DEFAULT '0', -- (11) is the display width
  PRIMARY KEY (`id`)
) ENGINE=InnoDB AUTO_INCREMENT=4972 DEFAULT CHARSET=utf8;

INSERT INTO dbz_195_numvalues VALUES (default,0), (default,-2147483648), (default,2147483647);

CREATE TABLE products (
  id INTEGER NOT NULL AUTO_INCREMENT PRIMARY KEY,
  name VARCHAR(255) NOT NULL,
  description VARCHAR(512),
  weight FLOAT
);

ALTER TABLE products AUTO_INCREMENT = 101;

CREATE TABLE products_on_hand (
  product_id INTEGER NOT NULL PRIMARY KEY,
  quantity INTEGER NOT NULL,
  FOREIGN KEY (product_id) REFERENCES products(id)
);

CREATE TABLE orders (
  order_number INTEGER NOT NULL AUTO_INCREMENT PRIMARY KEY,
  order_date DATE NOT NULL,
  purchaser INTEGER NOT NULL,
  quantity INTEGER NOT NULL,
  product_id INTEGER NOT NULL,
  FOREIGN KEY order_customer (purchaser) REFERENCES connector_test_19.customers(id),
  FOREIGN KEY ordered_product (product_id) REFERENCES products(id)
) AUTO_INCREMENT = 10001;

CREATE TABLE dbz_342_timetest (c1 TIME(2), c2 TIME(0), c3 TIME(3), c4 TIME(3), c5 TIME(6));

INSERT INTO dbz_342_timetest VALUES ('517:51:04.777', '-13:14:50', '-733:00:00.0011', '-1:59:59.0011', '-838:59:58.999999');

CREATE TABLE `dbz-123` (`c1` BIT(1), `key-col` VARCHAR(10));

CREATE TABLE dbz_1143_year (id INT, y YEAR(4) NOT NULL DEFAULT '1925', y2 YEAR DEFAULT 0);

CREATE TABLE dbz_binary (file_uuid BINARY(16), blob_col BLOB, tinyblob_col TINYBLOB, mediumblob_col MEDIUMBLOB, longblob_col LONGBLOB);

CREATE TABLE dbz_enum (id INT AUTO_INCREMENT PRIMARY KEY, type ENUM('106','107','108','109') NOT NULL DEFAULT '107', `status` ENUM('new','in progress','done') NULL);

ALTER TABLE dbz_enum MODIFY COLUMN type ENUM('106','107','108','109','110') NOT NULL DEFAULT '110';

CREATE TABLE `dbz_1014` (`id` INT NOT NULL AUTO_INCREMENT, `name` varchar(255) DEFAULT NULL, PRIMARY KEY (`id`)) ENGINE=InnoDB;

ALTER TABLE `dbz_1014` ADD COLUMN `country` varchar(255) DEFAULT NULL AFTER `name`, ADD COLUMN `city` varchar(255) DEFAULT NULL;

CREATE TABLE dbz_decimal (a DECIMAL(8,3), b DECIMAL, c DECIMAL(65,0), d NUMERIC(18,4) UNSIGNED);

CREATE TABLE dbz_float (f FLOAT, f10 FLOAT(10), f24_2 FLOAT(24,2), d DOUBLE, d_p DOUBLE(10,3), r REAL);

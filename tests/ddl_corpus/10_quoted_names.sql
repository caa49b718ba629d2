-- Quoted names: spaces, Unicode (Czech, Chinese; identifiers cannot hold 4-byte characters,
-- comments and defaults can),
-- backquotes doubled inside names, reserved words, names that look like numbers, dots
-- and dashes, and the same names in ALTER/RENAME. From Debezium's ddl_create.sql
-- (žluťoučký, `some table $$`, `test_table\\`), its topic_name_sanitization_test.sql and
-- MariaDB mysql-test main/ctype_utf8mb4.test.

SET NAMES utf8mb4;

CREATE TABLE `table with spaces` (`column one` INT, `column two` VARCHAR(10), ` leading` INT, `trailing` INT);

ALTER TABLE `table with spaces` ADD COLUMN `column three` DATE AFTER `column one`;

ALTER TABLE `table with spaces` CHANGE `column two` `column 2` VARCHAR(20);

CREATE TABLE žluťoučký (kůň INT, `příliš` VARCHAR(10));

ALTER TABLE žluťoučký ADD COLUMN úpěl INT;

CREATE TABLE `顾客` (`编号` INT PRIMARY KEY, `名字` VARCHAR(20) COMMENT '名字', `余额` DECIMAL(10,2));

ALTER TABLE `顾客` ADD COLUMN `备注` TEXT COMMENT '分桶数';

CREATE TABLE `Ünïcödé Tàblé` (`Ñame` VARCHAR(10), `Straße` INT);

CREATE TABLE `music` (`clef` VARCHAR(10) CHARSET utf8mb4 DEFAULT '𝄞', plain INT COMMENT '𝄞 in a comment');

CREATE TABLE `back``tick` (`a``b` INT, `c` INT);

ALTER TABLE `back``tick` ADD COLUMN `d``e``f` INT;

CREATE TABLE `select` (`from` INT, `where` INT, `order` INT, `group` INT);

CREATE TABLE `123` (`456` INT, `7e3` INT, `1c` INT, `_` INT);

CREATE TABLE `dots.in.name` (`a.b` INT, `c-d` INT);

CREATE TABLE `dash-name` (`x-y` INT);

CREATE TABLE `test_table\\` (id INT(11) NOT NULL, PRIMARY KEY (`id`)) ENGINE = INNODB;

CREATE TABLE `\\test_table` (id INT(11) NOT NULL, PRIMARY KEY (`id`)) ENGINE = INNODB;

CREATE TABLE `$dollar` (`$a` INT, b$ INT);

CREATE TABLE MixedCase (MixedCol INT, lowercol INT, UPPERCOL INT);

ALTER TABLE MixedCase CHANGE mixedcol MixedCol2 INT;

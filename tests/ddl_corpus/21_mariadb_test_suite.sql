-- Forms from MariaDB's own test suite that real migrations use: ALTER TABLE IF EXISTS,
-- column-level REFERENCES, foreign keys added and dropped with IF [NOT] EXISTS,
-- descending and prefix keys, table options of every kind, `CREATE TABLE … SELECT` with
-- column definitions mixed in, `ALTER TABLE … ADD … AFTER` a column added by the same
-- statement, ENGINE=SEQUENCE virtual tables, and comments with quotes and semicolons.
-- From MariaDB mysql-test main/alter_table.test, main/create.test, main/foreign_key.test,
-- main/key.test, main/table_options.test, main/comments.test and Debezium's ddl_alter.sql
-- (childtable/parenttable foreign keys).

CREATE TABLE parenttable (id INT PRIMARY KEY, name VARCHAR(10));

CREATE TABLE childtable (id INT PRIMARY KEY, idParent INT, KEY fk_idParent_parentTable (idParent));

-- As migration tools do: the rows already in childtable need not match.
SET foreign_key_checks = 0;

ALTER TABLE childtable ADD CONSTRAINT `fk1` FOREIGN KEY (idParent) REFERENCES parenttable(id) ON DELETE RESTRICT ON UPDATE CASCADE;

ALTER TABLE childtable DROP FOREIGN KEY fk1;

ALTER TABLE childtable ADD FOREIGN KEY IF NOT EXISTS fk2 (idParent) REFERENCES parenttable (id) ON DELETE SET NULL;

ALTER TABLE childtable DROP FOREIGN KEY IF EXISTS fk2, DROP FOREIGN KEY IF EXISTS fk_none;

SET foreign_key_checks = 1;

ALTER TABLE childtable DROP INDEX fk_idParent_parentTable;

CREATE TABLE child_table (id INT UNSIGNED AUTO_INCREMENT PRIMARY KEY, id_parent INT REFERENCES parenttable(id) MATCH FULL ON UPDATE CASCADE ON DELETE SET NULL) ENGINE=InnoDB;

ALTER TABLE IF EXISTS child_table ADD COLUMN note VARCHAR(20);

ALTER TABLE IF EXISTS no_such_table ADD COLUMN note VARCHAR(20);

ALTER TABLE IF EXISTS parenttable ADD COLUMN IF NOT EXISTS name VARCHAR(10), ADD COLUMN IF NOT EXISTS created DATE;

CREATE TABLE keys_t (a INT, b VARCHAR(100), c TEXT, d INT, KEY (a DESC, b(10) ASC), UNIQUE KEY uc (c(20)), KEY kd (d) COMMENT 'key comment' IGNORED);

ALTER TABLE keys_t ADD COLUMN e INT AFTER a, ADD COLUMN f INT AFTER e, ADD COLUMN g INT FIRST;

ALTER TABLE keys_t ADD PRIMARY KEY (g), ADD KEY ke (e) USING HASH;

ALTER TABLE keys_t DROP PRIMARY KEY, MODIFY g INT NULL;

CREATE TABLE options_t (a INT) ENGINE=InnoDB AUTO_INCREMENT=10 AVG_ROW_LENGTH=100 CHECKSUM=0 COMMENT='table ''comment''; with a semicolon' MAX_ROWS=100 MIN_ROWS=1 PACK_KEYS=DEFAULT STATS_PERSISTENT=1 STATS_AUTO_RECALC=1 STATS_SAMPLE_PAGES=20 ROW_FORMAT=COMPACT DEFAULT COLLATE=utf8mb4_bin;

ALTER TABLE options_t COMMENT 'new ; comment', ADD COLUMN b INT COMMENT 'b; with; semicolons';

CREATE TABLE mixed_select (id INT NOT NULL PRIMARY KEY, label VARCHAR(20) DEFAULT 'x') SELECT 1 AS id, 'one' AS label, 3.5 AS extra;

CREATE TABLE seq_copy SELECT seq AS n FROM seq_1_to_5;

CREATE TABLE `create` (`table` INT, `alter` INT, `drop` INT, `rename` INT);

ALTER TABLE `create` RENAME COLUMN `table` TO `column`, ADD COLUMN `add` INT;

CREATE TABLE comments_t (
  a INT, -- a line comment; with a semicolon
  b INT, # a hash comment; also with one
  /* a block comment; with one */ c INT
);

ALTER TABLE comments_t /* comment */ ADD /* comment */ COLUMN /* comment */ d INT /* comment */;

CREATE TABLE wait_t (a INT);

ALTER TABLE wait_t WAIT 5 ADD COLUMN b INT;

DROP TABLE IF EXISTS wait_t WAIT 5;

CREATE TABLE transactional_table (name VARCHAR(255), class_id INT, id INT) TRANSACTIONAL=1 ENGINE=Aria;

CREATE TABLE `transactional` (name VARCHAR(255), class_id INT, id INT);

CREATE TABLE `statement` (id INT);

CREATE TABLE column_names_as_aggr_funcs (`min` VARCHAR(100), `max` VARCHAR(100), `sum` VARCHAR(100), `count` VARCHAR(100));

CREATE TABLE table_with_buckets (id INT(11) AUTO_INCREMENT NOT NULL COMMENT 'ID', buckets INT(11) NOT NULL COMMENT '分桶数', PRIMARY KEY (id));

CREATE TABLE table_with_index (id INT, data VARCHAR(50), UNIQUE INDEX `data_UNIQUE` (`data` ASC));

CREATE TABLE table_with_character_set_eq (id INT, data VARCHAR(50)) CHARACTER SET = DEFAULT;

CREATE TABLE table_with_character_set (id INT, data VARCHAR(50)) CHARACTER SET DEFAULT;

CREATE TABLE blob_test (id INT, col1 BLOB(45));

CREATE TABLE `EmailTemplates2` (`EmailID` INT(11) UNSIGNED NOT NULL AUTO_INCREMENT, `MailBody` TEXT NOT NULL, PRIMARY KEY (`EmailID`)) ENGINE=INNODB AUTO_INCREMENT=5396 DEFAULT CHARSET=LATIN1 ROW_FORMAT=DYNAMIC;

CREATE TABLE `site_checker_b_sonet_group_favorites` (USER_ID INT(11) NOT NULL, GROUP_ID INT(11) NOT NULL, DATE_ADD DATETIME DEFAULT NULL, PRIMARY KEY (USER_ID, GROUP_ID));

CREATE TABLE `auth_realm_clients` (`pk_realm` INT UNSIGNED NOT NULL DEFAULT '0', `fk_realm` INT UNSIGNED DEFAULT NULL, `client_id` VARCHAR(150) NOT NULL, `client_secret` BLOB NOT NULL, PRIMARY KEY (`pk_realm`), KEY `auth_realms_auth_realm_clients` (`fk_realm`)) ENGINE=InnoDB DEFAULT CHARSET=latin1;

CREATE OR REPLACE TABLE `t_table` (
`info_no` int(11) unsigned NOT NULL AUTO_INCREMENT,
`product_no` int(11) unsigned NOT NULL,
`member_id` varchar(30) COLLATE utf8mb4_unicode_ci NOT NULL,
`app_url` varchar(500) COLLATE utf8mb4_unicode_ci DEFAULT NULL,
`redirect_url` varchar(200) COLLATE utf8mb4_unicode_ci DEFAULT NULL,
`scope` varchar(200) COLLATE utf8mb4_unicode_ci DEFAULT NULL,
PRIMARY KEY (`info_no`),
UNIQUE KEY `UN_member_id` (`member_id`) USING BTREE,
UNIQUE KEY `UN_product_no` (`product_no`) USING BTREE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci ROW_FORMAT=DYNAMIC;

CREATE TABLE `EmailTemplates3` (
  `EmailID` INT(11) UNSIGNED NOT NULL AUTO_INCREMENT,
  `AccountID` BIGINT(12) unsigned NOT NULL DEFAULT 0,
  `Subject` VARCHAR(128) NOT NULL,
  PRIMARY KEY (`EmailID`),
  KEY `ixAccount` (`AccountID`) USING BTREE
) ENGINE=INNODB AUTO_INCREMENT=5396 DEFAULT CHARSET=LATIN1 ROW_FORMAT=DYNAMIC;

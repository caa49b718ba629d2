-- sql_mode=ANSI_QUOTES: double quotes delimit names, not strings, so `DEFAULT "x"` is no
-- longer possible and `"my col"` is a column. The mode travels with each statement in the
-- binlog (the QUERY event's sql_mode). Then back to the default mode, where "x" is a
-- string again. Also PIPES_AS_CONCAT and ORACLE-free modes that change parsing. From
-- MariaDB mysql-test main/sql_mode.test and Debezium's MySqlAntlrDdlParserTest
-- (ANSI_QUOTES cases).

SET SESSION sql_mode = 'ANSI_QUOTES';

CREATE TABLE "ansi table" ("id" INT PRIMARY KEY, "my col" VARCHAR(10) DEFAULT 'str', "select" INT);

ALTER TABLE "ansi table" ADD COLUMN "added ""quoted"" col" INT AFTER "id";

ALTER TABLE "ansi table" CHANGE "my col" "your col" VARCHAR(20) DEFAULT 'it''s';

CREATE TABLE ansi_mixed (`back` INT, "double" INT, plain INT, s VARCHAR(5) DEFAULT 'a"b');

RENAME TABLE "ansi_mixed" TO "ansi mixed 2";

SET SESSION sql_mode = CONCAT(@@sql_mode, ',PIPES_AS_CONCAT');

CREATE TABLE "ansi_pipes" ("a" VARCHAR(10) DEFAULT ('x' || 'y'), "b" INT);

SET SESSION sql_mode = 'ANSI';

CREATE TABLE "ansi_full" ("a" INT, "b" TEXT, "c" INT);

ALTER TABLE "ansi_full" DROP COLUMN "b";

SET SESSION sql_mode = DEFAULT;

CREATE TABLE after_ansi (a VARCHAR(30) DEFAULT "double quoted string", b INT COMMENT "comment in double quotes");

ALTER TABLE `ansi table` ADD COLUMN back_to_backticks INT;

ALTER TABLE after_ansi MODIFY a VARCHAR(40) DEFAULT "another ""string""";

SET sql_mode = 'STRICT_TRANS_TABLES,ERROR_FOR_DIVISION_BY_ZERO,NO_AUTO_CREATE_USER,NO_ENGINE_SUBSTITUTION';

CREATE TABLE strict_mode (a INT NOT NULL, b DATETIME NOT NULL DEFAULT '2000-01-01 00:00:00');

SET sql_mode = 'NO_BACKSLASH_ESCAPES';

CREATE TABLE no_backslash (a VARCHAR(10) DEFAULT 'C:\dir', b INT COMMENT 'a\b');

SET sql_mode = DEFAULT;

CREATE TABLE backslash_again (a VARCHAR(10) DEFAULT 'it\'s', b INT COMMENT 'tab\there');

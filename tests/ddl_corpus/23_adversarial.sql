-- Adversarial cases written for rowtide: comments and odd whitespace between every token,
-- keywords as column names, quoted names holding `,` `(` `)` backquotes, dots and
-- newlines, string defaults and CHECK texts holding `,` `)` `--` `/*` and quotes, DEFAULT
-- expressions with nested parentheses, column moves (FIRST/AFTER chains, MODIFY … FIRST),
-- rename chains, RENAME combined with other ALTER operations, table swaps, ALTER options
-- (ALGORITHM, LOCK, WAIT, NOWAIT, IGNORE), executable comments with nested quotes, table
-- options interleaved with commas, invisible primary keys and long UNIQUE keys, names that
-- look like numbers (`1e`, `2e`), defaults like `.5`, an unqualified RENAME TO in ALTER
-- TABLE other_db.t (the new table is in the default database), NO_BACKSLASH_ESCAPES,
-- ANSI_QUOTES and ORACLE modes, temporary tables shadowing real ones.

CREATE/*a*/TABLE/*b*/adv1/*c*/(/*d*/a/*e*/INT/*f*/,/*g*/b/*h*/VARCHAR/*i*/(/*j*/10/*k*/)/*l*/)/*m*/;

CREATE TABLE
	adv2
(
	id	INT	NOT	NULL ,
	-- a line comment, with a comma ) and a paren
	v	TEXT # hash comment ( , )
	, w INT
);

CREATE TABLE adv_kw (`key` INT, `primary` INT, `constraint` INT, `check` INT, `period` INT, `system` INT, `first` INT, `after` INT, `column` INT, `comment` INT, `default` INT, `invisible` INT, `versioning` INT, `index` INT, `unique` INT, `foreign` INT, `fulltext` INT, `spatial` INT);

CREATE TABLE adv_kw2 (period INT, `system` INT, first INT, after INT, comment INT, invisible INT, versioning INT, status INT, `position` INT, action INT);

ALTER TABLE adv_kw2 ADD COLUMN `like` INT FIRST, ADD `add` INT AFTER `after`, DROP COLUMN comment;

ALTER TABLE adv_kw2 CHANGE COLUMN first `last` BIGINT AFTER action, MODIFY period INT FIRST;

CREATE TABLE adv_q (`a,b` INT, `c(d)` INT, `e``f` INT, `g.h` INT, `i
j` INT, `) ,` INT, ` k` INT);

ALTER TABLE adv_q ADD `x),(y` INT AFTER `a,b`, DROP `c(d)`, CHANGE `e``f` `e``g` INT FIRST;

CREATE TABLE adv_def (
  a VARCHAR(20) DEFAULT 'x, y)',
  b VARCHAR(20) DEFAULT '-- not a comment',
  c VARCHAR(20) DEFAULT '/* not a comment */',
  d VARCHAR(20) DEFAULT 'it''s',
  e VARCHAR(20) DEFAULT "say \"hi\", ok",
  f VARCHAR(20) DEFAULT 'back\\slash\'',
  g INT DEFAULT (1 + (2 * 3)),
  h VARCHAR(30) DEFAULT (concat('a', ',', ')', 'b')),
  i INT DEFAULT (if(1 > 0, 2, 3)),
  j VARCHAR(10) DEFAULT '' COMMENT 'a, comment) with ( parens'
);

CREATE TABLE adv_chk (
  a INT,
  b VARCHAR(10) CHECK (b <> ')' AND b <> ','),
  CONSTRAINT `c, )` CHECK (a > 0 OR b IN ('(', ')')),
  c INT,
  CHECK (c IS NULL OR c > length('),('))
);

ALTER TABLE adv_chk ADD CONSTRAINT ck_more CHECK (a < 1000), ADD d INT AFTER a;

ALTER TABLE adv_chk DROP CONSTRAINT ck_more, ADD e INT FIRST;

CREATE TABLE adv_typename (`int` VARCHAR(5), `varchar` INT, `date` INT, `text` DATE, `json` INT, `enum` INT, `set` INT, `bit` INT);

ALTER TABLE adv_typename ADD `timestamp` INT AFTER `int`, ADD `double` INT FIRST;

CREATE TABLE adv_move (a INT, b INT, c INT, d INT);

ALTER TABLE adv_move ADD x INT AFTER a, ADD y INT AFTER x, ADD z INT FIRST;

ALTER TABLE adv_move MODIFY d INT FIRST, MODIFY a INT AFTER c;

ALTER TABLE adv_move ADD COLUMN (p INT, q INT);

ALTER TABLE adv_move CHANGE COLUMN IF EXISTS nope nope2 INT, CHANGE COLUMN IF EXISTS p p2 INT FIRST;

ALTER TABLE adv_move DROP COLUMN IF EXISTS nope, DROP COLUMN IF EXISTS q;

ALTER TABLE adv_move ADD COLUMN IF NOT EXISTS a INT, ADD COLUMN IF NOT EXISTS r INT AFTER b;

ALTER TABLE adv_move RENAME COLUMN a TO a1, RENAME COLUMN b TO b1;

ALTER TABLE adv_move RENAME COLUMN a1 TO a2, ADD s INT, RENAME COLUMN c TO c2;

CREATE TABLE adv_ren (a INT, b INT);

ALTER TABLE adv_ren RENAME TO adv_ren2, ADD c INT;

ALTER TABLE adv_ren2 ADD d INT, RENAME TO adv_ren3;

ALTER TABLE adv_ren3 RENAME adv_ren4, DROP COLUMN a, ADD e INT FIRST;

ALTER TABLE adv_ren4 RENAME AS adv_ren5, RENAME COLUMN b TO b2;

CREATE TABLE adv_swap_a (a1 INT, a2 INT);

CREATE TABLE adv_swap_b (b1 VARCHAR(5));

RENAME TABLE adv_swap_a TO adv_swap_tmp, adv_swap_b TO adv_swap_a, adv_swap_tmp TO adv_swap_b;

ALTER TABLE adv_swap_a ADD b2 INT;

ALTER TABLE adv_swap_b ADD a3 INT;

CREATE DATABASE adv_other;

CREATE TABLE adv_other.t (a INT);

ALTER TABLE adv_other.t ADD b INT FIRST;

ALTER TABLE `adv_other`.`t` RENAME TO adv_other.t2, ADD c INT;

CREATE TABLE IF NOT EXISTS adv1 (zz INT, yy INT, xx INT);

CREATE TABLE IF NOT EXISTS adv1 SELECT 1 AS nope;

CREATE TABLE adv_like_src (m INT, n VARCHAR(5));

CREATE OR REPLACE TABLE adv2 LIKE adv_like_src;

CREATE OR REPLACE TABLE adv_kw2 (only_col INT);

CREATE TABLE adv_sel (id INT, extra VARCHAR(5) DEFAULT 'x') SELECT 1 AS id, 2 AS other;

CREATE TABLE adv_sel2 (a INT) SELECT a, b FROM adv1;

CREATE TABLE adv_opts (a INT, b INT) ENGINE=InnoDB, DEFAULT CHARSET=utf8mb4, COMMENT='x, (y)', ROW_FORMAT=DYNAMIC;

CREATE TABLE adv_part (a INT, b INT) ENGINE=InnoDB COMMENT='p, (q)' PARTITION BY HASH (a) PARTITIONS 2;

ALTER TABLE adv_opts ALGORITHM=INPLACE, LOCK=NONE, ADD c INT;

ALTER TABLE adv_opts ADD d INT, ALGORITHM=COPY, LOCK=SHARED;

ALTER TABLE adv_opts WAIT 5 ADD e INT FIRST;

ALTER TABLE adv_opts NOWAIT ADD f INT AFTER a;

ALTER IGNORE TABLE adv_opts ADD g INT;

ALTER ONLINE TABLE adv_opts ADD h INT;

ALTER TABLE adv_opts ENGINE=InnoDB, ADD i INT, COMMENT='i, (j)';

ALTER TABLE adv_opts COMMENT='just a comment, ADD zz INT';

/*!40101 CREATE TABLE adv_exec (a VARCHAR(10) DEFAULT 'it''s */', b INT) */;

/*!40101 ALTER TABLE adv_exec ADD c VARCHAR(5) DEFAULT "*/" */;

CREATE TABLE adv_ipk (id INT INVISIBLE PRIMARY KEY AUTO_INCREMENT, a INT);

ALTER TABLE adv_ipk ADD b INT INVISIBLE FIRST, ADD c INT;

CREATE TABLE adv_gen (
  a VARCHAR(20),
  b VARCHAR(40) AS (concat(a, ',', substr(a, 1, 2))) VIRTUAL,
  c INT GENERATED ALWAYS AS (if(a IS NULL, 0, length(a))) STORED,
  d INT
);

ALTER TABLE adv_gen ADD e VARCHAR(50) AS (concat_ws(',', a, b)) AFTER c;

CREATE TABLE adv_long (a TEXT, b BLOB, c INT);

ALTER TABLE adv_long ADD UNIQUE KEY u_ab (a, b), ADD d INT;

ALTER TABLE adv_long DROP INDEX u_ab, ADD e INT AFTER a;

ALTER TABLE adv_long ADD INDEX (c), DROP COLUMN b;

ALTER TABLE adv_long DROP KEY c, DROP c;

CREATE TABLE adv_ver (a INT, b INT, c INT) WITH SYSTEM VERSIONING;

SET @@system_versioning_alter_history = KEEP;

ALTER TABLE adv_ver DROP COLUMN b;

ALTER TABLE adv_ver ADD d INT FIRST;

CREATE TABLE adv_period (id INT, s DATE, e DATE);

ALTER TABLE adv_period ADD PERIOD FOR p (s, e), ADD z INT;

ALTER TABLE adv_period DROP PERIOD FOR p, ADD y INT FIRST;

CREATE TABLE adv_sysver (x INT, st TIMESTAMP(6) AS ROW START, en TIMESTAMP(6) AS ROW END, PERIOD FOR SYSTEM_TIME (st, en)) WITH SYSTEM VERSIONING;

ALTER TABLE adv_sysver ADD y INT AFTER x;

CREATE TABLE adv_multi (a INT); CREATE TABLE adv_multi2 (b INT);

ALTER TABLE adv_multi ADD `b` INT COMMENT 'ADD c INT', ADD d INT DEFAULT 1 COMMENT "x,y";

ALTER TABLE adv_multi ADD ee INT /* , ADD ff INT */, ADD gg INT -- , ADD hh INT
;

ALTER TABLE adv_multi ADD COLUMN kk INT, ADD INDEX idx_k (kk), ADD CONSTRAINT fk_none UNIQUE (kk), ADD ll INT;

ALTER TABLE adv_multi DROP INDEX idx_k, DROP KEY fk_none, MODIFY COLUMN ll BIGINT FIRST;

ALTER TABLE adv_multi ALTER COLUMN a SET DEFAULT 5, ALTER b DROP DEFAULT, ADD mm INT;

ALTER TABLE adv_multi CONVERT TO CHARACTER SET utf8mb4, ADD nn INT;

ALTER TABLE adv_multi ADD oo INT, ORDER BY a;

CREATE TABLE adv_swapcol (a INT, b VARCHAR(5), c INT);

ALTER TABLE adv_swapcol CHANGE a b2 INT, CHANGE b a VARCHAR(5);

ALTER TABLE adv_swapcol DROP c, ADD c DATE;

ALTER TABLE adv_swapcol MODIFY c DATE AFTER b2, MODIFY a VARCHAR(5) FIRST;

ALTER TABLE adv_swapcol CHANGE COLUMN b2 b2 INT FIRST, ADD `after` INT AFTER c, ADD x INT AFTER `after`;

ALTER TABLE adv_swapcol ADD `first` INT FIRST, ADD y INT COMMENT 'AFTER a' DEFAULT 0, ADD z VARCHAR(10) DEFAULT 'FIRST';

ALTER TABLE adv_swapcol ADD e ENUM('a,b', ')', 'FIRST') AFTER `first`, ADD f INT CHECK (f > 0) AFTER a;

ALTER TABLE adv_swapcol ADD g INT DEFAULT (1--1), ADD h INT;

ALTER TABLE adv_swapcol ADD COLUMN IF NOT EXISTS (i INT, j INT), ADD COLUMN IF NOT EXISTS i INT;

ALTER TABLE adv_swapcol ADD INDEX `first` (`first`), ADD k INT;

ALTER TABLE adv_swapcol RENAME INDEX `first` TO `after`, ADD l INT;

CREATE TABLE adv_lit (
  a VARCHAR(10) DEFAULT _utf8mb4'x, y)',
  b VARBINARY(10) DEFAULT X'2C29',
  c BIT(3) DEFAULT b'101',
  d VARCHAR(10) DEFAULT N'n, )',
  e INT
);

CREATE TABLE adv_ver2 (a INT /*!100100 , b INT */ /*M!999999 , c INT */, d INT);

ALTER TABLE adv_ver2 ADD e INT /*!999999 , ADD f INT */ /*M!100000 , ADD g INT */;

CREATE TABLE adv_psel (SELECT 1 AS a, 'x' AS b);

CREATE TABLE adv_psel2 (PRIMARY KEY (a)) SELECT 1 AS a, 2 AS b;

CREATE TABLE adv_psel3 (c INT, INDEX (c)) IGNORE SELECT 1 AS a UNION SELECT 2;

CREATE TABLE adv_psel4 AS SELECT 1 AS `x,y`, 2 AS `(z)`;

CREATE TABLE `adv.dot` (a INT, b INT);

ALTER TABLE `adv.dot` ADD c INT FIRST;

CREATE TABLE adv_uni (`žluť` INT, `Ω,)` INT, `名前` VARCHAR(5));

ALTER TABLE adv_uni CHANGE `žluť` `ŽLUŤ2` INT AFTER `名前`;

SET sql_mode = 'NO_BACKSLASH_ESCAPES';

EXECUTE IMMEDIATE CONCAT('CREATE TABLE adv_nbe (a VARCHAR(10) DEFAULT ''a', CHAR(92), ''', b INT, c VARCHAR(10) DEFAULT ''x', CHAR(92), ''')');

EXECUTE IMMEDIATE CONCAT('ALTER TABLE adv_nbe ADD d VARCHAR(5) DEFAULT ''', CHAR(92), ''', ADD e INT');

SET sql_mode = 'ANSI_QUOTES';

CREATE TABLE "adv_ansi" ("a,b" INT, "c""d" INT, e VARCHAR(5) DEFAULT 'q"');

ALTER TABLE "adv_ansi" ADD "f)" INT AFTER "a,b";

SET sql_mode = 'PIPES_AS_CONCAT,ANSI_QUOTES,NO_BACKSLASH_ESCAPES';

EXECUTE IMMEDIATE CONCAT('ALTER TABLE adv_ansi ADD g VARCHAR(10) DEFAULT (''a'' || ''', CHAR(92), '''), ADD h INT');

SET sql_mode = DEFAULT;

CREATE TABLE adv_drop1 (a INT);

CREATE TABLE adv_drop2 (a INT);

DROP TABLE IF EXISTS adv_drop1, adv_nope, adv_drop2;

CREATE TABLE adv_drop1 (x VARCHAR(5), y INT);

CREATE TABLE adv_drop2 LIKE adv_drop1;

ALTER TABLE adv_drop2 ADD z INT FIRST;

RENAME TABLE adv_drop1 TO adv_other.adv_moved, adv_other.t2 TO adv_drop1;

ALTER TABLE adv_drop1 ADD moved_back INT;

ALTER TABLE adv_other.adv_moved ADD w INT AFTER x;

CREATE OR REPLACE TABLE adv_drop2 (n INT) SELECT 1 AS m;

CREATE TABLE adv_cmt (a INT/**/,/**/b/*,c INT*/INT,#)
c INT);

ALTER TABLE adv_cmt ADD/*x*/COLUMN/*y*/d/*z*/INT/*w*/FIRST, ADD e INT AFTER/*q*/b;

ALTER TABLE adv_cmt DROP/**/COLUMN/**/a, DROP b;

ALTER TABLE adv_cmt CHANGE d `d, (e)` INT AFTER c, MODIFY e BIGINT FIRST;

ALTER TABLE adv_cmt DROP COLUMN c, ADD COLUMN c INT FIRST, CHANGE `d, (e)` d INT AFTER c;

CREATE TABLE adv_kw3 (status INT, timestamp INT, date DATE, text TEXT, bit INT, enum INT, signed INT, serial INT, national INT, position INT, at INT);

ALTER TABLE adv_kw3 ADD signed2 INT UNSIGNED AFTER signed, DROP serial, CHANGE national nat INT FIRST;

CREATE TABLE adv_order (INDEX (a), a INT, CONSTRAINT CHECK (a > 0), b INT, UNIQUE (b), c INT REFERENCES adv_ipk (id), s DATE, e DATE, PERIOD FOR p (s, e), d INT);

ALTER TABLE adv_order ADD SYSTEM VERSIONING;

ALTER TABLE adv_order ADD f INT AFTER a;

ALTER TABLE adv_order DROP SYSTEM VERSIONING, ADD g INT FIRST;

ALTER TABLE adv_order MODIFY b INT INVISIBLE, ADD h INT INVISIBLE AFTER b;

CREATE TABLE adv_part2 (id INT, v INT) PARTITION BY RANGE (id) (PARTITION p0 VALUES LESS THAN (10) COMMENT = 'x, y)', PARTITION p1 VALUES LESS THAN MAXVALUE);

ALTER TABLE adv_part2 ADD w INT FIRST PARTITION BY HASH (id) PARTITIONS 3;

ALTER TABLE adv_part2 REMOVE PARTITIONING;

ALTER TABLE adv_part2 ADD x INT, FORCE;

USE adv_other;

ALTER TABLE adv_moved ADD from_other_db INT FIRST;

CREATE TABLE corpus_23_adversarial.adv_from_other (a INT, b INT);

USE corpus_23_adversarial;

ALTER TABLE adv_from_other ADD c INT AFTER a;

CREATE TABLE adv_csel (`select` INT, z INT DEFAULT 7) REPLACE AS SELECT 1 AS `select`, 2 AS y;

CREATE TABLE adv_csel2 (a INT DEFAULT 1, b INT) SELECT 'x' AS b, 3 AS c;

CREATE TABLE adv_sem (a INT, b INT, c INT, d INT);

ALTER TABLE adv_sem CHANGE a b2 INT, ADD a INT FIRST;

ALTER TABLE adv_sem RENAME COLUMN b TO bb, ADD b VARCHAR(5) AFTER c;

ALTER TABLE adv_sem DROP d, CHANGE c d INT;

ALTER TABLE adv_sem ADD y INT FIRST, ADD z INT FIRST;

ALTER TABLE adv_sem MODIFY bb INT FIRST, MODIFY d INT FIRST;

ALTER TABLE adv_sem ADD x INT AFTER a, MODIFY a INT AFTER b;

ALTER TABLE adv_sem ADD X2 INT AFTER A, DROP COLUMN B, RENAME COLUMN BB TO bb2;

ALTER TABLE adv_sem CHANGE b2 b3 INT, CHANGE d d2 INT AFTER y;

ALTER TABLE adv_sem ADD (e INT, INDEX (e), f INT);

ALTER TABLE adv_sem ADD COLUMN g INT DEFAULT(1), ADD h TIMESTAMP NULL DEFAULT NULL ON UPDATE CURRENT_TIMESTAMP;

ALTER TABLE adv_sem ALTER COLUMN g SET DEFAULT (length('x, ADD b INT')), ADD i INT;

ALTER TABLE adv_sem ADD j INT GENERATED ALWAYS AS (e + 1) VIRTUAL INVISIBLE AFTER e;

ALTER TABLE adv_sem RENAME TO adv_sem;

CREATE TABLE adv_sem2 (row_start INT, row_end INT, charset INT, `collate` INT, `trx_id` INT);

ALTER TABLE adv_sem2 ADD COLUMN `row_start2` INT AFTER row_start, DROP `collate`;

ALTER TABLE IF EXISTS adv_sem2 ADD k INT FIRST;

ALTER TABLE IF EXISTS adv_absent ADD k INT FIRST;

RENAME TABLE IF EXISTS adv_absent TO adv_absent2, adv_sem2 TO adv_sem3;

ALTER TABLE adv_sem3 ADD l INT;

CREATE TEMPORARY TABLE adv_sem3 (shadow INT, shadow2 INT);

ALTER TABLE adv_sem3 ADD shadow3 INT;

CREATE TABLE adv_from_tmp LIKE adv_sem3;

CREATE TABLE adv_from_tmp2 SELECT * FROM adv_sem3;

DROP TEMPORARY TABLE adv_sem3;

ALTER TABLE adv_sem3 ADD m INT FIRST;

ALTER TABLE adv_from_tmp ADD n INT FIRST;

CREATE TABLE adv_vp (a INT, b INT) WITH SYSTEM VERSIONING PARTITION BY SYSTEM_TIME INTERVAL 1 HOUR PARTITIONS 3;

ALTER TABLE adv_vp ADD c INT AFTER a;

CREATE OR REPLACE TABLE adv_vp (z INT) SELECT 1 AS y;

SET sql_mode = ORACLE;

CREATE TABLE adv_ora (a VARCHAR2(10), b NUMBER(5,2), c CLOB, d RAW(10), e DATE, f VARCHAR2(20) DEFAULT ('x' || ',' || ')'));

ALTER TABLE adv_ora ADD g NUMBER FIRST, DROP c;

SET sql_mode = DEFAULT;

CREATE TABLE adv_num (1e INT, 2x INT, 0x INT, 0b2 INT, 0xg INT, 123abc INT, `1e5` INT, 9e INT);

ALTER TABLE adv_num ADD COLUMN 3e INT AFTER 1e, DROP 0x, CHANGE 2x 4e INT FIRST;

CREATE DATABASE 1e_db;

CREATE TABLE 1e_db.2e (a INT, 1e INT);

ALTER TABLE 1e_db . 2e ADD b INT FIRST;

ALTER TABLE adv_other . `adv_moved` ADD spaced INT;

ALTER TABLE adv_other.`adv_moved`ADD(nospace INT);

CREATE TABLE adv_nbsp (a INT,b INT,c INT)ENGINE=InnoDB;

ALTER TABLE adv_nbsp ADD`d`INT FIRST,ADD e INT AFTER`a`,DROP`b`;

CREATE TABLE adv_str (a VARCHAR(10) DEFAULT 'x' 'y, )', b INT COMMENT "q),(", c INT);

ALTER TABLE adv_str ADD d INT COMMENT 'x , ADD z INT', ADD e VARCHAR(20) DEFAULT 'p' ' , ADD y INT';

CREATE TABLE adv_ec (a INT /*!50700 , x INT */ /*!50699 , y INT */ /*!100100 , z INT */ /*!32302 , w INT */ /*! , v INT */, b INT);

CREATE TABLE adv_ec2 (a INT /*!40101 , b INT /* plain, c INT */ */, d INT);

ALTER TABLE adv_ec ADD c INT /*!50100 FIRST */, ADD d INT /*!80000 FIRST */;

ALTER TABLE adv_ec ADD /*+ hint */ e INT, ADD f INT /*M!100000 AFTER a */;

CREATE TABLE adv_chain (a INT);

RENAME TABLE adv_chain TO adv_chain2, adv_chain2 TO adv_chain3;

ALTER TABLE adv_chain3 ADD b INT;

RENAME TABLE adv_chain3 TO adv_chain4, adv_chain4 TO adv_chain3;

ALTER TABLE adv_chain3 ADD c INT FIRST;

CREATE TABLE adv_union AS (SELECT 1 AS a, 'x' AS b) UNION (SELECT 2, 'y');

CREATE TABLE adv_union2 (c INT) (SELECT 1 AS a) UNION ALL (SELECT 2);

CREATE SEQUENCE adv_seq;

CREATE TABLE adv_nextval (id INT DEFAULT NEXTVAL(adv_seq), `check` VARCHAR(10) CHECK (`check` <> 'a, b)'), v INT AS (id + 1) PERSISTENT);

ALTER TABLE adv_nextval ADD w INT DEFAULT (NEXTVAL(adv_seq) + 1) AFTER id;

CREATE TABLE adv_inv (a INT INVISIBLE, b INT, c INT INVISIBLE);

ALTER TABLE adv_inv ADD d INT INVISIBLE FIRST, MODIFY a INT AFTER c;

CREATE TABLE adv_combo (a INT, b INT, c INT);

ALTER TABLE adv_combo RENAME COLUMN a TO a2, RENAME TO adv_combo2, CHANGE c d INT FIRST, ALGORITHM = COPY;

CREATE TABLE IF NOT EXISTS adv_combo2 LIKE adv1;

CREATE OR REPLACE TABLE adv_other.adv_combo2 LIKE adv_combo2;

ALTER TABLE adv_other.adv_combo2 RENAME TO adv_combo3, ADD e INT AFTER d;

ALTER TABLE adv_combo3 DROP COLUMN a2, RENAME TO adv_other.adv_combo4;

ALTER TABLE adv_other.adv_combo4 ADD f INT;

CREATE TABLE adv_other.adv_pt (id INT, v INT) PARTITION BY RANGE (id) (PARTITION p0 VALUES LESS THAN (10), PARTITION p1 VALUES LESS THAN MAXVALUE);

ALTER TABLE adv_other.adv_pt CONVERT PARTITION p0 TO TABLE adv_pt_p0;

ALTER TABLE adv_pt_p0 ADD w INT FIRST;

ALTER TABLE adv_other.adv_pt ADD x INT;

CREATE TABLE adv_csel3 (b INT, a INT) SELECT 1 AS a, 2 AS c;

ALTER TABLE adv_csel3 ADD id INT NOT NULL AUTO_INCREMENT PRIMARY KEY FIRST;

ALTER TABLE adv_csel3 DROP PRIMARY KEY, MODIFY id INT NOT NULL, ADD PRIMARY KEY (a, id), ADD d INT AFTER id;

CREATE TABLE adv_wsv (a INT, b INT WITHOUT SYSTEM VERSIONING, c INT) WITH SYSTEM VERSIONING;

CREATE TABLE adv_wsv2 (a INT WITH SYSTEM VERSIONING, b INT);

ALTER TABLE adv_wsv2 ADD c INT WITHOUT SYSTEM VERSIONING FIRST;

CREATE TABLE `adv``tick` (`a``b` INT, ```` INT);

ALTER TABLE `adv``tick` ADD `c``` INT AFTER `a``b`, CHANGE ```` `d` INT FIRST;

CREATE TABLE adv_tabs (a	INT,b
INT ,c INT	);

ALTER TABLE adv_tabs
ADD
COLUMN
x
INT
AFTER
b
,
DROP
c
;

CREATE TABLE adv_topt (a INT, b INT) COMMENT 'x, (' , ENGINE InnoDB CHARACTER SET = utf8mb4 COLLATE utf8mb4_bin, AUTO_INCREMENT 5;

CREATE TABLE adv_aria (a INT, `transactional` INT) ENGINE=Aria PAGE_CHECKSUM=1 TRANSACTIONAL=1 ROW_FORMAT=PAGE;

ALTER TABLE adv_aria DEFAULT CHARSET=latin1, ADD v VARCHAR(5) AFTER a, TRANSACTIONAL=0;

CREATE TABLE adv_mrg1 (a INT, b INT) ENGINE=MyISAM;

CREATE TABLE adv_mrg (a INT, b INT) ENGINE=MERGE UNION=(adv_mrg1) INSERT_METHOD=LAST;

ALTER TABLE adv_mrg1 ADD c INT FIRST;

CREATE TABLE adv_numdef (a DECIMAL(5,2) DEFAULT .5, b DOUBLE DEFAULT 1., c DOUBLE DEFAULT 1.e3, d INT DEFAULT +1, e DOUBLE DEFAULT -.5e-1, f INT DEFAULT 0x1F, g INT DEFAULT(0b11), h INT);

ALTER TABLE adv_numdef ADD i INT DEFAULT -1 AFTER a, ADD j DOUBLE DEFAULT 2.e-2 FIRST;

CREATE TABLE adv_tight (a INT(11)UNSIGNED DEFAULT'1'COMMENT'c', b INT DEFAULT-1, c DOUBLE DEFAULT 1.5e+3, d VARCHAR(5) DEFAULT _latin1 'x', e VARBINARY(5) DEFAULT _binary'\0', $f INT, g$ INT, _h INT, n VARCHAR(5) DEFAULT'z');

ALTER TABLE adv_other. adv_moved ADD sp1 INT;

ALTER TABLE adv_other .adv_moved ADD sp2 INT FIRST;

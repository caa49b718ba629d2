//! Tests of the CREATE and ALTER TABLE forms: OR REPLACE, TEMPORARY, IF [NOT] EXISTS, LIKE,
//! SELECT, partitions, system versioning, sequences, and every ALTER operation.

use super::*;
use crate::model::{Charset, ColumnDefault, ColumnKind};
use lexer::SqlMode;

fn apply(cat: &mut Catalog, sql: &str) -> Arc<TableDesc> {
    match apply_statement(cat, sql, "shop") {
        Ok(mut v) => v.remove(0),
        Err(e) => panic!("{sql}: {e}"),
    }
}

fn names(t: &TableDesc) -> Vec<&str> {
    t.columns.iter().map(|c| c.name.as_str()).collect()
}

fn table<'a>(cat: &'a Catalog, name: &str) -> &'a TableDesc {
    cat.get("shop", name)
        .unwrap_or_else(|| panic!("no table {name}"))
}

#[test]
fn create_forms() {
    let mut cat = Catalog::default();
    apply(&mut cat, "CREATE TABLE a (x INT, y INT)");
    let t = apply(&mut cat, "CREATE OR REPLACE TABLE a (z INT)");
    assert_eq!(names(&t), vec!["z"]);
    // The server keeps an existing table on IF NOT EXISTS.
    let t = apply(&mut cat, "CREATE TABLE IF NOT EXISTS a (w INT, v INT)");
    assert_eq!(names(&t), vec!["z"]);
    let t = apply(&mut cat, "CREATE TABLE IF NOT EXISTS other.a (w INT)");
    assert_eq!((t.db.as_str(), names(&t)), ("other", vec!["w"]));
    // TEMPORARY tables are not logged as rows: nothing changes.
    let made = apply_statement(&mut cat, "CREATE TEMPORARY TABLE tmp (id INT)", "shop");
    assert_eq!(made, Ok(vec![]));
    assert!(cat.get("shop", "tmp").is_none());
    let made = apply_statement(
        &mut cat,
        "CREATE OR REPLACE TEMPORARY TABLE a (q INT)",
        "shop",
    );
    assert_eq!(made, Ok(vec![]));
    assert_eq!(names(table(&cat, "a")), vec!["z"]);
    let t = apply(&mut cat, "CREATE TABLE b LIKE a");
    assert_eq!(names(&t), vec!["z"]);
    let t = apply(&mut cat, "CREATE TABLE c (LIKE `shop`.`a`)");
    assert_eq!(names(&t), vec!["z"]);
    for sql in [
        "CREATE TABLE s1 AS SELECT * FROM a",
        "CREATE TABLE s2 SELECT 1 AS x",
        "CREATE TABLE s3 (id INT PRIMARY KEY) SELECT z FROM a",
        "CREATE TABLE s4 (id INT) IGNORE SELECT z FROM a",
        "CREATE TABLE s5 (SELECT z FROM a)",
        "CREATE TABLE s6 (id INT) ENGINE=InnoDB AS SELECT z FROM a",
        "CREATE TABLE s7 (id INT) PARTITION BY HASH (id) PARTITIONS 2 SELECT z FROM a",
    ] {
        let err = apply_statement(&mut cat, sql, "shop").expect_err(sql);
        assert!(err.contains("SELECT"), "{sql}: {err}");
        assert!(cat.tables().all(|t| !t.name.starts_with('s')), "{sql}");
    }
    let err = apply_statement(&mut cat, "CREATE TABLE d LIKE nope", "shop").unwrap_err();
    assert!(err.contains("unknown table"), "{err}");
}

#[test]
fn table_options_and_partitions() {
    let mut cat = Catalog::default();
    let t = apply(
        &mut cat,
        "CREATE TABLE p (id INT NOT NULL, d DATE, name VARCHAR(10), PRIMARY KEY (id, d)) \
         ENGINE=InnoDB AUTO_INCREMENT=5 DEFAULT CHARSET=latin1 COLLATE latin1_bin \
         ROW_FORMAT=DYNAMIC COMMENT='it''s' STATS_PERSISTENT 0 UNION=(a,b) \
         DATA DIRECTORY='/x' PAGE_COMPRESSED=1 my_engine_option='v' \
         PARTITION BY RANGE (YEAR(d)) SUBPARTITION BY HASH (id) SUBPARTITIONS 2 \
         (PARTITION p0 VALUES LESS THAN (2000), PARTITION p1 VALUES LESS THAN MAXVALUE)",
    );
    assert_eq!(names(&t), vec!["id", "d", "name"]);
    assert_eq!(t.primary_key, vec![0, 1]);
    assert_eq!(t.comment.as_deref(), Some("it's"));
    assert_eq!(t.charset_name.as_deref(), Some("latin1"));
    assert_eq!(t.columns[2].charset, Charset::from_name("latin1"));
    for sql in [
        "ALTER TABLE p PARTITION BY HASH(id) PARTITIONS 4",
        "ALTER TABLE p ADD PARTITION (PARTITION p2 VALUES LESS THAN (3000))",
        "ALTER TABLE p DROP PARTITION p0, p1",
        "ALTER TABLE p REORGANIZE PARTITION p0, p1 INTO (PARTITION p2 VALUES LESS THAN (5))",
        "ALTER TABLE p TRUNCATE PARTITION p0, p1",
        "ALTER TABLE p COALESCE PARTITION 2",
        "ALTER TABLE p EXCHANGE PARTITION p0 WITH TABLE q WITHOUT VALIDATION",
        "ALTER TABLE p ANALYZE PARTITION ALL",
        "ALTER TABLE p REMOVE PARTITIONING",
        "ALTER TABLE p ENGINE=InnoDB, ROW_FORMAT=COMPRESSED KEY_BLOCK_SIZE=8",
        "ALTER TABLE p FORCE",
        "ALTER TABLE p DISABLE KEYS",
        "ALTER TABLE p ENABLE KEYS",
        "ALTER TABLE p ORDER BY name DESC, id",
        "ALTER TABLE p DISCARD TABLESPACE",
        "ALTER TABLE p IMPORT TABLESPACE",
        "ALTER TABLE p ADD INDEX i (name), ADD UNIQUE KEY u (name(3)), ADD FULLTEXT (name)",
        "ALTER TABLE p ADD CONSTRAINT fk FOREIGN KEY (id) REFERENCES q (id) ON DELETE CASCADE",
        "ALTER TABLE p ADD CONSTRAINT ck CHECK (id > 0), ADD CHECK (id < 9)",
        "ALTER TABLE p DROP INDEX i, DROP KEY u, DROP FOREIGN KEY fk, DROP CHECK ck",
        "ALTER TABLE p DROP CONSTRAINT IF EXISTS ck, DROP INDEX IF EXISTS nope",
        "ALTER TABLE p RENAME INDEX a TO b, RENAME KEY c TO d, ALTER INDEX a INVISIBLE",
        "ALTER TABLE p ALGORITHM=INPLACE, LOCK=NONE, ADD INDEX (d)",
        "ALTER TABLE p ALGORITHM INSTANT",
        "ALTER TABLE p DEFAULT CHARACTER SET = utf8mb4 COLLATE utf8mb4_bin",
        "ALTER TABLE p CHARSET utf8mb4",
        "ALTER TABLE p WAIT 5 ENGINE = InnoDB",
        "ALTER TABLE p NOWAIT FORCE",
        "ALTER TABLE p AUTO_INCREMENT 100",
        "ALTER TABLE p ALTER CHECK ck NOT ENFORCED",
    ] {
        let t = apply(&mut cat, sql);
        assert_eq!(names(&t), vec!["id", "d", "name"], "{sql}");
        assert_eq!(t.charset_name.as_deref(), Some("latin1"), "{sql}");
    }
    let t = apply(
        &mut cat,
        "CREATE TABLE eo (a INT `my_field_opt`=1, b INT) ENGINE=InnoDB `PAGE_COMPRESSED`='ON'",
    );
    assert_eq!(names(&t), vec!["a", "b"]);
    let t = apply(&mut cat, "ALTER TABLE eo `PAGE_COMPRESSED`=0, ADD c INT");
    assert_eq!(names(&t), vec!["a", "b", "c"]);
    let t = apply(
        &mut cat,
        "ALTER TABLE eo ADD (PRIMARY KEY pk (a), d INT NOT NULL, UNIQUE KEY u (d)), \
         ADD COLUMN (INDEX (b)), ADD PRIMARY KEY IF NOT EXISTS (a)",
    );
    assert_eq!(
        (names(&t), t.primary_key.clone()),
        (vec!["a", "b", "c", "d"], vec![0])
    );
    let t = apply(&mut cat, "ALTER TABLE eo DEFAULT CHAR SET = latin1");
    assert_eq!(t.columns.len(), 4);
    let t = apply(&mut cat, "ALTER TABLE p COMMENT = 'new'");
    assert_eq!(t.comment.as_deref(), Some("new"));
    let err = apply_statement(&mut cat, "ALTER TABLE p FROBNICATE", "shop").unwrap_err();
    assert!(
        err.contains("unsupported ALTER TABLE operation `FROBNICATE`"),
        "{err}"
    );
}

#[test]
fn alter_column_operations() {
    let mut cat = Catalog::default();
    apply(
        &mut cat,
        "CREATE TABLE t (id INT NOT NULL, a INT, PRIMARY KEY (id))",
    );
    let t = apply(
        &mut cat,
        "ALTER ONLINE IGNORE TABLE t ADD COLUMN IF NOT EXISTS a BIGINT, ADD IF NOT EXISTS b INT \
         AFTER id, ADD (c SET('x','y'), d POINT), ADD COLUMN e VARCHAR(3) BINARY FIRST",
    );
    assert_eq!(names(&t), vec!["e", "id", "b", "a", "c", "d"]);
    assert_eq!(
        t.columns[3].kind,
        ColumnKind::Int,
        "IF NOT EXISTS kept the old a"
    );
    assert_eq!(t.primary_key, vec![1]);
    assert!(!t.columns[0].is_binary());
    let t = apply(
        &mut cat,
        "ALTER TABLE t DROP COLUMN IF EXISTS nope, DROP e, DROP COLUMN d RESTRICT",
    );
    assert_eq!(names(&t), vec!["id", "b", "a", "c"]);
    let t = apply(
        &mut cat,
        "ALTER TABLE t MODIFY IF EXISTS nope INT, MODIFY COLUMN a BIGINT UNSIGNED NOT NULL FIRST, \
         CHANGE IF EXISTS nope2 x INT, CHANGE COLUMN b bb TEXT AFTER c",
    );
    assert_eq!(names(&t), vec!["a", "id", "c", "bb"]);
    assert_eq!(
        (t.columns[0].kind.clone(), t.columns[0].unsigned),
        (ColumnKind::BigInt, true)
    );
    assert_eq!(t.primary_key, vec![1]);
    let t = apply(
        &mut cat,
        "ALTER TABLE t RENAME COLUMN bb TO b2, ALTER COLUMN a SET DEFAULT 7, \
         ALTER c SET INVISIBLE, ALTER COLUMN c SET VISIBLE",
    );
    assert_eq!(names(&t), vec!["a", "id", "c", "b2"]);
    assert_eq!(
        t.columns[0].default,
        Some(ColumnDefault::Literal("7".into()))
    );
    let t = apply(&mut cat, "ALTER TABLE t ALTER COLUMN a DROP DEFAULT");
    assert_eq!(t.columns[0].default, None);
    let t = apply(
        &mut cat,
        "ALTER TABLE t DROP PRIMARY KEY, ADD CONSTRAINT pk PRIMARY KEY USING BTREE (a, id)",
    );
    assert_eq!(t.primary_key, vec![0, 1]);
    let t = apply(
        &mut cat,
        "ALTER TABLE t CONVERT TO CHARACTER SET latin1 COLLATE latin1_bin",
    );
    assert_eq!(t.columns[3].charset, Charset::from_name("latin1"));
    let t = apply(&mut cat, "ALTER TABLE t ADD z VARCHAR(2)");
    assert_eq!(t.columns[4].charset, Charset::from_name("latin1"));
    let t = apply(&mut cat, "ALTER TABLE t RENAME AS t2");
    assert_eq!(t.name, "t2");
    let t = apply(&mut cat, "ALTER TABLE t2 ADD w INT, RENAME TO other.t3");
    assert_eq!((t.db.as_str(), t.name.as_str()), ("other", "t3"));
    assert_eq!(names(&t).last(), Some(&"w"));
    assert!(cat.get("shop", "t2").is_none());
}

#[test]
fn alter_names_the_columns_as_they_were() {
    let mut cat = Catalog::default();
    apply(&mut cat, "CREATE TABLE r (d INT, c INT, a INT, b INT)");
    let t = apply(&mut cat, "ALTER TABLE r CHANGE a b INT, CHANGE b a INT");
    assert_eq!(names(&t), vec!["d", "c", "b", "a"]);
    apply(&mut cat, "CREATE TABLE s (x INT, y INT)");
    let t = apply(
        &mut cat,
        "ALTER TABLE s CHANGE x y INT, CHANGE y x VARCHAR(10)",
    );
    assert_eq!(names(&t), vec!["y", "x"]);
    assert_eq!(t.columns[0].kind, ColumnKind::Int);
    assert_eq!(t.columns[1].kind, ColumnKind::VarChar { max_bytes: 40 });
    let t = apply(
        &mut cat,
        "ALTER TABLE s RENAME COLUMN x TO y, RENAME COLUMN y TO x",
    );
    assert_eq!(names(&t), vec!["x", "y"]);
    let t = apply(
        &mut cat,
        "ALTER TABLE s DROP COLUMN x, ADD COLUMN x BIGINT FIRST",
    );
    assert_eq!(names(&t), vec!["x", "y"]);
    assert_eq!(t.columns[0].kind, ColumnKind::BigInt);
    // `PARTITION BY` may follow the last operation without a comma.
    let t = apply(
        &mut cat,
        "ALTER TABLE s ADD COLUMN extra INT DEFAULT 0 PARTITION BY KEY (x) PARTITIONS 3",
    );
    assert_eq!(names(&t), vec!["x", "y", "extra"]);
    assert_eq!(t.primary_key, Vec::<usize>::new());
    let t = apply(
        &mut cat,
        "SET STATEMENT max_statement_time = 60, sql_mode = 'x' FOR ALTER TABLE s DROP extra",
    );
    assert_eq!(names(&t), vec!["x", "y"]);
}

#[test]
fn alter_failures_change_nothing() {
    let mut cat = Catalog::default();
    let before = apply(&mut cat, "CREATE TABLE t (id INT, a INT)");
    for sql in [
        "ALTER TABLE t ADD x INT, DROP nope",
        "ALTER TABLE t ADD a INT",
        "ALTER TABLE t ADD x INT AFTER nope",
        "ALTER TABLE t MODIFY nope INT",
        "ALTER TABLE t ALTER COLUMN nope SET DEFAULT 1",
        "ALTER TABLE t ADD PRIMARY KEY (nope)",
        "ALTER TABLE t ADD x BADTYPE",
        "ALTER TABLE t CONVERT TO nothing",
        "ALTER TABLE unknown ADD x INT",
    ] {
        assert!(apply_statement(&mut cat, sql, "shop").is_err(), "{sql}");
        assert_eq!(cat.get("shop", "t"), Some(&before), "{sql}");
    }
}

#[test]
fn system_versioning_adds_and_drops_the_period_columns() {
    let mut cat = Catalog::default();
    let implicit = |t: &TableDesc| {
        let n = t.columns.len();
        assert_eq!(names(t)[n - 2..], ["row_start", "row_end"]);
        for c in &t.columns[n - 2..] {
            assert_eq!(c.kind, ColumnKind::Timestamp { fsp: 6 });
            assert!(!c.nullable);
        }
    };
    let t = apply(
        &mut cat,
        "CREATE TABLE v1 (id INT PRIMARY KEY, x INT) WITH SYSTEM VERSIONING",
    );
    implicit(&t);
    let t = apply(
        &mut cat,
        "CREATE TABLE v2 (a INT WITH SYSTEM VERSIONING, b INT WITHOUT SYSTEM VERSIONING)",
    );
    implicit(&t);
    let t = apply(
        &mut cat,
        "CREATE TABLE v3 (id INT, s TIMESTAMP(6) GENERATED ALWAYS AS ROW START INVISIBLE, \
         e TIMESTAMP(6) GENERATED ALWAYS AS ROW END INVISIBLE, PERIOD FOR SYSTEM_TIME(s, e)) \
         WITH SYSTEM VERSIONING",
    );
    assert_eq!(names(&t), vec!["id", "s", "e"]);
    assert!(!t.columns[1].nullable);
    let t = apply(
        &mut cat,
        "CREATE TABLE v4 (id INT, s BIGINT UNSIGNED AS ROW START, e BIGINT UNSIGNED AS ROW END, \
         PERIOD FOR SYSTEM_TIME(s, e)) ENGINE=InnoDB WITH SYSTEM VERSIONING",
    );
    assert_eq!(names(&t), vec!["id", "s", "e"]);
    let t = apply(&mut cat, "ALTER TABLE v1 DROP SYSTEM VERSIONING");
    assert_eq!(names(&t), vec!["id", "x"]);
    let t = apply(&mut cat, "ALTER TABLE v1 ADD SYSTEM VERSIONING");
    implicit(&t);
    let t = apply(&mut cat, "ALTER TABLE v1 ADD COLUMN y INT");
    assert_eq!(names(&t), vec!["id", "x", "y", "row_start", "row_end"]);
    let t = apply(
        &mut cat,
        "ALTER TABLE v3 DROP COLUMN s, DROP COLUMN e, DROP PERIOD FOR SYSTEM_TIME, \
         DROP SYSTEM VERSIONING",
    );
    assert_eq!(names(&t), vec!["id"]);
    let t = apply(
        &mut cat,
        "ALTER TABLE v3 ADD COLUMN ts TIMESTAMP(6) GENERATED ALWAYS AS ROW START, \
         ADD COLUMN te TIMESTAMP(6) GENERATED ALWAYS AS ROW END, \
         ADD PERIOD FOR SYSTEM_TIME(ts, te), ADD SYSTEM VERSIONING",
    );
    assert_eq!(names(&t), vec!["id", "ts", "te"]);
    // Partitioned by SYSTEM_TIME: still the implicit columns.
    let t = apply(
        &mut cat,
        "CREATE TABLE v5 (x INT) WITH SYSTEM VERSIONING PARTITION BY SYSTEM_TIME INTERVAL 1 MONTH",
    );
    implicit(&t);
}

#[test]
fn sequences_are_tables() {
    let mut cat = Catalog::default();
    let t = apply(
        &mut cat,
        "CREATE SEQUENCE s1 START WITH 10 INCREMENT BY 5 CACHE 100 NOCYCLE",
    );
    assert_eq!(
        names(&t),
        vec![
            "next_not_cached_value",
            "minimum_value",
            "maximum_value",
            "start_value",
            "increment",
            "cache_size",
            "cycle_option",
            "cycle_count"
        ]
    );
    assert_eq!(t.columns[0].kind, ColumnKind::BigInt);
    assert!(t.columns[5].unsigned);
    assert_eq!(t.columns[6].kind, ColumnKind::TinyInt);
    assert!(t.columns.iter().all(|c| !c.nullable));
    let t = apply(
        &mut cat,
        "CREATE OR REPLACE SEQUENCE IF NOT EXISTS other.s2 AS INT UNSIGNED",
    );
    assert_eq!(
        (t.db.as_str(), t.columns[0].kind.clone()),
        ("other", ColumnKind::Int)
    );
    assert!(t.columns[0].unsigned);
    assert_eq!(t.columns[4].kind, ColumnKind::BigInt);
    let t = apply(&mut cat, "ALTER SEQUENCE s1 RESTART WITH 1");
    assert_eq!(t.columns[0].kind, ColumnKind::BigInt);
    let t = apply(&mut cat, "ALTER SEQUENCE IF EXISTS s1 AS SMALLINT");
    assert_eq!(t.columns[0].kind, ColumnKind::SmallInt);
}

/// MariaDB 10.11's `SHOW CREATE TABLE` of tables using the constructs above (the snapshot
/// reads these), several statements in one text: every table and column follows.
#[test]
fn show_create_tables_of_mariadb_10_11() {
    let mut cat = Catalog::default();
    let made = apply_statement(&mut cat, include_str!("show_create_mariadb.sql"), "shop")
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(made.len(), 7);
    let x1 = table(&cat, "x1");
    assert_eq!(x1.columns.len(), 21);
    assert_eq!(x1.primary_key, vec![0, 7]);
    assert_eq!(x1.comment.as_deref(), Some("x'y"));
    let c = |n: &str| &x1.columns[x1.column_index(n).expect(n)];
    assert_eq!(c("a").ddl.charset_name.as_deref(), Some("latin1"));
    assert_eq!(c("b").charset, Charset::from_name("latin1"));
    assert_eq!(c("e").kind, ColumnKind::Blob { len_bytes: 3 });
    assert_eq!(
        c("j").kind,
        ColumnKind::Set {
            values: vec!["x".into(), "y\\z".into()]
        }
    );
    assert_eq!(c("k").ddl.type_name.as_deref(), Some("UUID"));
    assert_eq!(c("n").kind, ColumnKind::Blob { len_bytes: 2 });
    assert_eq!(c("s").default, Some(ColumnDefault::Literal("a'b".into())));
    assert_eq!(c("t").ddl.comment.as_deref(), Some("a 'q'"));
    assert_eq!(names(table(&cat, "x4")), vec!["id", "d"]);
    assert_eq!(names(table(&cat, "x2")), vec!["id", "s", "e"]);
    assert_eq!(
        names(table(&cat, "x3")),
        vec!["a", "b", "row_start", "row_end"]
    );
    assert_eq!(
        names(table(&cat, "we`ird tbl")),
        vec!["col one", "\u{5217}"]
    );
    assert_eq!(
        names(table(&cat, "sv1")),
        vec!["id", "x", "row_start", "row_end"]
    );
    // `CREATE SEQUENCE` makes the very table MariaDB shows for a sequence.
    let shown = table(&cat, "sq1").clone();
    let made = apply(&mut cat, "CREATE OR REPLACE SEQUENCE sq1");
    assert_eq!(*made, shown);
}

#[test]
fn long_unique_keys_have_hidden_hash_columns() {
    let mut cat = Catalog::default();
    let maria = SqlMode {
        mariadb: true,
        ..SqlMode::default()
    };
    let hashes = |t: &TableDesc| {
        t.columns
            .iter()
            .filter(|c| c.name.starts_with("DB_ROW_HASH_"))
            .map(|c| (c.name.clone(), c.kind.clone(), c.unsigned))
            .collect::<Vec<_>>()
    };
    let sql = "CREATE TABLE lu1 (id INT, body TEXT, c VARCHAR(1000), UNIQUE KEY (body), \
               UNIQUE KEY uc (c), UNIQUE KEY uh (id) USING HASH) DEFAULT CHARSET=utf8mb4";
    let t = apply_statement_with(&mut cat, sql, "shop", maria).unwrap()[0].clone();
    assert_eq!(
        names(&t)[3..],
        ["DB_ROW_HASH_1", "DB_ROW_HASH_2", "DB_ROW_HASH_3"]
    );
    assert_eq!(hashes(&t)[0].1, ColumnKind::BigInt);
    assert!(hashes(&t)[0].2);
    // MySQL ignores USING HASH on InnoDB.
    let t = apply(&mut cat, &sql.replace("lu1", "lu1m"));
    assert_eq!(hashes(&t).len(), 2);
    let t = apply(
        &mut cat,
        "CREATE TABLE lu2 (a VARCHAR(2000), UNIQUE(a)) CHARSET utf8mb4",
    );
    assert_eq!(hashes(&t).len(), 1);
    let t = apply(&mut cat, "CREATE TABLE lu3 (a INT, b BLOB, UNIQUE(b(10)), c VARCHAR(1000) CHARACTER SET utf8mb3 UNIQUE)");
    assert_eq!(hashes(&t).len(), 0, "a prefix, and 3000 bytes fit");
    let t = apply(
        &mut cat,
        "CREATE TABLE lu4 (a INT, b TEXT UNIQUE, CONSTRAINT u2 UNIQUE (a, b(5)))",
    );
    assert_eq!(hashes(&t).len(), 1);
    let t = apply(
        &mut cat,
        "CREATE TABLE lu5 (b VARCHAR(600), UNIQUE (b)) ENGINE=MyISAM CHARSET=latin1",
    );
    assert_eq!(hashes(&t).len(), 0);
    let t = apply(
        &mut cat,
        "CREATE TABLE lu6 (b VARCHAR(300), UNIQUE (b)) ENGINE=MyISAM CHARSET=utf8mb4",
    );
    assert_eq!(hashes(&t).len(), 1);
    let t = apply(
        &mut cat,
        "CREATE TABLE ub (a INT, b INT, UNIQUE KEY u1 (a) USING BTREE, UNIQUE KEY u2 (b) USING \
         BTREE COMMENT 'x', c INT)",
    );
    assert_eq!(names(&t), vec!["a", "b", "c"]);
    let t = apply(
        &mut cat,
        "CREATE TABLE lu7 (b TEXT, UNIQUE (b)) ENGINE=MEMORY",
    );
    assert_eq!(hashes(&t).len(), 0);
    let t = apply(
        &mut cat,
        "CREATE TABLE sv_unique_blob (a INT, b BLOB, UNIQUE (b)) WITH SYSTEM VERSIONING",
    );
    assert_eq!(
        names(&t),
        vec!["a", "b", "row_start", "row_end", "DB_ROW_HASH_1"]
    );
    let t = apply(
        &mut cat,
        "ALTER TABLE sv_unique_blob ADD COLUMN c TEXT, ADD UNIQUE KEY uc (c)",
    );
    assert_eq!(
        names(&t),
        vec![
            "a",
            "b",
            "c",
            "row_start",
            "row_end",
            "DB_ROW_HASH_1",
            "DB_ROW_HASH_2"
        ]
    );
    let t = apply(
        &mut cat,
        "ALTER TABLE lu3 ADD UNIQUE INDEX IF NOT EXISTS ub (b)",
    );
    assert_eq!(hashes(&t).len(), 1);
    let t = apply(&mut cat, "ALTER TABLE lu3 ADD d INT");
    assert_eq!(names(&t).last(), Some(&"DB_ROW_HASH_1"));
    // The corpus case: keys named after their first column, dropped by name.
    apply(
        &mut cat,
        "CREATE TABLE long_unique (id INT PRIMARY KEY, body TEXT, UNIQUE KEY (body))",
    );
    let t = apply(
        &mut cat,
        "ALTER TABLE long_unique ADD COLUMN url VARCHAR(2000), ADD UNIQUE KEY (url) USING HASH",
    );
    assert_eq!(
        names(&t),
        vec!["id", "body", "url", "DB_ROW_HASH_1", "DB_ROW_HASH_2"]
    );
    let t = apply(
        &mut cat,
        "ALTER TABLE long_unique DROP INDEX body, DROP INDEX IF EXISTS nope",
    );
    assert_eq!(names(&t), vec!["id", "body", "url", "DB_ROW_HASH_1"]);
    let t = apply(&mut cat, "ALTER TABLE long_unique RENAME INDEX url TO u2");
    assert_eq!(t.columns.len(), 4);
    let t = apply(&mut cat, "ALTER TABLE long_unique DROP KEY u2");
    assert_eq!(names(&t), vec!["id", "body", "url"]);
    // A key's hash column goes with the key's last column.
    let t = apply(
        &mut cat,
        "ALTER TABLE long_unique ADD UNIQUE k1 (body), ADD UNIQUE k2 (url), \
         ADD COLUMN z INT",
    );
    assert_eq!(names(&t)[3..], ["z", "DB_ROW_HASH_1", "DB_ROW_HASH_2"]);
    let t = apply(&mut cat, "ALTER TABLE long_unique DROP COLUMN url");
    assert_eq!(names(&t), vec!["id", "body", "z", "DB_ROW_HASH_1"]);
    let t = apply(&mut cat, "ALTER TABLE long_unique DROP COLUMN body");
    assert_eq!(names(&t), vec!["id", "z"]);
}

#[test]
fn unqualified_new_names_are_in_the_session_database() {
    // The server puts an unqualified `RENAME TO b` / `CONVERT PARTITION p TO TABLE b` of
    // `ALTER TABLE other.t` into the session's default database, not into `other`.
    let mut cat = Catalog::default();
    apply(&mut cat, "CREATE TABLE other.t (a INT, b INT)");
    let t = apply(
        &mut cat,
        "ALTER TABLE other.t RENAME TO t2, ADD c INT AFTER a",
    );
    assert_eq!((t.db.as_str(), t.name.as_str()), ("shop", "t2"));
    assert_eq!(names(&t), vec!["a", "c", "b"]);
    assert!(cat.get("other", "t").is_none() && cat.get("other", "t2").is_none());
    let t = apply(&mut cat, "ALTER TABLE t2 DROP a, RENAME other.t3");
    assert_eq!((t.db.as_str(), t.name.as_str()), ("other", "t3"));
    assert_eq!(names(&t), vec!["c", "b"]);
    assert!(cat.get("shop", "t2").is_none());
    apply(
        &mut cat,
        "CREATE TABLE other.p (id INT, v INT) PARTITION BY RANGE (id) \
         (PARTITION p0 VALUES LESS THAN (10), PARTITION p1 VALUES LESS THAN MAXVALUE)",
    );
    apply(
        &mut cat,
        "ALTER TABLE other.p CONVERT PARTITION p0 TO TABLE p_p0",
    );
    assert_eq!(names(table(&cat, "p_p0")), vec!["id", "v"]);
    assert!(cat.get("other", "p_p0").is_none());
}

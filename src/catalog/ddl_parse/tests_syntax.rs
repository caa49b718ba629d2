//! Tests of the DDL reader's syntax: the lexer (quotes, escapes, comments, executable
//! comments, sql_mode), type synonyms, column attributes, and the MariaDB-only types.

use super::lexer::{lex, SqlMode, Tok};
use super::*;
use crate::model::{Charset, ColumnDefault, ColumnDesc, ColumnKind};

fn apply(cat: &mut Catalog, sql: &str) -> Arc<TableDesc> {
    apply_mode(cat, sql, SqlMode::default())
}

fn apply_mode(cat: &mut Catalog, sql: &str, mode: SqlMode) -> Arc<TableDesc> {
    match apply_statement_with(cat, sql, "shop", mode) {
        Ok(mut v) => v.remove(0),
        Err(e) => panic!("{sql}: {e}"),
    }
}

fn col<'a>(t: &'a TableDesc, name: &str) -> &'a ColumnDesc {
    &t.columns[t.column_index(name).unwrap_or_else(|| panic!("no {name}"))]
}

fn type_name(t: &TableDesc, name: &str) -> String {
    col(t, name).ddl.type_name.clone().unwrap_or_default()
}

fn names(t: &TableDesc) -> Vec<&str> {
    t.columns.iter().map(|c| c.name.as_str()).collect()
}

fn toks(sql: &str, mode: SqlMode) -> Vec<Tok> {
    let l = lex(sql, mode);
    assert_eq!(l.error, None, "{sql}");
    l.tokens.into_iter().map(|t| t.tok).collect()
}

#[test]
fn lexer_quotes_escapes_and_comments() {
    let w = |s: &str| Tok::Word(s.into());
    let d = SqlMode::default();
    assert_eq!(
        toks("`a``b` 'it''s' 'a\\'b\\n' \"x\"", d),
        vec![
            Tok::Name("a`b".into()),
            Tok::Str("it's".into()),
            Tok::Str("a'b\n".into()),
            Tok::Str("x".into())
        ]
    );
    let ansi = SqlMode {
        ansi_quotes: true,
        ..d
    };
    assert_eq!(toks("\"a \"\"b\"", ansi), vec![Tok::Name("a \"b".into())]);
    let raw = SqlMode {
        no_backslash_escapes: true,
        ..d
    };
    assert_eq!(toks("'a\\' b", raw), vec![Tok::Str("a\\".into()), w("b")]);
    assert_eq!(
        toks("a # x\n b -- y\n c /* z */ d --e", d),
        vec![
            w("a"),
            w("b"),
            w("c"),
            w("d"),
            Tok::Punct('-'),
            Tok::Punct('-'),
            w("e")
        ]
    );
    assert_eq!(
        toks("a /*!50100 b */ c /*M!100100 d*/ /*+ hint */", d),
        vec![w("a"), w("b"), w("c"), w("d")]
    );
    let text = "a /*!50700 b */ /*!50600 c */ /*!80000 d */ /*M!100500 e */ /*!100000 f */ g";
    let (maria, mysql) = (SqlMode { mariadb: true, ..d }, SqlMode { mysql: true, ..d });
    let all = ["a", "b", "c", "d", "e", "f", "g"].map(w).to_vec();
    assert_eq!(toks(text, d), all);
    // As MariaDB 10.11 ran it (checked with SHOW CREATE TABLE), and as MySQL would.
    assert_eq!(toks(text, maria), ["a", "c", "e", "f", "g"].map(w).to_vec());
    assert_eq!(
        toks(text, mysql),
        ["a", "b", "c", "d", "f", "g"].map(w).to_vec()
    );
    assert_eq!(
        toks("X'4F' 0x4f b'101' 0b11 N'n' 1.50 -2 1e3 .5 1abc", d),
        vec![
            Tok::Hex("4F".into()),
            Tok::Hex("4f".into()),
            Tok::Bits("101".into()),
            Tok::Bits("11".into()),
            Tok::Str("n".into()),
            Tok::Num("1.50".into()),
            Tok::Punct('-'),
            Tok::Num("2".into()),
            Tok::Num("1e3".into()),
            Tok::Num(".5".into()),
            w("1abc")
        ]
    );
    assert_eq!(
        toks("db.t \u{8868}", d),
        vec![w("db"), Tok::Punct('.'), w("t"), w("\u{8868}")]
    );
    assert!(lex("'open", d).error.is_some());
    assert!(lex("a /* open", d).error.is_some());
    assert_eq!(
        SqlMode::from_bits(0x1 | 0x4 | 0x200 | 0x10_0000),
        SqlMode {
            ansi_quotes: true,
            no_backslash_escapes: true,
            real_as_float: true,
            oracle: true,
            mariadb: false,
            mysql: false
        }
    );
}

#[test]
fn names_quoted_unicode_ansi_and_qualified() {
    let mut cat = Catalog::default();
    let t = apply(
        &mut cat,
        "CREATE TABLE `my db`.`we``ird tbl` (`col one` INT, `\u{5217}` TEXT, caf\u{e9} INT)",
    );
    assert_eq!((t.db.as_str(), t.name.as_str()), ("my db", "we`ird tbl"));
    assert_eq!(names(&t), vec!["col one", "\u{5217}", "caf\u{e9}"]);
    let ansi = SqlMode {
        ansi_quotes: true,
        ..SqlMode::default()
    };
    let t = apply_mode(
        &mut cat,
        "CREATE TABLE \"other\".\"q t\" (\"a b\" VARCHAR(5) DEFAULT 'x')",
        ansi,
    );
    assert_eq!((t.db.as_str(), t.name.as_str()), ("other", "q t"));
    assert_eq!(names(&t), vec!["a b"]);
    // Without ANSI_QUOTES a double-quoted name is a string: not a table name.
    assert!(apply_statement(&mut cat, "CREATE TABLE \"x\" (a INT)", "shop").is_err());
    let raw = SqlMode {
        no_backslash_escapes: true,
        ..SqlMode::default()
    };
    let t = apply_mode(
        &mut cat,
        "CREATE TABLE esc (a VARCHAR(5) DEFAULT 'a\\', b INT COMMENT 'it''s')",
        raw,
    );
    assert_eq!(
        col(&t, "a").default,
        Some(ColumnDefault::Literal("a\\".into()))
    );
    assert_eq!(col(&t, "b").ddl.comment.as_deref(), Some("it's"));
}

#[test]
fn names_of_digits_and_e_are_names_not_numbers() {
    // The server reads `1e` as a name unless digits or a signed exponent follow the `e`.
    let d = SqlMode::default();
    assert_eq!(
        toks("1e 2e.3e 1e5 1e-3 1e+x", d),
        vec![
            Tok::Word("1e".into()),
            Tok::Word("2e".into()),
            Tok::Punct('.'),
            Tok::Word("3e".into()),
            Tok::Num("1e5".into()),
            Tok::Num("1e-3".into()),
            Tok::Word("1e".into()),
            Tok::Punct('+'),
            Tok::Word("x".into()),
        ]
    );
    let mut cat = Catalog::default();
    let t = apply(&mut cat, "CREATE TABLE 1e_db.2e (a INT, 1e INT, 9e INT)");
    assert_eq!((t.db.as_str(), t.name.as_str()), ("1e_db", "2e"));
    assert_eq!(names(&t), vec!["a", "1e", "9e"]);
    let t = apply(
        &mut cat,
        "ALTER TABLE 1e_db . 2e ADD 3e INT AFTER 1e, DROP 9e",
    );
    assert_eq!(names(&t), vec!["a", "1e", "3e"]);
    // `.5` after blank space is a number (`DEFAULT .5`); right after a name, a qualifier.
    assert_eq!(
        toks("DEFAULT .5 db.5t", d),
        vec![
            Tok::Word("DEFAULT".into()),
            Tok::Num(".5".into()),
            Tok::Word("db".into()),
            Tok::Punct('.'),
            Tok::Word("5t".into()),
        ]
    );
    let t = apply(
        &mut cat,
        "CREATE TABLE nd (a DECIMAL(5,2) DEFAULT .5, b INT)",
    );
    assert_eq!(names(&t), vec!["a", "b"]);
    assert_eq!(
        col(&t, "a").default,
        Some(ColumnDefault::Literal(".5".into()))
    );
}

#[test]
fn comments_and_executable_comments_are_read() {
    let mut cat = Catalog::default();
    let t = apply(
        &mut cat,
        "/* lead */ CREATE TABLE c1 ( -- the key\n id INT NOT NULL, # note\n \
         /*!50100 v INT, */ /*M!100100 w INT, */ x INT /* gone, y INT */\n) \
         /*!50100 PARTITION BY HASH (id) PARTITIONS 2 */",
    );
    assert_eq!(names(&t), vec!["id", "v", "w", "x"]);
}

#[test]
fn binary_attribute_is_a_collation_not_bytes() {
    let mut cat = Catalog::default();
    let t = apply(
        &mut cat,
        "CREATE TABLE staff (password VARCHAR(40) BINARY DEFAULT NULL, h CHAR(60) binary \
         DEFAULT '' NOT NULL, b VARCHAR(10) CHARACTER SET latin1 BINARY) DEFAULT CHARSET=utf8",
    );
    let p = col(&t, "password");
    assert!(!p.is_binary());
    assert_eq!(p.kind, ColumnKind::VarChar { max_bytes: 160 });
    assert_eq!(p.ddl.type_name.as_deref(), Some("VARCHAR"));
    assert_eq!(p.ddl.charset_name.as_deref(), Some("utf8"));
    assert!(!col(&t, "h").nullable);
    assert_eq!(col(&t, "b").charset, Charset::from_name("latin1"));
    assert_eq!(col(&t, "b").ddl.charset_name.as_deref(), Some("latin1"));
}

#[test]
fn integer_and_decimal_synonyms() {
    let mut cat = Catalog::default();
    let t = apply(
        &mut cat,
        "CREATE TABLE syn (a INT1, b INT2, c INT3, d INT4, e INT8, f MIDDLEINT, g INTEGER, \
         h FIXED(5,2), i NUMERIC(7), j DEC, k REAL, l DOUBLE PRECISION, m FLOAT4, n FLOAT8, \
         o FLOAT(30), p BOOL, q BOOLEAN, r SERIAL, s TINYINT(3) UNSIGNED ZEROFILL, t INT SIGNED)",
    );
    let kinds: Vec<ColumnKind> = t.columns.iter().map(|c| c.kind.clone()).collect();
    let dec = |precision, scale| ColumnKind::Decimal { precision, scale };
    assert_eq!(
        kinds,
        vec![
            ColumnKind::TinyInt,
            ColumnKind::SmallInt,
            ColumnKind::MediumInt,
            ColumnKind::Int,
            ColumnKind::BigInt,
            ColumnKind::MediumInt,
            ColumnKind::Int,
            dec(5, 2),
            dec(7, 0),
            dec(10, 0),
            ColumnKind::Double,
            ColumnKind::Double,
            ColumnKind::Float,
            ColumnKind::Double,
            ColumnKind::Double,
            ColumnKind::TinyInt,
            ColumnKind::TinyInt,
            ColumnKind::BigInt,
            ColumnKind::TinyInt,
            ColumnKind::Int,
        ]
    );
    let t2 = apply(
        &mut cat,
        "CREATE TABLE dp (c2 DECIMAL(19.5), c4 DECIMAL(0.2))",
    );
    assert_eq!(t2.columns[0].kind, dec(19, 0));
    assert_eq!(t2.columns[1].kind, dec(10, 0));
    assert_eq!(type_name(&t, "p"), "BOOLEAN");
    assert_eq!(type_name(&t, "q"), "BOOLEAN");
    assert_eq!(col(&t, "q").ddl.jdbc_type, Some(16));
    let serial = col(&t, "r");
    assert!(serial.unsigned && !serial.nullable && serial.ddl.auto_increment);
    assert_eq!(type_name(&t, "r"), "SERIAL UNSIGNED");
    assert_eq!(type_name(&t, "s"), "TINYINT UNSIGNED ZEROFILL");
    assert!(!col(&t, "t").unsigned);
    let float = SqlMode {
        real_as_float: true,
        ..SqlMode::default()
    };
    let oracle = SqlMode {
        oracle: true,
        ansi_quotes: true,
        ..SqlMode::default()
    };
    let t = apply_mode(
        &mut cat,
        "CREATE TABLE \"ora\" (a VARCHAR2(10), b NUMBER(8,2), c RAW(4), d CLOB, e BLOB, f DATE, g NUMBER)",
        oracle,
    );
    let kinds: Vec<ColumnKind> = t.columns.iter().map(|c| c.kind.clone()).collect();
    assert_eq!(
        kinds,
        vec![
            ColumnKind::VarChar { max_bytes: 40 },
            dec(8, 2),
            ColumnKind::VarChar { max_bytes: 4 },
            ColumnKind::Blob { len_bytes: 4 },
            ColumnKind::Blob { len_bytes: 4 },
            ColumnKind::DateTime { fsp: 0 },
            ColumnKind::Double,
        ]
    );
    assert!(t.columns[2].is_binary() && t.columns[4].is_binary());
    assert!(apply_statement(&mut cat, "CREATE TABLE o2 (a VARCHAR2(1))", "shop").is_err());
    let t = apply_mode(&mut cat, "CREATE TABLE r (k REAL, z INT ZEROFILL)", float);
    assert_eq!(col(&t, "k").kind, ColumnKind::Float);
    assert!(col(&t, "z").unsigned);
    assert_eq!(type_name(&t, "z"), "INT UNSIGNED ZEROFILL");
}

#[test]
fn character_synonyms_and_shorthands() {
    let mut cat = Catalog::default();
    let t = apply(
        &mut cat,
        "CREATE TABLE ch (a NATIONAL CHAR(3), b NATIONAL VARCHAR(4), c NCHAR(5), \
         d NVARCHAR(6), e CHARACTER VARYING(7), f CHAR VARYING(8), g NCHAR VARCHAR(9), \
         h NATIONAL CHARACTER VARYING(10), i LONG, j LONG VARCHAR, k LONG VARBINARY, \
         l CHAR(4) BYTE, m VARCHAR(5) ASCII, n CHAR(2) UNICODE, o CHARACTER(2), \
         p LONG CHAR VARYING, q VARCHAR(3) CHARSET 'latin1' COLLATE 'latin1_bin') \
         CHARACTER SET = utf8mb4",
    );
    let k = |n: &str| col(&t, n).kind.clone();
    assert_eq!(k("a"), ColumnKind::Char { max_bytes: 12 });
    assert_eq!(col(&t, "a").ddl.charset_name.as_deref(), Some("utf8mb3"));
    assert_eq!(k("b"), ColumnKind::VarChar { max_bytes: 16 });
    assert_eq!(k("c"), ColumnKind::Char { max_bytes: 20 });
    assert_eq!(k("d"), ColumnKind::VarChar { max_bytes: 24 });
    assert_eq!(k("e"), ColumnKind::VarChar { max_bytes: 28 });
    assert_eq!(k("f"), ColumnKind::VarChar { max_bytes: 32 });
    assert_eq!(k("g"), ColumnKind::VarChar { max_bytes: 36 });
    assert_eq!(k("h"), ColumnKind::VarChar { max_bytes: 40 });
    assert_eq!(k("i"), ColumnKind::Blob { len_bytes: 3 });
    assert!(!col(&t, "i").is_binary());
    assert_eq!(k("j"), ColumnKind::Blob { len_bytes: 3 });
    assert_eq!(k("k"), ColumnKind::Blob { len_bytes: 3 });
    assert!(col(&t, "k").is_binary());
    assert_eq!(k("l"), ColumnKind::Char { max_bytes: 4 });
    assert!(col(&t, "l").is_binary());
    assert_eq!(col(&t, "m").charset, Charset::from_name("latin1"));
    assert_eq!(col(&t, "m").ddl.charset_name.as_deref(), Some("latin1"));
    assert_eq!(col(&t, "n").ddl.charset_name.as_deref(), Some("ucs2"));
    assert_eq!(k("o"), ColumnKind::Char { max_bytes: 8 });
    assert_eq!(k("p"), ColumnKind::Blob { len_bytes: 3 });
    assert_eq!(col(&t, "q").ddl.charset_name.as_deref(), Some("latin1"));
    assert_eq!(col(&t, "e").ddl.charset_name.as_deref(), Some("utf8mb4"));
}

#[test]
fn mariadb_and_spatial_types_and_labels() {
    let mut cat = Catalog::default();
    let t = apply(
        &mut cat,
        "CREATE TABLE m (u UUID, i4 INET4, i6 INET6 NOT NULL, v VECTOR(3), p POINT NOT NULL \
         SRID 4326, l LINESTRING, g GEOMCOLLECTION, mp MULTIPOLYGON, \
         e ENUM('a,b', 'it''s', 'q\\'x', _utf8mb4'u', 'con' 'cat'), s SET('x,y','z'))",
    );
    let fixed = |n| ColumnKind::Char { max_bytes: n };
    for (name, kind, shown) in [
        ("u", fixed(16), "UUID"),
        ("i4", fixed(4), "INET4"),
        ("i6", fixed(16), "INET6"),
    ] {
        let c = col(&t, name);
        assert_eq!(
            (c.kind.clone(), c.charset),
            (kind, Charset::Binary),
            "{name}"
        );
        assert_eq!(type_name(&t, name), shown);
        assert_eq!(c.ddl.charset_name, None);
    }
    assert!(!col(&t, "i6").nullable);
    assert_eq!(col(&t, "v").kind, ColumnKind::Vector { dims: 3 });
    for g in ["p", "l", "g", "mp"] {
        assert_eq!(col(&t, g).kind, ColumnKind::Geometry, "{g}");
    }
    assert_eq!(type_name(&t, "p"), "POINT");
    assert_eq!(
        col(&t, "e").kind,
        ColumnKind::Enum {
            values: vec![
                "a,b".into(),
                "it's".into(),
                "q'x".into(),
                "u".into(),
                "concat".into()
            ]
        }
    );
    assert_eq!(
        col(&t, "s").kind,
        ColumnKind::Set {
            values: vec!["x,y".into(), "z".into()]
        }
    );
    assert_eq!(col(&t, "s").ddl.length, Some(3));
}

#[test]
fn attributes_that_do_not_change_the_layout() {
    let mut cat = Catalog::default();
    let t = apply(
        &mut cat,
        "CREATE TABLE at (id INT NOT NULL PRIMARY KEY, \
         a INT INVISIBLE, b INT VISIBLE DEFAULT 3, \
         c INT GENERATED ALWAYS AS (a + 1) VIRTUAL, d INT AS (a * 2) STORED, \
         e INT AS (a) PERSISTENT COMMENT 'gen', f VARCHAR(9) GENERATED ALWAYS AS (concat('x', a)), \
         g INT CHECK (g > 0), h INT CONSTRAINT hc CHECK (h < 5) NOT NULL, \
         i INT REFERENCES other.parent (id) MATCH FULL ON DELETE SET NULL ON UPDATE NO ACTION, \
         j INT COLUMN_FORMAT FIXED STORAGE DISK, k INT ENGINE_ATTRIBUTE = '{\"a\":1}' \
         SECONDARY_ENGINE_ATTRIBUTE '{}', l BLOB COMPRESSED, m INT UNIQUE KEY, n INT UNIQUE, \
         o INT NOT SECONDARY, p GEOMETRY REF_SYSTEM_ID = 4326, q INT SERIAL DEFAULT VALUE, \
         CONSTRAINT named CHECK (a > 0), CHECK (b > 0), CONSTRAINT UNIQUE (a), \
         INDEX (b), KEY kb (b) USING BTREE, FULLTEXT ft (f), SPATIAL KEY (p), \
         FOREIGN KEY fk (i) REFERENCES parent (id) ON DELETE CASCADE, \
         CONSTRAINT fk2 FOREIGN KEY (j) REFERENCES parent (id))",
    );
    assert_eq!(
        names(&t),
        vec![
            "id", "a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l", "m", "n", "o", "p",
            "q"
        ]
    );
    assert_eq!(t.primary_key, vec![0]);
    assert_eq!(
        col(&t, "b").default,
        Some(ColumnDefault::Literal("3".into()))
    );
    assert_eq!(col(&t, "e").ddl.comment.as_deref(), Some("gen"));
    assert!(!col(&t, "h").nullable);
    assert!(!col(&t, "q").nullable && col(&t, "q").ddl.auto_increment);
}

#[test]
fn defaults_as_written() {
    let mut cat = Catalog::default();
    let t = apply(
        &mut cat,
        "CREATE TABLE df (a INT DEFAULT (1 + 1), b VARCHAR(36) DEFAULT uuid(), \
         c INT DEFAULT -5, d DATETIME DEFAULT (current_timestamp() + interval 1 day), \
         e VARCHAR(10) DEFAULT concat('a','b'), f INT DEFAULT 1 + 2, g BIT(8) DEFAULT 0x0F, \
         h TIMESTAMP(6) DEFAULT LOCALTIMESTAMP(6), i DOUBLE DEFAULT 1e3, j INT DEFAULT - -4, \
         k VARCHAR(5) DEFAULT N'n', l DATE DEFAULT CURRENT_DATE)",
    );
    let d = |n: &str| col(&t, n).default.clone().expect(n);
    let expr = |s: &str| ColumnDefault::Expression(s.into());
    assert_eq!(d("a"), expr("(1 + 1)"));
    assert_eq!(d("b"), expr("uuid()"));
    assert_eq!(d("c"), ColumnDefault::Literal("-5".into()));
    assert!(matches!(d("d"), ColumnDefault::Expression(_)));
    assert_eq!(d("e"), expr("concat('a','b')"));
    assert_eq!(d("f"), expr("1 + 2"));
    assert_eq!(d("g"), ColumnDefault::Bytes(vec![0x0f]));
    assert_eq!(d("h"), ColumnDefault::CurrentTimestamp);
    assert_eq!(d("i"), ColumnDefault::Literal("1e3".into()));
    assert_eq!(d("j"), ColumnDefault::Literal("4".into()));
    assert_eq!(d("k"), ColumnDefault::Literal("n".into()));
    assert_eq!(d("l"), expr("CURRENT_DATE"));
}

#[test]
fn bad_input_is_an_error_not_a_panic() {
    let mut cat = Catalog::default();
    for sql in [
        "CREATE TABLE t (a NOTATYPE)",
        "CREATE TABLE t (a INT",
        "CREATE TABLE t (a VARCHAR(x))",
        "CREATE TABLE t (a ENUM(1, 2))",
        "CREATE TABLE t (a INT) ENGINE=",
        "CREATE TABLE t (a INT, PRIMARY KEY (nope))",
        "CREATE TABLE t (a INT DEFAULT 'x",
        "CREATE TABLE t (a INT) extra ) junk",
        "CREATE TABLE t ()",
        "CREATE TABLE",
        "CREATE TABLE t (a INT CHARACTER)",
        "ALTER TABLE",
        "UPDATE t SET a = 1",
    ] {
        let err = apply_statement(&mut cat, sql, "shop").expect_err(sql);
        assert!(!err.is_empty());
        assert!(cat.get("shop", "t").is_none(), "{sql}");
    }
    // Every prefix of a real statement: an error or a table, never a panic.
    let sql = include_str!("show_create_t1.sql");
    for (i, _) in sql.char_indices() {
        let _ = apply_statement(&mut Catalog::default(), &sql[..i], "shop");
    }
}

/// Statements with one word left out, or two words swapped: an error or a table, never a
/// panic, and the classification never panics either.
#[test]
fn mangled_statements_never_panic() {
    let texts = [
        include_str!("show_create_mariadb.sql"),
        "ALTER TABLE t ADD COLUMN IF NOT EXISTS (a INT, b SET('x,y')) , DROP PRIMARY KEY, \
         ADD CONSTRAINT pk PRIMARY KEY (a), CHANGE b c ENUM('1') FIRST, RENAME TO o.u, \
         ALTER COLUMN a SET DEFAULT (1+1), CONVERT TO CHARACTER SET latin1, ORDER BY a, b",
        "CREATE TABLE x (a INT REFERENCES p (id) ON DELETE SET NULL, PERIOD FOR SYSTEM_TIME (a, b)) \
         WITH SYSTEM VERSIONING PARTITION BY HASH (a)",
        "CREATE SEQUENCE s AS INT UNSIGNED START WITH 1",
    ];
    for text in texts {
        let words: Vec<&str> = text.split_whitespace().collect();
        for i in 0..words.len() {
            let mut w = words.clone();
            w.remove(i);
            let dropped = w.join(" ");
            let mut w = words.clone();
            w.swap(i, (i + 1) % words.len());
            let swapped = w.join(" ");
            for sql in [dropped, swapped] {
                let mut cat = Catalog::default();
                let _ = apply_statement(&mut cat, "CREATE TABLE t (id INT, b INT)", "shop");
                let _ = apply_statement(&mut cat, &sql, "shop");
                let _ = crate::catalog::ddl::classify_with(&sql, "shop", SqlMode::default());
            }
        }
    }
}

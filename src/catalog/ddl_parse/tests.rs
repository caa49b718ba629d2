//! Tests of applying CREATE/ALTER TABLE statements to the catalog: column types, keys,
//! column positions, defaults, and statements that must fail without changing anything.

use super::*;
use crate::model::{Charset, ColumnDefault, ColumnKind};

fn apply(cat: &mut Catalog, sql: &str) -> Arc<TableDesc> {
    match apply_statement(cat, sql, "shop") {
        Ok(mut v) => v.remove(0),
        Err(e) => panic!("{sql}: {e}"),
    }
}

fn names(t: &TableDesc) -> Vec<&str> {
    t.columns.iter().map(|c| c.name.as_str()).collect()
}

#[test]
fn create_table_types() {
    let mut cat = Catalog::default();
    let t = apply(
        &mut cat,
        "CREATE TABLE `t` (\n  id INT UNSIGNED NOT NULL AUTO_INCREMENT COMMENT 'pk',\n  \
         price DECIMAL(10,2) NOT NULL DEFAULT '0.00',\n  name VARCHAR(45) CHARACTER SET latin1,\n  \
         code CHAR(3) COLLATE utf8mb4_bin,\n  flags BIT(5),\n  t TIME(3),\n  dt DATETIME(6),\n  \
         ts TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,\n  \
         rating ENUM('G','PG','NC-17') DEFAULT 'G',\n  feats SET('a','b'),\n  doc JSON,\n  \
         g GEOMETRY, y YEAR, big BIGINT(20) unsigned, raw VARBINARY(16), body LONGTEXT,\n  \
         PRIMARY KEY (id), KEY idx (name)\n) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4",
    );
    assert_eq!((t.db.as_str(), t.name.as_str()), ("shop", "t"));
    let c = &t.columns;
    assert_eq!(c.len(), 16);
    assert_eq!(
        (c[0].kind.clone(), c[0].unsigned, c[0].nullable),
        (ColumnKind::Int, true, false)
    );
    assert_eq!(
        c[1].kind,
        ColumnKind::Decimal {
            precision: 10,
            scale: 2
        }
    );
    assert_eq!(c[2].kind, ColumnKind::VarChar { max_bytes: 45 });
    assert_eq!(c[2].charset, Charset::from_name("latin1"));
    assert_eq!(
        (c[3].kind.clone(), c[3].charset),
        (ColumnKind::Char { max_bytes: 12 }, Charset::Utf8)
    );
    assert_eq!(c[4].kind, ColumnKind::Bit { bits: 5 });
    assert_eq!(c[5].kind, ColumnKind::Time { fsp: 3 });
    assert_eq!(c[6].kind, ColumnKind::DateTime { fsp: 6 });
    assert_eq!(
        (c[7].kind.clone(), c[7].nullable),
        (ColumnKind::Timestamp { fsp: 0 }, false)
    );
    assert_eq!(
        c[8].kind,
        ColumnKind::Enum {
            values: vec!["G".into(), "PG".into(), "NC-17".into()]
        }
    );
    assert_eq!(
        c[9].kind,
        ColumnKind::Set {
            values: vec!["a".into(), "b".into()]
        }
    );
    assert_eq!(c[10].kind, ColumnKind::Json);
    assert_eq!(c[11].kind, ColumnKind::Geometry);
    assert_eq!(c[12].kind, ColumnKind::Year);
    assert_eq!(
        (c[13].kind.clone(), c[13].unsigned),
        (ColumnKind::BigInt, true)
    );
    assert_eq!(
        (c[14].kind.clone(), c[14].charset),
        (ColumnKind::VarChar { max_bytes: 16 }, Charset::Binary)
    );
    assert_eq!(
        (c[15].kind.clone(), c[15].charset),
        (ColumnKind::Blob { len_bytes: 4 }, Charset::Utf8)
    );
    assert_eq!(t.primary_key, vec![0]);
}

#[test]
fn inline_and_composite_keys_and_like() {
    let mut cat = Catalog::default();
    let t = apply(&mut cat, "create table a (x int primary key, y text)");
    assert_eq!(t.primary_key, vec![0]);
    let t = apply(
        &mut cat,
        "CREATE TABLE b (x int, y int, CONSTRAINT pk PRIMARY KEY (y, x))",
    );
    assert_eq!(t.primary_key, vec![1, 0]);
    let t = apply(&mut cat, "CREATE TABLE other.c LIKE shop.b");
    assert_eq!((t.db.as_str(), names(&t)), ("other", vec!["x", "y"]));
    assert_eq!(t.primary_key, vec![1, 0]);
    let t = apply(
        &mut cat,
        "CREATE TABLE l1 (name varchar(10)) DEFAULT CHARSET=latin1",
    );
    assert_eq!(t.columns[0].charset, Charset::from_name("latin1"));
}

#[test]
fn alter_table_columns() {
    let mut cat = Catalog::default();
    apply(
        &mut cat,
        "CREATE TABLE t (id int NOT NULL, a int, b int, PRIMARY KEY (id))",
    );
    let t = apply(
        &mut cat,
        "ALTER TABLE t ADD COLUMN c varchar(10) AFTER id, ADD d int FIRST",
    );
    assert_eq!(names(&t), vec!["d", "id", "c", "a", "b"]);
    assert_eq!(t.primary_key, vec![1]);
    let t = apply(&mut cat, "ALTER TABLE t DROP COLUMN d, DROP a");
    assert_eq!(names(&t), vec!["id", "c", "b"]);
    assert_eq!(t.primary_key, vec![0]);
    let t = apply(
        &mut cat,
        "ALTER TABLE t MODIFY COLUMN b bigint unsigned NOT NULL FIRST",
    );
    assert_eq!(names(&t), vec!["b", "id", "c"]);
    assert_eq!(
        (t.columns[0].kind.clone(), t.columns[0].unsigned),
        (ColumnKind::BigInt, true)
    );
    assert_eq!(t.primary_key, vec![1]);
    let t = apply(&mut cat, "ALTER TABLE t CHANGE c cc text AFTER b");
    assert_eq!(names(&t), vec!["b", "cc", "id"]);
    assert_eq!(t.primary_key, vec![2]);
    let t = apply(&mut cat, "ALTER TABLE t RENAME COLUMN cc TO c2");
    assert_eq!(names(&t), vec!["b", "c2", "id"]);
    let t = apply(
        &mut cat,
        "ALTER TABLE t DROP PRIMARY KEY, ADD PRIMARY KEY (b, id)",
    );
    assert_eq!(t.primary_key, vec![0, 2]);
    let t = apply(&mut cat, "ALTER TABLE t CONVERT TO CHARACTER SET latin1");
    assert_eq!(t.columns[1].charset, Charset::from_name("latin1"));
    let t = apply(&mut cat, "ALTER TABLE t RENAME TO t2");
    assert_eq!(t.name, "t2");
    assert!(cat.get("shop", "t").is_none());
}

#[test]
fn failures_keep_the_old_structure() {
    let mut cat = Catalog::default();
    let before = apply(&mut cat, "CREATE TABLE t (id int, a int)");
    // Second op fails: the first must not be applied either.
    assert!(apply_statement(&mut cat, "ALTER TABLE t ADD x int, DROP nope", "shop").is_err());
    assert_eq!(cat.get("shop", "t"), Some(&before));
    assert!(apply_statement(&mut cat, "ALTER TABLE unknown ADD x int", "shop").is_err());
    assert!(apply_statement(&mut cat, "CREATE TABLE ( garbage", "shop").is_err());
}

/// Statements in the style of Debezium's DDL corpus
/// (debezium-connector-binlog/src/test/resources/ddl/mysql-*.ddl): they must never panic,
/// and the ones that are plain CREATE/ALTER TABLE must apply.
#[test]
fn debezium_style_corpus_does_not_panic() {
    let stmts = [
        "CREATE TABLE IF NOT EXISTS db ( Host char(60) binary DEFAULT '' NOT NULL, Db char(64) binary DEFAULT '' NOT NULL, Select_priv enum('N','Y') COLLATE utf8_general_ci DEFAULT 'N' NOT NULL, PRIMARY KEY Host (Host,Db), KEY User (Db) ) engine=MyISAM CHARACTER SET utf8 COLLATE utf8_bin comment='Database privileges'",
        "CREATE TABLE `products` (`id` int(11) NOT NULL AUTO_INCREMENT, `name` varchar(255) NOT NULL, `description` varchar(512) DEFAULT NULL, `weight` float DEFAULT NULL, PRIMARY KEY (`id`)) ENGINE=InnoDB AUTO_INCREMENT=101 DEFAULT CHARSET=latin1",
        "CREATE TABLE orders (order_number INTEGER NOT NULL AUTO_INCREMENT PRIMARY KEY, order_date DATE NOT NULL, purchaser INTEGER NOT NULL, quantity INTEGER NOT NULL, product_id INTEGER NOT NULL, FOREIGN KEY order_customer (purchaser) REFERENCES customers(id), FOREIGN KEY ordered_product (product_id) REFERENCES products(id)) AUTO_INCREMENT = 10001",
        "CREATE TABLE dbz_123 (c1 DATE DEFAULT (curdate()), c2 INT CHECK (c2 > 0), c3 VARCHAR(10) GENERATED ALWAYS AS (concat('a', c1)) VIRTUAL)",
        "CREATE TABLE t_part (id INT) PARTITION BY RANGE (id) (PARTITION p0 VALUES LESS THAN (10), PARTITION p1 VALUES LESS THAN MAXVALUE)",
        "ALTER TABLE products ADD COLUMN volume FLOAT, ADD COLUMN alias VARCHAR(30) NULL AFTER description",
        "ALTER TABLE products ALGORITHM=INPLACE, LOCK=NONE, ADD INDEX idx_name (name)",
        "ALTER TABLE `products` DROP COLUMN `alias`",
        // Applies; the next CHANGE (of `weight`, gone now) fails and changes nothing.
        "ALTER TABLE products CHANGE COLUMN weight weight_kg DOUBLE(8,2) UNSIGNED NOT NULL",
        "ALTER TABLE products CHANGE COLUMN weight weight_kg DOUBLE NOT NULL",
        "ALTER USER 'jeffrey'@'localhost' IDENTIFIED BY 'password'",
        "CREATE TABLE `t_spatial` (`id` int NOT NULL, `pt` point NOT NULL SRID 4326, SPATIAL KEY `pt` (`pt`))",
        "CREATE TEMPORARY TABLE tmp (id int)",
        "CREATE TABLE sel AS SELECT * FROM products",
        "CREATE DEFINER=`root`@`localhost` TRIGGER upd BEFORE UPDATE ON products FOR EACH ROW SET NEW.name = UPPER(NEW.name)",
        "ALTER TABLE products PARTITION BY HASH(id) PARTITIONS 4",
        "CREATE TABLE `x` (`a` tinyint(1) unsigned zerofill DEFAULT NULL, `b` mediumint(8) unsigned NOT NULL, `c` double precision, `d` numeric(5), `e` national char(3), `f` long varchar)",
        "ALTER TABLE products ADD CONSTRAINT uq UNIQUE (name), DROP FOREIGN KEY fk1, RENAME INDEX a TO b",
        "",
        ";;;",
        "CREATE TABLE `\u{4e2d}\u{6587}` (`\u{5217}` varchar(20) COMMENT '\u{4e3b}\u{952e}')",
    ];
    let mut cat = Catalog::default();
    for s in stmts {
        let _ = apply_statement(&mut cat, s, "inventory");
    }
    let p = cat.get("inventory", "products").expect("products created");
    assert_eq!(
        names(p),
        vec!["id", "name", "description", "weight_kg", "volume"]
    );
    assert_eq!(p.columns[3].kind, ColumnKind::Double);
}

#[test]
fn column_defaults() {
    let mut cat = Catalog::default();
    let t = apply(
        &mut cat,
        "CREATE TABLE d (a INT NOT NULL DEFAULT 1, b VARCHAR(10) DEFAULT 'it''s', \
         c DECIMAL(5,2) DEFAULT -1.5, d INT DEFAULT NULL, e INT, \
         f TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3), \
         g DATETIME DEFAULT now(), h BIT(10) DEFAULT b'101000010', i BINARY(2) DEFAULT X'4142', \
         j VARCHAR(36) DEFAULT (uuid()), k VARCHAR(5) DEFAULT _utf8mb4'x', l TINYINT(1) DEFAULT TRUE, \
         m DATE DEFAULT DATE '2020-01-02', n INT DEFAULT +3)",
    );
    let d = |n: &str| t.columns[t.column_index(n).unwrap()].default.clone();
    let lit = |s: &str| Some(ColumnDefault::Literal(s.into()));
    assert_eq!(d("a"), lit("1"));
    assert_eq!(d("b"), lit("it's"));
    assert_eq!(d("c"), lit("-1.5"));
    assert_eq!(d("d"), Some(ColumnDefault::Null));
    assert_eq!(d("e"), None);
    assert_eq!(d("f"), Some(ColumnDefault::CurrentTimestamp));
    assert_eq!(d("g"), Some(ColumnDefault::CurrentTimestamp));
    assert_eq!(d("h"), Some(ColumnDefault::Bytes(vec![0x01, 0x42])));
    assert_eq!(d("i"), Some(ColumnDefault::Bytes(b"AB".to_vec())));
    assert!(matches!(d("j"), Some(ColumnDefault::Expression(_))));
    assert_eq!(d("k"), lit("x"));
    assert_eq!(d("l"), lit("TRUE"));
    assert_eq!(d("m"), lit("2020-01-02"));
    assert_eq!(d("n"), lit("3"));

    // The JDBC sink scenario: ADD COLUMN with a default, then changing and dropping it.
    let t = apply(
        &mut cat,
        "ALTER TABLE d ADD COLUMN size INT NOT NULL DEFAULT 1",
    );
    let size = &t.columns[t.column_index("size").unwrap()];
    assert_eq!((size.nullable, size.default.clone()), (false, lit("1")));
    let t = apply(&mut cat, "ALTER TABLE d ALTER COLUMN size SET DEFAULT 7");
    assert_eq!(t.columns[t.column_index("size").unwrap()].default, lit("7"));
    let t = apply(&mut cat, "ALTER TABLE d ALTER COLUMN size DROP DEFAULT");
    assert_eq!(t.columns[t.column_index("size").unwrap()].default, None);
    let t = apply(&mut cat, "ALTER TABLE d MODIFY a BIGINT NOT NULL DEFAULT 5");
    assert_eq!(t.columns[0].default, lit("5"));
}

#[test]
fn bit_and_hex_literals() {
    assert_eq!(bit_bytes("101000010"), Some(vec![0x01, 0x42]));
    assert_eq!(bit_bytes("10110000100001111"), Some(vec![0x01, 0x61, 0x0f]));
    assert_eq!(bit_bytes("0"), Some(vec![0]));
    assert_eq!(bit_bytes("12"), None);
    assert_eq!(hex_bytes("F"), Some(vec![0x0f]));
    assert_eq!(hex_bytes("4142"), Some(b"AB".to_vec()));
}

/// MariaDB's `SHOW CREATE TABLE` of a table with many kinds of columns (the snapshot's
/// schema-change events are parsed from it): every column, with Debezium's view of it.
#[test]
fn show_create_table_of_mariadb() {
    let sql = include_str!("show_create_t1.sql");
    let mut cat = Catalog::default();
    let t = apply(&mut cat, sql);
    assert_eq!(t.columns.len(), 27);
    assert_eq!(t.charset_name.as_deref(), Some("utf8mb4"));
    assert_eq!(t.comment.as_deref(), Some("table one"));
    let c = |n: &str| t.columns[t.column_index(n).unwrap()].ddl.clone();
    assert_eq!(c("id").length, Some(11));
    assert!(c("id").auto_increment);
    assert_eq!(
        c("med").type_name.as_deref(),
        Some("MEDIUMINT UNSIGNED ZEROFILL")
    );
    assert_eq!(c("name").charset_name.as_deref(), Some("ascii"));
    assert_eq!(c("nat").charset_name.as_deref(), Some("utf8mb3"));
    assert_eq!(c("note").comment.as_deref(), Some("a note"));
    assert_eq!(c("note").charset_name.as_deref(), Some("utf8mb4"));
    assert_eq!((c("dflt").length, c("dflt").scale), (Some(10), Some(0)));
    assert_eq!(c("tags").length, Some(5));
    assert_eq!(c("raw").charset_name, None);
}

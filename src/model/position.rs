//! Positions in the source's log: `file:pos` coordinates, MySQL GTID sets (`uuid:1-5`,
//! including 8.4 tagged GTIDs `uuid:tag:1-3`) and MariaDB GTID lists (`domain-server-seq`).
//!
//! Every type parses and prints its canonical text form and round-trips through serde as
//! that text. `BinlogPosition` comparison can fail: files from servers with a different
//! base name cannot be ordered.

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A `file:pos` coordinate in the binlog.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct BinlogPosition {
    pub file: String,
    pub pos: u64,
}

impl BinlogPosition {
    pub fn new(file: impl Into<String>, pos: u64) -> Self {
        Self {
            file: file.into(),
            pos,
        }
    }

    /// Splits `mariadb-bin.000012` into (`mariadb-bin`, 12).
    fn split(&self) -> Option<(&str, u64)> {
        let (base, idx) = self.file.rsplit_once('.')?;
        Some((base, idx.parse().ok()?))
    }

    /// Orders two positions of the same server; `None` when the files do not share a
    /// base name (different servers or a renamed log).
    pub fn try_cmp(&self, other: &Self) -> Option<Ordering> {
        if self.file == other.file {
            return Some(self.pos.cmp(&other.pos));
        }
        let (a, ai) = self.split()?;
        let (b, bi) = other.split()?;
        (a == b).then(|| ai.cmp(&bi).then(self.pos.cmp(&other.pos)))
    }
}

impl fmt::Display for BinlogPosition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file, self.pos)
    }
}

impl FromStr for BinlogPosition {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (file, pos) = s.rsplit_once(':').ok_or_else(|| {
            format!(
                "`{s}` is not a binlog position; expected FILE:POS, e.g. mariadb-bin.000003:1234"
            )
        })?;
        if file.is_empty() {
            return Err(format!("`{s}` has an empty file name; expected FILE:POS"));
        }
        let pos = pos
            .parse()
            .map_err(|_| format!("`{pos}` in `{s}` is not a byte offset; expected FILE:POS"))?;
        Ok(Self::new(file, pos))
    }
}

/// A MySQL GTID set: per source UUID and tag, a sorted list of disjoint inclusive intervals.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MysqlGtidSet {
    /// uuid (lower case) -> tag ("" when untagged) -> intervals `[start, end]`.
    sets: BTreeMap<String, BTreeMap<String, Vec<(u64, u64)>>>,
}

impl MysqlGtidSet {
    /// Adds one transaction `uuid[:tag]:gno`.
    pub fn add(&mut self, uuid: &str, tag: &str, gno: u64) {
        self.add_range(uuid, tag, gno, gno);
    }

    /// Adds the transactions `uuid[:tag]:start-end` (inclusive; nothing when `end < start`).
    pub fn add_range(&mut self, uuid: &str, tag: &str, start: u64, end: u64) {
        if end < start {
            return;
        }
        let ivs = self
            .sets
            .entry(uuid.to_ascii_lowercase())
            .or_default()
            .entry(tag.to_ascii_lowercase())
            .or_default();
        add_interval(ivs, start, end);
    }

    /// True when the transaction is already in the set.
    pub fn contains(&self, uuid: &str, tag: &str, gno: u64) -> bool {
        self.sets
            .get(&uuid.to_ascii_lowercase())
            .and_then(|t| t.get(&tag.to_ascii_lowercase()))
            .is_some_and(|ivs| ivs.iter().any(|&(a, b)| a <= gno && gno <= b))
    }

    pub fn is_empty(&self) -> bool {
        self.sets.is_empty()
    }

    /// Iterates `(uuid, tag, intervals)`.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str, &[(u64, u64)])> {
        self.sets.iter().flat_map(|(u, tags)| {
            tags.iter()
                .map(move |(t, ivs)| (u.as_str(), t.as_str(), ivs.as_slice()))
        })
    }
}

fn add_interval(ivs: &mut Vec<(u64, u64)>, start: u64, end: u64) {
    ivs.push((start, end));
    ivs.sort_unstable();
    let mut merged: Vec<(u64, u64)> = Vec::with_capacity(ivs.len());
    for &(a, b) in ivs.iter() {
        match merged.last_mut() {
            Some(last) if a <= last.1.saturating_add(1) => last.1 = last.1.max(b),
            _ => merged.push((a, b)),
        }
    }
    *ivs = merged;
}

impl fmt::Display for MysqlGtidSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first_uuid = true;
        for (uuid, tags) in &self.sets {
            if !first_uuid {
                f.write_str(",")?;
            }
            first_uuid = false;
            f.write_str(uuid)?;
            for (tag, ivs) in tags {
                if !tag.is_empty() {
                    write!(f, ":{tag}")?;
                }
                for &(a, b) in ivs {
                    if a == b {
                        write!(f, ":{a}")?;
                    } else {
                        write!(f, ":{a}-{b}")?;
                    }
                }
            }
        }
        Ok(())
    }
}

impl FromStr for MysqlGtidSet {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut set = MysqlGtidSet::default();
        for group in s.split(',').map(str::trim).filter(|g| !g.is_empty()) {
            let mut parts = group.split(':');
            let uuid = parts.next().unwrap_or_default().trim();
            if !is_uuid(uuid) {
                return Err(format!("`{uuid}` in GTID set `{s}` is not a server UUID"));
            }
            let mut tag = String::new();
            let mut any = false;
            for part in parts {
                let part = part.trim();
                if part.starts_with(|c: char| c.is_ascii_digit()) {
                    let (a, b) = match part.split_once('-') {
                        Some((a, b)) => (a, b),
                        None => (part, part),
                    };
                    let a: u64 = a
                        .parse()
                        .map_err(|_| format!("bad interval `{part}` in GTID set `{s}`"))?;
                    let b: u64 = b
                        .parse()
                        .map_err(|_| format!("bad interval `{part}` in GTID set `{s}`"))?;
                    if a == 0 || b < a {
                        return Err(format!("bad interval `{part}` in GTID set `{s}`"));
                    }
                    let ivs = set
                        .sets
                        .entry(uuid.to_ascii_lowercase())
                        .or_default()
                        .entry(tag.clone())
                        .or_default();
                    add_interval(ivs, a, b);
                    any = true;
                } else if is_tag(part) {
                    tag = part.to_ascii_lowercase();
                } else {
                    return Err(format!("bad tag or interval `{part}` in GTID set `{s}`"));
                }
            }
            if !any {
                return Err(format!("`{group}` in GTID set `{s}` has no interval"));
            }
        }
        Ok(set)
    }
}

fn is_uuid(s: &str) -> bool {
    let hex: String = s.chars().filter(|c| *c != '-').collect();
    hex.len() == 32 && hex.chars().all(|c| c.is_ascii_hexdigit())
}

fn is_tag(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 32
        && s.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// One MariaDB GTID `domain-server-seq`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MariadbGtid {
    pub domain: u32,
    pub server: u32,
    pub seq: u64,
}

impl fmt::Display for MariadbGtid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}-{}", self.domain, self.server, self.seq)
    }
}

impl FromStr for MariadbGtid {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut it = s.trim().splitn(3, '-');
        let bad =
            || format!("`{s}` is not a MariaDB GTID; expected DOMAIN-SERVER-SEQ, e.g. 0-1-42");
        let domain = it.next().and_then(|x| x.parse().ok()).ok_or_else(bad)?;
        let server = it.next().and_then(|x| x.parse().ok()).ok_or_else(bad)?;
        let seq = it.next().and_then(|x| x.parse().ok()).ok_or_else(bad)?;
        Ok(Self {
            domain,
            server,
            seq,
        })
    }
}

/// A MariaDB GTID position: the last GTID applied in each replication domain.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MariadbGtidList {
    domains: BTreeMap<u32, MariadbGtid>,
}

impl MariadbGtidList {
    /// Records `gtid` as the last one applied in its domain.
    pub fn apply(&mut self, gtid: MariadbGtid) {
        self.domains.insert(gtid.domain, gtid);
    }

    /// True when `gtid` is at or before what this list already covers in its domain.
    pub fn covers(&self, gtid: &MariadbGtid) -> bool {
        self.domains
            .get(&gtid.domain)
            .is_some_and(|g| g.seq >= gtid.seq)
    }

    pub fn is_empty(&self) -> bool {
        self.domains.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &MariadbGtid> {
        self.domains.values()
    }
}

impl fmt::Display for MariadbGtidList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, g) in self.domains.values().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{g}")?;
        }
        Ok(())
    }
}

impl FromStr for MariadbGtidList {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut list = Self::default();
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let g: MariadbGtid = part.parse()?;
            if list.domains.contains_key(&g.domain) {
                return Err(format!(
                    "GTID list `{s}` names domain {} twice; give one GTID per domain",
                    g.domain
                ));
            }
            list.apply(g);
        }
        Ok(list)
    }
}

/// The executed-GTID state of either flavour.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GtidSet {
    Mysql(MysqlGtidSet),
    Mariadb(MariadbGtidList),
}

impl GtidSet {
    pub fn is_empty(&self) -> bool {
        match self {
            GtidSet::Mysql(s) => s.is_empty(),
            GtidSet::Mariadb(s) => s.is_empty(),
        }
    }
}

impl fmt::Display for GtidSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GtidSet::Mysql(s) => s.fmt(f),
            GtidSet::Mariadb(s) => s.fmt(f),
        }
    }
}

impl FromStr for GtidSet {
    type Err = String;
    /// Detects the flavour from the text: `uuid:…` is MySQL, `d-s-n` is MariaDB.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.contains(':') {
            s.parse().map(GtidSet::Mysql)
        } else {
            s.parse().map(GtidSet::Mariadb)
        }
    }
}

macro_rules! serde_as_text {
    ($($t:ty),*) => {$(
        impl Serialize for $t {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }
        impl<'de> Deserialize<'de> for $t {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                s.parse().map_err(serde::de::Error::custom)
            }
        }
    )*};
}
serde_as_text!(MysqlGtidSet, MariadbGtidList, GtidSet);

// Stored positions may have an empty file name: a GTID-only offset (`offsets set --gtid`)
// is kept as `:4`. User input (`FromStr`) still requires a file.
impl Serialize for BinlogPosition {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for BinlogPosition {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        if let Some(pos) = s.strip_prefix(':') {
            let pos = pos.parse().map_err(serde::de::Error::custom)?;
            return Ok(BinlogPosition::new("", pos));
        }
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// Where one change sits in the log: what the envelope's `source` block reports, and what
/// the checkpoint needs to resume right after it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Position {
    /// Binlog file of the rows event.
    pub file: Arc<str>,
    /// Start offset of the rows event in `file`.
    pub pos: u64,
    /// Row index within the rows event.
    pub row: u32,
    /// GTID of the transaction, when the server has GTIDs.
    pub gtid: Option<Arc<str>>,
    /// Where the transaction began (the offset to reconnect to in order to replay it).
    pub txn_file: Arc<str>,
    pub txn_pos: u64,
    /// Index of this change within its transaction (0-based).
    pub txn_row: u64,
    /// Executed GTID set before this transaction.
    pub gtid_before: Option<Arc<GtidSet>>,
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file, self.pos)?;
        if self.row > 0 {
            write!(f, " row {}", self.row)?;
        }
        if let Some(g) = &self.gtid {
            write!(f, " (GTID {g})")?;
        }
        Ok(())
    }
}

/// The durable resume point: reconnect at `binlog` (with `gtid_set` as the executed set) and
/// skip the first `skip_rows` row changes of the transaction found there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceOffset {
    pub binlog: BinlogPosition,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gtid_set: Option<GtidSet>,
    /// Row changes of the transaction at `binlog` that were already delivered.
    #[serde(default)]
    pub skip_rows: u64,
}

impl fmt::Display for SourceOffset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.binlog)?;
        if let Some(g) = &self.gtid_set {
            write!(f, " gtid_set={g}")?;
        }
        if self.skip_rows > 0 {
            write!(f, " (+{} rows into the transaction)", self.skip_rows)?;
        }
        Ok(())
    }
}

/// Where streaming may resume after one delivered change inside a transaction: replay the
/// transaction that begins at `file:pos` (with `gtid_before` executed before it) and skip
/// its first `skip_rows` changes. One is made per change, so it shares the position's parts
/// instead of copying them; it becomes a [`SourceOffset`] only when the checkpoint is
/// written.
#[derive(Debug, Clone)]
pub struct RowMark {
    pub file: Arc<str>,
    pub pos: u64,
    pub gtid_before: Option<Arc<GtidSet>>,
    pub skip_rows: u64,
}

impl RowMark {
    /// The mark that resumes right after the change at `p`.
    pub fn after(p: &Position) -> Self {
        RowMark {
            file: p.txn_file.clone(),
            pos: p.txn_pos,
            gtid_before: p.gtid_before.clone(),
            skip_rows: p.txn_row + 1,
        }
    }

    /// The offset this mark stands for.
    pub fn offset(&self) -> SourceOffset {
        SourceOffset {
            binlog: BinlogPosition::new(self.file.to_string(), self.pos),
            gtid_set: self.gtid_before.as_deref().cloned(),
            skip_rows: self.skip_rows,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn binlog_position_orders_by_file_index() {
        let a: BinlogPosition = "mariadb-bin.000009:500".parse().unwrap();
        let b: BinlogPosition = "mariadb-bin.000010:4".parse().unwrap();
        assert_eq!(a.try_cmp(&b), Some(Ordering::Less));
        let c: BinlogPosition = "other.000001:4".parse().unwrap();
        assert_eq!(a.try_cmp(&c), None);
        assert!("nofile".parse::<BinlogPosition>().is_err());
        assert!(":4".parse::<BinlogPosition>().is_err());
    }

    #[test]
    fn mysql_gtid_set_merges_and_prints_canonically() {
        let mut s: MysqlGtidSet = "3E11FA47-71CA-11E1-9E33-C80AA9429562:1-5:7"
            .parse()
            .unwrap();
        s.add("3e11fa47-71ca-11e1-9e33-c80aa9429562", "", 6);
        assert_eq!(s.to_string(), "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-7");
        assert!(s.contains("3E11FA47-71CA-11E1-9E33-C80AA9429562", "", 3));
        assert!(!s.contains("3E11FA47-71CA-11E1-9E33-C80AA9429562", "", 8));
    }

    #[test]
    fn mysql_tagged_gtids() {
        let s: MysqlGtidSet = "ab5a6d68-9a8a-11f0-9a0b-0242ac110002:1-3:mytag:1-2"
            .parse()
            .unwrap();
        assert!(s.contains("ab5a6d68-9a8a-11f0-9a0b-0242ac110002", "mytag", 2));
        assert!(!s.contains("ab5a6d68-9a8a-11f0-9a0b-0242ac110002", "mytag", 3));
        assert_eq!(
            s.to_string(),
            "ab5a6d68-9a8a-11f0-9a0b-0242ac110002:1-3:mytag:1-2"
        );
    }

    #[test]
    fn mariadb_gtid_list() {
        let mut l: MariadbGtidList = "0-1-6,1-2-9".parse().unwrap();
        l.apply("0-1-7".parse().unwrap());
        assert_eq!(l.to_string(), "0-1-7,1-2-9");
        assert!(l.covers(&"1-2-9".parse().unwrap()));
        assert!(!l.covers(&"1-2-10".parse().unwrap()));
        assert!("0-1".parse::<MariadbGtidList>().is_err());
        assert!("0-1-2,0-1-3".parse::<MariadbGtidList>().is_err());
        assert!(matches!(
            "0-1-2".parse::<GtidSet>(),
            Ok(GtidSet::Mariadb(_))
        ));
    }

    #[test]
    fn gtid_only_offsets_round_trip_through_serde() {
        let off = SourceOffset {
            binlog: BinlogPosition::new("", 4),
            gtid_set: Some("0-1-42".parse().unwrap()),
            skip_rows: 0,
        };
        let text = serde_json::to_string(&off).unwrap();
        assert_eq!(serde_json::from_str::<SourceOffset>(&text).unwrap(), off);
    }

    proptest! {
        #[test]
        fn mysql_set_round_trips(gnos in proptest::collection::vec(1u64..500, 1..40)) {
            let mut s = MysqlGtidSet::default();
            for g in &gnos {
                s.add("11111111-2222-3333-4444-555555555555", "", *g);
            }
            let back: MysqlGtidSet = s.to_string().parse().unwrap();
            prop_assert_eq!(&back, &s);
            for g in &gnos {
                prop_assert!(back.contains("11111111-2222-3333-4444-555555555555", "", *g));
            }
        }

        #[test]
        fn mariadb_list_round_trips(d in 0u32..5, sv in 1u32..1000, seq in 1u64..u64::MAX) {
            let l: MariadbGtidList = format!("{d}-{sv}-{seq}").parse().unwrap();
            let back: MariadbGtidList = l.to_string().parse().unwrap();
            prop_assert_eq!(back, l);
        }

        #[test]
        fn binlog_position_round_trips(idx in 1u32..999999, pos in 4u64..u64::MAX) {
            let p = BinlogPosition::new(format!("mysql-bin.{idx:06}"), pos);
            let back: BinlogPosition = p.to_string().parse().unwrap();
            prop_assert_eq!(back, p);
        }
    }
}

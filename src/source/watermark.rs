//! The reads of a read-only incremental snapshot (`[snapshot] read_only = true`): each
//! chunk is selected inside `START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY`, and
//! the transaction's `Binlog_snapshot_file` / `Binlog_snapshot_position` name the exact
//! binlog position the chunk was read at. Nothing is written to the source.
//!
//! Why the position is exact (MariaDB's "Enhancements for START TRANSACTION WITH
//! CONSISTENT SNAPSHOT"; Percona Server ported it): the binlog takes part in the consistent
//! snapshot like a storage engine, and records the end of the last transaction whose
//! `commit_ordered` ran — in binlog order, under the lock the engines' snapshots are taken
//! under. So the read view contains exactly the transactions that end at or before that
//! position, whichever commit afterwards. Servers without these status variables (MySQL)
//! cannot take read-only snapshots this way: the read fails with a clear message.

use mysql_async::prelude::Queryable;
use mysql_async::Conn;

use super::chunk::{ChunkError, ChunkRow, ChunkTable};
use crate::error::{classify_mysql, Error};
use crate::model::{BinlogPosition, KeyPart};

/// A chunk and the binlog position of the snapshot it was read in.
pub struct SnapshotChunk {
    pub rows: Vec<ChunkRow>,
    pub at: BinlogPosition,
}

fn other(e: mysql_async::Error) -> ChunkError {
    ChunkError::Other(classify_mysql(e, ""))
}

/// Reads one chunk (as [`ChunkTable::read`]) in a consistent-snapshot transaction and
/// returns it with the snapshot's binlog position. The transaction is ended either way.
pub async fn read_chunk(
    conn: &mut Conn,
    t: &ChunkTable,
    after: Option<&[KeyPart]>,
    max: &[KeyPart],
    limit: usize,
) -> Result<SnapshotChunk, ChunkError> {
    conn.query_drop("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        .await
        .map_err(other)?;
    conn.query_drop("START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY")
        .await
        .map_err(other)?;
    let read = async {
        let at = snapshot_position(conn).await?;
        let rows = t.read(conn, after, max, limit).await?;
        Ok::<_, ChunkError>(SnapshotChunk { rows, at })
    }
    .await;
    // Only reads happened: COMMIT and ROLLBACK end it alike.
    let ended = conn.query_drop("ROLLBACK").await.map_err(other);
    let chunk = read?;
    ended?;
    Ok(chunk)
}

/// `Binlog_snapshot_file` / `Binlog_snapshot_position` of the open consistent snapshot.
async fn snapshot_position(conn: &mut Conn) -> Result<BinlogPosition, ChunkError> {
    let rows: Vec<(String, String)> = conn
        .query("SHOW STATUS LIKE 'binlog_snapshot_%'")
        .await
        .map_err(other)?;
    parse_position(&rows).map_err(|e| ChunkError::Other(Error::ServerSetup(e)))
}

/// The position in `SHOW STATUS LIKE 'binlog_snapshot_%'` rows, or why there is none.
pub fn parse_position(rows: &[(String, String)]) -> Result<BinlogPosition, String> {
    let get = |k: &str| {
        rows.iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(k))
            .map(|(_, v)| v.trim().to_string())
    };
    let (Some(file), Some(pos)) = (get("binlog_snapshot_file"), get("binlog_snapshot_position"))
    else {
        return Err(
            "snapshot.read_only needs the server's Binlog_snapshot_file and \
             Binlog_snapshot_position status variables (MariaDB, Percona Server), which this \
             server does not have (MySQL): set snapshot.read_only = false and give the user \
             INSERT on [signals] table for its watermark rows"
                .into(),
        );
    };
    if file.is_empty() {
        return Err("Binlog_snapshot_file is empty: binary logging must be on (log_bin)".into());
    }
    let pos = pos
        .parse()
        .map_err(|_| format!("Binlog_snapshot_position `{pos}` is not a byte offset"))?;
    Ok(BinlogPosition::new(file, pos))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(v: &[(&str, &str)]) -> Vec<(String, String)> {
        v.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn the_snapshot_position_is_read_from_the_status_rows() {
        let p = parse_position(&rows(&[
            ("Binlog_snapshot_file", "mariadb-bin.000002"),
            ("Binlog_snapshot_position", "389"),
        ]))
        .unwrap();
        assert_eq!(p, BinlogPosition::new("mariadb-bin.000002", 389));
        let mysql = parse_position(&[]).unwrap_err();
        assert!(
            mysql.contains("MySQL") && mysql.contains("read_only"),
            "{mysql}"
        );
        let off = parse_position(&rows(&[
            ("Binlog_snapshot_file", ""),
            ("Binlog_snapshot_position", "0"),
        ]))
        .unwrap_err();
        assert!(off.contains("log_bin"), "{off}");
    }
}

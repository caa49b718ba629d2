//! Sends signals through the configured channel (`rowtide snapshot`): an insert into the
//! signal table, which the running rowtide reads back from the binlog.

use std::time::{SystemTime, UNIX_EPOCH};

use mysql_async::prelude::Queryable;

use super::Signal;
use crate::config::Config;
use crate::error::{Error, Result};

/// A signal id unique enough for the table's primary key (at most 42 characters).
pub fn new_id() -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    format!("rowtide-{now:x}-{:x}", std::process::id())
}

/// Inserts `signal` into the signal table; returns its id.
pub async fn send(cfg: &Config, signal: &Signal) -> Result<String> {
    let Some((db, table)) = cfg.signals.table_parts() else {
        return Err(Error::Config(
            "no signal channel is configured: set [signals] table = \"<db>.<table>\" \
             (a table rowtide captures, with columns id VARCHAR(42) PRIMARY KEY, \
             type VARCHAR(32) NOT NULL, data VARCHAR(2048))"
                .into(),
        ));
    };
    let id = new_id();
    let data = signal.data().to_string();
    let sql = format!(
        "INSERT INTO `{}`.`{}` (id, type, data) VALUES (?, ?, ?)",
        db.replace('`', "``"),
        table.replace('`', "``")
    );
    let mut conn = crate::mysql::connect(&cfg.source).await?;
    let res = conn
        .exec_drop(sql, (id.as_str(), signal.type_name(), data.as_str()))
        .await;
    let _ = conn.disconnect().await;
    res.map_err(|e| {
        Error::ServerSetup(format!(
            "could not insert the signal into {db}.{table} (does the table exist, with columns \
             id, type, data, and may the user INSERT into it?): {e}"
        ))
    })?;
    Ok(id)
}

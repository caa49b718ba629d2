//! Talking SQL to the source: connecting (with the configured TLS mode), reading what the
//! server is and how it is set up, and asking where its binlog stands.

pub mod schema;

use std::time::Duration;

use mysql_async::prelude::Queryable;
use mysql_async::{Conn, OptsBuilder, SslOpts};

use crate::config::{FlavorSetting, SourceConfig, TlsMode};
use crate::error::{classify_mysql, Error, Result};
use crate::model::{BinlogPosition, Flavor, GtidSet};

/// Builds connection options; `tls` false forces a plain connection (for `preferred`).
fn opts(cfg: &SourceConfig, password: &str, tls: bool) -> Result<OptsBuilder> {
    let mut b = OptsBuilder::default()
        .ip_or_hostname(cfg.host.clone())
        .tcp_port(cfg.port)
        .user(Some(cfg.user.clone()))
        .pass(Some(password.to_string()))
        .prefer_socket(false)
        .max_allowed_packet(Some(1 << 30))
        .stmt_cache_size(0);
    if tls && cfg.tls != TlsMode::Disabled {
        let mut ssl = SslOpts::default();
        match cfg.tls {
            TlsMode::Preferred | TlsMode::Required => {
                ssl = ssl
                    .with_danger_accept_invalid_certs(true)
                    .with_danger_skip_domain_validation(true);
            }
            TlsMode::VerifyCa => {
                ssl = ssl.with_danger_skip_domain_validation(true);
            }
            TlsMode::VerifyIdentity | TlsMode::Disabled => {}
        }
        if let Some(ca) = &cfg.tls_ca {
            ssl = ssl.with_root_certs(vec![ca.clone().into()]);
        }
        b = b.ssl_opts(Some(ssl));
    }
    Ok(b)
}

/// Opens a connection to the source with the configured TLS mode.
pub async fn connect(cfg: &SourceConfig) -> Result<Conn> {
    let password = cfg.resolve_password()?;
    let timeout = Duration::from_millis(cfg.connect_timeout_ms);
    let attempt = |tls: bool| {
        let o = opts(cfg, &password, tls);
        async move {
            let Ok(o) = o else {
                return Err(mysql_async::Error::Other("bad connection options".into()));
            };
            match tokio::time::timeout(timeout, Conn::new(o)).await {
                Ok(Ok(c)) => Ok(c),
                Ok(Err(e)) => Err(e),
                Err(_) => Err(mysql_async::Error::Io(mysql_async::IoError::Io(
                    std::io::Error::new(std::io::ErrorKind::TimedOut, "connect timed out"),
                ))),
            }
        }
    };
    let where_ = format!("{}:{}", cfg.host, cfg.port);
    match attempt(true).await {
        Ok(c) => Ok(c),
        Err(mysql_async::Error::Driver(mysql_async::DriverError::NoClientSslFlagFromServer))
            if cfg.tls == TlsMode::Preferred =>
        {
            attempt(false)
                .await
                .map_err(|e| wrap_connect(classify_mysql(e, ""), &where_))
        }
        Err(mysql_async::Error::Driver(mysql_async::DriverError::NoClientSslFlagFromServer)) => {
            Err(Error::ServerSetup(format!(
                "source.tls requires TLS but {where_} does not offer it; enable TLS on the server \
                 (ssl_cert/ssl_key) or set source.tls = \"preferred\""
            )))
        }
        Err(e) if cfg.tls != TlsMode::Disabled && tls_rejected(&e) => {
            let ca = match &cfg.tls_ca {
                Some(p) => format!("source.tls_ca ({})", p.display()),
                None => "the system's root certificates (source.tls_ca is not set)".into(),
            };
            let mode = match cfg.tls {
                TlsMode::VerifyIdentity => "verify_identity",
                TlsMode::VerifyCa => "verify_ca",
                _ => "required",
            };
            Err(Error::ServerSetup(format!(
                "TLS to {where_} failed: the server's certificate was rejected ({e}). With \
                 source.tls = \"{mode}\" it must be signed by {ca}; point source.tls_ca at the \
                 CA that signed the server's certificate, or use source.tls = \"required\" to \
                 encrypt without verifying"
            )))
        }
        Err(e) => Err(wrap_connect(classify_mysql(e, ""), &where_)),
    }
}

/// True when the TLS handshake failed because the server's certificate was refused (an
/// unknown issuer, a wrong name, an expired certificate): retrying cannot help.
fn tls_rejected(e: &mysql_async::Error) -> bool {
    let io = match e {
        mysql_async::Error::Io(mysql_async::IoError::Io(io)) => io,
        mysql_async::Error::Io(mysql_async::IoError::Tls(_)) => return true,
        _ => return false,
    };
    // rustls reports verification failures as InvalidData "invalid peer certificate: …".
    io.kind() == std::io::ErrorKind::InvalidData && io.to_string().contains("certificate")
}

fn wrap_connect(e: Error, where_: &str) -> Error {
    match e {
        Error::SourceConnection { source, .. } => Error::SourceConnection {
            context: Some(format!("cannot connect to {where_}")),
            source,
        },
        other => other,
    }
}

/// What the server is.
#[derive(Debug, Clone)]
pub struct ServerInfo {
    pub version: String,
    pub flavor: Flavor,
    /// (major, minor, patch).
    pub version_number: (u32, u32, u32),
}

/// Reads version and flavour; `setting` forces the flavour when not `auto`.
pub async fn server_info(conn: &mut Conn, setting: FlavorSetting) -> Result<ServerInfo> {
    let version: String = conn
        .query_first("SELECT VERSION()")
        .await
        .map_err(|e| classify_mysql(e, ""))?
        .unwrap_or_default();
    let detected = if version.to_ascii_lowercase().contains("mariadb") {
        Flavor::Mariadb
    } else {
        Flavor::Mysql
    };
    let flavor = match setting {
        FlavorSetting::Auto => detected,
        FlavorSetting::Mysql => Flavor::Mysql,
        FlavorSetting::Mariadb => Flavor::Mariadb,
    };
    let nums: Vec<u32> = version
        .split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty())
        .take(3)
        .filter_map(|s| s.parse().ok())
        .collect();
    let vn = (
        nums.first().copied().unwrap_or(0),
        nums.get(1).copied().unwrap_or(0),
        nums.get(2).copied().unwrap_or(0),
    );
    Ok(ServerInfo {
        version,
        flavor,
        version_number: vn,
    })
}

/// Reads one global variable as text (`None` when the server does not have it).
pub async fn variable(conn: &mut Conn, name: &str) -> Result<Option<String>> {
    let row: Option<(String, Option<String>)> = conn
        .query_first(format!("SHOW GLOBAL VARIABLES LIKE '{name}'"))
        .await
        .map_err(|e| classify_mysql(e, ""))?;
    Ok(row.and_then(|(_, v)| v))
}

/// The server's current binlog coordinates and executed GTIDs.
pub async fn current_position(
    conn: &mut Conn,
    info: &ServerInfo,
) -> Result<(BinlogPosition, Option<GtidSet>)> {
    // MySQL 8.4 removed SHOW MASTER STATUS; 8.2+ has SHOW BINARY LOG STATUS.
    let stmt = match info.flavor {
        Flavor::Mysql if info.version_number >= (8, 2, 0) => "SHOW BINARY LOG STATUS",
        _ => "SHOW MASTER STATUS",
    };
    let row: Option<mysql_async::Row> = conn
        .query_first(stmt)
        .await
        .map_err(|e| classify_mysql(e, ""))?;
    let row = row.ok_or_else(|| {
        Error::ServerSetup(
            "binary logging is off on the source (SHOW MASTER STATUS is empty); start the \
             server with log_bin enabled, binlog_format=ROW and binlog_row_image=FULL"
                .into(),
        )
    })?;
    let file: String = row.get(0).unwrap_or_default();
    let pos: u64 = row.get(1).unwrap_or(4);
    let gtid = match info.flavor {
        Flavor::Mariadb => {
            let g: Option<String> = conn
                .query_first("SELECT @@GLOBAL.gtid_binlog_pos")
                .await
                .map_err(|e| classify_mysql(e, ""))?;
            g.filter(|s| !s.trim().is_empty())
                .and_then(|s| s.parse().ok())
                .map(GtidSet::Mariadb)
        }
        Flavor::Mysql => {
            let g: Option<String> = row.get::<Option<String>, _>(4).flatten();
            g.filter(|s| !s.trim().is_empty())
                .and_then(|s| s.replace('\n', "").parse().ok())
                .map(GtidSet::Mysql)
        }
    };
    Ok((BinlogPosition::new(file, pos), gtid))
}

/// The binlog files the server still has, oldest first, with their sizes.
pub async fn binary_logs(conn: &mut Conn) -> Result<Vec<(String, u64)>> {
    let rows: Vec<mysql_async::Row> = conn
        .query("SHOW BINARY LOGS")
        .await
        .map_err(|e| classify_mysql(e, ""))?;
    Ok(rows
        .into_iter()
        .map(|r| {
            (
                r.get::<String, _>(0).unwrap_or_default(),
                r.get::<u64, _>(1).unwrap_or(0),
            )
        })
        .collect())
}

/// Describes the retained binlogs for error messages: `first … last (N files)`.
pub fn describe_logs(logs: &[(String, u64)]) -> String {
    match (logs.first(), logs.last()) {
        (Some(f), Some(l)) if logs.len() > 1 => {
            format!("{} … {}:{} ({} files)", f.0, l.0, l.1, logs.len())
        }
        (Some(f), _) => format!("{}:{} (1 file)", f.0, f.1),
        _ => "no binlog files".into(),
    }
}

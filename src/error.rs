//! The crate's top-level error and its one classification ([`Error::kind`]): *transient*
//! errors are retried from the last checkpoint (a dropped connection, a broker that is
//! down), *definite* errors stop the engine and tell the operator what is wrong and how to
//! fix it. Variants that wrap a library's error keep it as their `source()`, so logs can
//! show the whole chain; variants about data name the position, table and column.
//!
//! Server errors are classified in one place, [`classify_mysql`], so that error 1236 (binlog
//! position purged or missing) always becomes [`Error::BinlogNotAvailable`].

use crate::model::Position;

/// The underlying error of a variant that can have several kinds of cause.
pub type Cause = Box<dyn std::error::Error + Send + Sync + 'static>;

/// What the engine does about an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Retried: the pipeline restarts from the checkpoint with backoff.
    Transient,
    /// Stops the engine with a message for the operator.
    Definite,
}

/// Result alias used across the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can stop or interrupt the engine.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The configuration is invalid (exit code 2).
    #[error("invalid configuration: {0}")]
    Config(String),

    /// A value in the binlog could not be decoded.
    #[error("cannot decode {table}.{column} at {position}: {reason}")]
    Decode {
        table: String,
        column: String,
        position: String,
        reason: String,
    },

    /// A binlog event (not a single value) is malformed or unsupported.
    #[error("cannot read binlog event at {position}: {reason}")]
    Event { position: String, reason: String },

    /// A DDL statement changed a captured table in a way rowtide cannot follow while the
    /// rows after it need that structure (MINIMAL row metadata): the position, the tables,
    /// the statement (shortened), the parser's reason and the ways out.
    #[error("cannot follow the DDL at {position} on {tables}: {reason}. Statement: `{statement}`. {ways_out}")]
    DdlNotFollowed {
        position: String,
        tables: String,
        statement: String,
        reason: String,
        ways_out: String,
    },

    /// A recorded binlog file is unreadable.
    #[error("cannot read binlog file {file} at byte offset {offset}: {reason}")]
    File {
        file: String,
        offset: u64,
        reason: String,
    },

    /// A binlog event failed an integrity check: its CRC32 does not match its bytes, a length
    /// in it contradicts the bytes present, or the event parser rejected it. The input is
    /// damaged (definite: reading it again gives the same bytes). `file` and `offset` name
    /// where the event starts (for an event inside a compressed transaction: where that
    /// transaction starts).
    #[error("corrupt binlog event {event_type} in {file} at byte offset {offset}: {reason}")]
    Corrupt {
        file: String,
        offset: u64,
        event_type: String,
        reason: String,
    },

    /// The requested position is no longer (or not yet) on the server.
    #[error(
        "the binlog position {wanted} is not available on the source: {server_message}. \
         The server still has: {available}. Choose one: re-snapshot (`rowtide offsets reset` \
         with snapshot_mode = \"initial\" or \"when_needed\"), or move to a retained position \
         with `rowtide offsets set --position FILE:POS` (events in between are lost). \
         To avoid this, keep binlogs longer than the longest downtime (binlog_expire_logs_seconds)."
    )]
    BinlogNotAvailable {
        wanted: String,
        available: String,
        server_message: String,
    },

    /// The source server is not configured for CDC, or a grant is missing.
    #[error("the source server is not set up for CDC: {0}")]
    ServerSetup(String),

    /// The connection to the source failed or broke (retried with backoff).
    #[error(
        "source connection: {}{}",
        context.as_deref().map(|c| format!("{c}: ")).unwrap_or_default(),
        mysql_detail(source)
    )]
    SourceConnection {
        /// Where or what, when known (`cannot connect to host:port`).
        context: Option<String>,
        #[source]
        source: mysql_async::Error,
    },

    /// The source stream stalled or ended (retried with backoff).
    #[error("source connection: {0}")]
    SourceTransient(String),

    /// A definite failure reported by the source server.
    #[error("source server error: {message} (error {code})")]
    SourceServer { code: u16, message: String },

    /// The MySQL client library refused something (a bad URL, an unsupported reply).
    #[error("source client error: {}", mysql_detail(source))]
    SourceClient {
        #[source]
        source: mysql_async::Error,
    },

    /// A server refused rowtide's credentials or permissions: Kafka authentication, TLS
    /// verification or authorization, the registry's 401/403 (definite). The message names
    /// the component, the configured mechanism and user (never the secret) and what to check.
    #[error("{component}: {message}")]
    Access {
        component: &'static str,
        message: String,
    },

    /// A permanent Kafka delivery error.
    #[error("kafka delivery to topic {topic} failed at {position}: {reason}")]
    Delivery {
        topic: String,
        position: String,
        reason: String,
    },

    /// Another rowtide instance with the same `transactional.id` started and fenced this
    /// one (`sink.delivery = "exactly_once"` or the Kafka state store): this instance must
    /// write nothing more. Definite for a plain run; a hot standby returns to standby on it
    /// ([`Error::is_fenced`]).
    #[error(
        "fenced: another rowtide instance with transactional.id {transactional_id} took over          ({detail}); this instance writes nothing more and stops. Run one rowtide per state          topic, or give each pipeline its own checkpoint.kafka_topic / sink.transactional_id"
    )]
    Fenced {
        transactional_id: String,
        detail: String,
    },

    /// Kafka is unreachable or misbehaving in a way that may pass.
    #[error("kafka: {context}: {source}")]
    Kafka {
        context: String,
        #[source]
        source: rdkafka::error::KafkaError,
    },

    /// Schema registry failures that may pass (unreachable, 5xx).
    #[error("schema registry: {message}")]
    Registry {
        message: String,
        #[source]
        source: Option<Cause>,
    },

    /// The registry answered a request with an unexpected 4xx (a wrong URL, say): definite.
    #[error("schema registry at {url}: {message}")]
    RegistryRequest { url: String, message: String },

    /// The Avro schema rowtide generated (or was given) does not parse: a bug or names Avro
    /// cannot hold apart (definite: the same structure gives the same schema again).
    #[error(
        "invalid Avro schema generated for {name}: {reason}. Two column or field names that \
         differ only in characters Avro does not allow (they all become '_'), or a transform \
         that renamed a field, make this; rename or exclude the column \
         (events.column_exclude), or use format.kind = \"json\" for this table"
    )]
    InvalidSchema { name: String, reason: String },

    /// `format.auto_register = false`: the schema is not registered under its subject, or
    /// the subject's latest version is not it (`use_latest_version`) (definite).
    #[error("schema registry: no usable schema for subject {subject}: {message}")]
    SchemaNotRegistered { subject: String, message: String },

    /// The registry rejected a schema as incompatible (definite).
    #[error("schema registry rejected the schema for subject {subject}: {message}")]
    IncompatibleSchema { subject: String, message: String },

    /// A transform refused a record (Kafka Connect would fail the task the same way).
    #[error("transform {transform} failed on a record of {topic}: {reason}")]
    Transform {
        transform: &'static str,
        topic: String,
        reason: String,
    },

    /// Encoding an event failed.
    #[error("cannot encode event for {table} at {position}: {reason}")]
    Encode {
        table: String,
        position: String,
        reason: String,
    },

    /// The checkpoint store failed.
    #[error("checkpoint store at {path}: {reason}")]
    Checkpoint {
        path: String,
        reason: String,
        #[source]
        source: Option<Cause>,
    },

    /// Something else that is I/O bound.
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },

    /// An internal task of the engine panicked or was cancelled (a bug: please report it).
    #[error("internal error: the {task} task failed: {source}")]
    Task {
        task: &'static str,
        #[source]
        source: tokio::task::JoinError,
    },

    /// A transient failure persisted through `source.max_reconnect_attempts` attempts.
    #[error("gave up after {attempts} reconnect attempts: {last}")]
    GaveUp {
        attempts: u32,
        #[source]
        last: Box<Error>,
    },

    /// The engine was asked to stop.
    #[error("shutting down")]
    Shutdown,
}

impl From<crate::model::FilterError> for Error {
    fn from(e: crate::model::FilterError) -> Self {
        Error::Config(e.to_string())
    }
}

impl Error {
    /// Transient errors are retried (reconnect and resume from the checkpoint); every other
    /// error is definite and stops the engine.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::SourceConnection { .. }
            | Error::SourceTransient(_)
            | Error::Kafka { .. }
            | Error::Registry { .. } => ErrorKind::Transient,
            _ => ErrorKind::Definite,
        }
    }

    /// Whether another instance with the same `transactional.id` took over (the error kind
    /// a hot standby watches for).
    pub fn is_fenced(&self) -> bool {
        match self {
            Error::Fenced { .. } => true,
            Error::GaveUp { last, .. } => last.is_fenced(),
            _ => false,
        }
    }

    /// `self.kind() == ErrorKind::Transient`.
    pub fn is_transient(&self) -> bool {
        self.kind() == ErrorKind::Transient
    }

    /// Process exit code for this error: 2 for configuration, 1 otherwise.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Config(_) => 2,
            _ => 1,
        }
    }

    /// `last` persisted through `attempts` consecutive attempts.
    pub(crate) fn gave_up(attempts: u32, last: Error) -> Self {
        Error::GaveUp {
            attempts,
            last: Box::new(last),
        }
    }

    /// A transient registry failure with no underlying error.
    pub(crate) fn registry(message: impl Into<String>) -> Self {
        Error::Registry {
            message: message.into(),
            source: None,
        }
    }

    pub(crate) fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Error::Io {
            context: context.into(),
            source,
        }
    }

    pub(crate) fn decode(
        table: &str,
        column: &str,
        position: &Position,
        reason: impl Into<String>,
    ) -> Self {
        Error::Decode {
            table: table.to_string(),
            column: column.to_string(),
            position: position.to_string(),
            reason: reason.into(),
        }
    }
}

/// A mysql_async error without the wrapper's own prefix (its I/O variant prints
/// "Input/output error" twice), and a server error as `message (error code)`.
fn mysql_detail(e: &mysql_async::Error) -> String {
    use mysql_async::Error as E;
    match e {
        E::Io(io) => io.to_string(),
        E::Driver(d) => d.to_string(),
        E::Server(se) => format!("{} (error {})", se.message, se.code),
        other => other.to_string(),
    }
}

/// MySQL/MariaDB server error codes the engine reacts to.
pub mod codes {
    /// ER_MASTER_FATAL_ERROR_READING_BINLOG: position purged, missing, or invalid.
    pub const FATAL_READING_BINLOG: u16 = 1236;
    /// ER_SPECIFIC_ACCESS_DENIED_ERROR: a privilege (e.g. REPLICATION SLAVE) is missing.
    pub const SPECIFIC_ACCESS_DENIED: u16 = 1227;
    /// ER_ACCESS_DENIED_ERROR: wrong user or password.
    pub const ACCESS_DENIED: u16 = 1045;
    /// ER_DBACCESS_DENIED_ERROR: no access to a database.
    pub const DB_ACCESS_DENIED: u16 = 1044;
    /// ER_TABLEACCESS_DENIED_ERROR: no access to a table.
    pub const TABLE_ACCESS_DENIED: u16 = 1142;
    /// ER_SERVER_SHUTDOWN: the server is shutting down.
    pub const SERVER_SHUTDOWN: u16 = 1053;
    /// ER_CONNECTION_KILLED (MariaDB): the connection was killed.
    pub const CONN_KILLED: u16 = 1927;
    /// MariaDB: a replica with the same server_id is already connected (a duplicate
    /// server id can also come as 1236 with a message that says so).
    pub const SAME_SERVER_ID: u16 = 4052;
}

/// Classifies an error from mysql_async into transient (retry) or definite.
///
/// `wanted` describes the position that was requested, for error 1236.
pub fn classify_mysql(err: mysql_async::Error, wanted: &str) -> Error {
    use mysql_async::Error as E;
    match err {
        E::Server(se) => match se.code {
            codes::FATAL_READING_BINLOG => {
                let msg = se.message.to_lowercase();
                if msg.contains("same server_id") || msg.contains("same server id") {
                    Error::ServerSetup(format!(
                        "another replica uses this server_id ({}); set source.server_id to an id \
                         that no other replica of this server uses (see `SHOW SLAVE HOSTS`)",
                        se.message
                    ))
                } else {
                    Error::BinlogNotAvailable {
                        wanted: wanted.to_string(),
                        available: String::from("(unknown)"),
                        server_message: se.message,
                    }
                }
            }
            codes::SPECIFIC_ACCESS_DENIED
            | codes::DB_ACCESS_DENIED
            | codes::TABLE_ACCESS_DENIED => Error::ServerSetup(format!(
                "missing privilege: {} (error {}). Grant what rowtide needs, e.g. \
                     GRANT SELECT, RELOAD, SHOW DATABASES, LOCK TABLES, REPLICATION SLAVE, \
                     REPLICATION CLIENT ON *.* TO 'user'@'host'",
                se.message, se.code
            )),
            codes::ACCESS_DENIED => Error::Access {
                component: "source",
                message: format!(
                    "the source refused the login: {} (error {}); check source.user and \
                     source.password (or source.password_file)",
                    se.message, se.code
                ),
            },
            codes::SAME_SERVER_ID => Error::ServerSetup(format!(
                "another replica is connected with this server_id ({}); set source.server_id to \
                 an id no other replica of this server uses (see `SHOW SLAVE HOSTS`)",
                se.message
            )),
            codes::SERVER_SHUTDOWN | codes::CONN_KILLED => Error::SourceConnection {
                context: None,
                source: E::Server(se),
            },
            _ => Error::SourceServer {
                code: se.code,
                message: se.message,
            },
        },
        e @ (E::Io(_) | E::Driver(_)) => Error::SourceConnection {
            context: None,
            source: e,
        },
        other => Error::SourceClient { source: other },
    }
}

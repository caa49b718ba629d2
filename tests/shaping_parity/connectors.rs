//! The connector configurations of the side-by-side test: one Debezium connector per
//! `Kind` (the options of issue 16 split where they conflict), written as a Kafka Connect
//! `.properties` file for a given topic prefix. The same file, with rowtide's prefix, is what
//! `rowtide import debezium` turns into rowtide's configuration, so both engines are driven
//! by one description of the settings.
//!
//! Invariant: the two engines' files differ only in `name`, `topic.prefix`,
//! `database.server.id` and the schema-history topic (and the outbox route, which embeds the
//! prefix so that the engines do not write to the same topics).

use super::common::TestEnv;

/// One connector of the comparison and what it turns on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// The envelope with every column option (exclude, mask, hash v1/v2, truncate,
    /// propagate by column and by type), `message.key.columns` (incl. a table without a
    /// primary key), truncate events, tombstones, heartbeats with an action query, and the
    /// routers: ByLogicalTableRouter on the shard tables, then RegexRouter.
    Envelope,
    /// The same column and key options, then ExtractNewRecordState (add.fields,
    /// add.headers, delete.tombstone.handling.mode=rewrite).
    Unwrap,
    /// column.include.list, then ExtractNewRecordState with prefixes, headers of source
    /// fields and rewrite-with-tombstone.
    UnwrapMore,
    /// ExtractChangedRecordState (changed / unchanged headers), then ExtractNewRecordState
    /// with its delete defaults (deletes as value-less records with a schema, tombstones
    /// dropped) and `drop.fields.header.name` (an update keeps its changed and required
    /// columns), on every table but `orders` (a negated TopicNameMatches predicate: its
    /// events stay envelopes).
    UnwrapDefault,
    /// The outbox table only, through the outbox EventRouter with an expanded JSON payload
    /// and the record timestamp from a `DATETIME(3)` column (compared too).
    Outbox,
}

pub const KINDS: [Kind; 5] = [
    Kind::Envelope,
    Kind::Unwrap,
    Kind::UnwrapMore,
    Kind::UnwrapDefault,
    Kind::Outbox,
];

impl Kind {
    /// A letter for topic prefixes and names.
    pub fn letter(self) -> char {
        match self {
            Kind::Envelope => 'e',
            Kind::Unwrap => 'u',
            Kind::UnwrapMore => 'w',
            Kind::UnwrapDefault => 't',
            Kind::Outbox => 'o',
        }
    }
}

/// The column options of `Kind::Envelope` and `Kind::Unwrap` (regexes escaped for a
/// `.properties` file: `\\.` is a regex `\.`).
fn column_options(db: &str) -> String {
    format!(
        "column.exclude.list={db}\\\\.customers\\\\.secret
column.mask.with.5.chars={db}\\\\.customers\\\\.ssn
column.mask.hash.SHA-256.with.salt.pepper={db}\\\\.customers\\\\.email
column.mask.hash.v2.SHA-256.with.salt.pepper={db}\\\\.customers\\\\.card
column.truncate.to.8.chars={db}\\\\.customers\\\\.bio
column.propagate.source.type={db}\\\\.customers\\\\.(name|price)
datatype.propagate.source.type=.+\\\\.FLOAT
message.key.columns={db}.orders:ref;{db}.nopk:code
"
    )
}

/// What a kind adds to the common connection settings.
fn kind_options(kind: Kind, db: &str, prefix: &str) -> String {
    match kind {
        Kind::Envelope => format!(
            "{columns}skipped.operations=none
tombstones.on.delete=true
table.exclude.list={db}\\\\.hb
heartbeat.interval.ms=1000
heartbeat.action.query=INSERT INTO {db}.hb (id, ts) VALUES (1, NOW(6)) ON DUPLICATE KEY UPDATE ts = NOW(6)
transforms=shards,route
transforms.shards.type=io.debezium.transforms.ByLogicalTableRouter
transforms.shards.topic.regex=(.*)\\\\.shard_[0-9]+
transforms.shards.topic.replacement=$1.shards
transforms.route.type=org.apache.kafka.connect.transforms.RegexRouter
transforms.route.regex=(.*)\\\\.customers
transforms.route.replacement=$1.clients
",
            columns = column_options(db)
        ),
        Kind::Unwrap => format!(
            "{columns}skipped.operations=none
table.exclude.list={db}\\\\.(hb|outbox)
transforms=unwrap
transforms.unwrap.type=io.debezium.transforms.ExtractNewRecordState
transforms.unwrap.add.fields=op,table,source.ts_ms
transforms.unwrap.add.headers=db
transforms.unwrap.delete.tombstone.handling.mode=rewrite
",
            columns = column_options(db)
        ),
        Kind::UnwrapMore => format!(
            "table.include.list={db}\\\\.(customers|nokey|orders|fin)
column.include.list={db}\\\\.customers\\\\.(id|name|bio),{db}\\\\.(nokey|orders|fin)\\\\..*
skipped.operations=none
transforms=unwrap
transforms.unwrap.type=io.debezium.transforms.ExtractNewRecordState
transforms.unwrap.add.fields=op,source.ts_ms,ts_ms,source.file,source.pos,source.gtid,source.snapshot,db,source.table:tbl
transforms.unwrap.add.fields.prefix=m_
transforms.unwrap.add.headers=op,source.table,source.pos,table
transforms.unwrap.add.headers.prefix=h_
transforms.unwrap.delete.tombstone.handling.mode=rewrite-with-tombstone
"
        ),
        Kind::UnwrapDefault => format!(
            "table.include.list={db}\\\\.(customers|nokey|orders|fin)
transforms=changes,unwrap
transforms.changes.type=io.debezium.transforms.ExtractChangedRecordState
transforms.changes.header.changed.name=Changed
transforms.changes.header.unchanged.name=Unchanged
transforms.unwrap.type=io.debezium.transforms.ExtractNewRecordState
transforms.unwrap.drop.fields.header.name=Unchanged
transforms.unwrap.predicate=isOrders
transforms.unwrap.negate=true
predicates=isOrders
predicates.isOrders.type=org.apache.kafka.connect.transforms.predicates.TopicNameMatches
predicates.isOrders.pattern=.*\\\\.orders
"
        ),
        Kind::Outbox => format!(
            "table.include.list={db}\\\\.outbox
tombstones.on.delete=false
transforms=outbox
transforms.outbox.type=io.debezium.transforms.outbox.EventRouter
transforms.outbox.table.expand.json.payload=true
transforms.outbox.table.fields.additional.placement=type:header:eventType
transforms.outbox.table.field.event.timestamp=created
transforms.outbox.route.topic.replacement={prefix}.${{routedByValue}}.events
"
        ),
    }
}

/// The connector `.properties` of `kind` on `db` with topic prefix `prefix`.
pub fn properties(env: &TestEnv, kind: Kind, db: &str, prefix: &str, server_id: u32) -> String {
    format!(
        "name={prefix}
connector.class=io.debezium.connector.mariadb.MariaDbConnector
tasks.max=1
database.hostname={host}
database.port={port}
database.user={user}
database.password={password}
database.server.id={server_id}
database.ssl.mode=disable
topic.prefix={prefix}
database.include.list={db}
snapshot.mode=initial
include.schema.changes=false
schema.history.internal.store.only.captured.tables.ddl=true
schema.history.internal.kafka.bootstrap.servers={brokers}
schema.history.internal.kafka.topic={prefix}-history
{options}",
        host = env.mysql_host,
        port = env.mysql_port,
        // The admin user: heartbeat.action.query writes into the test's database.
        user = env.admin_user,
        password = env.admin_password,
        brokers = env.kafka_brokers,
        options = kind_options(kind, db, prefix),
    )
}

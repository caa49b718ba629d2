//! The static Avro schemas in `schemas/` (source block, schema-change key/value, transaction
//! metadata, heartbeat), as generated from the schema model. A test keeps the files and the
//! code in step (`tests/envelope_static_schemas.rs`): it fails when they differ, and rewrites them when
//! `ROWTIDE_WRITE_SCHEMAS=1` is set.

use crate::envelope::schema::Schema;
use crate::envelope::{self, schema_change, source_info};
use crate::model::Flavor;

/// `(file name in schemas/, Connect schema)` of every static schema.
pub fn static_schemas() -> Vec<(&'static str, Schema)> {
    vec![
        (
            "mysql-source.avsc",
            source_info::source_schema(Flavor::Mysql),
        ),
        (
            "mariadb-source.avsc",
            source_info::source_schema(Flavor::Mariadb),
        ),
        (
            "mysql-schema-change-key.avsc",
            schema_change::key_schema(Flavor::Mysql),
        ),
        (
            "mysql-schema-change-value.avsc",
            schema_change::value_schema(Flavor::Mysql),
        ),
        (
            "mariadb-schema-change-key.avsc",
            schema_change::key_schema(Flavor::Mariadb),
        ),
        (
            "mariadb-schema-change-value.avsc",
            schema_change::value_schema(Flavor::Mariadb),
        ),
        (
            "transaction-metadata-key.avsc",
            envelope::transaction_key_schema(),
        ),
        (
            "transaction-metadata-value.avsc",
            envelope::transaction_value_schema(),
        ),
        ("heartbeat-key.avsc", envelope::heartbeat_key_schema()),
        ("heartbeat-value.avsc", envelope::heartbeat_value_schema()),
    ]
}

//! The catalog: each captured table's columns, types and key *at every point of the log*.
//!
//! With `binlog_row_metadata=FULL` every TABLE_MAP event describes its table completely and
//! [`table_map::describe`] builds the `TableDesc` from it. Without it (MINIMAL metadata), the
//! catalog starts from `information_schema` (or, for recorded files, from the DDL it sees)
//! and follows CREATE/ALTER/RENAME/DROP statements from QUERY events (`ddl`). Its
//! history is kept so that an old event decodes with the schema it was written under.

pub(crate) mod ddl;
pub(crate) mod ddl_parse;
pub mod ddl_skip;
pub mod table_map;

//! Debezium envelopes and their Connect-style schemas (see schema.rs / convert.rs).

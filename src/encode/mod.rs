//! Encoders: JSON, JSON with Connect schema, Avro in the Confluent wire format.

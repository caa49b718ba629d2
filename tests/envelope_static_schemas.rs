//! The static Avro schemas in `schemas/` parse and equal what the code generates
//! (`ROWTIDE_WRITE_SCHEMAS=1 cargo test --test envelope_static_schemas` rewrites them).

use rowtide::encode::avro::avro_schema;
use rowtide::encode::static_schemas::static_schemas;

#[test]
fn static_schemas_match_the_code_and_parse() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas");
    let write = std::env::var("ROWTIDE_WRITE_SCHEMAS").is_ok();
    for (file, schema) in static_schemas() {
        let generated = avro_schema(&schema);
        let path = dir.join(file);
        if write {
            let text = serde_json::to_string_pretty(&generated).unwrap() + "\n";
            std::fs::write(&path, text).unwrap();
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let on_disk: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(
            on_disk, generated,
            "{file} differs from the code (ROWTIDE_WRITE_SCHEMAS=1 rewrites it)"
        );
        apache_avro::Schema::parse_str(&text).unwrap_or_else(|e| panic!("{file}: {e}"));
    }
}

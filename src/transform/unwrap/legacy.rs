//! `drop.tombstones` / `delete.handling.mode`: the Debezium 1.x/2.x delete options of
//! `ExtractNewRecordState`, deprecated for `delete.tombstone.handling.mode` and removed in
//! Debezium 3.2 (DBZ-6068). rowtide follows 3.5, so it rejects them; this module says which
//! 3.x value does the same thing (used by the error message and by `rowtide import`).
//!
//! Debezium ≤ 3.1's `LegacyDeleteHandlingStrategy`: `drop.tombstones` (default `true`) drops
//! the connector's tombstones; `delete.handling.mode` (default `drop`) drops deletes
//! (`drop`), turns them into a null value with the row schema (`none`), or rewrites them
//! with `__deleted` (`rewrite`, which also adds `__deleted: "false"` to the other events).

/// The Debezium release that removed the options.
pub const REMOVED_IN: &str = "3.2";

/// The `delete.tombstone.handling.mode` value that behaves exactly as the legacy pair, or
/// why there is none. Missing options take their old defaults (`true`, `drop`).
pub fn legacy_delete_mode(
    drop_tombstones: Option<&str>,
    delete_handling_mode: Option<&str>,
) -> std::result::Result<&'static str, String> {
    let drop_tombstones = match drop_tombstones.map(|s| s.trim().to_ascii_lowercase()) {
        None => true,
        Some(s) if s == "true" => true,
        Some(s) if s == "false" => false,
        Some(s) => return Err(format!("drop.tombstones={s:?} is not true or false")),
    };
    let mode = delete_handling_mode
        .map(|s| s.trim().to_ascii_lowercase())
        .unwrap_or_else(|| "drop".into());
    match (mode.as_str(), drop_tombstones) {
        ("drop", true) => Ok("drop"),
        ("none", true) => Ok("tombstone"),
        ("rewrite", true) => Ok("rewrite"),
        ("rewrite", false) => Ok("rewrite-with-tombstone"),
        ("drop" | "none", false) => Err(format!(
            "delete.handling.mode={mode} with drop.tombstones=false (keep the connector's \
             tombstones) has no Debezium 3.x equivalent: delete.tombstone.handling.mode keeps \
             tombstones only with rewrite-with-tombstone"
        )),
        _ => Err(format!(
            "delete.handling.mode={mode:?} is not one of drop, none, rewrite"
        )),
    }
}

/// The message for a config that still sets the removed options: what replaced them and,
/// when the translation is exact, the value to use.
pub fn removed_message(
    drop_tombstones: Option<&str>,
    delete_handling_mode: Option<&str>,
) -> String {
    let base = format!(
        "drop_tombstones and delete_handling_mode were removed in Debezium {REMOVED_IN} \
         (rowtide follows 3.5); use delete_tombstone_handling_mode"
    );
    match legacy_delete_mode(drop_tombstones, delete_handling_mode) {
        Ok(v) => format!("{base} = \"{v}\", which does the same"),
        Err(why) => format!(
            "{base} (drop, tombstone, rewrite, rewrite-with-tombstone or \
             delete-to-tombstone): {why}"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn translations_follow_the_legacy_strategy() {
        let t = legacy_delete_mode;
        assert_eq!(t(None, None), Ok("drop"));
        assert_eq!(t(Some("true"), Some("none")), Ok("tombstone"));
        assert_eq!(t(None, Some("REWRITE")), Ok("rewrite"));
        assert_eq!(
            t(Some("false"), Some("rewrite")),
            Ok("rewrite-with-tombstone")
        );
        assert!(t(Some("false"), None).is_err());
        assert!(t(Some("false"), Some("none")).is_err());
        assert!(t(Some("maybe"), None).is_err());
        assert!(t(None, Some("keep")).is_err());
        let m = removed_message(Some("false"), Some("rewrite"));
        assert!(m.contains("Debezium 3.2"), "{m}");
        assert!(m.contains("\"rewrite-with-tombstone\""), "{m}");
        let m = removed_message(Some("false"), None);
        assert!(m.contains("no Debezium 3.x equivalent"), "{m}");
    }
}

//! Import of transform predicates and of Debezium 2.x delete options.

use super::*;

#[test]
fn predicates_carry_over_with_negate_or_are_reported() {
    let (o, c) = run(&[
        MARIADB,
        ("transforms", "a,b,c"),
        (
            "transforms.a.type",
            "org.apache.kafka.connect.transforms.RegexRouter",
        ),
        ("transforms.a.regex", "(.*)"),
        ("transforms.a.replacement", "x.$1"),
        ("transforms.a.predicate", "tomb"),
        ("transforms.a.negate", "true"),
        (
            "transforms.b.type",
            "org.apache.kafka.connect.transforms.RegexRouter",
        ),
        ("transforms.b.regex", "(.*)"),
        ("transforms.b.replacement", "y.$1"),
        ("transforms.b.predicate", "custom"),
        (
            "transforms.c.type",
            "io.debezium.transforms.ExtractChangedRecordState",
        ),
        ("transforms.c.header.unchanged.name", "Unchanged"),
        ("transforms.c.negate", "true"),
        ("predicates", "tomb,custom,hdr"),
        (
            "predicates.tomb.type",
            "org.apache.kafka.connect.transforms.predicates.RecordIsTombstone",
        ),
        ("predicates.custom.type", "com.example.Pred"),
        ("predicates.custom.x", "1"),
        (
            "predicates.hdr.type",
            "org.apache.kafka.connect.transforms.predicates.HasHeaderKey",
        ),
        ("predicates.hdr.name", "__op"),
        ("predicates.stale.type", "x"),
    ]);
    assert_eq!(c.transforms[0].options["predicate"].as_str(), Some("tomb"));
    assert_eq!(c.transforms[0].options["negate"].as_str(), Some("true"));
    assert!(!c.transforms[1].options.contains_key("predicate"));
    assert_eq!(
        c.transforms[2].options["header_unchanged_name"].as_str(),
        Some("Unchanged")
    );
    let names: Vec<&str> = c.predicates.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["tomb", "hdr"]);
    assert_eq!(
        c.predicates[1].options["header_name"].as_str(),
        Some("__op")
    );
    let d = dropped(&o, "transforms.b.predicate");
    assert_eq!(d.class, Class::Unsupported);
    assert!(d.reason.contains("without its condition"), "{}", d.reason);
    assert_eq!(
        dropped(&o, "predicates.custom.type").class,
        Class::Unsupported
    );
    assert_eq!(dropped(&o, "predicates.custom.x").class, Class::Unsupported);
    assert_eq!(dropped(&o, "transforms.c.negate").class, Class::NotNeeded);
    assert_eq!(dropped(&o, "predicates.stale.type").class, Class::NotNeeded);
    chain_loads(&c);
}

#[test]
fn legacy_delete_options_become_the_3x_mode() {
    let unwrap = |extra: &[(&'static str, &'static str)]| {
        let mut p = vec![
            MARIADB,
            ("transforms", "unwrap"),
            (
                "transforms.unwrap.type",
                "io.debezium.transforms.ExtractNewRecordState",
            ),
        ];
        p.extend_from_slice(extra);
        run(&p)
    };
    for (dt, dhm, want) in [
        (Some("false"), Some("rewrite"), "rewrite-with-tombstone"),
        (None, Some("rewrite"), "rewrite"),
        (Some("true"), Some("none"), "tombstone"),
        (Some("true"), None, "drop"),
    ] {
        let mut extra = vec![];
        if let Some(v) = dt {
            extra.push(("transforms.unwrap.drop.tombstones", v));
        }
        if let Some(v) = dhm {
            extra.push(("transforms.unwrap.delete.handling.mode", v));
        }
        let (o, c) = unwrap(&extra);
        assert_eq!(
            c.transforms[0].options["delete_tombstone_handling_mode"].as_str(),
            Some(want),
            "{dt:?} {dhm:?}"
        );
        assert!(!c.transforms[0].options.contains_key("drop_tombstones"));
        assert!(
            !o.plan
                .dropped
                .iter()
                .any(|d| d.property.starts_with("transforms.")),
            "{:#?}",
            o.plan.dropped
        );
        assert!(o.toml.contains("removed in Debezium 3.2"), "{}", o.toml);
        chain_loads(&c);
    }
    // No exact equivalent: reported, not written.
    let (o, c) = unwrap(&[
        ("transforms.unwrap.drop.tombstones", "false"),
        ("transforms.unwrap.delete.handling.mode", "none"),
    ]);
    assert!(!c.transforms[0]
        .options
        .contains_key("delete_tombstone_handling_mode"));
    let d = dropped(&o, "transforms.unwrap.drop.tombstones");
    assert_eq!(d.class, Class::Unsupported);
    assert!(
        d.reason.contains("no Debezium 3.x equivalent"),
        "{}",
        d.reason
    );
    // The 3.x option wins, as it did in Debezium 3.1.
    let (o, c) = unwrap(&[
        ("transforms.unwrap.drop.tombstones", "false"),
        ("transforms.unwrap.delete.tombstone.handling.mode", "drop"),
    ]);
    assert_eq!(
        c.transforms[0].options["delete_tombstone_handling_mode"].as_str(),
        Some("drop")
    );
    assert_eq!(
        dropped(&o, "transforms.unwrap.drop.tombstones").class,
        Class::NotNeeded
    );
}

use serde_json::json;

use super::*;

fn text(s: &str) -> Json {
    Json::String(s.into())
}

#[test]
fn execute_snapshot_reads_debeziums_documented_shape() {
    let data = text(
        r#"{"data-collections": ["inv.orders", "inv.items"], "type": "incremental",
            "additional-conditions": [{"data-collection": "inv.orders", "filter": "id > 10"}]}"#,
    );
    let s = Signal::parse("execute-snapshot", Some(&data)).unwrap();
    assert_eq!(
        s,
        Signal::ExecuteSnapshot {
            tables: vec!["inv.orders".into(), "inv.items".into()],
            kind: SnapshotKind::Incremental,
            conditions: vec![Condition {
                table: "inv.orders".into(),
                filter: "id > 10".into()
            }],
            surrogate_key: None,
        }
    );
    // What rowtide sends reads back as the same signal.
    assert_eq!(Signal::parse(s.type_name(), Some(&s.data())).unwrap(), s);
}

#[test]
fn execute_snapshot_defaults_to_incremental_and_reads_the_older_condition() {
    let data = json!({"data-collections": ["a.b"], "additional-condition": "x = 1"});
    let s = Signal::parse("execute-snapshot", Some(&data)).unwrap();
    let Signal::ExecuteSnapshot {
        kind, conditions, ..
    } = s
    else {
        panic!("not an execute-snapshot: {s:?}");
    };
    assert_eq!(kind, SnapshotKind::Incremental);
    assert_eq!(conditions[0].filter, "x = 1");
    let blocking = json!({"data-collections": ["a.b"], "type": "BLOCKING"});
    assert!(matches!(
        Signal::parse("execute-snapshot", Some(&blocking)),
        Ok(Signal::ExecuteSnapshot {
            kind: SnapshotKind::Blocking,
            ..
        })
    ));
}

#[test]
fn malformed_signals_are_refused_with_a_reason() {
    let cases: Vec<(&str, Option<Json>, &str)> = vec![
        ("execute-snapshot", None, "data-collections"),
        (
            "execute-snapshot",
            Some(text("{not json")),
            "not valid JSON",
        ),
        (
            "execute-snapshot",
            Some(json!({"data-collections": []})),
            "empty",
        ),
        (
            "execute-snapshot",
            Some(json!({"data-collections": ["nodot"]})),
            "db.table",
        ),
        (
            "execute-snapshot",
            Some(json!({"data-collections": ["a.b"], "type": "sideways"})),
            "incremental",
        ),
        (
            "execute-snapshot",
            Some(json!({"data-collections": ["a.b"],
                        "additional-conditions": [{"data-collection": "a.c", "filter": "1"}]})),
            "not in",
        ),
        (
            "execute-snapshot",
            Some(json!({"data-collections": ["a.b"], "additional-conditions": [{"filter": "1"}]})),
            "data-collection",
        ),
        ("log", Some(json!({})), "message"),
        ("log", Some(json!([1])), "JSON object"),
        ("reboot", None, "unknown signal type \"reboot\""),
    ];
    for (kind, data, want) in cases {
        let err = Signal::parse(kind, data.as_ref()).unwrap_err();
        assert!(err.contains(want), "{kind} {data:?}: {err}");
    }
}

#[test]
fn the_other_types_parse() {
    assert_eq!(
        Signal::parse("pause-snapshot", None).unwrap(),
        Signal::PauseSnapshot
    );
    assert_eq!(
        Signal::parse("resume-snapshot", Some(&text(""))).unwrap(),
        Signal::ResumeSnapshot
    );
    assert_eq!(
        Signal::parse("stop-snapshot", Some(&json!({"type": "incremental"}))).unwrap(),
        Signal::StopSnapshot {
            tables: vec![],
            kind: SnapshotKind::Incremental
        }
    );
    assert_eq!(
        Signal::parse("log", Some(&text(r#"{"message": "hi"}"#))).unwrap(),
        Signal::Log {
            message: "hi".into()
        }
    );
}

#[test]
fn the_snapshot_command_builds_debeziums_signals() {
    let t = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let s = Signal::from_command(&t(&["a.b", "a.c"]), Some("id > 5".into()), false).unwrap();
    assert_eq!(
        s.data(),
        json!({"data-collections": ["a.b", "a.c"], "type": "incremental",
               "additional-conditions": [{"data-collection": "a.b", "filter": "id > 5"},
                                         {"data-collection": "a.c", "filter": "id > 5"}]})
    );
    let b = Signal::from_command(&t(&["a.b"]), None, true).unwrap();
    assert_eq!(
        b.data(),
        json!({"data-collections": ["a.b"], "type": "blocking"})
    );
    assert_eq!(
        Signal::from_command(&t(&["pause"]), None, false).unwrap(),
        Signal::PauseSnapshot
    );
    assert_eq!(
        Signal::from_command(&t(&["stop"]), None, false)
            .unwrap()
            .type_name(),
        "stop-snapshot"
    );
    assert!(Signal::from_command(&t(&["nodot"]), None, false).is_err());
    assert!(Signal::from_command(&t(&["stop"]), Some("x".into()), false).is_err());
    assert!(Signal::from_command(&t(&["a.b"]), Some(" ".into()), false).is_err());
}

#[test]
fn a_surrogate_key_is_read_sent_and_kept_to_incremental_snapshots() {
    let data =
        json!({"data-collections": ["a.b"], "type": "incremental", "surrogate-key": " code "});
    let s = Signal::parse("execute-snapshot", Some(&data)).unwrap();
    let Signal::ExecuteSnapshot { surrogate_key, .. } = &s else {
        panic!("not an execute-snapshot: {s:?}");
    };
    assert_eq!(surrogate_key.as_deref(), Some("code"));
    assert_eq!(Signal::parse(s.type_name(), Some(&s.data())).unwrap(), s);
    // Empty means none, as in Debezium; anything but a string is refused with a reason.
    let empty = json!({"data-collections": ["a.b"], "surrogate-key": ""});
    assert!(matches!(
        Signal::parse("execute-snapshot", Some(&empty)),
        Ok(Signal::ExecuteSnapshot {
            surrogate_key: None,
            ..
        })
    ));
    let bad = json!({"data-collections": ["a.b"], "surrogate-key": ["a"]});
    let e = Signal::parse("execute-snapshot", Some(&bad)).unwrap_err();
    assert!(e.contains("surrogate-key"), "{e}");

    let t = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let cmd = Signal::from_command(&t(&["a.b"]), None, false)
        .and_then(|s| s.with_surrogate_key(Some("code".into())))
        .unwrap();
    assert_eq!(
        cmd.data(),
        json!({"data-collections": ["a.b"], "type": "incremental", "surrogate-key": "code"})
    );
    let none = Signal::from_command(&t(&["a.b"]), None, false).unwrap();
    assert_eq!(none.clone().with_surrogate_key(None).unwrap(), none);
    for (targets, blocking, key) in [
        (&["a.b"][..], true, "code"),
        (&["stop"][..], false, "code"),
        (&["a.b"][..], false, " "),
    ] {
        let r = Signal::from_command(&t(targets), None, blocking)
            .and_then(|s| s.with_surrogate_key(Some(key.into())));
        assert!(r.is_err(), "{targets:?} {blocking} {key:?}: {r:?}");
    }
}

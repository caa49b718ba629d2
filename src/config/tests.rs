//! Unit tests of configuration loading.
use super::*;

#[test]
fn defaults_load_from_empty() {
    let c = Config::from_toml("", &[]).unwrap();
    assert_eq!(c.source.port, 3306);
    assert_eq!(c.format.kind, FormatKind::Json);
}

#[test]
fn typo_names_key_and_suggestion() {
    let e = Config::from_toml("[source]\nhots = \"x\"\n", &[])
        .unwrap_err()
        .to_string();
    assert!(e.contains("source.hots"), "{e}");
    assert!(e.contains("did you mean `host`"), "{e}");
}

#[test]
fn wrong_type_names_key() {
    let e = Config::from_toml("[source]\nport = \"abc\"\n", &[])
        .unwrap_err()
        .to_string();
    assert!(e.contains("port"), "{e}");
}

#[test]
fn env_overrides_and_secrets_redacted() {
    let env = vec![
        ("ROWTIDE_SOURCE__PASSWORD".to_string(), "12345".to_string()),
        ("ROWTIDE_SOURCE__PORT".to_string(), "3307".to_string()),
        ("ROWTIDE_TEST_OTHER".to_string(), "x".to_string()),
    ];
    let c = Config::from_toml("", &env).unwrap();
    assert_eq!(c.source.password.as_deref(), Some("12345"));
    assert_eq!(c.source.port, 3307);
    assert!(!format!("{:?}", c).contains("12345"));
    let e = Config::from_toml("", &[("ROWTIDE_SOURCE__PASWORD".into(), "x".into())])
        .unwrap_err()
        .to_string();
    assert!(e.contains("ROWTIDE_SOURCE__PASSWORD"), "{e}");
}

#[test]
fn conflicts_are_rejected() {
    let e = Config::from_toml("[format]\nkind = \"avro\"\n", &[])
        .unwrap_err()
        .to_string();
    assert!(e.contains("format.registry_url"), "{e}");
    let e = Config::from_toml("[source]\npassword = \"a\"\npassword_file = \"/x\"\n", &[])
        .unwrap_err()
        .to_string();
    assert!(e.contains("password_file"), "{e}");
}

#[test]
fn registry_credentials_in_the_url_and_a_username_conflict() {
    let e = Config::from_toml(
        "[format]\nregistry_url = \"http://u:cred-in-url-1@h/\"\nregistry_username = \"u\"\n",
        &[],
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("keep one of them"), "{e}");
    assert!(!crate::redact::redact(&e).contains("cred-in-url-1"), "{e}");
}

#[test]
fn every_configured_secret_is_registered_before_parsing() {
    // A file that does not parse: the parser quotes the line with the secret.
    let e = Config::from_toml("[source]\npassword = unquoted-secret-77 oops\n", &[])
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("unquoted-secret-77"),
        "the parser quotes it: {e}"
    );
    assert!(!crate::redact::redact(&e).contains("unquoted-secret-77"));
    let c = Config::from_toml(
        "[sink.kafka]\n\"sasl.password\" = \"kafka-secret-78\"\n\"ssl.key.pem\" = \"pem-79\"\n",
        &[(
            "ROWTIDE_FORMAT__REGISTRY_PASSWORD".into(),
            "reg-secret-80".into(),
        )],
    )
    .unwrap();
    let shown = crate::redact::redact(&format!("{c:?}")).into_owned();
    for secret in ["kafka-secret-78", "pem-79", "reg-secret-80"] {
        assert!(!shown.contains(secret), "{secret} in {shown}");
    }
}

#[test]
fn ddl_skip_and_reread_load_and_bad_entries_name_the_fix() {
    let c = Config::from_toml(
        "[source]\nddl_reread = true\nddl_skip = [\"mariadb-bin.000042:1234\", \"gtid:0-1-9\", 'regex:^ALTER TABLE legacy\\..*']\n",
        &[],
    )
    .unwrap();
    assert!(c.source.ddl_reread);
    assert_eq!(c.source.ddl_skip.len(), 3);
    let d = Config::from_toml("", &[]).unwrap();
    assert!(!d.source.ddl_reread && d.source.ddl_skip.is_empty());
    // A bad regex is a configuration error (exit code 2) that names the key and the fix.
    let e = Config::from_toml("[source]\nddl_skip = [\"regex:^ALTER (TABLE\"]\n", &[]).unwrap_err();
    assert_eq!(e.exit_code(), 2);
    let e = e.to_string();
    assert!(
        e.contains("source.ddl_skip") && e.contains("not a valid regex"),
        "{e}"
    );
    let e = Config::from_toml("[source]\nddl_skip = [\"mariadb-bin.000042\"]\n", &[])
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("source.ddl_skip") && e.contains("FILE:POS"),
        "{e}"
    );
    // From the environment too, and the keys are known to the typo helper.
    let env = vec![(
        "ROWTIDE_SOURCE__DDL_SKIP".to_string(),
        "[\"bin.000001:4\"]".to_string(),
    )];
    assert_eq!(
        Config::from_toml("", &env).unwrap().source.ddl_skip,
        vec!["bin.000001:4"]
    );
    assert_eq!(
        suggest("source", "ddl_rerad").as_deref(),
        Some("ddl_reread")
    );
}

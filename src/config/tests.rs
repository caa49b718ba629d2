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

#[test]
fn config_providers_resolve_every_string_value() {
    let dir = tempfile::tempdir().unwrap();
    let pw = dir.path().join("kafka-pw");
    std::fs::write(&pw, "prov-kafka-secret-1\n").unwrap();
    let props = dir.path().join("db.properties");
    std::fs::write(&props, "db.password = prov-db-secret-2\nhost=db.example\n").unwrap();
    std::fs::write(dir.path().join("reg"), "prov-reg-secret-3").unwrap();
    std::env::set_var("ROWTIDE_UT_PROVIDER_USER", "envuser");
    let toml = format!(
        "[source]\nuser = \"${{env:ROWTIDE_UT_PROVIDER_USER}}\"\n\
         password = \"${{file:{p}:db.password}}\"\nhost = \"${{file:{p}:host}}\"\n\
         [sink.kafka]\n\"sasl.password\" = \"${{file:{pw}}}\"\n\"client.id\" = \"x-${{env:ROWTIDE_UT_PROVIDER_USER}}\"\n\
         [format]\nregistry_password = \"${{dir:{d}:reg}}\"\n",
        p = props.display(),
        pw = pw.display(),
        d = dir.path().display()
    );
    let c = Config::from_toml(&toml, &[]).unwrap();
    assert_eq!(c.source.user, "envuser");
    assert_eq!(c.source.password.as_deref(), Some("prov-db-secret-2"));
    assert_eq!(c.source.host, "db.example");
    // The whole file, without its trailing newline.
    assert_eq!(c.sink.kafka["sasl.password"], "prov-kafka-secret-1");
    assert_eq!(c.sink.kafka["client.id"], "x-envuser");
    assert_eq!(
        c.format.registry_password.as_deref(),
        Some("prov-reg-secret-3")
    );
    // Secrets from providers are redacted wherever they are shown.
    for s in [
        "prov-kafka-secret-1",
        "prov-db-secret-2",
        "prov-reg-secret-3",
    ] {
        assert!(
            !crate::redact::redact(&format!("x {s} y")).contains(s),
            "{s} not redacted"
        );
    }
}

#[test]
fn unresolvable_reference_is_a_config_error_naming_key_and_reference() {
    let e = Config::from_toml(
        "[sink.kafka]\n\"sasl.password\" = \"${file:/nonexistent/rowtide-pw}\"\n",
        &[],
    )
    .unwrap_err();
    assert_eq!(e.exit_code(), 2);
    let m = e.to_string();
    assert!(m.contains("`sink.kafka.sasl.password`"), "{m}");
    assert!(m.contains("${file:/nonexistent/rowtide-pw}"), "{m}");
    let e = Config::from_toml("[source]\nuser = \"${env:ROWTIDE_UT_SURELY_UNSET}\"\n", &[])
        .unwrap_err()
        .to_string();
    assert!(e.contains("`source.user`") && e.contains("not set"), "{e}");
    let e = Config::from_toml("[source]\nuser = \"${vault:a:b}\"\n", &[])
        .unwrap_err()
        .to_string();
    assert!(e.contains("vault"), "{e}");
    // Through the environment overrides too.
    let env = [(
        "ROWTIDE_SOURCE__PASSWORD".to_string(),
        "${env:ROWTIDE_UT_SURELY_UNSET}".to_string(),
    )];
    let e = Config::from_toml("", &env).unwrap_err().to_string();
    assert!(e.contains("`source.password`"), "{e}");
}

#[test]
fn registry_tls_and_registration_keys() {
    let c = Config::from_toml(
        "[format]\nregistry_cert = \"/c.pem\"\nregistry_key = \"/k.pem\"\n\
         subject_name_strategy = \"topic_record\"\nauto_register = false\nuse_latest_version = true\n",
        &[],
    )
    .unwrap();
    assert_eq!(
        c.format.subject_name_strategy,
        SubjectNameStrategy::TopicRecord
    );
    assert!(!c.format.auto_register && c.format.use_latest_version);
    let e = Config::from_toml("[format]\nregistry_cert = \"/c.pem\"\n", &[])
        .unwrap_err()
        .to_string();
    assert!(e.contains("registry_key"), "{e}");
    let e = Config::from_toml("[format]\nuse_latest_version = true\n", &[])
        .unwrap_err()
        .to_string();
    assert!(e.contains("auto_register = false"), "{e}");
}

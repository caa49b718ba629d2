//! The schema registry end to end, with `rowtide run` against the real Apicurio registry
//! (and nginx in front of it with mutual TLS, `scripts/env`'s `registry-tls`):
//!
//! - definite errors: a registry URL without its API root (404) and an incompatible change
//!   under FULL compatibility (409) stop `run` with exit 1 and one message naming the URL, the
//!   HTTP status and the registry's message — no restart from the checkpoint;
//! - TLS: with the test CA and a client certificate the records are written and decode with
//!   the registered schema; the CA can come from the system trust store (`SSL_CERT_FILE`);
//!   without a client certificate, or trusting another CA, `run` stops naming the TLS failure;
//! - subjects and registration: `record` and `topic_record` subject strategies,
//!   `auto_register = false` (fails while the schema is not registered, then uses the
//!   registered id) and `use_latest_version`;
//! - config providers: `sasl.password = "${file:…}"` through the SASL_SSL listener, and
//!   `[sink.kafka]` keys reaching `check`'s and the admin client.

mod common;

use std::path::Path;
use std::time::Duration;

use common::proc::{Rowtide, Setup};
use common::TestEnv;
use mysql_async::prelude::Queryable;
use serde_json::Value as Json;

/// A database with `t (id INT PRIMARY KEY, x INT NOT NULL)` and one row.
async fn table_with_row(env: &TestEnv, prefix: &str) -> String {
    let db = common::fresh_db(env, prefix).await;
    let mut c = common::admin(env).await;
    c.query_drop(format!(
        "CREATE TABLE `{db}`.t (id INT PRIMARY KEY, x INT NOT NULL); \
         INSERT INTO `{db}`.t VALUES (1, 10);"
    ))
    .await
    .unwrap();
    c.disconnect().await.ok();
    db
}

async fn sql(env: &TestEnv, stmt: &str) {
    let mut c = common::admin(env).await;
    c.query_drop(stmt).await.unwrap();
    c.disconnect().await.ok();
}

/// An Avro setup of `db` whose registry is `url` (default: the test registry), with extra
/// `[format]` lines.
fn avro_setup(db: &str, dir: &Path, format_extra: &str) -> Setup {
    let mut s = Setup::new(db, dir);
    s.format = "avro";
    s.partitions = 1;
    s.format_extra = format_extra.to_string();
    s
}

fn with_registry(env: &TestEnv, url: &str) -> TestEnv {
    TestEnv {
        registry_url: url.to_string(),
        ..env.clone()
    }
}

/// Waits for `run` to stop by itself (bounded) and returns its exit code and log.
fn stopped(rt: &mut Rowtide) -> (Option<i32>, String) {
    let status = rt.wait_exit(Duration::from_secs(90));
    (status.code(), rt.log_text())
}

/// The log shows one definite stop and no restart from the checkpoint.
fn assert_definite_stop(code: Option<i32>, log: &str, needles: &[&str]) {
    assert_eq!(code, Some(1), "exit code; log:\n{log}");
    assert!(log.contains("Stopped on a definite error"), "{log}");
    assert!(
        !log.contains("restarting from the checkpoint"),
        "a definite error was retried:\n{log}"
    );
    let last = log
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or_default();
    for n in needles {
        assert!(
            log.contains(n),
            "`{n}` missing from the log; last line: {last}\n{log}"
        );
    }
}

async fn get_json(url: &str) -> (u16, Json) {
    let r = reqwest::get(url).await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Json::Null))
}

fn enc(s: &str) -> String {
    s.replace('/', "%2F")
}

/// The schema id in a Confluent-framed record.
fn framed_id(bytes: &[u8]) -> u32 {
    assert_eq!(bytes[0], 0, "magic byte");
    u32::from_be_bytes([bytes[1], bytes[2], bytes[3], bytes[4]])
}

/// Decodes a framed Avro record with the schema registered under its id.
async fn decode(registry: &str, bytes: &[u8]) -> (u32, Json, apache_avro::types::Value) {
    let id = framed_id(bytes);
    let (status, v) = get_json(&format!("{registry}/schemas/ids/{id}")).await;
    assert_eq!(status, 200, "{v}");
    let text = v["schema"].as_str().unwrap().to_string();
    let schema = apache_avro::Schema::parse_str(&text).unwrap();
    let value = apache_avro::reader::datum::GenericDatumReader::builder(&schema)
        .build()
        .unwrap()
        .read_value(&mut &bytes[5..])
        .expect("decodes with the registered schema");
    (id, serde_json::from_str(&text).unwrap(), value)
}

/// `namespace.name` of a schema's JSON.
fn fullname(schema: &Json) -> String {
    let name = schema["name"].as_str().unwrap();
    match schema["namespace"].as_str() {
        Some(ns) if !name.contains('.') => format!("{ns}.{name}"),
        _ => name.to_string(),
    }
}

async fn subject_ids(registry: &str, subject: &str) -> Vec<u32> {
    let (status, versions) =
        get_json(&format!("{registry}/subjects/{}/versions", enc(subject))).await;
    if status != 200 {
        return vec![];
    }
    let mut ids = vec![];
    for v in versions.as_array().unwrap() {
        let (_, s) = get_json(&format!(
            "{registry}/subjects/{}/versions/{v}",
            enc(subject)
        ))
        .await;
        ids.push(s["id"].as_u64().unwrap() as u32);
    }
    ids
}

/// Runs until the row of `t` is in Kafka; returns the records of the topic.
async fn first_records(env: &TestEnv, rt: &mut Rowtide, topic: &str) -> Vec<common::kafka::Record> {
    let recs = common::kafka::wait_for_async(
        &env.kafka_brokers,
        &[topic.to_string()],
        Duration::from_secs(60),
        "the snapshot row",
        |r| !r.is_empty(),
    )
    .await;
    rt.assert_alive("after writing the snapshot row");
    recs
}

#[tokio::test(flavor = "multi_thread")]
async fn wrong_registry_path_stops_run_with_the_404() {
    let Some(env) = common::servers() else { return };
    let db = table_with_row(&env, "reg404").await;
    let dir = tempfile::tempdir().unwrap();
    // The registry's root, without /apis/ccompat/v7.
    let root = env
        .registry_url
        .trim_end_matches("/apis/ccompat/v7")
        .to_string();
    assert_ne!(root, env.registry_url);
    let setup = avro_setup(&db, dir.path(), "");
    let mut rt = Rowtide::start(&with_registry(&env, &root), &setup, dir.path());
    let (code, log) = stopped(&mut rt);
    assert_definite_stop(
        code,
        &log,
        &[
            "HTTP 404",
            &format!("{root}/subjects/"),
            "/apis/ccompat/v7 for Apicurio",
        ],
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn incompatible_change_under_full_compatibility_stops_run() {
    let Some(env) = common::servers() else { return };
    let db = table_with_row(&env, "regfull").await;
    let dir = tempfile::tempdir().unwrap();
    let setup = avro_setup(&db, dir.path(), "");
    let topic = setup.topic("t");
    let subject = format!("{topic}-value");
    let mut rt = Rowtide::start(&env, &setup, dir.path());
    first_records(&env, &mut rt, &topic).await;
    let put = reqwest::Client::new()
        .put(format!("{}/config/{}", env.registry_url, enc(&subject)))
        .header("Content-Type", "application/vnd.schemaregistry.v1+json")
        .body(r#"{"compatibility":"FULL"}"#)
        .send()
        .await
        .unwrap();
    assert!(put.status().is_success(), "{:?}", put.text().await);
    // Dropping a required column is backward compatible (new readers ignore it) but not
    // forward compatible (old readers need it): FULL refuses it.
    sql(
        &env,
        &format!("ALTER TABLE `{db}`.t DROP COLUMN x; INSERT INTO `{db}`.t VALUES (2);"),
    )
    .await;
    let (code, log) = stopped(&mut rt);
    assert_definite_stop(
        code,
        &log,
        &[
            &format!("schema registry rejected the schema for subject {subject}"),
            "HTTP 409",
            &format!("{}/subjects/{}/versions", env.registry_url, subject),
            "compatibility",
        ],
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn registry_over_mutual_tls() {
    let Some(env) = common::servers() else { return };
    let var = |n: &str| std::env::var(n).ok().filter(|v| !v.is_empty());
    let Some(url) = var("ROWTIDE_TEST_REGISTRY_TLS_URL") else {
        let msg = "ROWTIDE_TEST_REGISTRY_TLS_URL is not set: run `scripts/env up registry-tls` \
                   and `eval \"$(scripts/env print)\"`";
        assert!(!common::in_ci(), "{msg}");
        eprintln!("SKIPPED: {msg}");
        return;
    };
    let need = |n: &str| var(n).unwrap_or_else(|| panic!("{n} is not set (scripts/env print)"));
    let (ca, cert, key, other) = (
        need("ROWTIDE_TEST_REGISTRY_TLS_CA"),
        need("ROWTIDE_TEST_REGISTRY_TLS_CERT"),
        need("ROWTIDE_TEST_REGISTRY_TLS_KEY"),
        need("ROWTIDE_TEST_REGISTRY_TLS_OTHER_CA"),
    );
    let tls_env = with_registry(&env, &url);
    let identity = format!("registry_cert = \"{cert}\"\nregistry_key = \"{key}\"\n");

    // The CA and a client certificate: records written, decodable with the registered schema.
    let db = table_with_row(&env, "regtls").await;
    let dir = tempfile::tempdir().unwrap();
    let setup = avro_setup(
        &db,
        dir.path(),
        &format!("registry_ca = \"{ca}\"\n{identity}"),
    );
    let mut rt = Rowtide::start(&tls_env, &setup, dir.path());
    let recs = first_records(&env, &mut rt, &setup.topic("t")).await;
    rt.stop();
    let (_, schema, value) = decode(&env.registry_url, recs[0].value.as_ref().unwrap()).await;
    assert!(fullname(&schema).ends_with(".Envelope"), "{schema}");
    let text = format!("{value:?}");
    assert!(
        text.contains("\"op\"") && text.contains("Int(10)"),
        "{text}"
    );

    // The CA from the system trust store (SSL_CERT_FILE), not from registry_ca.
    let db = table_with_row(&env, "regtlssys").await;
    let dir = tempfile::tempdir().unwrap();
    let setup = avro_setup(&db, dir.path(), &identity);
    let config = dir.path().join("rowtide.toml");
    std::fs::write(&config, setup.toml(&tls_env)).unwrap();
    let args = [
        std::ffi::OsStr::new("run"),
        "-c".as_ref(),
        config.as_os_str(),
    ];
    let mut p = common::proc::Process::new("rowtide", common::proc::binary(), args, dir.path())
        .env("SSL_CERT_FILE", &ca);
    p.spawn();
    common::kafka::wait_for_async(
        &env.kafka_brokers,
        &[setup.topic("t")],
        Duration::from_secs(60),
        "the snapshot row (CA from the system store)",
        |r| !r.is_empty(),
    )
    .await;
    p.assert_alive("with the CA from SSL_CERT_FILE");
    p.stop();

    // No client certificate: nginx refuses the request.
    let db = table_with_row(&env, "regtlsnocert").await;
    let dir = tempfile::tempdir().unwrap();
    let setup = avro_setup(&db, dir.path(), &format!("registry_ca = \"{ca}\"\n"));
    let mut rt = Rowtide::start(&tls_env, &setup, dir.path());
    let (code, log) = stopped(&mut rt);
    assert_definite_stop(
        code,
        &log,
        &[
            "HTTP 400",
            "No required SSL certificate was sent",
            "format.registry_cert",
        ],
    );

    // Trusting another CA: rowtide refuses the registry's certificate.
    let db = table_with_row(&env, "regtlswrongca").await;
    let dir = tempfile::tempdir().unwrap();
    let setup = avro_setup(
        &db,
        dir.path(),
        &format!("registry_ca = \"{other}\"\n{identity}"),
    );
    let mut rt = Rowtide::start(&tls_env, &setup, dir.path());
    let (code, log) = stopped(&mut rt);
    assert_definite_stop(
        code,
        &log,
        &[
            &format!("TLS handshake with {url} failed"),
            "UnknownIssuer",
            "format.registry_ca",
        ],
    );
}

/// Runs `setup` until its row is in Kafka and returns the key and value schema ids and
/// schemas of the first record.
async fn ids_of_a_run(env: &TestEnv, setup: &Setup, dir: &Path) -> [(u32, Json); 2] {
    let mut rt = Rowtide::start(env, setup, dir);
    let recs = first_records(env, &mut rt, &setup.topic("t")).await;
    rt.stop();
    let r = &recs[0];
    let (kid, ks, _) = decode(&env.registry_url, r.key.as_ref().unwrap()).await;
    let (vid, vs, _) = decode(&env.registry_url, r.value.as_ref().unwrap()).await;
    [(kid, ks), (vid, vs)]
}

#[tokio::test(flavor = "multi_thread")]
async fn subject_name_strategies() {
    let Some(env) = common::servers() else { return };
    for (strategy, prefix) in [("record", "regrec"), ("topic_record", "regtrec")] {
        let db = table_with_row(&env, prefix).await;
        let dir = tempfile::tempdir().unwrap();
        let setup = avro_setup(
            &db,
            dir.path(),
            &format!("subject_name_strategy = \"{strategy}\"\n"),
        );
        let topic = setup.topic("t");
        let [(kid, ks), (vid, vs)] = ids_of_a_run(&env, &setup, dir.path()).await;
        let (kname, vname) = (fullname(&ks), fullname(&vs));
        assert!(
            kname.ends_with(".Key") && vname.ends_with(".Envelope"),
            "{kname} {vname}"
        );
        let (ksub, vsub) = match strategy {
            "record" => (kname.clone(), vname.clone()),
            _ => (format!("{topic}-{kname}"), format!("{topic}-{vname}")),
        };
        assert!(
            subject_ids(&env.registry_url, &ksub).await.contains(&kid),
            "{strategy}: {ksub}"
        );
        assert!(
            subject_ids(&env.registry_url, &vsub).await.contains(&vid),
            "{strategy}: {vsub}"
        );
        // Nothing under the topic strategy's subjects.
        for s in [format!("{topic}-key"), format!("{topic}-value")] {
            assert!(
                subject_ids(&env.registry_url, &s).await.is_empty(),
                "{strategy}: {s}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn auto_register_false_and_use_latest_version() {
    let Some(env) = common::servers() else { return };
    let db = table_with_row(&env, "regnoauto").await;
    let prefix = format!("t{}", db.replace('_', ""));
    let fresh = |extra: &str| {
        let dir = tempfile::tempdir().unwrap();
        let mut s = avro_setup(&db, dir.path(), extra);
        s.topic_prefix = prefix.clone();
        (dir, s)
    };
    let topic = format!("{prefix}.{db}.t");

    // Not registered yet: a definite stop naming the subject and the way out.
    let (dir, setup) = fresh("auto_register = false\n");
    let mut rt = Rowtide::start(&env, &setup, dir.path());
    let (code, log) = stopped(&mut rt);
    assert_definite_stop(
        code,
        &log,
        &[
            // The first record is the schema change of the CREATE TABLE (topic = prefix).
            &format!("no usable schema for subject {prefix}-key"),
            "HTTP 404",
            "format.auto_register = true",
        ],
    );

    // Registered by a run that may register; then looked up, with the same ids.
    let (dir, setup) = fresh("");
    let registered = ids_of_a_run(&env, &setup, dir.path()).await;
    let (dir, setup) = fresh("auto_register = false\n");
    let looked_up = ids_of_a_run(&env, &setup, dir.path()).await;
    assert_eq!(looked_up[0].0, registered[0].0);
    assert_eq!(looked_up[1].0, registered[1].0);
    let (dir, setup) = fresh("auto_register = false\nuse_latest_version = true\n");
    let latest = ids_of_a_run(&env, &setup, dir.path()).await;
    assert_eq!(latest[1].0, registered[1].0);

    // A newer, different latest version: its id would mislabel rowtide's records.
    let subject = format!("{topic}-value");
    let mut newer = registered[1].1.clone();
    newer["fields"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!({"name": "added", "type": ["null", "string"], "default": null}));
    let body = serde_json::json!({"schema": newer.to_string()}).to_string();
    let r = reqwest::Client::new()
        .post(format!(
            "{}/subjects/{}/versions",
            env.registry_url,
            enc(&subject)
        ))
        .header("Content-Type", "application/vnd.schemaregistry.v1+json")
        .body(body)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{:?}", r.text().await);
    let (dir, setup) = fresh("auto_register = false\nuse_latest_version = true\n");
    let mut rt = Rowtide::start(&env, &setup, dir.path());
    let (code, log) = stopped(&mut rt);
    assert_definite_stop(
        code,
        &log,
        &[
            &subject,
            "latest version",
            "is not the schema rowtide writes",
        ],
    );
}

/// `check`'s Kafka lines (reachable, authorized, topics creatable) all say OK.
fn kafka_checks_pass(text: &str) -> bool {
    ["kafka reachable", "kafka authorized", "topics creatable"]
        .iter()
        .all(|name| {
            text.lines()
                .find(|l| l.contains(&format!("] {name}: ")))
                .is_some_and(|l| l.starts_with("[ OK ]"))
        })
}

#[tokio::test(flavor = "multi_thread")]
async fn sasl_password_from_a_file_provider_and_every_kafka_key_reaches_check() {
    let Some(env) = common::servers() else { return };
    let var = |n: &str| std::env::var(n).ok().filter(|v| !v.is_empty());
    let Some(brokers) = var("ROWTIDE_TEST_KAFKA_SASL_BROKERS") else {
        assert!(
            !common::in_ci(),
            "ROWTIDE_TEST_KAFKA_SASL_BROKERS is not set"
        );
        eprintln!("SKIPPED: ROWTIDE_TEST_KAFKA_SASL_BROKERS is not set");
        return;
    };
    let need = |n: &str| var(n).unwrap_or_else(|| panic!("{n} is not set (scripts/env print)"));
    let (ca, user, password) = (
        need("ROWTIDE_TEST_KAFKA_CA"),
        need("ROWTIDE_TEST_KAFKA_SASL_USER"),
        need("ROWTIDE_TEST_KAFKA_SASL_PASSWORD"),
    );
    let db = table_with_row(&env, "provsasl").await;
    let dir = tempfile::tempdir().unwrap();
    let secret = dir.path().join("kafka.properties");
    std::fs::write(&secret, format!("kafka.password={password}\n")).unwrap();
    let whole = dir.path().join("kafka-password");
    std::fs::write(&whole, format!("{password}\n")).unwrap();
    let sasl = |pw_ref: &str, tls: &str| {
        format!(
            "\n\"security.protocol\" = \"SASL_SSL\"\n\"sasl.mechanism\" = \"SCRAM-SHA-512\"\n\
             \"sasl.username\" = \"${{env:ROWTIDE_PROV_T_USER}}\"\n\"sasl.password\" = \"{pw_ref}\"\n{tls}"
        )
    };
    let write = |name: &str, kafka: String| {
        let mut s = Setup::new(&db, dir.path());
        s.partitions = 1;
        let text = s.toml(&env).replace(
            "[sink.kafka]\n\"linger.ms\" = \"2\"\n",
            &format!("[sink.kafka]\n\"linger.ms\" = \"2\"{kafka}\n"),
        );
        let text = text.replace(&env.kafka_brokers, &brokers);
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        (s, p)
    };
    let run_check = |config: &Path| {
        let out = std::process::Command::new(common::proc::binary())
            .args(["check", "-c"])
            .arg(config)
            .env("ROWTIDE_PROV_T_USER", &user)
            .output()
            .unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.code(), text)
    };
    let tls = format!("\"ssl.ca.location\" = \"{ca}\"\n");
    // A reference that cannot be resolved: a configuration error naming key and reference.
    let missing = dir.path().join("no-such-secret");
    let (_, config) = write(
        "missing.toml",
        sasl(&format!("${{file:{}}}", missing.display()), &tls),
    );
    let (code, text) = run_check(&config);
    assert_eq!(code, Some(2), "{text}");
    assert!(
        text.contains("`sink.kafka.sasl.password`")
            && text.contains(&format!("${{file:{}}}", missing.display())),
        "{text}"
    );
    // `check` with the password from a properties file, and with the whole file.
    for pw_ref in [
        format!("${{file:{}:kafka.password}}", secret.display()),
        format!("${{file:{}}}", whole.display()),
    ] {
        let (_, config) = write("check.toml", sasl(&pw_ref, &tls));
        let (code, text) = run_check(&config);
        assert!(!text.contains(&password), "the password was shown:\n{text}");
        assert!(
            kafka_checks_pass(&text),
            "check ({code:?}) with {pw_ref}:\n{text}"
        );
    }
    // Certificate verification off, no CA: only if the key reaches check's clients does the
    // TLS handshake with the test CA's broker succeed.
    let (_, config) = write(
        "noverify.toml",
        sasl(
            &format!("${{file:{}}}", whole.display()),
            "\"enable.ssl.certificate.verification\" = \"false\"\n\"client.dns.lookup\" = \"use_all_dns_ips\"\n",
        ),
    );
    let (_, text) = run_check(&config);
    assert!(
        kafka_checks_pass(&text),
        "check without verification:\n{text}"
    );
    // `run` through the SASL_SSL listener with the same configuration: topic creation (the
    // admin client) and production; the records arrive.
    let (setup, config) = write(
        "run.toml",
        sasl(
            &format!("${{file:{}:kafka.password}}", secret.display()),
            "\"enable.ssl.certificate.verification\" = \"false\"\n\"client.dns.lookup\" = \"use_all_dns_ips\"\n",
        ),
    );
    let args = [
        std::ffi::OsStr::new("run"),
        "-c".as_ref(),
        config.as_os_str(),
    ];
    let mut p = common::proc::Process::new("rowtide", common::proc::binary(), args, dir.path())
        .env("ROWTIDE_PROV_T_USER", &user)
        .env("RUST_LOG", "rowtide=info");
    p.spawn();
    let recs = common::kafka::wait_for_async(
        &env.kafka_brokers,
        &[setup.topic("t")],
        Duration::from_secs(60),
        "the snapshot row through SASL_SSL",
        |r| !r.is_empty(),
    )
    .await;
    p.assert_alive("producing through SASL_SSL");
    p.stop();
    assert!(!p.log_text().contains(&password), "the password was logged");
    assert_eq!(
        recs[0].value_json()["after"]["x"],
        10,
        "{:?}",
        recs[0].value_json()
    );
}

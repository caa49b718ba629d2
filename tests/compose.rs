//! docker-compose.yml cannot run here (no Docker engine), so this test proves what it can:
//! the compose file parses, names the services the README promises, configures MySQL for
//! CDC, and agrees with examples/rowtide.toml on every host, port, path and secret, Kafka has
//! a listener the host can reach (localhost:9094) besides the internal one — and the example
//! configuration loads.

use std::path::Path;

use rowtide::config::{Config, FormatKind, SinkKind};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn compose() -> serde_yaml::Value {
    let text = std::fs::read_to_string(root().join("docker-compose.yml")).unwrap();
    serde_yaml::from_str(&text).expect("docker-compose.yml is valid YAML")
}

fn example() -> Config {
    Config::load(Some(&root().join("examples/rowtide.toml")), &[])
        .expect("examples/rowtide.toml loads")
}

fn strings(v: &serde_yaml::Value) -> Vec<String> {
    v.as_sequence()
        .map(|s| {
            s.iter()
                .filter_map(|x| x.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn example_config_loads_with_the_documented_choices() {
    let cfg = example();
    assert_eq!(cfg.sink.kind, SinkKind::Kafka);
    assert_eq!(cfg.format.kind, FormatKind::Avro);
    assert_eq!(cfg.sink.topic_prefix, "dbserver1");
    assert_eq!(
        cfg.sink.kafka.get("compression.type").map(String::as_str),
        Some("zstd")
    );
}

#[test]
fn compose_services_and_ports_agree_with_the_example_config() {
    let c = compose();
    let cfg = example();
    let services = &c["services"];
    for name in ["mysql", "kafka", "schema-registry", "rowtide"] {
        assert!(services.get(name).is_some(), "service {name} is missing");
    }

    // MySQL: the source host/port, configured for CDC.
    assert_eq!(cfg.source.host, "mysql");
    let mysql = &services["mysql"];
    assert!(mysql["image"].as_str().unwrap().starts_with("mysql:8.4"));
    let ports = strings(&mysql["ports"]);
    assert!(
        ports
            .iter()
            .any(|p| p.ends_with(&format!(":{}", cfg.source.port))),
        "{ports:?}"
    );
    let cmd = strings(&mysql["command"]).join(" ");
    for flag in [
        "--binlog-format=ROW",
        "--binlog-row-image=FULL",
        "--binlog-row-metadata=FULL",
        "--gtid-mode=ON",
        "--enforce-gtid-consistency=ON",
        "--log-bin=",
    ] {
        assert!(cmd.contains(flag), "mysql command lacks {flag}: {cmd}");
    }
    assert!(cmd.contains("--server-id="), "{cmd}");
    assert!(
        !cmd.contains(&format!("--server-id={}", cfg.source.server_id)),
        "rowtide's server_id must differ from the server's"
    );

    // The CDC user the init script creates is the one the config uses, with its password.
    let init = std::fs::read_to_string(root().join("examples/mysql-init.sql")).unwrap();
    assert!(init.contains(&format!("'{}'@'%'", cfg.source.user)));
    for grant in ["REPLICATION SLAVE", "REPLICATION CLIENT", "SELECT"] {
        assert!(init.contains(grant), "init script lacks {grant}");
    }
    let secret = std::fs::read_to_string(root().join("examples/mysql-cdc-password")).unwrap();
    assert!(init.contains(&format!("IDENTIFIED BY '{}'", secret.trim())));

    // Kafka: the brokers the config names are the advertised listener.
    let kafka_env = &services["kafka"]["environment"];
    let advertised = kafka_env["KAFKA_ADVERTISED_LISTENERS"].as_str().unwrap();
    assert!(
        advertised.contains(&cfg.sink.brokers),
        "{advertised} vs {}",
        cfg.sink.brokers
    );
    assert_eq!(
        kafka_env["KAFKA_PROCESS_ROLES"].as_str(),
        Some("broker,controller"),
        "KRaft mode"
    );
    kafka_listeners_reach_the_containers_and_the_host(&services["kafka"], &cfg.sink.brokers);

    // Registry: the URL's host and port.
    let url = cfg.format.registry_url.clone().unwrap();
    let listeners = services["schema-registry"]["environment"]["SCHEMA_REGISTRY_LISTENERS"]
        .as_str()
        .unwrap();
    let port = url.rsplit(':').next().unwrap();
    assert!(url.contains("schema-registry"), "{url}");
    assert!(listeners.ends_with(port), "{listeners} vs {url}");

    // rowtide: built from the Dockerfile, mounting the example config and the secret where
    // the config expects them, exposing the metrics port.
    let rt = &services["rowtide"];
    assert_eq!(rt["build"]["dockerfile"].as_str(), Some("Dockerfile"));
    assert!(root().join("Dockerfile").exists());
    let volumes = strings(&rt["volumes"]);
    let config_mount = volumes
        .iter()
        .find(|v| v.starts_with("./examples/rowtide.toml:"))
        .expect("config mount");
    let target = config_mount.split(':').nth(1).unwrap();
    let command = strings(&rt["command"]);
    assert!(
        command.windows(2).any(|w| w[0] == "-c" && w[1] == target),
        "{command:?} vs {target}"
    );
    let pw = cfg.source.password_file.clone().unwrap();
    assert!(
        volumes
            .iter()
            .any(|v| v.split(':').nth(1) == Some(pw.to_str().unwrap())),
        "{volumes:?}"
    );
    let state_parent = cfg
        .checkpoint
        .path
        .parent()
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        volumes
            .iter()
            .any(|v| v.split(':').nth(1) == Some(state_parent.as_str())),
        "checkpoint dir is a volume"
    );
    let metrics_port = cfg.metrics.listen.rsplit(':').next().unwrap();
    assert!(strings(&rt["ports"])
        .iter()
        .any(|p| p.ends_with(&format!(":{metrics_port}"))));
}

/// `NAME://host:port,…` as (NAME, host, port).
fn listeners(list: &str) -> Vec<(String, String, String)> {
    list.split(',')
        .map(|l| {
            let (name, addr) = l.trim().split_once("://").expect("NAME://host:port");
            let (host, port) = addr.rsplit_once(':').expect("host:port");
            (name.to_string(), host.to_string(), port.to_string())
        })
        .collect()
}

/// Kafka advertises the internal listener rowtide uses (`kafka:9092`) and an EXTERNAL one
/// the host reaches (`localhost:9094`, published on the same port); both are bound on every
/// interface, have a security protocol, and the brokers talk to each other internally.
fn kafka_listeners_reach_the_containers_and_the_host(kafka: &serde_yaml::Value, brokers: &str) {
    let env = &kafka["environment"];
    let bound = listeners(env["KAFKA_LISTENERS"].as_str().unwrap());
    let advertised = listeners(env["KAFKA_ADVERTISED_LISTENERS"].as_str().unwrap());
    let protocols = env["KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"]
        .as_str()
        .unwrap();
    let (internal_host, internal_port) = brokers.rsplit_once(':').unwrap();
    let internal = advertised
        .iter()
        .find(|(_, h, p)| h == internal_host && p == internal_port)
        .expect("rowtide's brokers are an advertised listener");
    assert_eq!(
        env["KAFKA_INTER_BROKER_LISTENER_NAME"].as_str(),
        Some(internal.0.as_str()),
        "brokers talk over the internal listener"
    );
    let external = advertised
        .iter()
        .find(|(_, h, _)| h == "localhost")
        .expect("a listener advertised as localhost for the host");
    assert_eq!(external.2, "9094", "{external:?}");
    let published = strings(&kafka["ports"]);
    assert!(
        published.contains(&format!("{0}:{0}", external.2)),
        "the EXTERNAL port is published on the same host port: {published:?}"
    );
    assert!(
        !published
            .iter()
            .any(|p| p.ends_with(&format!(":{internal_port}"))),
        "the internal listener advertises `{internal_host}`, which the host cannot resolve: \
         do not publish it ({published:?})"
    );
    for (name, _, port) in [internal, external] {
        assert!(
            bound
                .iter()
                .any(|(n, h, p)| n == name && h == "0.0.0.0" && p == port),
            "listener {name} is bound on 0.0.0.0:{port}: {bound:?}"
        );
        assert!(
            protocols
                .split(',')
                .any(|m| m.starts_with(&format!("{name}:"))),
            "{name} has a security protocol: {protocols}"
        );
    }
}

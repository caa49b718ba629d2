//! deploy/kubernetes: every manifest the kustomization lists validates against the real
//! Kubernetes JSON schemas (`kubernetes-validate --strict`, pinned in
//! scripts/py-requirements.txt; it bundles the schemas, no network), and the StatefulSet
//! agrees with the ConfigMap's configuration: probes on /livez and /readyz at the metrics
//! port, the sled store on the claimed volume, the password file in the mounted Secret,
//! non-root as the image's user.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use rowtide::config::Config;
use serde_yaml::Value;

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/kubernetes")
}

fn yaml(name: &str) -> Value {
    let text = std::fs::read_to_string(dir().join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
    serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// The files the kustomization lists.
fn resources() -> Vec<String> {
    let k = yaml("kustomization.yaml");
    k["resources"]
        .as_sequence()
        .expect("resources")
        .iter()
        .map(|r| r.as_str().unwrap().to_string())
        .collect()
}

/// The resource of `kind` among the listed files.
fn find(kind: &str) -> Value {
    resources()
        .iter()
        .map(|f| yaml(f))
        .find(|v| v["kind"].as_str() == Some(kind))
        .unwrap_or_else(|| panic!("no {kind} in kustomization.yaml"))
}

#[test]
fn every_manifest_is_listed_and_validates_against_the_kubernetes_schemas() {
    let listed = resources();
    let mut on_disk: Vec<String> = std::fs::read_dir(dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".yaml") && n != "kustomization.yaml")
        .collect();
    on_disk.sort();
    let mut sorted = listed.clone();
    sorted.sort();
    assert_eq!(sorted, on_disk, "kustomization.yaml lists every manifest");

    let Some(python) = std::env::var("ROWTIDE_TEST_PYTHON")
        .ok()
        .filter(|p| !p.is_empty())
    else {
        let msg = "ROWTIDE_TEST_PYTHON is not set (scripts/test makes the venv with \
                   kubernetes-validate from scripts/py-requirements.txt)";
        assert!(!common::in_ci(), "{msg}");
        eprintln!("SKIPPED: {msg}");
        return;
    };
    let out = Command::new(&python)
        .args(["-m", "kubernetes_validate", "--strict"])
        .args(listed.iter().map(|f| dir().join(f)))
        .output()
        .expect("run kubernetes-validate");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "kubernetes-validate failed:\n{text}");
    for f in &listed {
        assert!(
            text.lines()
                .any(|l| l.contains(f.as_str()) && l.contains("passed")),
            "{f} was not validated:\n{text}"
        );
    }
    // The validator really rejects what is wrong (so a pass means something).
    let bad = tempfile::NamedTempFile::with_suffix(".yaml").unwrap();
    let text = std::fs::read_to_string(dir().join("statefulset.yaml")).unwrap();
    std::fs::write(bad.path(), text.replace("replicas: 1", "replicas: one")).unwrap();
    let out = Command::new(&python)
        .args(["-m", "kubernetes_validate", "--strict"])
        .arg(bad.path())
        .output()
        .unwrap();
    assert!(!out.status.success(), "an invalid StatefulSet passed");
}

fn container(sts: &Value) -> &Value {
    &sts["spec"]["template"]["spec"]["containers"][0]
}

/// The configuration in the ConfigMap, loaded as rowtide loads it.
fn configmap_config() -> Config {
    let cm = find("ConfigMap");
    let text = cm["data"]["rowtide.toml"]
        .as_str()
        .expect("data rowtide.toml");
    Config::from_toml(text, &[]).expect("the ConfigMap's configuration loads")
}

#[test]
fn probes_ports_and_volumes_match_the_configuration() {
    let cfg = configmap_config();
    let sts = find("StatefulSet");
    let c = container(&sts);
    let pod = &sts["spec"]["template"]["spec"];
    assert_eq!(
        sts["spec"]["replicas"].as_u64(),
        Some(1),
        "one reader per binlog"
    );

    // The metrics port of the config is the container's named port and the probes' target.
    let (host, port) = cfg.metrics.listen.rsplit_once(':').unwrap();
    assert_eq!(host, "0.0.0.0", "the kubelet probes the pod IP");
    let port: u64 = port.parse().unwrap();
    let ports = c["ports"].as_sequence().unwrap();
    let named = ports
        .iter()
        .find(|p| p["containerPort"].as_u64() == Some(port))
        .expect("the metrics port is a container port");
    let name = named["name"].as_str().unwrap();
    for (probe, path) in [("livenessProbe", "/livez"), ("readinessProbe", "/readyz")] {
        let get = &c[probe]["httpGet"];
        assert_eq!(get["path"].as_str(), Some(path), "{probe}");
        let target = &get["port"];
        assert!(
            target.as_str() == Some(name) || target.as_u64() == Some(port),
            "{probe} targets {target:?}, not the metrics port {port}"
        );
    }
    let svc = find("Service");
    assert_eq!(svc["spec"]["clusterIP"].as_str(), Some("None"), "headless");
    assert_eq!(sts["spec"]["serviceName"], svc["metadata"]["name"]);
    assert!(svc["spec"]["ports"]
        .as_sequence()
        .unwrap()
        .iter()
        .any(|p| p["port"].as_u64() == Some(port)));

    // The command reads the ConfigMap where it is mounted.
    let mount = |volume: &str| -> String {
        c["volumeMounts"]
            .as_sequence()
            .unwrap()
            .iter()
            .find(|m| m["name"].as_str() == Some(volume))
            .and_then(|m| m["mountPath"].as_str())
            .unwrap_or_else(|| panic!("no mount of {volume}"))
            .to_string()
    };
    let volumes = pod["volumes"].as_sequence().unwrap();
    let volume_of = |key: &str| -> String {
        volumes
            .iter()
            .find(|v| !v[key].is_null())
            .and_then(|v| v["name"].as_str())
            .unwrap_or_else(|| panic!("no {key} volume"))
            .to_string()
    };
    let args: Vec<&str> = c["args"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    let config_path = args.windows(2).find(|w| w[0] == "-c").expect("-c")[1];
    assert_eq!(
        config_path,
        format!("{}/rowtide.toml", mount(&volume_of("configMap")))
    );
    // The password file is a key of the mounted Secret.
    let secret_dir = mount(&volume_of("secret"));
    let pw = cfg
        .source
        .password_file
        .clone()
        .expect("source.password_file");
    let key = pw
        .strip_prefix(&secret_dir)
        .expect("password_file is in the Secret's mount");
    let secret = find("Secret");
    assert!(
        !secret["stringData"][key.to_str().unwrap()].is_null(),
        "the Secret has {key:?}"
    );
    assert!(
        secret["stringData"][key.to_str().unwrap()]
            .as_str()
            .unwrap()
            .contains("REPLACE-ME"),
        "the example Secret holds a marked placeholder"
    );
    // The sled store is on the claimed volume.
    let claim = sts["spec"]["volumeClaimTemplates"][0]["metadata"]["name"]
        .as_str()
        .expect("a volumeClaimTemplate");
    assert!(cfg.checkpoint.path.starts_with(mount(claim)));
}

#[test]
fn runs_as_the_images_non_root_user_with_resources_and_a_disruption_budget() {
    let sts = find("StatefulSet");
    let pod = &sts["spec"]["template"]["spec"];
    let sc = &pod["securityContext"];
    assert_eq!(sc["runAsNonRoot"].as_bool(), Some(true));
    let uid = sc["runAsUser"].as_u64().unwrap();
    let dockerfile =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("Dockerfile")).unwrap();
    assert!(
        dockerfile.contains(&format!("USER {uid}:")),
        "runAsUser {uid} is the image's USER"
    );
    assert_eq!(
        sc["fsGroup"].as_u64(),
        Some(uid),
        "the volume is writable by the user"
    );
    let c = container(&sts);
    assert_eq!(
        c["securityContext"]["allowPrivilegeEscalation"].as_bool(),
        Some(false)
    );
    assert!(!c["resources"]["requests"]["memory"].is_null());
    assert!(!c["resources"]["limits"]["memory"].is_null());
    let grace = pod["terminationGracePeriodSeconds"].as_u64().unwrap();
    let cfg = configmap_config();
    assert!(
        grace > cfg.pipeline.shutdown_timeout_secs,
        "the grace period ({grace} s) covers the shutdown timeout"
    );
    let pdb = find("PodDisruptionBudget");
    assert_eq!(
        pdb["spec"]["selector"]["matchLabels"],
        sts["spec"]["selector"]["matchLabels"]
    );
}

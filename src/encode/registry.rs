//! A Confluent-compatible schema registry client: names subjects by the configured strategy
//! (`topic`: `<topic>-key` / `<topic>-value`; `record`: the record's full name;
//! `topic_record`: `<topic>-<record full name>`), finds each schema's id (registering it, or
//! looking it up when `auto_register = false`, or taking the subject's latest version with
//! `use_latest_version`), and caches ids by (subject, schema fingerprint), so a new table
//! structure gets its id before the first event that uses it. It trusts the system's
//! certificate store, the built-in web roots and `format.registry_ca`, and presents
//! `format.registry_cert`/`registry_key` for mutual TLS.
//!
//! Invariant: an unreachable registry, 408, 429 and 5xx are retried with bounded backoff and
//! then reported as the transient [`Error::Registry`]; every other answer is definite: 401/403
//! are [`Error::Access`], 409/422 the [`Error::IncompatibleSchema`], any other 4xx the
//! [`Error::RegistryRequest`] naming the URL, the status and the registry's message; a TLS
//! handshake the registry or rowtide refuses is [`Error::Access`].

use std::collections::HashMap;
use std::time::Duration;

use serde_json::json;

use crate::backoff::Backoff;
use crate::config::{FormatConfig, SubjectNameStrategy};
use crate::error::{Cause, Error, Result};

/// Attempts a request gets when the registry is unreachable or answers 429/5xx.
const REQUEST_ATTEMPTS: u32 = 6;
const FIRST_RETRY_DELAY: Duration = Duration::from_millis(200);
const MAX_RETRY_DELAY: Duration = Duration::from_secs(5);

const CONTENT_TYPE: &str = "application/vnd.schemaregistry.v1+json";

/// The registry client.
#[derive(Debug, Clone)]
pub struct Registry {
    base: String,
    client: reqwest::Client,
    auth: Option<(String, String)>,
    strategy: SubjectNameStrategy,
    auto_register: bool,
    use_latest_version: bool,
    ids: HashMap<(String, u64), u32>,
}

/// A registry's refusal that is not final for every caller (a lookup's 404 means "not
/// registered"): the request URL, the status and the registry's `error_code`/`message`.
#[derive(Debug)]
struct Rejected {
    url: String,
    status: reqwest::StatusCode,
    code: Option<i64>,
    message: String,
}

/// FNV-1a of the schema text: the cache key of a schema within a subject.
pub fn schema_fingerprint(schema: &str) -> u64 {
    let mut h: u64 = 0xcbf29ce484222325;
    for b in schema.as_bytes() {
        h ^= *b as u64;
        h = h.wrapping_mul(0x100000001b3);
    }
    h
}

/// The full name (`namespace.name`) of an Avro schema's top-level record, if it has one.
pub fn record_fullname(schema: &str) -> Option<String> {
    let v: serde_json::Value = serde_json::from_str(schema).ok()?;
    let name = v.get("name")?.as_str()?;
    if name.contains('.') {
        return Some(name.to_string());
    }
    match v.get("namespace").and_then(|n| n.as_str()) {
        Some(ns) if !ns.is_empty() => Some(format!("{ns}.{name}")),
        _ => Some(name.to_string()),
    }
}

/// The subject of a key (`is_key`) or value schema of `topic` under `strategy`
/// (Confluent's TopicNameStrategy, RecordNameStrategy, TopicRecordNameStrategy).
pub fn subject_name(
    strategy: SubjectNameStrategy,
    topic: &str,
    is_key: bool,
    schema: &str,
) -> Result<String> {
    let record = || {
        record_fullname(schema).ok_or_else(|| Error::InvalidSchema {
            name: format!("{topic} ({})", if is_key { "key" } else { "value" }),
            reason: "subject_name_strategy = \"record\"/\"topic_record\" needs a named record \
                     schema, and this one has no name"
                .into(),
        })
    };
    Ok(match strategy {
        SubjectNameStrategy::Topic => {
            format!("{topic}-{}", if is_key { "key" } else { "value" })
        }
        SubjectNameStrategy::Record => record()?,
        SubjectNameStrategy::TopicRecord => format!("{topic}-{}", record()?),
    })
}

impl Registry {
    pub fn new(cfg: &FormatConfig) -> Result<Self> {
        let Some(url) = cfg.registry_url.as_deref() else {
            return Err(Error::Config(
                "format.registry_url is required for format.kind = \"avro\"".into(),
            ));
        };
        let client = http_client(cfg)?;
        let password = match (&cfg.registry_password, &cfg.registry_password_file) {
            (Some(p), _) => Some(p.clone()),
            (None, Some(f)) => Some(
                std::fs::read_to_string(f)
                    .map_err(|e| {
                        Error::io(
                            format!("reading format.registry_password_file {}", f.display()),
                            e,
                        )
                    })?
                    .trim_end_matches(['\n', '\r'])
                    .to_string(),
            ),
            (None, None) => None,
        };
        if let Some(p) = &password {
            crate::redact::register(p);
        }
        let (base, in_url) = split_userinfo(url);
        // Both at once is refused by `Config::validate`.
        let auth = in_url.or_else(|| {
            cfg.registry_username
                .clone()
                .map(|u| (u, password.unwrap_or_default()))
        });
        Ok(Registry {
            base: base.trim_end_matches('/').to_string(),
            client,
            auth,
            strategy: cfg.subject_name_strategy,
            auto_register: cfg.auto_register,
            use_latest_version: cfg.use_latest_version,
            ids: HashMap::new(),
        })
    }

    /// Seeds the cache with a known id (for benchmarks and tests that must not hit the network).
    pub fn seed(&mut self, subject: &str, schema: &str, id: u32) {
        self.ids
            .insert((subject.to_string(), schema_fingerprint(schema)), id);
    }

    /// The id of the key (`is_key`) or value `schema` of `topic`, under the subject the
    /// configured strategy names.
    pub async fn id_for_part(&mut self, topic: &str, is_key: bool, schema: &str) -> Result<u32> {
        let subject = subject_name(self.strategy, topic, is_key, schema)?;
        self.id_for(&subject, schema).await
    }

    /// The id of `schema` under `subject`: registered (`auto_register`), looked up, or the
    /// subject's latest version (`use_latest_version`), once per process.
    pub async fn id_for(&mut self, subject: &str, schema: &str) -> Result<u32> {
        let key = (subject.to_string(), schema_fingerprint(schema));
        if let Some(id) = self.ids.get(&key) {
            return Ok(*id);
        }
        let id = if self.auto_register {
            self.register(subject, schema).await?
        } else if self.use_latest_version {
            self.latest_id(subject, schema).await?
        } else {
            self.lookup(subject, schema).await?
        };
        self.ids.insert(key, id);
        Ok(id)
    }

    /// `POST /subjects/{subject}/versions`.
    pub async fn register(&self, subject: &str, schema: &str) -> Result<u32> {
        let url = format!("{}/subjects/{}/versions", self.base, encode_path(subject));
        let body = json!({ "schema": schema, "schemaType": "AVRO" }).to_string();
        let v = self
            .send(subject, &url, || self.client.post(&url).body(body.clone()))
            .await?
            .map_err(|r| definite(subject, &self.base, self.user(), r))?;
        id_of(&url, subject, &v)
    }

    /// `POST /subjects/{subject}`: the id of `schema` if it is registered under `subject`
    /// (`auto_register = false`).
    pub async fn lookup(&self, subject: &str, schema: &str) -> Result<u32> {
        let url = format!("{}/subjects/{}", self.base, encode_path(subject));
        let body = json!({ "schema": schema, "schemaType": "AVRO" }).to_string();
        match self
            .send(subject, &url, || self.client.post(&url).body(body.clone()))
            .await?
        {
            Ok(v) => id_of(&url, subject, &v),
            Err(r)
                if r.status.as_u16() == 404 && r.code.is_some_and(|c| c == 40401 || c == 40403) =>
            {
                Err(Error::SchemaNotRegistered {
                    subject: subject.to_string(),
                    message: format!(
                        "{} (HTTP 404, error_code {}, POST {}); register it, or set \
                         format.auto_register = true to let rowtide register it, or \
                         format.use_latest_version = true to use the subject's latest version",
                        r.message,
                        r.code.unwrap_or_default(),
                        r.url
                    ),
                })
            }
            Err(r) => Err(definite(subject, &self.base, self.user(), r)),
        }
    }

    /// `GET /subjects/{subject}/versions/latest`: the latest version's id, when that version's
    /// schema is the one rowtide writes (the same Avro canonical form): records are encoded
    /// with rowtide's schema, so any other schema under that id would corrupt them.
    pub async fn latest_id(&self, subject: &str, schema: &str) -> Result<u32> {
        let url = format!(
            "{}/subjects/{}/versions/latest",
            self.base,
            encode_path(subject)
        );
        let v = match self.send(subject, &url, || self.client.get(&url)).await? {
            Ok(v) => v,
            Err(r) if r.status.as_u16() == 404 => {
                return Err(Error::SchemaNotRegistered {
                    subject: subject.to_string(),
                    message: format!(
                        "the subject has no version: {} (HTTP 404, GET {}); register the \
                         schema, or set format.use_latest_version = false and \
                         format.auto_register = true",
                        r.message, r.url
                    ),
                })
            }
            Err(r) => return Err(definite(subject, &self.base, self.user(), r)),
        };
        let id = id_of(&url, subject, &v)?;
        let latest = v.get("schema").and_then(|s| s.as_str()).unwrap_or_default();
        if canonical(latest) != canonical(schema) {
            return Err(Error::SchemaNotRegistered {
                subject: subject.to_string(),
                message: format!(
                    "its latest version (id {id}, version {}) is not the schema rowtide writes \
                     for this table, so records cannot carry its id. Register rowtide's schema \
                     as a new version (`rowtide schemas` prints it), or set \
                     format.use_latest_version = false. Latest: {latest}; rowtide's: {schema}",
                    v.get("version").and_then(|x| x.as_i64()).unwrap_or(-1)
                ),
            });
        }
        Ok(id)
    }

    /// `GET /schemas/ids/{id}`: the schema text.
    pub async fn schema_by_id(&self, id: u32) -> Result<String> {
        let url = format!("{}/schemas/ids/{id}", self.base);
        let v = self.fetch("(by id)", &url).await?;
        v.get("schema")
            .and_then(|s| s.as_str())
            .map(str::to_string)
            .ok_or_else(|| {
                Error::registry(format!("registry answered without a schema for id {id}"))
            })
    }

    /// `GET /config`: the global compatibility level (for `rowtide check`).
    pub async fn compatibility(&self) -> Result<String> {
        let url = format!("{}/config", self.base);
        let v = self.fetch("(config)", &url).await?;
        Ok(v.get("compatibilityLevel")
            .or_else(|| v.get("compatibility"))
            .and_then(|l| l.as_str())
            .unwrap_or("unknown")
            .to_string())
    }

    /// The registry's URL without credentials.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// `GET /subjects/{subject}/versions`.
    pub async fn versions(&self, subject: &str) -> Result<Vec<i64>> {
        let url = format!("{}/subjects/{}/versions", self.base, encode_path(subject));
        let v = self.fetch(subject, &url).await?;
        Ok(v.as_array()
            .map(|a| a.iter().filter_map(|x| x.as_i64()).collect())
            .unwrap_or_default())
    }

    fn user(&self) -> Option<&str> {
        self.auth.as_ref().map(|a| a.0.as_str())
    }

    /// A GET whose every refusal is definite.
    async fn fetch(&self, subject: &str, url: &str) -> Result<serde_json::Value> {
        self.send(subject, url, || self.client.get(url))
            .await?
            .map_err(|r| definite(subject, &self.base, self.user(), r))
    }

    /// Sends a request made by `make` to `url`, retrying an unreachable registry, 408, 429
    /// and 5xx with backoff ([`REQUEST_ATTEMPTS`] attempts in all); `Ok(Err)` is any other
    /// refusal, for the caller to judge.
    async fn send(
        &self,
        subject: &str,
        url: &str,
        make: impl Fn() -> reqwest::RequestBuilder,
    ) -> Result<std::result::Result<serde_json::Value, Rejected>> {
        let mut backoff = Backoff::new(FIRST_RETRY_DELAY, MAX_RETRY_DELAY, REQUEST_ATTEMPTS - 1);
        loop {
            let mut req = make()
                .header(reqwest::header::CONTENT_TYPE, CONTENT_TYPE)
                .header(reqwest::header::ACCEPT, CONTENT_TYPE);
            if let Some((u, p)) = &self.auth {
                req = req.basic_auth(u, Some(p));
            }
            let last: Cause = match req.send().await {
                Ok(resp) => match answer(url, resp).await? {
                    Answer::Json(v) => return Ok(Ok(v)),
                    Answer::Rejected(r) => return Ok(Err(r)),
                    Answer::Retry(why) => why.into(),
                },
                Err(e) => {
                    if let Some(tls) = tls_failure(&e) {
                        return Err(Error::Access {
                            component: "schema registry",
                            message: format!(
                                "TLS handshake with {} failed: {tls}; check that \
                                 format.registry_ca holds the CA that signed the registry's \
                                 certificate (the system trust store is used too), and \
                                 format.registry_cert/registry_key if the registry requires a \
                                 client certificate",
                                self.base
                            ),
                        });
                    }
                    Box::new(e)
                }
            };
            let Some(delay) = backoff.fail() else {
                return Err(Error::Registry {
                    message: format!(
                        "{} unreachable after {REQUEST_ATTEMPTS} attempts ({subject}): {last}",
                        self.base
                    ),
                    source: Some(last),
                });
            };
            tracing::warn!(subject, attempt = backoff.failures(), error = %last, "Schema registry request failed; retrying.");
            tokio::time::sleep(delay).await;
        }
    }
}

/// The HTTP client: rustls with the system trust store and the built-in web roots, plus
/// `registry_ca` and the client identity of `registry_cert`/`registry_key`.
fn http_client(cfg: &FormatConfig) -> Result<reqwest::Client> {
    let mut builder = reqwest::Client::builder()
        .use_rustls_tls()
        .tls_built_in_root_certs(true)
        .connect_timeout(Duration::from_secs(5))
        .timeout(Duration::from_secs(30));
    let read = |key: &str, path: &std::path::Path| {
        std::fs::read(path)
            .map_err(|e| Error::Config(format!("cannot read format.{key} {}: {e}", path.display())))
    };
    if let Some(ca) = &cfg.registry_ca {
        let certs = reqwest::Certificate::from_pem_bundle(&read("registry_ca", ca)?)
            .ok()
            .filter(|c| !c.is_empty())
            .ok_or_else(|| {
                Error::Config(format!(
                    "format.registry_ca {} holds no PEM certificate",
                    ca.display()
                ))
            })?;
        for cert in certs {
            builder = builder.add_root_certificate(cert);
        }
    }
    if let (Some(cert), Some(key)) = (&cfg.registry_cert, &cfg.registry_key) {
        let mut pem = read("registry_cert", cert)?;
        pem.push(b'\n');
        pem.extend(read("registry_key", key)?);
        let identity = reqwest::Identity::from_pem(&pem).map_err(|e| {
            Error::Config(format!(
                "format.registry_cert {} and format.registry_key {} are not a PEM \
                 certificate and its private key: {e}",
                cert.display(),
                key.display()
            ))
        })?;
        builder = builder.identity(identity);
    }
    builder
        .build()
        .map_err(|e| Error::Config(format!("cannot build the registry client: {e}")))
}

/// The TLS part of a request error (a certificate rowtide does not trust, an alert from the
/// registry), or `None` for any other failure (which may pass).
fn tls_failure(e: &reqwest::Error) -> Option<String> {
    let mut chain = Vec::new();
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(c) = cur {
        chain.push(c.to_string());
        cur = c.source();
    }
    let text = chain.join(": ");
    let lower = text.to_ascii_lowercase();
    [
        "invalid peer certificate",
        "received fatal alert",
        "certificate",
        "handshake",
    ]
    .iter()
    .any(|m| lower.contains(m))
    .then(|| chain.last().cloned().unwrap_or(text))
}

/// Parses and re-renders a schema in Avro's canonical form (what decides its binary
/// encoding); the text itself when it does not parse.
fn canonical(schema: &str) -> String {
    apache_avro::Schema::parse_str(schema)
        .map(|s| s.canonical_form())
        .unwrap_or_else(|_| schema.to_string())
}

fn id_of(url: &str, subject: &str, v: &serde_json::Value) -> Result<u32> {
    v.get("id")
        .and_then(|i| i.as_u64())
        .and_then(|i| u32::try_from(i).ok())
        .ok_or_else(|| Error::RegistryRequest {
            url: url.to_string(),
            message: format!(
                "answered without a schema id for {subject}: {v}; is format.registry_url a \
                 Confluent-compatible registry?"
            ),
        })
}

/// What an answer means.
enum Answer {
    Json(serde_json::Value),
    /// 408, 429, 5xx: may pass.
    Retry(String),
    Rejected(Rejected),
}

/// Reads the registry's answer to a request for `url`.
async fn answer(url: &str, resp: reqwest::Response) -> Result<Answer> {
    let status = resp.status();
    let text = resp.text().await.unwrap_or_default();
    if status.is_success() {
        return serde_json::from_str(&text)
            .map(Answer::Json)
            .map_err(|e| Error::Registry {
                message: format!("registry sent invalid JSON ({e}) to {url}: {text}"),
                source: Some(Box::new(e)),
            });
    }
    let json = serde_json::from_str::<serde_json::Value>(&text).ok();
    let code = json
        .as_ref()
        .and_then(|v| v.get("error_code"))
        .and_then(|c| c.as_i64());
    // Confluent's `{"error_code","message"}`, or an RFC 7807 problem (`detail`, `title`).
    let message = json
        .as_ref()
        .and_then(|v| {
            ["message", "detail", "title"]
                .iter()
                .find_map(|k| v.get(*k))
        })
        .and_then(|m| m.as_str())
        .map(str::to_string)
        .unwrap_or_else(|| plain(&text));
    let s = status.as_u16();
    if s >= 500 || s == 429 || s == 408 {
        return Ok(Answer::Retry(format!(
            "HTTP {status} from {url}: {message}"
        )));
    }
    Ok(Answer::Rejected(Rejected {
        url: url.to_string(),
        status,
        code,
        message,
    }))
}

/// A refusal as the definite error it is for a caller with no special case.
fn definite(subject: &str, base: &str, user: Option<&str>, r: Rejected) -> Error {
    let Rejected {
        url,
        status,
        code,
        message,
    } = r;
    let code_text = code
        .map(|c| format!(", error_code {c}"))
        .unwrap_or_default();
    match status.as_u16() {
        409 | 422 => Error::IncompatibleSchema {
            subject: subject.to_string(),
            message: format!(
                "{message} (HTTP {status}{code_text}, {url}); the registry refuses this \
                 version under the subject's compatibility level: make the change compatible, \
                 or relax the subject's compatibility (PUT {base}/config/<subject>), or \
                 register the new schema under a new subject"
            ),
        },
        401 => Error::Access {
            component: "schema registry",
            message: format!(
                "authentication failed at {base} ({}): HTTP {status}: {message}; check \
                 format.registry_username and format.registry_password (or the user:password@ \
                 of format.registry_url)",
                describe_user(user)
            ),
        },
        403 => Error::Access {
            component: "schema registry",
            message: format!(
                "not authorized at {base} ({}){}: HTTP {status}: {message}; grant this user \
                 read and write access to the subjects of rowtide's topics",
                describe_user(user),
                if subject.starts_with('(') {
                    String::new()
                } else {
                    format!(" for subject {subject}")
                }
            ),
        },
        s => {
            let hint = if s == 400 && message.to_ascii_lowercase().contains("certificate") {
                "the registry wants a client certificate it trusts: set format.registry_cert \
                 and format.registry_key (PEM)"
            } else {
                "check format.registry_url: it must be the Confluent-compatible API root, e.g. \
                 http://host:8080/apis/ccompat/v7 for Apicurio, http://host:8081 for Confluent"
            };
            Error::RegistryRequest {
                url,
                message: format!("{subject}: HTTP {status}{code_text}: {message}; {hint}"),
            }
        }
    }
}

/// The text of an HTML error page (nginx's, say) without its markup, on one line.
fn plain(text: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in text.chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                out.push(' ');
            }
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `http://user:pass@host/x` → (`http://host/x`, Some((user, pass))), percent-decoded
/// (Confluent's clients take basic-auth credentials from the URL's userinfo too).
pub(crate) fn split_userinfo(url: &str) -> (String, Option<(String, String)>) {
    let Some(scheme_end) = url.find("://").map(|i| i + 3) else {
        return (url.to_string(), None);
    };
    let rest = &url[scheme_end..];
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let Some(at) = rest[..authority_end].rfind('@') else {
        return (url.to_string(), None);
    };
    let info = &rest[..at];
    let (user, pass) = info.split_once(':').unwrap_or((info, ""));
    let decode = crate::redact::percent_decode;
    (
        format!("{}{}", &url[..scheme_end], &rest[at + 1..]),
        Some((decode(user), decode(pass))),
    )
}

fn describe_user(user: Option<&str>) -> String {
    match user {
        Some(u) => format!("basic auth as user '{u}'"),
        None => "no credentials configured".into(),
    }
}

fn encode_path(s: &str) -> String {
    crate::redact::percent_encode(s)
}

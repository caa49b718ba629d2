//! A Confluent-compatible schema registry client (TopicNameStrategy subjects
//! `<topic>-key` / `<topic>-value`): registers schemas and caches their ids by
//! (subject, schema fingerprint), so a new table structure registers a new version before
//! the first event that uses it.
//!
//! Invariant: an unreachable registry or a 5xx is retried with bounded backoff and then
//! reported as the transient [`Error::Registry`]; 409/422 are the definite
//! [`Error::IncompatibleSchema`] naming the subject and the registry's message.

use std::collections::HashMap;
use std::time::Duration;

use serde_json::json;

use crate::backoff::Backoff;
use crate::config::FormatConfig;
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
    ids: HashMap<(String, u64), u32>,
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

impl Registry {
    pub fn new(cfg: &FormatConfig) -> Result<Self> {
        let Some(url) = cfg.registry_url.as_deref() else {
            return Err(Error::Config(
                "format.registry_url is required for format.kind = \"avro\"".into(),
            ));
        };
        let mut builder = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(30));
        if let Some(ca) = &cfg.registry_ca {
            let pem = std::fs::read(ca).map_err(|e| {
                Error::io(format!("reading format.registry_ca {}", ca.display()), e)
            })?;
            let cert = reqwest::Certificate::from_pem(&pem).map_err(|e| {
                Error::Config(format!(
                    "format.registry_ca {} is not a PEM certificate: {e}",
                    ca.display()
                ))
            })?;
            builder = builder.add_root_certificate(cert);
        }
        let client = builder
            .build()
            .map_err(|e| Error::Config(format!("cannot build the registry client: {e}")))?;
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
            ids: HashMap::new(),
        })
    }

    /// Seeds the cache with a known id (for benchmarks and tests that must not hit the network).
    pub fn seed(&mut self, subject: &str, schema: &str, id: u32) {
        self.ids
            .insert((subject.to_string(), schema_fingerprint(schema)), id);
    }

    /// The id of `schema` under `subject`, registering it if this process has not yet.
    pub async fn id_for(&mut self, subject: &str, schema: &str) -> Result<u32> {
        let key = (subject.to_string(), schema_fingerprint(schema));
        if let Some(id) = self.ids.get(&key) {
            return Ok(*id);
        }
        let id = self.register(subject, schema).await?;
        self.ids.insert(key, id);
        Ok(id)
    }

    /// `POST /subjects/{subject}/versions`.
    pub async fn register(&self, subject: &str, schema: &str) -> Result<u32> {
        let url = format!("{}/subjects/{}/versions", self.base, encode_path(subject));
        let body = json!({ "schema": schema, "schemaType": "AVRO" }).to_string();
        let v = self
            .send(subject, || self.client.post(&url).body(body.clone()))
            .await?;
        v.get("id")
            .and_then(|i| i.as_u64())
            .and_then(|i| u32::try_from(i).ok())
            .ok_or_else(|| {
                Error::registry(format!(
                    "registry answered without an id for {subject}: {v}"
                ))
            })
    }

    /// `GET /schemas/ids/{id}`: the schema text.
    pub async fn schema_by_id(&self, id: u32) -> Result<String> {
        let url = format!("{}/schemas/ids/{id}", self.base);
        let v = self.send("(by id)", || self.client.get(&url)).await?;
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
        let v = self.send("(config)", || self.client.get(&url)).await?;
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
        let v = self.send(subject, || self.client.get(&url)).await?;
        Ok(v.as_array()
            .map(|a| a.iter().filter_map(|x| x.as_i64()).collect())
            .unwrap_or_default())
    }

    /// Sends a request made by `make`, retrying an unreachable registry, 429 and 5xx with
    /// backoff ([`REQUEST_ATTEMPTS`] attempts in all); other answers are final.
    async fn send(
        &self,
        subject: &str,
        make: impl Fn() -> reqwest::RequestBuilder,
    ) -> Result<serde_json::Value> {
        let mut backoff = Backoff::new(FIRST_RETRY_DELAY, MAX_RETRY_DELAY, REQUEST_ATTEMPTS - 1);
        loop {
            let mut req = make()
                .header(reqwest::header::CONTENT_TYPE, CONTENT_TYPE)
                .header(reqwest::header::ACCEPT, CONTENT_TYPE);
            if let Some((u, p)) = &self.auth {
                req = req.basic_auth(u, Some(p));
            }
            let last: Cause = match req.send().await {
                Ok(resp) => match answer(
                    &self.base,
                    self.auth.as_ref().map(|a| a.0.as_str()),
                    subject,
                    resp,
                )
                .await?
                {
                    Ok(v) => return Ok(v),
                    Err(retriable) => retriable.into(),
                },
                Err(e) => Box::new(e),
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

/// Reads the registry's answer: the JSON body of a success (`Ok(Ok)`), a retriable failure
/// (`Ok(Err)`: 429 or 5xx), or a definite error.
async fn answer(
    base: &str,
    user: Option<&str>,
    subject: &str,
    resp: reqwest::Response,
) -> Result<std::result::Result<serde_json::Value, String>> {
    let status = resp.status();
    let text = resp.text().await.unwrap_or_default();
    if status.is_success() {
        return serde_json::from_str(&text)
            .map(Ok)
            .map_err(|e| Error::Registry {
                message: format!("registry sent invalid JSON ({e}): {text}"),
                source: Some(Box::new(e)),
            });
    }
    let message = serde_json::from_str::<serde_json::Value>(&text)
        .ok()
        .and_then(|v| {
            v.get("message")
                .and_then(|m| m.as_str())
                .map(str::to_string)
        })
        .unwrap_or(text);
    match status.as_u16() {
        409 | 422 => Err(Error::IncompatibleSchema {
            subject: subject.to_string(),
            message: format!("{message} (HTTP {status})"),
        }),
        401 => Err(Error::Access {
            component: "schema registry",
            message: format!(
                "authentication failed at {base} ({}): HTTP {status}: {message}; check \
                 format.registry_username and format.registry_password (or the user:password@ \
                 of format.registry_url)",
                describe_user(user)
            ),
        }),
        403 => Err(Error::Access {
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
        }),
        s if s >= 500 || s == 429 || s == 408 => Ok(Err(format!("HTTP {status}: {message}"))),
        _ => Err(Error::RegistryRequest {
            url: base.to_string(),
            message: format!(
                "{subject}: HTTP {status}: {message}; check format.registry_url (a Confluent-compatible \
                 API root, e.g. http://host:8080/apis/ccompat/v7 for Apicurio)"
            ),
        }),
    }
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

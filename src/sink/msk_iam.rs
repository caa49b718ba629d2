//! Amazon MSK IAM authentication: `[sink.kafka] "sasl.mechanism" = "AWS_MSK_IAM"` (the
//! mechanism name of AWS's Java `IAMLoginModule`, so a Debezium configuration carries over)
//! makes every Kafka client of rowtide log in with SASL/OAUTHBEARER using the token AWS's
//! MSK signers produce: a SigV4-presigned `GET https://kafka.<region>.amazonaws.com/?Action=
//! kafka-cluster:Connect` (service `kafka-cluster`, 900 s), with a `User-Agent` parameter
//! appended after signing, encoded as unpadded base64url. The token is made anew at every
//! refresh from the credentials found then (so rotated credentials are picked up):
//!
//! 1. `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` (+ `AWS_SESSION_TOKEN`);
//! 2. the shared credentials file (`AWS_SHARED_CREDENTIALS_FILE`, else `~/.aws/credentials`),
//!    profile `[sink] aws_profile`, else `AWS_PROFILE`, else `default`.
//!
//! The region is `[sink] aws_region`, else `AWS_REGION`, else `AWS_DEFAULT_REGION`.
//! Only built with the `aws-msk-iam` cargo feature (on by default).

use std::path::PathBuf;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sha2::{Digest, Sha256};

use crate::config::SinkConfig;
use crate::error::Result;

/// Lifetime of a signed token, as AWS's signers use.
const EXPIRES_SECS: u64 = 900;
const SERVICE: &str = "kafka-cluster";

/// AWS credentials (the secret is never printed: no `Debug`).
pub struct Credentials {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: Option<String>,
}

/// A token for librdkafka: its value, the principal name it reports, its expiry.
pub struct Token {
    pub value: String,
    pub principal: String,
    pub expires_ms: i64,
}

/// MSK IAM settings of one pipeline.
#[derive(Debug, Clone)]
pub struct MskIam {
    region: String,
    profile: Option<String>,
}

impl MskIam {
    /// `Some` when `[sink.kafka]` selects `AWS_MSK_IAM`; a missing region is a config error.
    pub fn from_config(cfg: &SinkConfig) -> Result<Option<Self>> {
        Ok(cfg.msk_iam_region()?.map(|region| Self {
            region,
            profile: cfg.aws_profile.clone(),
        }))
    }

    /// A fresh token signed now with the credentials found now.
    pub fn token(&self) -> std::result::Result<Token, String> {
        let creds = credentials(self.profile.as_deref())?;
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_err(|e| e.to_string())?
            .as_secs();
        let ua = format!("rowtide/{}", env!("CARGO_PKG_VERSION"));
        Ok(sign_token(&self.region, &creds, now, &ua))
    }
}

/// Keeps an MSK IAM token on a client whose main queue nobody polls (rdkafka's admin client
/// serves only its own result queue, so librdkafka's token-refresh request would wait there
/// forever): sets one now and a fresh one at 80 % of each token's life, until dropped. Drop
/// it before the client (declare it after the client, or as an earlier struct field).
pub struct TokenKeeper {
    stop: Arc<(Mutex<bool>, Condvar)>,
    thread: Option<std::thread::JoinHandle<()>>,
}

/// The client handle, used only while the client is alive (the keeper joins its thread
/// before the client is dropped).
struct Handle(*mut rdkafka::types::RDKafka);
// SAFETY: librdkafka's rd_kafka_oauthbearer_set_token* are thread-safe on a live handle.
unsafe impl Send for Handle {}

impl TokenKeeper {
    pub fn start<C: rdkafka::ClientContext>(
        client: &rdkafka::client::Client<C>,
        msk: &MskIam,
    ) -> Self {
        let stop = Arc::new((Mutex::new(false), Condvar::new()));
        let handle = Handle(client.native_ptr());
        let (msk, stop2) = (msk.clone(), stop.clone());
        let thread = std::thread::Builder::new()
            .name("msk-iam-token".into())
            .spawn(move || {
                let handle = handle;
                loop {
                    let wait = set_token(handle.0, &msk);
                    let (lock, cvar) = &*stop2;
                    let Ok(guard) = lock.lock() else { return };
                    let Ok((guard, _)) = cvar.wait_timeout_while(guard, wait, |s| !*s) else {
                        return;
                    };
                    if *guard {
                        return;
                    }
                }
            })
            .ok();
        Self { stop, thread }
    }
}

impl Drop for TokenKeeper {
    fn drop(&mut self) {
        let (lock, cvar) = &*self.stop;
        if let Ok(mut s) = lock.lock() {
            *s = true;
        }
        cvar.notify_all();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Sets a fresh token (or the failure) on `rk`; returns how long until the next refresh.
fn set_token(rk: *mut rdkafka::types::RDKafka, msk: &MskIam) -> Duration {
    use std::ffi::CString;
    let mut errstr = [0 as std::os::raw::c_char; 512];
    match msk.token() {
        Ok(t) => {
            let (Ok(value), Ok(principal)) = (CString::new(t.value), CString::new(t.principal))
            else {
                return Duration::from_secs(10);
            };
            // SAFETY: rk is a live client (see TokenKeeper); the strings outlive the call.
            unsafe {
                rdkafka::bindings::rd_kafka_oauthbearer_set_token(
                    rk,
                    value.as_ptr(),
                    t.expires_ms,
                    principal.as_ptr(),
                    std::ptr::null_mut(),
                    0,
                    errstr.as_mut_ptr(),
                    errstr.len(),
                );
            }
            let now_ms = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_millis() as i64)
                .unwrap_or(0);
            Duration::from_millis(((t.expires_ms - now_ms).max(10_000) as u64) * 4 / 5)
        }
        Err(e) => {
            tracing::error!("AWS_MSK_IAM: cannot make a token: {e}");
            if let Ok(msg) = CString::new(e) {
                // SAFETY: as above.
                unsafe {
                    rdkafka::bindings::rd_kafka_oauthbearer_set_token_failure(rk, msg.as_ptr())
                };
            }
            Duration::from_secs(10)
        }
    }
}

/// Finds credentials as the module documentation says, or says what to set.
fn credentials(profile: Option<&str>) -> std::result::Result<Credentials, String> {
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    if let (Some(id), Some(secret)) = (env("AWS_ACCESS_KEY_ID"), env("AWS_SECRET_ACCESS_KEY")) {
        return Ok(Credentials {
            access_key_id: id,
            secret_access_key: secret,
            session_token: env("AWS_SESSION_TOKEN"),
        });
    }
    let file = env("AWS_SHARED_CREDENTIALS_FILE")
        .map(PathBuf::from)
        .or_else(|| env("HOME").map(|h| PathBuf::from(h).join(".aws/credentials")));
    let profile = profile
        .map(str::to_string)
        .or_else(|| env("AWS_PROFILE"))
        .unwrap_or_else(|| "default".into());
    let hint = "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN for \
                temporary credentials), or a profile in the shared credentials file";
    let Some(file) = file else {
        return Err(format!("no AWS credentials found: {hint}"));
    };
    let text = match std::fs::read_to_string(&file) {
        Ok(t) => t,
        Err(e) => {
            return Err(format!(
                "no AWS credentials found (environment empty, {}: {e}): {hint}",
                file.display()
            ))
        }
    };
    profile_credentials(&text, &profile).ok_or_else(|| {
        format!(
            "no aws_access_key_id/aws_secret_access_key for profile [{profile}] in {}: {hint}",
            file.display()
        )
    })
}

/// The keys of `[profile]` in an AWS shared credentials (INI) file.
fn profile_credentials(text: &str, profile: &str) -> Option<Credentials> {
    let (mut id, mut secret, mut token) = (None, None, None);
    let mut inside = false;
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            inside = name.trim() == profile;
            continue;
        }
        if !inside {
            continue;
        }
        if let Some((k, v)) = line.split_once('=') {
            let v = v.trim().to_string();
            match k.trim() {
                "aws_access_key_id" => id = Some(v),
                "aws_secret_access_key" => secret = Some(v),
                "aws_session_token" => token = Some(v),
                _ => {}
            }
        }
    }
    Some(Credentials {
        access_key_id: id?,
        secret_access_key: secret?,
        session_token: token,
    })
}

/// The MSK IAM token for `region`, signed at `now` (Unix seconds), as AWS's signers make it.
pub fn sign_token(region: &str, creds: &Credentials, now: u64, user_agent: &str) -> Token {
    let days = (now / 86_400) as i64;
    let (y, mo, d) = crate::model::value::civil_from_days(days);
    let secs = now % 86_400;
    let date = format!("{y:04}{mo:02}{d:02}");
    let stamp = format!(
        "{date}T{:02}{:02}{:02}Z",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    );
    let host = format!("kafka.{region}.amazonaws.com");
    let scope = format!("{date}/{region}/{SERVICE}/aws4_request");
    let mut params: Vec<(&str, String)> = vec![
        ("Action", "kafka-cluster:Connect".into()),
        ("X-Amz-Algorithm", "AWS4-HMAC-SHA256".into()),
        (
            "X-Amz-Credential",
            format!("{}/{scope}", creds.access_key_id),
        ),
        ("X-Amz-Date", stamp.clone()),
        ("X-Amz-Expires", EXPIRES_SECS.to_string()),
        ("X-Amz-SignedHeaders", "host".into()),
    ];
    if let Some(t) = &creds.session_token {
        params.push(("X-Amz-Security-Token", t.clone()));
    }
    let join = |ps: &[(&str, String)]| {
        ps.iter()
            .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
            .collect::<Vec<_>>()
            .join("&")
    };
    // The URL keeps the signers' order (operation parameter first); the canonical request
    // sorts them.
    let query = join(&params);
    let mut sorted = params.clone();
    sorted.sort_by(|a, b| a.0.cmp(b.0));
    let canonical = format!(
        "GET\n/\n{}\nhost:{host}\n\nhost\n{}",
        join(&sorted),
        hex::encode(Sha256::digest(b""))
    );
    let to_sign = format!(
        "AWS4-HMAC-SHA256\n{stamp}\n{scope}\n{}",
        hex::encode(Sha256::digest(canonical.as_bytes()))
    );
    let mut key = hmac_sha256(
        format!("AWS4{}", creds.secret_access_key).as_bytes(),
        date.as_bytes(),
    );
    for part in [region, SERVICE, "aws4_request"] {
        key = hmac_sha256(&key, part.as_bytes());
    }
    let signature = hex::encode(hmac_sha256(&key, to_sign.as_bytes()));
    let url = format!(
        "https://{host}/?{query}&X-Amz-Signature={signature}&User-Agent={}",
        encode(user_agent)
    );
    use base64::Engine;
    Token {
        value: base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(url.as_bytes()),
        principal: creds.access_key_id.clone(),
        expires_ms: ((now + EXPIRES_SECS) * 1000) as i64,
    }
}

/// SigV4's URI encoding: every byte but `A-Z a-z 0-9 - _ . ~` as `%XX`.
fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// HMAC-SHA256 (RFC 2104).
fn hmac_sha256(key: &[u8], data: &[u8]) -> [u8; 32] {
    let mut block = [0u8; 64];
    if key.len() > 64 {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let mut inner = Sha256::new();
    inner.update(block.map(|b| b ^ 0x36));
    inner.update(data);
    let mut outer = Sha256::new();
    outer.update(block.map(|b| b ^ 0x5c));
    outer.update(inner.finalize());
    outer.finalize().into()
}

#[cfg(test)]
mod tests;

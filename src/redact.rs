//! Secrets never leave the process in text: the one redaction helper.
//!
//! Every secret rowtide is given — passwords and password files, the registry URL's
//! userinfo, `[sink.kafka]` keys whose names say they hold a secret, the same keys in the
//! environment, and anything that looks like one in a configuration file that does not
//! even parse — is [`register`]ed once, when configuration is read. Every door out of the
//! process — log lines ([`RedactingStderr`]), the final error, `check` and `offsets`
//! output, `/metrics` and `/healthz`, panic messages ([`install_panic_hook`]) — passes its
//! text through [`redact`], which replaces each registered secret and the userinfo of any
//! URL (`scheme://user:password@host` → `scheme://***@host`) with `***`.
//!
//! Values shorter than [`MIN_SECRET_LEN`] characters are not registered: replacing every
//! occurrence of a one- or two-letter string would make every message unreadable (such a
//! password is no protection either). The userinfo of URLs is redacted whatever its length.
//!
//! This module imports nothing from the crate, so every floor can use it.

use std::borrow::Cow;
use std::io::Write;
use std::sync::{OnceLock, RwLock};

/// What replaces a secret.
pub const MASK: &str = "***";

/// Shorter values are not registered as secrets (see the module documentation).
pub const MIN_SECRET_LEN: usize = 3;

fn secrets() -> &'static RwLock<Vec<String>> {
    static SECRETS: OnceLock<RwLock<Vec<String>>> = OnceLock::new();
    SECRETS.get_or_init(|| RwLock::new(Vec::new()))
}

/// True if a configuration key (TOML key, `[sink.kafka]` property or environment variable
/// name) holds a secret by its name: it contains `password`, `secret`, `token`, `key`
/// (`ssl.key.pem`, `api_key`), `credential` or `jaas`. Key *files* and paths
/// (`*_file`, `*.location`) are not secrets themselves; their contents are registered
/// where they are read.
pub fn is_secret_key(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    if n.ends_with("_file")
        || n.ends_with(".location")
        || n.ends_with(".type")
        || n.ends_with("registry_key")
        || n.ends_with("registry_cert")
    {
        return false;
    }
    ["password", "secret", "token", "key", "credential", "jaas"]
        .iter()
        .any(|w| n.contains(w))
}

/// Remembers `secret` (and its URL-encoded form) so that [`redact`] hides it from now on.
pub fn register(secret: &str) {
    let secret = secret.trim_end_matches(['\r', '\n']);
    // A config-provider reference (`${file:/run/secrets/pw}`) is where the secret is, not
    // the secret: its resolved value is registered instead, and the reference stays
    // readable in error messages.
    let bare = secret.trim().trim_matches(['"', '\'']);
    if bare.starts_with("${")
        && bare.ends_with('}')
        && bare.contains(':')
        && bare[2..bare.len() - 1].find(['{', '}', '$']).is_none()
    {
        return;
    }
    if secret.chars().count() < MIN_SECRET_LEN {
        return;
    }
    // As written, URL-encoded, and escaped as JSON logs and `{:?}` fields print it.
    let mut forms = vec![secret.to_string(), percent_encode(secret)];
    if let Ok(json) = serde_json::to_string(secret) {
        forms.push(json[1..json.len() - 1].to_string());
    }
    let debug = format!("{secret:?}");
    forms.push(debug[1..debug.len() - 1].to_string());
    let mut all = secrets().write().unwrap_or_else(|e| e.into_inner());
    for f in forms {
        if !all.contains(&f) {
            all.push(f);
        }
    }
    // Longest first, so a secret that contains another is replaced whole.
    all.sort_by_key(|s| std::cmp::Reverse(s.len()));
}

/// Registers the password in a URL's userinfo (`scheme://user:password@host…`), or the
/// whole userinfo when it has no `:` (a token). A password with an unescaped `/`, `?` or
/// `#` hides the `@` from URL parsing: then everything between `://` and the last `@` is
/// registered too (and the configuration is refused, see [`misplaced_userinfo`]).
pub fn register_url(url: &str) {
    let Some(info) = url_userinfo(url).or_else(|| misplaced_userinfo(url)) else {
        return;
    };
    let secret = match info.split_once(':') {
        Some((_, pass)) => pass,
        None => info,
    };
    register(secret);
    register(&percent_decode(secret));
    if url_userinfo(url).is_none() {
        register(info);
    }
}

/// The text between `://` and the last `@` of a URL when that `@` is not in the authority
/// (a password with an unescaped `/`, `?` or `#`).
pub fn misplaced_userinfo(url: &str) -> Option<&str> {
    let start = url.find("://")? + 3;
    let rest = &url[start..];
    let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
    let at = rest[..end].rfind('@')?;
    url_userinfo(url).is_none().then_some(&rest[..at])
}

/// Registers the secret-looking values of a configuration file's text (or of an
/// environment variable's value), without parsing it, so that text that does not parse
/// still cannot leak through the parser's error, which quotes the offending line: every
/// `key = value` and `"key": value` pair whose key [`is_secret_key`], on its own line or
/// in an inline table, and the lines of a multi-line string that follows such a key.
pub fn register_from_text(text: &str) {
    static PAIR: OnceLock<regex::Regex> = OnceLock::new();
    let pair = PAIR.get_or_init(|| {
        regex::Regex::new(
            r#"["']?([A-Za-z0-9_.\-]+)["']?\s*[=:]\s*("""|'''|"(?:[^"\\]|\\.)*"|'[^']*'|[^,{}\]\r\n]+)"#,
        )
        .expect("valid regex")
    });
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        for cap in pair.captures_iter(line) {
            if !is_secret_key(&cap[1]) {
                continue;
            }
            let value = cap[2].trim();
            if value == "\"\"\"" || value == "'''" {
                // A multi-line string: its lines, up to the closing quotes.
                let rest = &line[cap.get(2).map_or(line.len(), |m| m.end())..];
                register(rest.trim());
                for next in lines.by_ref() {
                    let done = next.contains(value);
                    register(next.split(value).next().unwrap_or(next).trim());
                    if done {
                        break;
                    }
                }
                continue;
            }
            register(value);
            register(unquote(value));
        }
    }
}

fn unquote(v: &str) -> &str {
    for q in ["\"\"\"", "'''", "\"", "'"] {
        if let Some(rest) = v.strip_prefix(q) {
            return rest.split(q).next().unwrap_or(rest);
        }
    }
    v.split(" #").next().unwrap_or(v).trim()
}

/// `text` with every registered secret and every URL userinfo replaced by [`MASK`].
pub fn redact(text: &str) -> Cow<'_, str> {
    let mut out = Cow::Borrowed(text);
    if text.contains("://") {
        if let Some(s) = redact_userinfo(&out) {
            out = Cow::Owned(s);
        }
    }
    let all = secrets().read().unwrap_or_else(|e| e.into_inner());
    for s in all.iter() {
        if out.contains(s.as_str()) {
            out = Cow::Owned(out.replace(s.as_str(), MASK));
        }
    }
    out
}

/// The userinfo of the first URL in `url` (between `://` and the `@` before the host).
pub fn url_userinfo(url: &str) -> Option<&str> {
    let start = url.find("://")? + 3;
    let rest = &url[start..];
    let authority_end = rest.find(['/', '?', '#', ' ']).unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    authority.rfind('@').map(|at| &authority[..at])
}

/// Replaces the userinfo of every URL in `text`; `None` if there was none.
fn redact_userinfo(text: &str) -> Option<String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    let mut changed = false;
    while let Some(i) = rest.find("://") {
        let (head, tail) = rest.split_at(i + 3);
        out.push_str(head);
        let end = tail
            .find(|c: char| c == '/' || c == '?' || c == '#' || c.is_whitespace() || c == '"')
            .unwrap_or(tail.len());
        let authority = &tail[..end];
        match authority.rfind('@') {
            Some(at) if at > 0 => {
                out.push_str(MASK);
                out.push_str(&authority[at..]);
                changed = true;
            }
            _ => out.push_str(authority),
        }
        rest = &tail[end..];
    }
    out.push_str(rest);
    changed.then_some(out)
}

/// `%XX` for every byte but the unreserved ones (RFC 3986: letters, digits, `-_.~`).
pub fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Decodes `%XX` escapes (invalid escapes are kept as they are).
pub fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
            if let Some(v) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A `tracing` writer to stderr that redacts each log line before it is written.
#[derive(Clone, Copy, Default)]
pub struct RedactingStderr;

/// One log event's bytes, redacted and written when dropped.
pub struct RedactingLine {
    buf: Vec<u8>,
}

impl Write for RedactingLine {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(data);
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for RedactingLine {
    fn drop(&mut self) {
        if self.buf.is_empty() {
            return;
        }
        let text = String::from_utf8_lossy(&self.buf);
        let _ = std::io::stderr().write_all(redact(&text).as_bytes());
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for RedactingStderr {
    type Writer = RedactingLine;

    fn make_writer(&'a self) -> Self::Writer {
        RedactingLine {
            buf: Vec::with_capacity(256),
        }
    }
}

/// Prints `line` and a newline on stdout, redacted; a closed pipe is not an error.
pub fn println(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(redact(line).as_bytes());
    let _ = out.write_all(b"\n");
}

/// Prints `line` and a newline on stderr, redacted.
pub fn eprintln(line: &str) {
    let _ = writeln!(std::io::stderr(), "{}", redact(line));
}

/// Panic messages are redacted too: the hook prints what the default hook would (the
/// thread, the message, the location) through [`redact`].
pub fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        let thread = std::thread::current();
        let name = thread.name().unwrap_or("<unnamed>");
        let msg = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "Box<dyn Any>".into());
        let location = info
            .location()
            .map(|l| format!("{}:{}:{}", l.file(), l.line(), l.column()))
            .unwrap_or_default();
        eprintln(&format!(
            "thread '{name}' panicked at {location}:\n{msg}\nnote: this is a bug in rowtide; please report it"
        ));
    }));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registered_secrets_and_their_url_form_are_masked() {
        register("s3cr3t/p@ss");
        let r = redact("login with s3cr3t/p@ss or s3cr3t%2Fp%40ss failed");
        assert_eq!(r, "login with *** or *** failed");
    }

    #[test]
    fn url_userinfo_is_masked_whatever_is_registered() {
        assert_eq!(
            redact("schema registry: http://user:pw@host:8081/apis answers"),
            "schema registry: http://***@host:8081/apis answers"
        );
        assert_eq!(
            redact("a https://tok@h/x and http://u:p@h2?x=1 and mailto:x@y"),
            "a https://***@h/x and http://***@h2?x=1 and mailto:x@y"
        );
        assert_eq!(redact("no url here"), "no url here");
        assert_eq!(redact("http://host:1/a@b"), "http://host:1/a@b");
    }

    #[test]
    fn register_url_takes_the_decoded_password() {
        register_url("http://alice:w%40rd-xyz@host/");
        assert_eq!(redact("it was w@rd-xyz"), "it was ***");
    }

    #[test]
    fn text_scan_finds_secret_keys_even_in_a_broken_file() {
        register_from_text(
            "[source]\npassword = abc def ghi\n[sink.kafka]\n\"sasl.password\" = \"kp-123\" # x\n\
             \"ssl.key.location\" = \"/etc/k.pem\"\nuser = \"bob\"\n",
        );
        assert_eq!(
            redact("line: password = abc def ghi"),
            "line: password = ***"
        );
        assert_eq!(redact("kp-123"), "***");
        assert_eq!(redact("/etc/k.pem bob"), "/etc/k.pem bob");
    }

    #[test]
    fn short_values_are_not_registered() {
        register("ab");
        assert_eq!(redact("ab"), "ab");
    }

    #[test]
    fn secret_key_names() {
        for k in [
            "password",
            "sasl.password",
            "ssl.key.password",
            "ssl.key.pem",
            "sasl.oauthbearer.client.secret",
            "sasl.jaas.config",
            "api_token",
            "ROWTIDE_SOURCE__PASSWORD",
        ] {
            assert!(is_secret_key(k), "{k}");
        }
        for k in [
            "password_file",
            "ssl.key.location",
            "ssl.keystore.type",
            "user",
            "sasl.username",
            "brokers",
        ] {
            assert!(!is_secret_key(k), "{k}");
        }
    }

    #[test]
    fn inline_tables_json_multiline_strings_and_escaped_forms() {
        register_from_text(
            "kafka = { \"sasl.password\" = \"inl-secret-1\", \"linger.ms\" = \"5\", }",
        );
        register_from_text("{\"sasl.password\": \"json-secret-2\"}");
        register_from_text("password = \"\"\"\nmulti-secret-3\n\"\"\"\nuser = \"u\"");
        assert_eq!(
            redact("a inl-secret-1 b json-secret-2 c multi-secret-3"),
            "a *** b *** c ***"
        );
        register("q\"uo\\te-4");
        assert_eq!(
            redact(r#"{"password":"q\"uo\\te-4"}"#),
            r#"{"password":"***"}"#
        );
    }

    #[test]
    fn token_and_misplaced_userinfo() {
        register_url("https://tok-en-5@h/x");
        assert_eq!(
            redact("basic auth as user 'tok-en-5'"),
            "basic auth as user '***'"
        );
        let bad = "http://u:pa/ss-6@h:8081/apis";
        assert_eq!(misplaced_userinfo(bad), Some("u:pa/ss-6"));
        register_url(bad);
        assert!(!redact(bad).contains("pa/ss-6"), "{}", redact(bad));
        assert_eq!(misplaced_userinfo("http://u:p@h/x"), None);
        assert_eq!(misplaced_userinfo("http://h/x"), None);
    }
}

//! `[notifications]`: snapshot notifications as records (Debezium's sink notification
//! channel, `notification.enabled.channels = sink` with `notification.sink.topic.name`).

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// `[notifications]`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct NotificationsConfig {
    /// The topic that receives a record per snapshot step (started, table scan completed,
    /// completed, paused, resumed, aborted …), keyed by the notification id. Unset (the
    /// default): no notifications.
    pub topic: Option<String>,
    /// Also one `IN_PROGRESS` notification per chunk of an incremental snapshot (and per
    /// table the initial snapshot starts), as Debezium sends them; `false` keeps only the
    /// start, table and end notifications.
    pub in_progress: bool,
}

impl Default for NotificationsConfig {
    fn default() -> Self {
        Self {
            topic: None,
            in_progress: true,
        }
    }
}

impl NotificationsConfig {
    pub(super) fn validate(&self) -> Result<()> {
        match self.topic.as_deref() {
            Some(t) if !valid_topic(t) => Err(Error::Config(format!(
                "notifications.topic = \"{t}\" is not a valid Kafka topic name (1 to 249 of \
                 a-z A-Z 0-9 . _ -, not \".\" or \"..\")"
            ))),
            _ => Ok(()),
        }
    }
}

fn valid_topic(t: &str) -> bool {
    !t.is_empty()
        && t.len() <= 249
        && t != "."
        && t != ".."
        && t.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topic_names_are_checked() {
        let mut c = NotificationsConfig::default();
        assert!(c.validate().is_ok(), "off by default");
        c.topic = Some("rowtide.notifications".into());
        assert!(c.validate().is_ok());
        for bad in ["", "..", "a b", "a/b"] {
            c.topic = Some(bad.into());
            let e = c.validate().unwrap_err().to_string();
            assert!(e.contains("notifications.topic"), "{e}");
        }
    }
}

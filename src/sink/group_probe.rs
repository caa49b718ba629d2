//! `rowtide check` with `[ha]`: whether the brokers let this principal take part in the
//! failover group's coordination — describe the group, join a group on the state topic and
//! be assigned its partition — without disturbing a running group.
//!
//! The real group (`rowtide-ha-<group>`) is only described (DESCRIBE): joining it would
//! make the check a member competing for the pipeline. The join is made under
//! `<consumer group>.check`, the same way the transactions check initializes
//! `<transactional.id>.check`; ACLs granted on a prefix (`rowtide-ha-`) cover both.

use std::sync::Arc;
use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::types::RDKafkaErrorCode;

use super::kafka::{client_config, Fault, Identity, KafkaContext};
use crate::config::SinkConfig;
use crate::error::{Error, Result};

/// What the check found about the real group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupState {
    /// Members of the failover group now (0 when no instance runs).
    pub members: usize,
    /// The coordinator's state of the group (`Stable`, `Empty`, `Dead` when unknown, …).
    pub state: String,
    /// The name the join was checked under.
    pub checked_as: String,
}

/// Describes `group`, then joins `<group>.check` on `topic` (one partition, which must
/// exist) and waits up to `timeout` to be assigned it. Blocking.
pub fn probe(sink: &SinkConfig, group: &str, topic: &str, timeout: Duration) -> Result<GroupState> {
    let checked_as = format!("{group}.check");
    let mut conf = client_config(sink);
    conf.set("group.id", &checked_as)
        .set("client.id", "rowtide-check")
        .set("partition.assignment.strategy", "cooperative-sticky")
        .set("session.timeout.ms", "10000")
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false")
        .set("auto.offset.reset", "latest")
        .set("allow.auto.create.topics", "false");
    let consumer: BaseConsumer<KafkaContext> = conf
        .create_with_context(KafkaContext::new(
            Identity::of(sink),
            Arc::new(Fault::default()),
        ))
        .map_err(|e| Error::Config(format!("sink.kafka: invalid consumer setting: {e}")))?;
    let (members, state) = match consumer.fetch_group_list(Some(group), timeout) {
        Ok(list) => list
            .groups()
            .iter()
            .find(|g| g.name() == group)
            .map(|g| (g.members().len(), g.state().to_string()))
            .unwrap_or((0, "Dead".into())),
        Err(e) => return Err(refused(group, topic, "describe", e)),
    };
    consumer
        .subscribe(&[topic])
        .map_err(|e| refused(group, topic, "subscribe to", e))?;
    let deadline = Instant::now() + timeout;
    let outcome = loop {
        if let Some(Err(e)) = consumer.poll(Duration::from_millis(100)) {
            break Err(refused(&checked_as, topic, "join", e));
        }
        match consumer.assignment() {
            Ok(tpl) if tpl.count() > 0 => break Ok(()),
            _ => {}
        }
        if Instant::now() > deadline {
            break Err(Error::Access {
                component: "kafka",
                message: format!(
                    "the group coordinator assigned nothing to {checked_as} on {topic} within \
                     {} s: check that the brokers' group coordinator is available and that \
                     the state topic has one partition",
                    timeout.as_secs()
                ),
            });
        }
    };
    consumer.unsubscribe();
    outcome.map(|()| GroupState {
        members,
        state,
        checked_as,
    })
}

/// The operator's message for a refused group call: ACLs to grant when not authorized.
fn refused(group: &str, topic: &str, what: &str, e: KafkaError) -> Error {
    let message = match e.rdkafka_error_code() {
        Some(RDKafkaErrorCode::GroupAuthorizationFailed) => format!(
            "not authorized to {what} consumer group {group} ({e}); the failover group needs \
             READ (and DESCRIBE, for `check`) on consumer groups prefixed rowtide-ha- \
             (kafka-acls --add \
             --allow-principal User:<principal> --operation Read --operation Describe \
             --group rowtide-ha- --resource-pattern-type prefixed)"
        ),
        Some(RDKafkaErrorCode::TopicAuthorizationFailed) => format!(
            "not authorized to read the state topic {topic} as a group member ({e}); grant \
             READ and DESCRIBE on it (kafka-acls --add --allow-principal User:<principal> \
             --operation Read --operation Describe --topic {topic})"
        ),
        _ => format!("cannot {what} consumer group {group} on {topic}: {e}"),
    };
    Error::Access {
        component: "kafka",
        message,
    }
}

//! `rowtide check` with `checkpoint.store = "kafka"`: the state topic, transactions and,
//! with `[ha]`, the failover group's coordination.

use std::time::Duration;

use super::{Outcome, Report};
use crate::config::Config;

/// `checkpoint.store = "kafka"`: the state topic exists compacted with one partition (or
/// can be created so), and the brokers let rowtide run transactions. False when the state
/// cannot be read.
pub(super) async fn check_state_topic(cfg: &Config, r: &mut Report) -> bool {
    use crate::checkpoint::state_topic::{admin, check_transactions, create, inspect, TopicState};
    let topic = cfg.checkpoint.kafka_topic_for(&cfg.sink.topic_prefix);
    let sink = cfg.sink.clone();
    let t = topic.clone();
    let found = tokio::task::spawn_blocking(move || {
        let a = admin(&sink)?;
        let state = inspect(&a, &t)?;
        if state == TopicState::Missing && sink.create_topics {
            create(&a, &sink, &t, true)?;
        }
        Ok::<_, crate::Error>(state)
    })
    .await;
    let readable = match found {
        Ok(Ok(TopicState::Ready)) => {
            r.add(
                "state topic",
                Outcome::Ok(format!("{topic} is compacted with 1 partition")),
            );
            true
        }
        Ok(Ok(TopicState::Missing)) if cfg.sink.create_topics => {
            r.add(
                "state topic",
                Outcome::Ok(format!(
                    "{topic} does not exist yet; the brokers accept to create it (compacted, 1 partition)"
                )),
            );
            true
        }
        Ok(Ok(TopicState::Missing)) => {
            r.add(
                "state topic",
                Outcome::Fail(format!(
                    "{topic} does not exist and sink.create_topics = false: kafka-topics --create --topic {topic} --partitions 1 --replication-factor {} --config cleanup.policy=compact",
                    cfg.sink.topic_replication_factor
                )),
            );
            false
        }
        Ok(Err(e)) => {
            r.add("state topic", Outcome::Fail(e.to_string()));
            false
        }
        Err(e) => {
            r.add("state topic", Outcome::Fail(e.to_string()));
            false
        }
    };
    let sink = cfg.sink.clone();
    let t = topic.clone();
    match tokio::task::spawn_blocking(move || check_transactions(&sink, &t)).await {
        Ok(Ok(id)) => r.add(
            "kafka transactions",
            Outcome::Ok(format!(
                "a transactional producer initialized (checked as {id}); sink.delivery = {} \
                 writes as transactional.id {}",
                cfg.sink.delivery.name(),
                crate::config::delivery::transactional_id(&cfg.sink, &topic)
            )),
        ),
        Ok(Err(e)) => r.add("kafka transactions", Outcome::Fail(e.to_string())),
        Err(e) => r.add("kafka transactions", Outcome::Fail(e.to_string())),
    }
    if readable {
        check_ha_group(cfg, &topic, r).await;
    }
    readable
}

/// `[ha] group`: the principal may describe the failover group and join a group on the
/// state topic (see `sink::group_probe`).
async fn check_ha_group(cfg: &Config, topic: &str, r: &mut Report) {
    let Some(group) = cfg.ha.consumer_group() else {
        return;
    };
    let (sink, t, g) = (cfg.sink.clone(), topic.to_string(), group.clone());
    let probed = tokio::task::spawn_blocking(move || {
        crate::sink::group_probe::probe(&sink, &g, &t, Duration::from_secs(15))
    })
    .await;
    match probed {
        Ok(Ok(s)) => {
            // Kafka lists only the groups a principal may describe: an unknown group and
            // one it may not see look the same.
            let now = if s.state == "Dead" {
                "no member now (or no DESCRIBE on it)".to_string()
            } else {
                format!("{} member(s) now ({})", s.members, s.state)
            };
            r.add(
                "failover group",
                Outcome::Ok(format!(
                    "consumer group {group} on {topic}: {now}; joining and being assigned the \
                     state topic's partition works (checked as {})",
                    s.checked_as
                )),
            )
        }
        Ok(Err(e)) => r.add("failover group", Outcome::Fail(e.to_string())),
        Err(e) => r.add("failover group", Outcome::Fail(e.to_string())),
    }
}

//! `sasl.mechanism = "AWS_MSK_IAM"` in `[sink.kafka]`: the cluster's region, and the build
//! feature it needs (moved out of `config.rs`, unchanged).

use super::SinkConfig;
use crate::error::{Error, Result};

/// `sasl.mechanism = "AWS_MSK_IAM"` needs a region (and a build with its feature).
pub(super) fn validate_kafka_mechanism(sink: &SinkConfig) -> Result<()> {
    if sink.msk_iam_region()?.is_some() && !cfg!(feature = "aws-msk-iam") {
        return Err(Error::Config(
            "sink.kafka: sasl.mechanism AWS_MSK_IAM needs a rowtide built with the aws-msk-iam \
             feature (cargo build --features aws-msk-iam)"
                .into(),
        ));
    }
    Ok(())
}

impl SinkConfig {
    /// With `sasl.mechanism = "AWS_MSK_IAM"` in `[sink.kafka]`: the cluster's region
    /// (`aws_region`, else `AWS_REGION`, else `AWS_DEFAULT_REGION`); a missing or malformed
    /// one is a config error. `None` for any other mechanism.
    pub fn msk_iam_region(&self) -> Result<Option<String>> {
        let mech = self
            .kafka
            .get("sasl.mechanism")
            .or_else(|| self.kafka.get("sasl.mechanisms"));
        if !mech.is_some_and(|m| m.eq_ignore_ascii_case("AWS_MSK_IAM")) {
            return Ok(None);
        }
        let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        let region = self
            .aws_region
            .clone()
            .or_else(|| env("AWS_REGION"))
            .or_else(|| env("AWS_DEFAULT_REGION"))
            .ok_or_else(|| {
                Error::Config(
                    "sink.kafka: sasl.mechanism AWS_MSK_IAM needs the cluster's AWS region: set \
                     [sink] aws_region = \"<region>\" (or AWS_REGION)"
                        .into(),
                )
            })?;
        if region.is_empty()
            || !region
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            return Err(Error::Config(format!(
                "sink.aws_region: {region:?} is not an AWS region name (like eu-west-1)"
            )));
        }
        Ok(Some(region))
    }
}

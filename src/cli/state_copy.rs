//! `rowtide offsets copy --to sled|kafka`: the migration between state stores. Copies the
//! checkpoint and the catalog saved with it from the configured store into the other one
//! (the pair is written in one atomic save), refusing to overwrite a target that already
//! holds a checkpoint unless asked to.

use crate::checkpoint::{open_store, Access, CheckpointStore};
use crate::config::{Config, StoreKind};
use crate::error::{Error, Result};

pub(super) fn copy(
    cfg: &Config,
    from: &dyn CheckpointStore,
    to: StoreKind,
    force: bool,
) -> Result<i32> {
    if to == cfg.checkpoint.store {
        return Err(Error::Config(format!(
            "offsets copy --to {0}: the configured store (checkpoint.store) is already {0}; \
             run the copy with the configuration of the store that holds the state",
            to.name()
        )));
    }
    if to == StoreKind::Kafka && cfg.sink.kind != crate::config::SinkKind::Kafka {
        return Err(Error::Config(
            "offsets copy --to kafka writes to the sink's Kafka cluster and needs sink.kind = \
             \"kafka\" (with sink.brokers)"
                .into(),
        ));
    }
    let Some(cp) = from.load()? else {
        return Err(Error::Config(format!(
            "{} holds no checkpoint: nothing to copy",
            from.describe()
        )));
    };
    let catalog = from.load_catalog()?;
    let target = open_store(cfg, to, Access::ReadWrite)?;
    if let Some(existing) = target.load()? {
        if !force {
            return Err(Error::Config(format!(
                "{} already holds a checkpoint (at {}); add --force to overwrite it",
                target.describe(),
                existing.offset
            )));
        }
    }
    match &catalog {
        Some(tables) => target.save_with_catalog(&cp, tables)?,
        None => {
            // Nothing of an older catalog may stay next to the copied checkpoint.
            target.clear()?;
            target.save(&cp)?;
        }
    }
    crate::redact::println(&format!(
        "copied the checkpoint at {} and {} from {} to {}; set checkpoint.store = \"{}\" \
         before the next run",
        cp.offset,
        match &catalog {
            Some(t) => format!("the catalog of {} tables", t.len()),
            None => "no catalog".into(),
        },
        from.describe(),
        target.describe(),
        to.name()
    ));
    Ok(0)
}

//! Proves that the live binlog source resumes exactly against the real MariaDB 10.11 server:
//! from a stored commit offset it yields exactly the changes after it; from the start of a
//! transaction with `skip_rows = N` it yields exactly the rest of that transaction (inside
//! one rows event and across rows events); from a MariaDB GTID (empty file name) it streams
//! from after that GTID; and when the server kills the binlog dump thread mid-stream —
//! between transactions and in the middle of a 300,000-row transaction — while writes
//! continue, the stream reconnects and no change is lost or repeated. A binlog rotation
//! (FLUSH BINARY LOGS) is followed, and offsets on either side of it resume exactly.

mod common;
mod stream_harness;

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use common::poll::poll_until_async;
use mysql_async::prelude::Queryable;
use rowtide::model::{
    position::BinlogPosition, position::GtidSet, position::SourceOffset, Change, SourceEvent, Value,
};

use stream_harness::{changes, here, Stream};

/// Writes three transactions to `t`: T1 = ids 1..=2, T2 = ids 10..=14 (a 3-row INSERT and a
/// 2-row INSERT, so two rows events), T3 = ids 20..=21.
async fn three_transactions(env: &common::TestEnv, db: &str) {
    let mut c = common::admin(env).await;
    c.query_drop(format!("USE `{db}`")).await.unwrap();
    c.query_drop("CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(10))")
        .await
        .unwrap();
    c.query_drop("BEGIN").await.unwrap();
    c.query_drop("INSERT INTO t VALUES (1, 'a'), (2, 'b')")
        .await
        .unwrap();
    c.query_drop("COMMIT").await.unwrap();
    c.query_drop("BEGIN").await.unwrap();
    c.query_drop("INSERT INTO t VALUES (10, 'c'), (11, 'd'), (12, 'e')")
        .await
        .unwrap();
    c.query_drop("INSERT INTO t VALUES (13, 'f'), (14, 'g')")
        .await
        .unwrap();
    c.query_drop("COMMIT").await.unwrap();
    c.query_drop("BEGIN").await.unwrap();
    c.query_drop("INSERT INTO t VALUES (20, 'h')")
        .await
        .unwrap();
    c.query_drop("INSERT INTO t VALUES (21, 'i')")
        .await
        .unwrap();
    c.query_drop("COMMIT").await.unwrap();
    c.disconnect().await.ok();
}

fn id_of(c: &Change) -> i64 {
    let row = c.after.as_ref().or(c.before.as_ref()).expect("an image");
    match row[0] {
        Value::Int(i) => i,
        ref v => panic!("id is not an INT: {v:?}"),
    }
}

fn ids(events: &[SourceEvent]) -> Vec<i64> {
    changes(events).into_iter().map(id_of).collect()
}

/// The Commit that directly follows the change with `id`.
fn commit_after(events: &[SourceEvent], id: i64) -> SourceOffset {
    let i = events
        .iter()
        .position(|e| matches!(e, SourceEvent::Change(c) if id_of(c) == id))
        .expect("the change is there");
    match events.get(i + 1) {
        Some(SourceEvent::Commit { offset, .. }) => offset.clone(),
        other => panic!("change {id} is not followed by its commit: {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resume_from_a_commit_offset_yields_exactly_what_follows() {
    let Some(env) = common::servers() else { return };
    let db = common::fresh_db(&env, "res_commit").await;
    let cfg = common::source_config(&env, &[format!("{db}\\..*")]);
    let start = here(&cfg).await;
    three_transactions(&env, &db).await;

    let mut st = Stream::start(cfg.clone(), start);
    let all = st.until_changes(9).await;
    st.stop().await;
    assert_eq!(ids(&all), [1, 2, 10, 11, 12, 13, 14, 20, 21]);

    let after_t1 = commit_after(&all, 2);
    assert_eq!(after_t1.skip_rows, 0);
    assert!(!after_t1.binlog.file.is_empty());
    // A stored offset goes through its serialized form, as the checkpoint keeps it.
    let stored = serde_json::to_string(&after_t1).unwrap();
    let restored: SourceOffset = serde_json::from_str(&stored).unwrap();
    assert_eq!(restored, after_t1);

    let mut cfg2 = common::source_config(&env, &[format!("{db}\\..*")]);
    cfg2.include = cfg.include.clone();
    let mut st = Stream::start(cfg2, restored);
    let rest = st.until_changes(7).await;
    st.stop().await;
    assert_eq!(ids(&rest), [10, 11, 12, 13, 14, 20, 21]);
    // The resumed stream reports the same commit offsets as the first one did.
    assert_eq!(commit_after(&rest, 14), commit_after(&all, 14));
    assert_eq!(commit_after(&rest, 21), commit_after(&all, 21));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resume_into_a_transaction_skips_exactly_the_delivered_rows() {
    let Some(env) = common::servers() else { return };
    let db = common::fresh_db(&env, "res_skip").await;
    let cfg = common::source_config(&env, &[format!("{db}\\..*")]);
    let start = here(&cfg).await;
    three_transactions(&env, &db).await;

    let mut st = Stream::start(cfg, start);
    let all = st.until_changes(9).await;
    st.stop().await;
    let ch = changes(&all);
    let first_of_t2 = ch.iter().find(|c| id_of(c) == 10).unwrap();
    let p = &first_of_t2.position;
    assert_eq!(p.txn_row, 0);
    // skip 2: inside the first rows event; skip 4: into the second rows event; skip 5: the
    // whole transaction was delivered (only its commit is left).
    for (skip, want) in [
        (2u64, vec![12, 13, 14, 20, 21]),
        (4, vec![14, 20, 21]),
        (5, vec![20, 21]),
    ] {
        let offset = SourceOffset {
            binlog: BinlogPosition::new(p.txn_file.to_string(), p.txn_pos),
            gtid_set: p.gtid_before.as_deref().cloned(),
            skip_rows: skip,
        };
        let cfg = common::source_config(&env, &[format!("{db}\\..*")]);
        let mut st = Stream::start(cfg, offset);
        let got = st.until_changes(want.len()).await;
        st.stop().await;
        assert_eq!(ids(&got), want, "resume with skip_rows = {skip}");
        // The skipped transaction still ends with its own commit.
        assert_eq!(commit_after(&got, 21), commit_after(&all, 21));
        if skip < 5 {
            assert_eq!(commit_after(&got, 14), commit_after(&all, 14));
            // Row indexes within the transaction count the skipped rows too.
            let first = changes(&got)[0].position.txn_row;
            assert_eq!(first, skip, "txn_row continues after the skipped rows");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gtid_start_streams_from_after_that_gtid() {
    let Some(env) = common::servers() else { return };
    let db = common::fresh_db(&env, "res_gtid").await;
    let cfg = common::source_config(&env, &[format!("{db}\\..*")]);
    let start = here(&cfg).await;
    assert!(
        matches!(start.gtid_set, Some(GtidSet::Mariadb(_))),
        "MariaDB reports gtid_binlog_pos: {:?}",
        start.gtid_set
    );
    three_transactions(&env, &db).await;

    let mut st = Stream::start(cfg, start.clone());
    let all = st.until_changes(9).await;
    st.stop().await;
    let after_t1 = commit_after(&all, 2);
    let gtid_t1 = changes(&all)[0]
        .position
        .gtid
        .clone()
        .expect("T1 has a GTID");
    let list = match &after_t1.gtid_set {
        Some(GtidSet::Mariadb(l)) => l.clone(),
        other => panic!("no MariaDB GTID list after T1: {other:?}"),
    };
    assert!(
        list.iter().any(|g| g.to_string() == *gtid_t1),
        "{list} holds {gtid_t1}"
    );

    // GTID mode: no file name, only the executed GTIDs.
    let offset = SourceOffset {
        binlog: BinlogPosition::new("", 4),
        gtid_set: Some(GtidSet::Mariadb(list.clone())),
        skip_rows: 0,
    };
    let cfg = common::source_config(&env, &[format!("{db}\\..*")]);
    let mut st = Stream::start(cfg, offset);
    let rest = st.until_changes(7).await;
    st.stop().await;
    assert_eq!(ids(&rest), [10, 11, 12, 13, 14, 20, 21]);
    // Positions and commit offsets are real coordinates again (the server's rotate names
    // the file), equal to those of the file:pos stream.
    let (c10, first_c10) = (changes(&rest)[0], changes(&all)[2]);
    assert_eq!(
        (
            c10.position.file.as_ref(),
            c10.position.pos,
            c10.position.txn_pos
        ),
        (
            first_c10.position.file.as_ref(),
            first_c10.position.pos,
            first_c10.position.txn_pos
        )
    );
    assert_eq!(commit_after(&rest, 14), commit_after(&all, 14));
    assert_eq!(commit_after(&rest, 21), commit_after(&all, 21));
}

/// A dedicated replication user, so that this test kills only its own dump threads.
struct KillUser {
    name: String,
    password: String,
}

async fn create_kill_user(env: &common::TestEnv) -> KillUser {
    let name = format!("rtk{}", &common::unique("u").replace('_', "")[1..]);
    let name: String = name.chars().take(32).collect();
    let password = "kill-me-secret".to_string();
    let mut c = common::admin(env).await;
    for host in ["127.0.0.1", "localhost"] {
        c.query_drop(format!(
            "CREATE USER '{name}'@'{host}' IDENTIFIED BY '{password}'"
        ))
        .await
        .unwrap();
        c.query_drop(format!(
            "GRANT SELECT, RELOAD, SHOW DATABASES, REPLICATION SLAVE, REPLICATION CLIENT \
             ON *.* TO '{name}'@'{host}'"
        ))
        .await
        .unwrap();
    }
    c.disconnect().await.ok();
    KillUser { name, password }
}

/// Kills every binlog dump thread of `user`; returns how many.
async fn kill_dump_threads(env: &common::TestEnv, user: &str) -> usize {
    let mut c = common::admin(env).await;
    let ids: Vec<u64> = poll_until_async(
        &format!("a binlog dump thread of {user} to kill"),
        Duration::from_secs(20),
        Duration::from_millis(50),
        async || {
            let ids: Vec<u64> = c
                .exec(
                    "SELECT ID FROM information_schema.PROCESSLIST \
                     WHERE USER = ? AND COMMAND LIKE 'Binlog Dump%'",
                    (user,),
                )
                .await
                .unwrap();
            if ids.is_empty() {
                Err("none".into())
            } else {
                Ok(ids)
            }
        },
    )
    .await;
    for id in &ids {
        // The thread may end by itself in between; that is fine.
        let _ = c.query_drop(format!("KILL {id}")).await;
    }
    c.disconnect().await.ok();
    ids.len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_dump_thread_reconnects_without_loss_or_repeat() {
    const SMALL: i64 = 300;
    const BIG: i64 = 300_000;
    const MARKER: i64 = 1_000_000;
    let Some(env) = common::servers() else { return };
    // Show the stream's reconnect warnings (with the resume offset) in the test output.
    let _ = tracing_subscriber::fmt().with_test_writer().try_init();
    let db = common::fresh_db(&env, "res_kill").await;
    let user = create_kill_user(&env).await;
    let mut cfg = common::source_config(&env, &[format!("{db}\\..*")]);
    cfg.user = user.name.clone();
    cfg.password = Some(user.password.clone());
    cfg.reconnect_backoff_ms = 100;
    cfg.reconnect_backoff_max_ms = 1_000;
    let start = here(&cfg).await;
    let mut c = common::admin(&env).await;
    c.query_drop(format!("USE `{db}`")).await.unwrap();
    c.query_drop("CREATE TABLE small (id INT PRIMARY KEY)")
        .await
        .unwrap();
    c.query_drop("CREATE TABLE big (id INT PRIMARY KEY, v VARCHAR(40))")
        .await
        .unwrap();

    // Writes continue all along: one autocommit insert every 5 ms.
    let writer_env = env.clone();
    let writer_db = db.clone();
    let writer = tokio::spawn(async move {
        let mut w = common::admin(&writer_env).await;
        w.query_drop(format!("USE `{writer_db}`")).await.unwrap();
        for i in 1..=SMALL {
            w.query_drop(format!("INSERT INTO small VALUES ({i})"))
                .await
                .unwrap();
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        w.disconnect().await.ok();
    });

    let mut st = Stream::start_with_capacity(cfg, start, 64);
    let mut small_ids = Vec::new();
    let mut big_ids: Vec<i64> = Vec::with_capacity(BIG as usize);
    let mut kills = 0;
    let mut big_started = false;
    let mut marker_sent = false;
    let deadline = Instant::now() + Duration::from_secs(240);
    loop {
        assert!(Instant::now() < deadline, "the test took too long");
        let ev = st.next(Duration::from_secs(60)).await;
        let SourceEvent::Change(ch) = ev else {
            continue;
        };
        let id = id_of(&ch);
        match ch.table.name.as_str() {
            "small" => small_ids.push(id),
            "big" => big_ids.push(id),
            other => panic!("unexpected table {other}"),
        }
        if kills == 0 && small_ids.len() == 50 {
            // Between transactions.
            kills += kill_dump_threads(&env, &user.name).await;
            // And a 300,000-row transaction, to be interrupted in the middle.
            c.query_drop(format!(
                "INSERT INTO big SELECT seq, CONCAT('big-row-', seq) FROM seq_1_to_{BIG}"
            ))
            .await
            .unwrap();
            big_started = true;
        }
        if big_started && kills == 1 && big_ids.len() == 20_000 {
            kills += kill_dump_threads(&env, &user.name).await;
        }
        if id == MARKER {
            break;
        }
        if !marker_sent && big_ids.len() == BIG as usize && small_ids.len() == SMALL as usize {
            // Everything written has arrived; the marker proves nothing else follows.
            c.query_drop(format!("INSERT INTO small VALUES ({MARKER})"))
                .await
                .unwrap();
            marker_sent = true;
        }
    }
    let connected = st.counts.connected.load(Ordering::SeqCst);
    let disconnected = st.counts.disconnected.load(Ordering::SeqCst);
    st.stop().await;
    writer.await.unwrap();
    c.disconnect().await.ok();
    let mut a = common::admin(&env).await;
    for host in ["127.0.0.1", "localhost"] {
        let _ = a
            .query_drop(format!("DROP USER '{}'@'{host}'", user.name))
            .await;
    }
    a.disconnect().await.ok();

    eprintln!(
        "killed {kills} dump threads; the stream connected {connected} times and reported \
         {disconnected} disconnects"
    );
    assert_eq!(kills, 2);
    assert!(
        disconnected >= 2 && connected >= 3,
        "the stream noticed both kills and reconnected ({connected} connects, {disconnected} disconnects)"
    );
    let want_small: Vec<i64> = (1..=SMALL).chain([MARKER]).collect();
    assert_eq!(
        small_ids, want_small,
        "every small row exactly once, in order"
    );
    assert_eq!(big_ids.len(), BIG as usize, "every big row exactly once");
    assert!(
        big_ids.iter().zip(1..).all(|(a, b)| *a == b),
        "big rows in order with no gap or repeat"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn binlog_rotation_is_followed_and_offsets_name_the_new_file() {
    let Some(env) = common::servers() else { return };
    let db = common::fresh_db(&env, "res_rotate").await;
    let cfg = common::source_config(&env, &[format!("{db}\\..*")]);
    let start = here(&cfg).await;
    let mut c = common::admin(&env).await;
    c.query_drop(format!("USE `{db}`")).await.unwrap();
    c.query_drop("CREATE TABLE t (id INT PRIMARY KEY)")
        .await
        .unwrap();
    c.query_drop("INSERT INTO t VALUES (1)").await.unwrap();
    // Rotating only starts a new file: other streams on this server follow it too.
    c.query_drop("FLUSH BINARY LOGS").await.unwrap();
    c.query_drop("BEGIN").await.unwrap();
    c.query_drop("INSERT INTO t VALUES (2), (3)").await.unwrap();
    c.query_drop("INSERT INTO t VALUES (4)").await.unwrap();
    c.query_drop("COMMIT").await.unwrap();
    c.disconnect().await.ok();
    let after = here(&cfg).await;
    assert_ne!(after.binlog.file, start.binlog.file, "the server rotated");

    let mut st = Stream::start(cfg, start.clone());
    let all = st.until_changes(4).await;
    st.stop().await;
    assert_eq!(ids(&all), [1, 2, 3, 4]);
    let c1 = commit_after(&all, 1);
    assert_eq!(c1.binlog.file, start.binlog.file);
    let c4 = commit_after(&all, 4);
    let ch = changes(&all);
    assert_eq!(ch[1].position.file.as_ref(), after.binlog.file);
    assert_eq!(ch[1].position.txn_file.as_ref(), after.binlog.file);
    assert_eq!(
        c1.binlog.try_cmp(&c4.binlog),
        Some(std::cmp::Ordering::Less)
    );
    // c4 names the new file at or before where the server stood after the writes.
    assert_eq!(c4.binlog.file, after.binlog.file);
    assert!(c4.binlog.pos <= after.binlog.pos);

    // From the old file's last commit across the rotation, and into the new file's
    // transaction with one row delivered.
    let cfg = common::source_config(&env, &[format!("{db}\\..*")]);
    let mut st = Stream::start(cfg, c1);
    let rest = st.until_changes(3).await;
    st.stop().await;
    assert_eq!(ids(&rest), [2, 3, 4]);
    assert_eq!(commit_after(&rest, 4), c4);
    let p = &ch[1].position;
    let offset = SourceOffset {
        binlog: BinlogPosition::new(p.txn_file.to_string(), p.txn_pos),
        gtid_set: p.gtid_before.as_deref().cloned(),
        skip_rows: 1,
    };
    let cfg = common::source_config(&env, &[format!("{db}\\..*")]);
    let mut st = Stream::start(cfg, offset);
    let rest = st.until_changes(2).await;
    st.stop().await;
    assert_eq!(ids(&rest), [3, 4]);
    assert_eq!(commit_after(&rest, 4), c4);
}

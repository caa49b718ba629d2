//! A throwaway single-node Kafka (KRaft, PLAINTEXT only) on free ports with its own log
//! directory, for tests that restart or stop the broker: the shared test broker is never
//! restarted. It runs the jars `scripts/env` installed (`ROWTIDE_TEST_KAFKA_HOME`), is
//! killed on drop, and its directory removed.

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use super::free_port;
use super::poll::poll_until;
use super::proc::Process;

pub struct PrivateKafka {
    pub server: Process,
    pub port: u16,
    pub dir: tempfile::TempDir,
}

fn kafka_home() -> PathBuf {
    let home = std::env::var("ROWTIDE_TEST_KAFKA_HOME")
        .ok()
        .filter(|v| !v.is_empty())
        .expect("ROWTIDE_TEST_KAFKA_HOME (from `scripts/env print`) names the Kafka jars");
    PathBuf::from(home)
}

impl PrivateKafka {
    /// Formats a new log directory and starts the broker; returns once it serves.
    pub fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let (port, controller) = (free_port(), free_port());
        let props = dir.path().join("server.properties");
        std::fs::write(
            &props,
            format!(
                "process.roles=broker,controller\nnode.id=1\n\
                 controller.quorum.bootstrap.servers=127.0.0.1:{controller}\n\
                 listeners=PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller}\n\
                 advertised.listeners=PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller}\n\
                 controller.listener.names=CONTROLLER\ninter.broker.listener.name=PLAINTEXT\n\
                 listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT\n\
                 log.dirs={}\nnum.partitions=1\noffsets.topic.replication.factor=1\n\
                 offsets.topic.num.partitions=1\ntransaction.state.log.replication.factor=1\n\
                 transaction.state.log.min.isr=1\ntransaction.state.log.num.partitions=1\n\
                 share.coordinator.state.topic.replication.factor=1\n\
                 share.coordinator.state.topic.min.isr=1\ngroup.initial.rebalance.delay.ms=0\n",
                dir.path().join("data").display()
            ),
        )
        .unwrap();
        let log4j = dir.path().join("log4j2.properties");
        std::fs::write(
            &log4j,
            "status = warn\nappender.out.type = Console\nappender.out.name = STDOUT\n\
             appender.out.layout.type = PatternLayout\n\
             appender.out.layout.pattern = [%d] %p %m (%c)%n\n\
             rootLogger.level = INFO\nrootLogger.appenderRef.out.ref = STDOUT\n",
        )
        .unwrap();
        let classpath = format!("{}/libs/*", kafka_home().display());
        let log4j_arg = format!("-Dlog4j2.configurationFile={}", log4j.display());
        let out = Command::new("java")
            .args([
                "-cp",
                &classpath,
                &log4j_arg,
                "kafka.tools.StorageTool",
                "format",
            ])
            .args(["--standalone", "-t", "cHJpdmF0ZS1rYWZrYS10ZXN0"])
            .arg("-c")
            .arg(&props)
            .output()
            .expect("java (Kafka's StorageTool)");
        assert!(
            out.status.success(),
            "formatting the private Kafka failed:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let args: Vec<String> = vec![
            "-Xms128m".into(),
            "-Xmx512m".into(),
            "-XX:+ExitOnOutOfMemoryError".into(),
            "-Djava.awt.headless=true".into(),
            log4j_arg,
            "-cp".into(),
            classpath,
            "kafka.Kafka".into(),
            props.display().to_string(),
        ];
        let server = Process::new("kafka", "java", args, dir.path());
        let mut k = PrivateKafka { server, port, dir };
        k.spawn_and_wait();
        k
    }

    pub fn brokers(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    fn spawn_and_wait(&mut self) {
        self.server.spawn();
        let start = self.server.starts;
        let log = self.server.log_path(start);
        poll_until(
            "the private Kafka to start",
            Duration::from_secs(90),
            Duration::from_millis(200),
            || {
                let text = std::fs::read_to_string(&log).unwrap_or_default();
                if text.contains("Kafka Server started") {
                    Ok(())
                } else {
                    Err(super::proc::last_lines(&text, 20))
                }
            },
        );
    }

    /// Stops the broker (SIGTERM: a controlled shutdown), keeps it down for `down`, and
    /// starts it again on the same ports and data.
    pub fn restart(&mut self, down: Duration) {
        let st = self.server.stop();
        assert!(
            st.success() || st.code() == Some(143),
            "Kafka stopped: {st:?}"
        );
        std::thread::sleep(down);
        self.spawn_and_wait();
    }
}

#!/usr/bin/env python3
"""rowtide vs Debezium benchmark driver (started by bench/run, which sets the environment).

Steps, in order (each engine runs alone, never both at once):
  prepare     tables in bench_cdc (catch-up, latency) and bench_snap (snapshot table)
  prime       each engine starts with no data snapshot, proves it streams (a marker row
              reaches Kafka) and stops: its offset now sits just before the workload
  workload    N row changes in bench_cdc while no engine runs
  raw_read    mariadb-binlog --read-from-remote-server --raw over the same binlog range
  decode      rowtide with sink.kind = "stdout" (to /dev/null) over the same range
  catchup     each engine from its primed offset to the last record in Kafka
  steady      each engine live; a paced writer commits at fixed rates; latency =
              Kafka LogAppendTime - client-side commit completion
  snapshot    each engine snapshots bench_snap.big (fresh state)
  producer    Kafka's ProducerPerformance at the same record size and producer settings
Results: bench/results/<UTC date>-<mode>.json and .md
"""

import argparse
import datetime as dt
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request

import pymysql
from confluent_kafka import Consumer, TopicPartition, KafkaException
from confluent_kafka.admin import AdminClient, NewTopic

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
CLK = os.sysconf("SC_CLK_TCK")

# Producer settings both engines get (rowtide: [sink.kafka]; Connect: producer.*).
PRODUCER = {
    "acks": "all",
    "enable.idempotence": "true",
    "linger.ms": "5",
    "batch.size": "262144",
    "compression.type": "lz4",
    "max.in.flight.requests.per.connection": "5",
}
CDC_TABLES = ["t_num", "t_str", "t_time", "t_mix"]
# The shaped catch-up (step "shaped"): column masking on the string table and
# ExtractNewRecordState on every table, deletes rewritten with their tombstones kept, so
# the record count is the plain run's.
SHAPING_TOML = r"""
[[events.column_mask]]
chars = 8
columns = ['bench_cdc\.t_str\.vc', 'bench_cdc\.t_str\.txt']

[[transforms]]
name = "unwrap"
type = "io.debezium.transforms.ExtractNewRecordState"
delete_tombstone_handling_mode = "rewrite-with-tombstone"
add_fields = "op,source.ts_ms"
"""
ALL_CDC_TABLES = CDC_TABLES + ["lat", "marker"]


def log(msg):
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", flush=True)


class StepFailed(Exception):
    pass


# ------------------------------------------------------------------ process stats
def proc_cpu_seconds(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK  # utime, stime
    except (OSError, IndexError, ValueError):
        return None


def proc_status_kb(pid, key):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def child_pids(pid):
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


# ------------------------------------------------------------------ MariaDB
class DB:
    def __init__(self, env):
        self.env = env

    def connect(self, multi=False, db=None):
        flags = pymysql.constants.CLIENT.MULTI_STATEMENTS if multi else 0
        return pymysql.connect(
            unix_socket=self.env["ROWTIDE_TEST_MYSQL_SOCKET"],
            user=self.env["ROWTIDE_TEST_MYSQL_ADMIN_USER"],
            password=self.env["ROWTIDE_TEST_MYSQL_ADMIN_PASSWORD"],
            database=db, autocommit=True, client_flag=flags)

    def tcp(self, db=None):
        return pymysql.connect(
            host="127.0.0.1", port=int(self.env["ROWTIDE_TEST_MYSQL_PORT"]),
            user=self.env["ROWTIDE_TEST_MYSQL_ADMIN_USER"],
            password=self.env["ROWTIDE_TEST_MYSQL_ADMIN_PASSWORD"],
            database=db, autocommit=False)

    def q(self, sql, args=None):
        c = self.connect()
        try:
            with c.cursor() as cur:
                cur.execute(sql, args)
                return cur.fetchall()
        finally:
            c.close()

    def master_status(self):
        r = self.q("SHOW MASTER STATUS")
        return r[0][0], int(r[0][1])


DDL = [
    "DROP DATABASE IF EXISTS bench_cdc",
    "DROP DATABASE IF EXISTS bench_snap",
    "CREATE DATABASE bench_cdc",
    "CREATE DATABASE bench_snap",
    """CREATE TABLE bench_cdc.t_num (id BIGINT PRIMARY KEY, i INT NOT NULL, bi BIGINT,
       u INT UNSIGNED, dc DECIMAL(12,2), dbl DOUBLE, flag TINYINT(1))""",
    """CREATE TABLE bench_cdc.t_str (id BIGINT PRIMARY KEY, vc VARCHAR(64), ch CHAR(8),
       txt TEXT, en ENUM('a','b','c'))""",
    """CREATE TABLE bench_cdc.t_time (id BIGINT PRIMARY KEY, dt DATETIME(6), ts TIMESTAMP(3) NULL,
       d DATE, t TIME)""",
    """CREATE TABLE bench_cdc.t_mix (id BIGINT PRIMARY KEY, js JSON, bl VARBINARY(32), bt BIT(8),
       st SET('x','y','z'))""",
    "CREATE TABLE bench_cdc.lat (id BIGINT PRIMARY KEY, commit_us BIGINT, pad VARCHAR(64))",
    "CREATE TABLE bench_cdc.marker (id INT AUTO_INCREMENT PRIMARY KEY, note VARCHAR(64))",
    """CREATE TABLE bench_snap.big (id BIGINT PRIMARY KEY, i INT, bi BIGINT, dc DECIMAL(12,2),
       dbl DOUBLE, vc VARCHAR(96), dt DATETIME(6))""",
]

INSERT_SELECT = {
    "t_num": "INSERT INTO t_num SELECT seq, seq*7 % 100000, seq*1000003, seq % 4000000000, "
             "seq/100, seq*1.5, seq % 2 FROM seq_{lo}_to_{hi}",
    "t_str": "INSERT INTO t_str SELECT seq, CONCAT('name-', seq), LPAD(seq % 1000, 8, '0'), "
             "REPEAT(CONCAT('text', seq), 5), ELT(1 + seq % 3, 'a', 'b', 'c') FROM seq_{lo}_to_{hi}",
    "t_time": "INSERT INTO t_time SELECT seq, TIMESTAMP'2024-01-01 00:00:00.123456' + INTERVAL seq SECOND, "
              "FROM_UNIXTIME(1700000000 + seq), DATE'2024-01-01' + INTERVAL (seq % 3650) DAY, "
              "SEC_TO_TIME(seq % 86400) FROM seq_{lo}_to_{hi}",
    "t_mix": "INSERT INTO t_mix SELECT seq, JSON_OBJECT('k', seq, 's', CONCAT('v', seq)), "
             "UNHEX(MD5(seq)), seq % 256, ELT(1 + seq % 3, 'x', 'y', 'z') FROM seq_{lo}_to_{hi}",
}
UPDATE_RANGE = {
    "t_num": "UPDATE t_num SET i = i + 1, bi = bi + 1 WHERE id BETWEEN {lo} AND {hi}",
    "t_str": "UPDATE t_str SET vc = CONCAT('u{k}-', id) WHERE id BETWEEN {lo} AND {hi}",
    "t_time": "UPDATE t_time SET dt = dt + INTERVAL 1 SECOND WHERE id BETWEEN {lo} AND {hi}",
    "t_mix": "UPDATE t_mix SET js = JSON_SET(js, '$.u', {k}) WHERE id BETWEEN {lo} AND {hi}",
}
SINGLE_INSERT = {
    "t_num": "INSERT INTO t_num VALUES ({id}, {id} % 100000, {id}, {id} % 4000000000, 1.25, 2.5, 1)",
    "t_str": "INSERT INTO t_str VALUES ({id}, 'single-{id}', 'abc', 'single row text', 'b')",
    "t_time": "INSERT INTO t_time VALUES ({id}, NOW(6), NOW(3), CURDATE(), CURTIME())",
    "t_mix": "INSERT INTO t_mix VALUES ({id}, '{{\"single\": {id}}}', 0x0102, 5, 'x,z')",
}
SINGLE_UPDATE = {
    "t_num": "UPDATE t_num SET i = i + 1 WHERE id = {id}",
    "t_str": "UPDATE t_str SET ch = 's{k}' WHERE id = {id}",
    "t_time": "UPDATE t_time SET d = d + INTERVAL 1 DAY WHERE id = {id}",
    "t_mix": "UPDATE t_mix SET bl = UNHEX(MD5({k})) WHERE id = {id}",
}


def prepare(db, snap_rows):
    c = db.connect()
    try:
        with c.cursor() as cur:
            for s in DDL:
                cur.execute(s)
            cur.execute("USE bench_snap")
            lo, chunk = 1, 50_000
            while lo <= snap_rows:
                hi = min(snap_rows, lo + chunk - 1)
                cur.execute(
                    f"INSERT INTO big SELECT seq, seq % 100000, seq*1000003, seq/100, seq*1.5, "
                    f"CONCAT('row-', seq, '-', REPEAT('x', 40)), "
                    f"TIMESTAMP'2024-01-01 00:00:00' + INTERVAL seq SECOND FROM seq_{lo}_to_{hi}")
                lo = hi + 1
    finally:
        c.close()


def workload(db, n, batch=500):
    """N row changes in bench_cdc: 50% batched inserts, 25% batched updates, 15% single-row
    autocommit transactions (inserts and updates), 10% batched deletes. Returns the exact
    counts (from the server's affected-row counts) and the number of Kafka records
    expected (deletes are followed by a tombstone)."""
    counts = {"insert": 0, "update": 0, "delete": 0, "single_insert": 0, "single_update": 0,
              "transactions": 0}
    n_ins = max(len(CDC_TABLES), n // 2)
    n_upd = n // 4
    n_single = n * 15 // 100
    n_del = n - n_ins - n_upd - n_single
    per_table = -(-n_ins // len(CDC_TABLES))
    c = db.connect(multi=True, db="bench_cdc")
    cur = c.cursor()
    t0 = time.time()

    def run(sql):
        cur.execute(sql)
        rc = max(cur.rowcount, 0)
        while cur.nextset():
            rc += max(cur.rowcount, 0)
        return rc

    # batched inserts, round robin over the tables (each batch its own transaction)
    done, lo = 0, 1
    while done < n_ins:
        for t in CDC_TABLES:
            if done >= n_ins:
                break
            hi = min(lo + batch - 1, per_table)
            if hi < lo:
                continue
            counts["insert"] += run(INSERT_SELECT[t].format(lo=lo, hi=hi))
            counts["transactions"] += 1
            done += hi - lo + 1
        lo += batch
        if lo > per_table:
            break
    rows_per_table = per_table
    # batched updates over the first half of each table's ids
    half = max(1, rows_per_table // 2)
    done, k, lo = 0, 0, 1
    while done < n_upd:
        for t in CDC_TABLES:
            if done >= n_upd:
                break
            size = min(batch, n_upd - done)
            hi = min(lo + size - 1, half)
            k += 1
            got = run(UPDATE_RANGE[t].format(lo=lo, hi=hi, k=k))
            counts["update"] += got
            counts["transactions"] += 1
            done += max(got, 1)
        lo += batch
        if lo > half:
            lo = 1
    # single-row autocommit transactions (sent 200 to a round trip)
    stmts, next_id, k = [], 10**9, 0
    for j in range(n_single):
        t = CDC_TABLES[j % len(CDC_TABLES)]
        if j % 2 == 0:
            next_id += 1
            stmts.append(SINGLE_INSERT[t].format(id=next_id))
            kind = "single_insert"
        else:
            k += 1
            stmts.append(SINGLE_UPDATE[t].format(id=1 + (j * 7919) % half, k=k))
            kind = "single_update"
        counts[kind] += 0  # counted below from the server
        if len(stmts) == 200 or j == n_single - 1:
            pairs = len(stmts)
            rc = run(";".join(stmts))
            # inserts always affect one row; the rest are updates
            ins = sum(1 for s in stmts if s.startswith("INSERT"))
            counts["single_insert"] += ins
            counts["single_update"] += rc - ins
            counts["transactions"] += pairs
            stmts = []
    # batched deletes from the top of each table's batched range
    done, hi = 0, rows_per_table
    while done < n_del and hi > half:
        for t in CDC_TABLES:
            if done >= n_del:
                break
            size = min(batch, n_del - done)
            lo = max(half + 1, hi - size + 1)
            got = run(f"DELETE FROM {t} WHERE id BETWEEN {lo} AND {hi}")
            counts["delete"] += got
            counts["transactions"] += 1
            done += got
        hi -= batch
    cur.close()
    c.close()
    changes = (counts["insert"] + counts["update"] + counts["delete"] + counts["single_insert"]
               + counts["single_update"])
    counts["row_changes"] = changes
    counts["expected_records"] = changes + counts["delete"]  # + one tombstone per delete
    counts["write_seconds"] = round(time.time() - t0, 2)
    return counts


# ------------------------------------------------------------------ Kafka
class Kafka:
    def __init__(self, brokers):
        self.brokers = brokers
        self.admin = AdminClient({"bootstrap.servers": brokers})
        self.consumer = Consumer({"bootstrap.servers": brokers, "group.id": "rowtide-bench-probe",
                                  "enable.auto.commit": False, "enable.partition.eof": True})

    def create_topics(self, names):
        fs = self.admin.create_topics(
            [NewTopic(n, num_partitions=1, replication_factor=1,
                      config={"message.timestamp.type": "LogAppendTime"}) for n in names])
        for n, f in fs.items():
            try:
                f.result(30)
            except KafkaException as e:
                if "TOPIC_ALREADY_EXISTS" not in str(e):
                    raise

    def delete_prefix(self, prefixes):
        md = self.admin.list_topics(timeout=10)
        names = [t for t in md.topics if any(t == p or t.startswith(p + ".") or t.startswith(p + "-")
                                             for p in prefixes)]
        if names:
            for f in self.admin.delete_topics(names, operation_timeout=30).values():
                try:
                    f.result(30)
                except KafkaException:
                    pass

    def count(self, topics):
        total = 0
        for t in topics:
            try:
                lo, hi = self.consumer.get_watermark_offsets(TopicPartition(t, 0), timeout=5)
            except KafkaException:
                continue
            total += max(hi, 0)
        return total

    def read(self, topic, offset, limit=None, timeout=30):
        """Messages of partition 0 from offset up to the high watermark (or limit)."""
        lo, hi = self.consumer.get_watermark_offsets(TopicPartition(topic, 0), timeout=5)
        end = hi if limit is None else min(hi, offset + limit)
        out = []
        if end <= offset:
            return out
        self.consumer.assign([TopicPartition(topic, 0, offset)])
        deadline = time.time() + timeout
        while time.time() < deadline:
            msgs = self.consumer.consume(10000, 1.0)
            for m in msgs:
                if m.error():
                    continue
                out.append(m)
            if out and out[-1].offset() >= end - 1:
                break
        self.consumer.unassign()
        return [m for m in out if m.offset() < end]

    def ts_at(self, topic, offset):
        m = self.read(topic, offset, limit=1, timeout=10)
        return m[0].timestamp()[1] / 1000.0 if m else None

    def first_last(self, topics):
        first, last = None, None
        for t in topics:
            lo, hi = self.consumer.get_watermark_offsets(TopicPartition(t, 0), timeout=5)
            if hi <= 0:
                continue
            a, b = self.ts_at(t, max(lo, 0)), self.ts_at(t, hi - 1)
            if a is not None:
                first = a if first is None else min(first, a)
            if b is not None:
                last = b if last is None else max(last, b)
        return first, last


# ------------------------------------------------------------------ engines
class Engine:
    name = "?"
    pid = None
    started = None

    def sample(self):
        return {"cpu_s": proc_cpu_seconds(self.pid), "vm_hwm_kb": proc_status_kb(self.pid, "VmHWM"),
                "vm_rss_kb": proc_status_kb(self.pid, "VmRSS")}

    def alive(self):
        return self.pid is not None and os.path.exists(f"/proc/{self.pid}") and \
            proc_cpu_seconds(self.pid) is not None


class Rowtide(Engine):
    name = "rowtide"

    def __init__(self, bin_path, env, workdir, server_id):
        self.bin = bin_path
        self.env = env
        self.workdir = workdir
        self.server_id = server_id
        self.proc = None
        self.metrics_port = None
        # TOML appended to every config written (the shaped catch-up sets it).
        self.extra = ""

    def version(self):
        try:
            return subprocess.run([self.bin, "--version"], capture_output=True, text=True,
                                  timeout=20).stdout.strip()
        except Exception as e:  # noqa: BLE001
            return f"unknown ({e})"

    def config(self, tag, prefix, include, snapshot_mode, state, sink="kafka"):
        self.metrics_port = free_port()
        kafka = "\n".join(f'"{k}" = "{v}"' for k, v in PRODUCER.items())
        text = f"""# written by bench/bench.py
[source]
host = "127.0.0.1"
port = {self.env['ROWTIDE_TEST_MYSQL_PORT']}
user = "{self.env['ROWTIDE_TEST_MYSQL_USER']}"
password = "{self.env['ROWTIDE_TEST_MYSQL_PASSWORD']}"
server_id = {self.server_id}
flavor = "mariadb"
include = [{", ".join(json.dumps(i) for i in include)}]
snapshot_mode = "{snapshot_mode}"
tls = "disabled"

[sink]
kind = "{sink}"
brokers = "{self.env['ROWTIDE_TEST_KAFKA_BROKERS']}"
topic_prefix = "{prefix}"
tombstones_on_delete = true

[sink.kafka]
{kafka}

[format]
kind = "json"

[checkpoint]
path = "{state}"

[metrics]
listen = "127.0.0.1:{self.metrics_port}"
{self.extra}"""
        if getattr(self, "patch", None):  # the exactly-once catch-up's config (eos_catchup)
            text = self.patch(text)
        path = os.path.join(self.workdir, f"rowtide-{tag}.toml")
        with open(path, "w") as f:
            f.write(text)
        return path

    def start(self, tag, prefix, include, snapshot_mode, state, sink="kafka", wrap=None):
        cfg = self.config(tag, prefix, include, snapshot_mode, state, sink)
        logf = open(os.path.join(self.workdir, f"rowtide-{tag}.log"), "w")
        out = subprocess.DEVNULL if sink == "stdout" else logf
        env = {k: v for k, v in os.environ.items() if not k.startswith("ROWTIDE_") or "__" not in k}
        env.setdefault("RUST_LOG", "info")
        self.started = time.time()
        self.proc = subprocess.Popen((wrap or []) + [self.bin, "run", "-c", cfg], stdout=out,
                                     stderr=logf, stdin=subprocess.DEVNULL, env=env)
        self.pid = self.proc.pid
        self.wrapped = bool(wrap)
        if wrap:
            # The engine is the wrapper's child: signals and /proc samples go to it.
            for _ in range(100):
                kids = child_pids(self.proc.pid)
                if kids:
                    self.pid = kids[0]
                    break
                time.sleep(0.05)
        self.log_path = logf.name
        return self.started

    def metrics(self):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.metrics_port}/metrics", timeout=2) as r:
                return r.read().decode()
        except Exception:  # noqa: BLE001
            return ""

    def metric(self, name, text=None):
        text = self.metrics() if text is None else text
        total, seen = 0.0, False
        for line in text.splitlines():
            if line.startswith(name + " ") or line.startswith(name + "{"):
                total += float(line.rsplit(" ", 1)[1])
                seen = True
        return total if seen else None

    def check_alive(self):
        if self.proc is not None and self.proc.poll() is not None:
            raise StepFailed(f"rowtide exited with {self.proc.returncode}; see {self.log_path}")

    def stop(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            if getattr(self, "wrapped", False) and self.pid != self.proc.pid:
                try:
                    os.kill(self.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
            else:
                self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                log("rowtide did not stop within 60 s; killing it")
                self.proc.kill()
                self.proc.wait(10)
        rc = self.proc.returncode
        self.proc = None
        self.pid = None
        if rc not in (0, -signal.SIGTERM):
            raise StepFailed(f"rowtide exited with {rc} on SIGTERM; see {self.log_path}")


class Debezium(Engine):
    name = "debezium"

    def __init__(self, connect_script, plugin_dir, version, env, workdir, server_id):
        self.script = connect_script
        self.plugin_dir = plugin_dir
        self.dbz_version = version
        self.env = env
        self.workdir = workdir
        self.server_id = server_id
        self.worker = None
        self.run_dir = os.path.join(env["ROWTIDE_DEV_RUN"])

    def start(self, tag, prefix, dbs, snapshot_mode, offsets):
        self.worker = f"bench-{os.path.basename(self.workdir)}-{tag}"
        port = free_port()
        producer = "\n".join(f"producer.{k}={v}" for k, v in PRODUCER.items())
        wp = os.path.join(self.workdir, f"dbz-{tag}-worker.properties")
        with open(wp, "w") as f:
            f.write(f"""bootstrap.servers={self.env['ROWTIDE_TEST_KAFKA_BROKERS']}
key.converter=org.apache.kafka.connect.json.JsonConverter
value.converter=org.apache.kafka.connect.json.JsonConverter
key.converter.schemas.enable=false
value.converter.schemas.enable=false
offset.storage.file.filename={offsets}
offset.flush.interval.ms=1000
plugin.path={self.plugin_dir}
listeners=http://127.0.0.1:{port}
{producer}
""")
        cp = os.path.join(self.workdir, f"dbz-{tag}-connector.properties")
        with open(cp, "w") as f:
            f.write(f"""name=dbz-{prefix}
connector.class=io.debezium.connector.mariadb.MariaDbConnector
tasks.max=1
database.hostname=127.0.0.1
database.port={self.env['ROWTIDE_TEST_MYSQL_PORT']}
database.user={self.env['ROWTIDE_TEST_MYSQL_USER']}
database.password={self.env['ROWTIDE_TEST_MYSQL_PASSWORD']}
database.server.id={self.server_id}
database.ssl.mode=disable
topic.prefix={prefix}
database.include.list={",".join(dbs)}
snapshot.mode={snapshot_mode}
tombstones.on.delete=true
include.schema.changes=true
schema.history.internal.kafka.bootstrap.servers={self.env['ROWTIDE_TEST_KAFKA_BROKERS']}
schema.history.internal.kafka.topic={prefix}-schemahistory
""")
        self.started = time.time()
        r = subprocess.run([self.script, "start", self.worker, wp, cp], capture_output=True,
                           text=True, timeout=300)
        pidfile = os.path.join(self.run_dir, f"connect-{self.worker}", "connect.pid")
        self.log_path = os.path.join(self.run_dir, f"connect-{self.worker}", "connect.log")
        if r.returncode != 0:
            raise StepFailed(f"scripts/connect start failed: {r.stderr.strip()[-500:]}")
        with open(pidfile) as f:
            self.pid = int(f.read().strip())
        return self.started

    def check_alive(self):
        if not self.alive():
            raise StepFailed(f"Kafka Connect (pid {self.pid}) is gone; see {self.log_path}")

    def stop(self):
        if self.worker is None:
            return
        r = subprocess.run([self.script, "stop", self.worker], capture_output=True, text=True,
                           timeout=120)
        self.worker = None
        self.pid = None
        if r.returncode != 0:
            raise StepFailed(f"scripts/connect stop failed: {r.stderr.strip()}")


# ------------------------------------------------------------------ measurements
def wait_count(kafka, engine, topics, expected, timeout, what):
    """Polls the topics' end offsets until they hold `expected` records. Returns
    (seconds waited, count); raises StepFailed on timeout or a dead engine."""
    t0 = time.time()
    last_report, n = t0, 0
    while True:
        n = kafka.count(topics)
        if n >= expected:
            return time.time() - t0, n
        engine.check_alive()
        now = time.time()
        if now - t0 > timeout:
            raise StepFailed(f"{what}: {n} of {expected} records after {timeout:.0f} s")
        if now - last_report >= 10:
            log(f"  {what}: {n}/{expected} records")
            last_report = now
        time.sleep(0.2)


class MetricsSampler(threading.Thread):
    """Samples rowtide's /metrics queue depths every 0.5 s (which stage is saturated)."""

    def __init__(self, rt):
        super().__init__(daemon=True)
        self.rt = rt
        self.samples = []
        self.stop_ev = threading.Event()

    def run(self):
        while not self.stop_ev.wait(0.5):
            text = self.rt.metrics()
            if not text:
                continue
            s = {}
            for line in text.splitlines():
                m = re.match(r'rowtide_pipeline_queue_depth\{queue="(\w+)"\} (\S+)', line)
                if m:
                    s["queue_" + m.group(1)] = float(m.group(2))
                elif line.startswith("rowtide_sink_in_flight_records "):
                    s["in_flight"] = float(line.split()[1])
            if s:
                self.samples.append(s)

    def summary(self, caps):
        out = {}
        for key, cap in caps.items():
            vals = [s[key] for s in self.samples if key in s]
            if vals:
                out[key] = {"mean": round(statistics.mean(vals), 1), "max": max(vals), "capacity": cap,
                            "share_at_90pct_capacity": round(sum(v >= 0.9 * cap for v in vals) / len(vals), 2)}
        out["samples"] = len(self.samples)
        return out


def wait_live(engine, kafka, db, prefix, timeout, what):
    """Inserts a marker row every 2 s until one reaches Kafka: the engine is streaming
    (a row written before the engine fixed its start position would never arrive)."""
    topic = f"{prefix}.bench_cdc.marker"
    t0 = time.time()
    while True:
        db.q("INSERT INTO bench_cdc.marker (note) VALUES (%s)", (f"{what}-{engine.name}",))
        end = time.time() + 2
        while time.time() < end:
            if kafka.count([topic]) >= 1:
                return
            engine.check_alive()
            time.sleep(0.1)
        if time.time() - t0 > timeout:
            raise StepFailed(f"{engine.name} {what}: no marker row reached Kafka within {timeout} s")


def prime(engine, kafka, db, prefix, start_kwargs, timeout):
    """Starts the engine without a data snapshot, waits until a marker row reaches Kafka
    (the stream is live), stops it: its offset is now just past the marker."""
    engine.start("prime", prefix, **start_kwargs)
    wait_live(engine, kafka, db, prefix, timeout, "prime")
    time.sleep(2.5)  # Connect flushes offsets every second
    engine.stop()


def catchup(engine, kafka, prefix, expected, start_kwargs, timeout, sampler=None):
    topics = [f"{prefix}.bench_cdc.{t}" for t in CDC_TABLES]
    t_start = engine.start("catchup", prefix, **start_kwargs)
    if sampler:
        sampler.start()
    try:
        waited, n = wait_count(kafka, engine, topics, expected, timeout, f"{engine.name} catch-up")
        st = engine.sample()
    finally:
        if sampler:
            sampler.stop_ev.set()
    first, last = kafka.first_last(topics)
    total = last - t_start
    span = (last - first) if first else None
    res = {
        "records": n, "expected": expected,
        "seconds_from_start": round(total, 3),
        "records_per_s_from_start": round(n / total, 1) if total > 0 else None,
        "seconds_first_to_last_record": round(span, 3) if span is not None else None,
        "records_per_s_first_to_last": round(n / span, 1) if span else None,
        "startup_seconds_to_first_record": round(first - t_start, 3) if first else None,
        "cpu_seconds": st["cpu_s"],
        "cpu_seconds_per_million_records": round(st["cpu_s"] / n * 1e6, 2) if st["cpu_s"] else None,
        "peak_rss_mb": round(st["vm_hwm_kb"] / 1024, 1) if st["vm_hwm_kb"] else None,
    }
    engine.stop()
    return res


def shaped_catchups(rt, kafka, prefix, expected, kw, pristine, repeats, timeout):
    """The same catch-up from the same primed checkpoint, alternating the plain config and
    the shaped one (SHAPING_TOML) `repeats` times each; medians, spreads and their ratio."""
    runs = {"plain": [], "shaped": []}
    for i in range(repeats):
        for variant in ("plain", "shaped"):
            p = f"{prefix}{variant[0]}{i}"
            kafka.create_topics([f"{p}.bench_cdc.{t}" for t in ALL_CDC_TABLES])
            state = f"{pristine}-{variant}{i}"
            shutil.copytree(pristine, state)
            rt.extra = SHAPING_TOML if variant == "shaped" else ""
            try:
                r = catchup(rt, kafka, p, expected, dict(kw, state=state), timeout)
            finally:
                rt.extra = ""
            runs[variant].append(r["records_per_s_from_start"])
            log(f"  {variant} run {i + 1}: {r['records_per_s_from_start']} records/s")
    med = {k: statistics.median(v) for k, v in runs.items()}
    return {"records_per_s": runs, "median_plain": med["plain"], "median_shaped": med["shaped"],
            "shaped_over_plain": round(med["shaped"] / med["plain"], 3) if med["plain"] else None,
            "config": SHAPING_TOML.strip()}


def committed_records(brokers, topics):
    """(count, last record timestamp) as a read_committed consumer sees the topics: with
    transactions, commit markers take offsets, so offset counts (Kafka.count) over-count."""
    c = Consumer({"bootstrap.servers": brokers, "group.id": "rowtide-bench-eos",
                  "enable.auto.commit": False, "enable.partition.eof": True,
                  "isolation.level": "read_committed"})
    c.assign([TopicPartition(t, 0, 0) for t in topics])
    n, last, pending = 0, None, set(topics)
    deadline = time.time() + 300
    while pending and time.time() < deadline:
        for m in c.consume(10000, 1.0):
            if m.error():
                if m.error().code() == -191:  # _PARTITION_EOF
                    pending.discard(m.topic())
                continue
            n += 1
            ts = m.timestamp()[1] / 1000.0
            last = ts if last is None else max(last, ts)
    c.close()
    return n, last


def eos_catchup(rt, kafka, prefix, expected, kw, pristine, timeout):
    """Step "eos" (bench/run --delivery exactly_once): the rowtide catch-up from the same
    primed position with sink.delivery = "exactly_once" (state in a Kafka topic, records and
    position in one transaction per commit). Done when a read_committed consumer sees every
    expected record; records/s from engine start to the last record's append time."""
    p = prefix + "x"
    topics = [f"{p}.bench_cdc.{t}" for t in CDC_TABLES]
    kafka.create_topics([f"{p}.bench_cdc.{t}" for t in ALL_CDC_TABLES])
    state = pristine + "-eos"
    shutil.copytree(pristine, state)
    # The primed position moves from the sled directory into the state topic.
    cfg = rt.config("eos-copy", p, kw["include"], kw["snapshot_mode"], state)
    subprocess.run([rt.bin, "offsets", "copy", "--to", "kafka", "-c", cfg], check=True,
                   capture_output=True, timeout=120)
    rt.patch = lambda t: t.replace("[sink]\n", '[sink]\ndelivery = "exactly_once"\n', 1) \
        .replace("[checkpoint]\n", '[checkpoint]\nstore = "kafka"\n', 1)
    try:
        t_start = rt.start("catchup-eos", p, **dict(kw, state=state))
    finally:
        rt.patch = None
    try:
        wait_count(kafka, rt, topics, expected, timeout, "rowtide catch-up exactly_once")
        while True:
            n, last = committed_records(kafka.brokers, topics)
            if n >= expected:
                break
            rt.check_alive()
            if time.time() - t_start > timeout:
                raise StepFailed(f"exactly_once catch-up: {n} of {expected} committed records")
            time.sleep(0.5)
        st = rt.sample()
    finally:
        rt.stop()
    total = (last - t_start) if last else None
    return {"records": n, "expected": expected,
            "seconds_from_start": round(total, 3) if total else None,
            "records_per_s_from_start": round(n / total, 1) if total and total > 0 else None,
            "cpu_seconds": st["cpu_s"],
            "peak_rss_mb": round(st["vm_hwm_kb"] / 1024, 1) if st["vm_hwm_kb"] else None}


def paced_writer(db, rate, seconds, id_base):
    """Commits `rate` rows/s into bench_cdc.lat for `seconds` (transactions of
    max(1, rate // 500) rows); returns {id: commit completion time} and stats."""
    rows_per_txn = max(1, rate // 500)
    txn_rate = rate / rows_per_txn
    n_txn = int(seconds * txn_rate)
    c = db.tcp(db="bench_cdc")
    cur = c.cursor()
    commits = {}
    nid = id_base
    t0 = time.time()
    behind = 0
    for k in range(n_txn):
        due = t0 + k / txn_rate
        d = due - time.time()
        if d > 0:
            time.sleep(d)
        elif d < -0.05:
            behind += 1
        ids = list(range(nid, nid + rows_per_txn))
        nid += rows_per_txn
        now_us = int(time.time() * 1e6)
        cur.execute("INSERT INTO lat (id, commit_us, pad) VALUES " +
                    ",".join(f"({i},{now_us},'steady-state-latency-probe-row')" for i in ids))
        c.commit()
        done = time.time()
        for i in ids:
            commits[i] = done
    elapsed = time.time() - t0
    cur.close()
    c.close()
    return commits, {"target_rate": rate, "rows_per_txn": rows_per_txn, "rows": len(commits),
                     "achieved_rate": round(len(commits) / elapsed, 1),
                     "txns_late_over_50ms": behind}


def percentile(vals, p):
    if not vals:
        return None
    s = sorted(vals)
    k = min(len(s) - 1, max(0, int(round(p / 100 * (len(s) - 1)))))
    return s[k]


def steady(engine, kafka, db, prefix, rates, seconds, start_kwargs, timeout):
    topic = f"{prefix}.bench_cdc.lat"
    marker = f"{prefix}.bench_cdc.marker"
    engine.start("steady", prefix, **start_kwargs)
    wait_live(engine, kafka, db, prefix, timeout, "steady")
    time.sleep(1)
    base0 = kafka.count([topic])
    results, commits_all, id_base = [], {}, int(time.time() * 1000) * 100_000
    # ids unique per run: ms timestamp * 1e5
    bounds = []
    for rate in rates:
        commits, stats = paced_writer(db, rate, seconds, id_base)
        bounds.append((rate, id_base, id_base + len(commits), stats))
        commits_all.update(commits)
        id_base += len(commits) + 1
        time.sleep(1)
    wait_count(kafka, engine, [topic], base0 + len(commits_all), timeout, f"{engine.name} steady")
    st = engine.sample()
    msgs = kafka.read(topic, base0, timeout=60)
    lat_by_id = {}
    for m in msgs:
        if m.value() is None:
            continue
        v = json.loads(m.value())
        after = (v.get("payload", v) or {}).get("after") or {}
        i = after.get("id")
        if i in commits_all:
            lat_by_id[i] = (m.timestamp()[1] / 1000.0 - commits_all[i]) * 1000.0
    for rate, lo, hi, stats in bounds:
        vals = [lat_by_id[i] for i in range(lo, hi) if i in lat_by_id]
        results.append(dict(stats, received=len(vals),
                            p50_ms=round(percentile(vals, 50), 1) if vals else None,
                            p99_ms=round(percentile(vals, 99), 1) if vals else None,
                            max_ms=round(max(vals), 1) if vals else None))
    engine.stop()
    return {"rates": results, "peak_rss_mb": round(st["vm_hwm_kb"] / 1024, 1) if st["vm_hwm_kb"] else None}


def snapshot(engine, kafka, prefix, rows, start_kwargs, timeout):
    topic = f"{prefix}.bench_snap.big"
    t_start = engine.start("snapshot", prefix, **start_kwargs)
    waited, n = wait_count(kafka, engine, [topic], rows, timeout, f"{engine.name} snapshot")
    st = engine.sample()
    first, last = kafka.first_last([topic])
    total = last - t_start
    res = {"rows": n, "seconds_from_start": round(total, 3),
           "rows_per_s": round(n / total, 1) if total > 0 else None,
           "seconds_first_to_last_record": round(last - first, 3) if first else None,
           "cpu_seconds": st["cpu_s"],
           "cpu_seconds_per_million_rows": round(st["cpu_s"] / n * 1e6, 2) if st["cpu_s"] else None,
           "peak_rss_mb": round(st["vm_hwm_kb"] / 1024, 1) if st["vm_hwm_kb"] else None}
    engine.stop()
    return res


def raw_read(env, start, workdir, timeout):
    """The server's own binlog hand-out rate over the workload range."""
    out = os.path.join(workdir, "raw")
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    cmd = ["mariadb-binlog", "--no-defaults", "--read-from-remote-server", "--raw",
           "--host=127.0.0.1", f"--port={env['ROWTIDE_TEST_MYSQL_PORT']}",
           f"--user={env['ROWTIDE_TEST_MYSQL_USER']}", f"--password={env['ROWTIDE_TEST_MYSQL_PASSWORD']}",
           f"--start-position={start[1]}", "--to-last-log", f"--result-file={out}/", start[0]]
    t0 = time.time()
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    secs = time.time() - t0
    if r.returncode != 0:
        raise StepFailed(f"mariadb-binlog failed: {r.stderr.strip()[-300:]}")
    size = sum(os.path.getsize(os.path.join(out, f)) for f in os.listdir(out))
    shutil.rmtree(out, ignore_errors=True)
    return {"seconds": round(secs, 3), "bytes": size, "mb_per_s": round(size / secs / 1e6, 1)}


def wait_sent(rt, expected, t0, timeout, what, poll):
    """Polls rowtide's /metrics until it has handed `expected` records to its sink.
    Returns (records, seconds since t0)."""
    while True:
        n = rt.metric("rowtide_sink_records_total") or 0
        if n >= expected:
            return n, time.time() - t0
        rt.check_alive()
        if time.time() - t0 > timeout:
            raise StepFailed(f"{what}: {n} of {expected} records after {timeout:.0f} s")
        time.sleep(poll)


def decode(rt, state, expected, timeout):
    """rowtide with the stdout sink (to /dev/null) from the primed offset."""
    t0 = rt.start("decode", "rtdecode", [r"bench_cdc\.(t_num|t_str|t_time|t_mix)"], "no_data", state,
                  sink="stdout")
    try:
        n, secs = wait_sent(rt, expected, t0, timeout, "decode", 0.05)
        st = rt.sample()
    finally:
        rt.stop()
    return {"records": int(n), "seconds_from_start": round(secs, 3),
            "records_per_s": round(n / secs, 1), "cpu_seconds": st["cpu_s"],
            "peak_rss_mb": round(st["vm_hwm_kb"] / 1024, 1) if st["vm_hwm_kb"] else None}


# Where each stage's CPU goes: perf's inclusive ("children") share of the function at the
# root of each stage, over every thread of the process.
# A stage may have several roots (an async fn inlined into its caller shows up under the
# caller): its share is the largest of theirs.
PROFILE_STAGES = [
    ("source: binlog reader + row decoder",
     ("rowtide::source::binlog::Reader::run", "rowtide::pipeline::source_task::run")),
    ("encoders: row conversion + envelope + JSON",
     ("rowtide::pipeline::encoders::work", "rowtide::encode::records::try_encode")),
    ("sink loop: hand-off to librdkafka, deliveries, checkpoint",
     ("rowtide::pipeline::sink_loop::SinkLoop::run", "rowtide::pipeline::sink_loop::Running::turns",
      "rowtide::pipeline::run_once::{{closure}}")),
    ("  of which librdkafka enqueue (KafkaSink::send)", ("rowtide::sink::kafka::KafkaSink::send",)),
]
# Threads that run no rowtide code, by name (perf's comm).
PROFILE_THREADS = [
    ("librdkafka broker threads: batching, LZ4, protocol", "rdk:"),
    ("producer polling thread: delivery reports", "producer pollin"),
]


def perf_report(data, children, sort="symbol"):
    cmd = ["perf", "report", "-i", data, "--stdio", "-g", "none", "--sort", sort,
           "--percent-limit", "0.1", "--children" if children else "--no-children"]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    rows = []
    for line in r.stdout.splitlines():
        if sort == "comm":
            m = re.match(r"\s+([\d.]+)%\s+(.*?)\s*$", line)
            if m:
                rows.append((float(m.group(1)), "", m.group(2)))
            continue
        m = re.match(r"\s+([\d.]+)%\s+(?:([\d.]+)%\s+)?\[(.)\]\s+(.*?)\s*$", line)
        if m:
            rows.append((float(m.group(1)), m.group(3), re.sub(r"[\s-]+$", "", m.group(4))))
    return rows


def profile(rt, state, expected, prefix, workdir, timeout):
    """rowtide's catch-up once more under `perf record` (a separate run, so the profiler never
    distorts the measured figures): CPU share per stage and the hottest functions."""
    if not shutil.which("perf"):
        return {"skipped": "perf is not installed (apt-get install linux-perf or linux-tools)"}
    data = os.path.join(workdir, "rowtide-catchup.perf.data")
    t0 = rt.start("profile", prefix, [r"bench_cdc\..*"], "no_data", state,
                  wrap=["perf", "record", "-q", "-F", "199", "--call-graph", "dwarf,16384", "-o", data, "--"])
    try:
        n, secs = wait_sent(rt, expected, t0, timeout, "profile", 0.1)
    finally:
        rt.stop()
    children = {sym: pct for pct, _, sym in perf_report(data, True)}
    stages = []
    for label, roots in PROFILE_STAGES:
        # An async fn shows up as its `{{closure}}`; a root that names a closure itself must
        # not also count the closures nested in it (other tasks).
        names = set()
        for root in roots:
            names |= {root} if root.endswith("}}") else {root, root + "::{{closure}}"}
        found = [(v, k) for k, v in children.items() if k in names]
        pct, root = max(found, default=(0.0, roots[0]))
        stages.append({"stage": label, "root": root, "cpu_share_pct": round(pct, 1)})
    comms = perf_report(data, False, sort="comm")
    for label, prefix in PROFILE_THREADS:
        pct = sum(p for p, _, comm in comms if comm.startswith(prefix))
        stages.append({"stage": label, "root": f"threads {prefix}*", "cpu_share_pct": round(pct, 1)})
    flat = perf_report(data, False)
    alloc = sum(p for p, _, sym in flat if re.match(r"_?mi_|malloc|free|realloc|cfree", sym))
    kernel = sum(p for p, kind, _ in flat if kind == "k")
    copy = sum(p for p, _, sym in flat if "memmove" in sym or "memcpy" in sym)
    top = [{"self_pct": p, "symbol": sym[:110]} for p, kind, sym in flat[:15]]
    return {"records": int(n), "seconds": round(secs, 2), "stages": stages, "perf_data": data,
            "allocator_self_pct": round(alloc, 1), "kernel_self_pct": round(kernel, 1),
            "memcpy_self_pct": round(copy, 1), "top_self": top,
            "command": "perf record -F 199 --call-graph dwarf,16384 -- rowtide run (separate run)"}


def producer_perf(env, kafka, topic, records, size, timeout):
    libs = os.path.join(env["ROWTIDE_DEV_CACHE"], "kafka-4.3.1", "libs", "*")
    kafka.create_topics([topic])
    props = [f"bootstrap.servers={env['ROWTIDE_TEST_KAFKA_BROKERS']}"] + \
        [f"{k}={v}" for k, v in PRODUCER.items()]
    cmd = ["java", "-Xmx512m", "-cp", libs, "org.apache.kafka.tools.ProducerPerformance",
           "--topic", topic, "--num-records", str(records), "--record-size", str(size),
           "--throughput", "-1", "--producer-props"] + props
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    m = re.search(r"(\d+) records sent, ([\d.]+) records/sec \(([\d.]+) MB/sec\), ([\d.]+) ms avg latency",
                  r.stdout)
    if r.returncode != 0 or not m:
        raise StepFailed(f"ProducerPerformance failed: {(r.stderr or r.stdout).strip()[-300:]}")
    return {"records": int(m.group(1)), "record_size": size, "records_per_s": float(m.group(2)),
            "mb_per_s": float(m.group(3))}


# ------------------------------------------------------------------ report
def machine_info():
    cpu = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = proc_meminfo_gb()
    return {"nproc": os.cpu_count(), "memory_gb": mem, "cpu_model": cpu, "kernel": platform.release()}


def proc_meminfo_gb():
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    return round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        return None


def ratio(a, b, invert=False):
    if not a or not b:
        return None
    return round((b / a) if invert else (a / b), 2)


def fmt(v, unit=""):
    if v is None:
        return "–"
    if isinstance(v, float):
        v = f"{v:,.1f}" if abs(v) >= 10 else f"{v:.2f}"
    elif isinstance(v, int):
        v = f"{v:,}"
    return f"{v}{unit}"


def render_md(R):
    rt, dz = R["engines"].get("rowtide") or {}, R["engines"].get("debezium") or {}
    rt = {k: (v or {}) for k, v in rt.items()}
    dz = {k: (v or {}) for k, v in dz.items()}
    L = [f"# rowtide vs Debezium — {R['mode']} run, {R['date']}", "",
         f"Command: `{R['command']}`; wall time {R['wall_seconds']:.0f} s; "
         f"status: **{'OK' if not R['failures'] else 'FAILED: ' + '; '.join(R['failures'])}**", "",
         "## Machine and versions", "",
         f"- {R['machine']['nproc']} CPUs ({R['machine']['cpu_model']}), {R['machine']['memory_gb']} GB RAM, "
         f"Linux {R['machine']['kernel']}",
         *[f"- {k}: {v}" for k, v in R["versions"].items()],
         f"- producer settings (both engines): {', '.join(f'{k}={v}' for k, v in PRODUCER.items())}",
         "- encoding: JSON without schemas (rowtide `format.kind = \"json\"`, Connect JsonConverter "
         "`schemas.enable=false`), tombstones after deletes, one partition per topic",
         "", "## Workload", "",
         f"- catch-up: {fmt(R['workload'].get('row_changes'))} row changes in "
         f"{fmt(R['workload'].get('transactions'))} transactions over 4 tables "
         f"({json.dumps({k: R['workload'].get(k) for k in ('insert', 'update', 'delete', 'single_insert', 'single_update')})}); "
         f"{fmt(R['workload'].get('expected_records'))} Kafka records expected (deletes + tombstones); "
         f"written in {fmt(R['workload'].get('write_seconds'))} s",
         f"- steady: {R['settings']['rates']} events/s for {R['settings']['steady_seconds']} s each",
         f"- snapshot: one table of {fmt(R['settings']['snapshot_rows'])} rows", "",
         "## Results", "",
         "| measure | rowtide | Debezium | rowtide/Debezium | target |",
         "|---|---|---|---|---|"]

    def row(label, a, b, r, target=""):
        L.append(f"| {label} | {fmt(a)} | {fmt(b)} | {fmt(r)} | {target} |")

    rc, dc = rt.get("catchup", {}), dz.get("catchup", {})
    row("catch-up: s from engine start to last record", rc.get("seconds_from_start"),
        dc.get("seconds_from_start"), None)
    row("catch-up: records/s (from start)", rc.get("records_per_s_from_start"),
        dc.get("records_per_s_from_start"),
        ratio(rc.get("records_per_s_from_start"), dc.get("records_per_s_from_start")), "≥ 5×")
    row("catch-up: records/s (first→last record)", rc.get("records_per_s_first_to_last"),
        dc.get("records_per_s_first_to_last"),
        ratio(rc.get("records_per_s_first_to_last"), dc.get("records_per_s_first_to_last")))
    row("catch-up: startup s to first record", rc.get("startup_seconds_to_first_record"),
        dc.get("startup_seconds_to_first_record"), None)
    row("catch-up: CPU s per million records", rc.get("cpu_seconds_per_million_records"),
        dc.get("cpu_seconds_per_million_records"),
        ratio(rc.get("cpu_seconds_per_million_records"), dc.get("cpu_seconds_per_million_records")))
    row("catch-up: peak RSS MB (VmHWM)", rc.get("peak_rss_mb"), dc.get("peak_rss_mb"),
        ratio(rc.get("peak_rss_mb"), dc.get("peak_rss_mb")), "≤ 0.1")
    eo = rt.get("catchup_exactly_once", {})
    if eo:
        row("rowtide catch-up exactly_once: records/s (from start); exactly_once/at_least_once = "
            f"{fmt(ratio(eo.get('records_per_s_from_start'), rc.get('records_per_s_from_start')))}",
            eo.get("records_per_s_from_start"), None, None, "≥ 0.8× at_least_once")
    sh = rt.get("catchup_shaping", {})
    if sh:
        row(f"catch-up records/s, plain (median of {len(sh['records_per_s']['plain'])}: "
            f"{', '.join(fmt(x) for x in sh['records_per_s']['plain'])})", sh.get("median_plain"), None, None)
        row(f"catch-up records/s, masking + unwrap (median of {len(sh['records_per_s']['shaped'])}: "
            f"{', '.join(fmt(x) for x in sh['records_per_s']['shaped'])}); shaped/plain = "
            f"{fmt(sh.get('shaped_over_plain'))}", sh.get("median_shaped"), None, None, "≥ 0.85× plain")
    rs, ds = rt.get("snapshot", {}), dz.get("snapshot", {})
    row("snapshot: rows/s (from start)", rs.get("rows_per_s"), ds.get("rows_per_s"),
        ratio(rs.get("rows_per_s"), ds.get("rows_per_s")), "≥ 5×")
    row("snapshot: CPU s per million rows", rs.get("cpu_seconds_per_million_rows"),
        ds.get("cpu_seconds_per_million_rows"),
        ratio(rs.get("cpu_seconds_per_million_rows"), ds.get("cpu_seconds_per_million_rows")))
    row("snapshot: peak RSS MB", rs.get("peak_rss_mb"), ds.get("peak_rss_mb"),
        ratio(rs.get("peak_rss_mb"), ds.get("peak_rss_mb")), "≤ 0.1")
    rst, dst = rt.get("steady", {}), dz.get("steady", {})
    for i, rate in enumerate(R["settings"]["rates"]):
        a = (rst.get("rates") or [{}] * (i + 1))[i] if len(rst.get("rates") or []) > i else {}
        b = (dst.get("rates") or [{}] * (i + 1))[i] if len(dst.get("rates") or []) > i else {}
        tgt = "< Debezium and < 50 ms" if rate == max(R["settings"]["rates"]) else ""
        row(f"steady {rate}/s: p50 latency ms", a.get("p50_ms"), b.get("p50_ms"), ratio(a.get("p50_ms"), b.get("p50_ms")))
        row(f"steady {rate}/s: p99 latency ms", a.get("p99_ms"), b.get("p99_ms"), ratio(a.get("p99_ms"), b.get("p99_ms")), tgt)
        row(f"steady {rate}/s: achieved rate (writer)", a.get("achieved_rate"), b.get("achieved_rate"), None)
    row("steady: peak RSS MB", rst.get("peak_rss_mb"), dst.get("peak_rss_mb"),
        ratio(rst.get("peak_rss_mb"), dst.get("peak_rss_mb")))
    pk = [R["engines"].get(e, {}).get("peak_rss_mb") for e in ("rowtide", "debezium")]
    row("peak RSS MB over all runs", pk[0], pk[1], ratio(pk[0], pk[1]), "≤ 0.1")
    if R.get("targets"):
        L += ["", "## Targets", "", "| target | value | met |", "|---|---|---|"]
        for t in R["targets"]:
            L.append(f"| {t['target']} | {t['value']} | {'yes' if t['met'] else ('no' if t['met'] is False else 'n/a')} |")
    L += ["", "## Physical limits (same binlog range, same machine)", "",
          "| stage | seconds | rate | vs rowtide end-to-end |", "|---|---|---|---|"]
    lim = R.get("limits") or {}
    rr, dec, pp = lim.get("raw_read") or {}, lim.get("rowtide_decode_stdout") or {}, lim.get("producer_perf") or {}
    e2e = rc.get("seconds_from_start")
    if rr:
        L.append(f"| server hands out the binlog (mariadb-binlog --raw) | {fmt(rr.get('seconds'))} | "
                 f"{fmt(rr.get('mb_per_s'))} MB/s ({fmt(rr.get('bytes'))} bytes); "
                 f"{fmt(R['workload'].get('expected_records', 0) / rr['seconds'] if rr.get('seconds') else None)} records/s equivalent | "
                 f"rowtide e2e is {fmt(ratio(e2e, rr.get('seconds')))}× this |")
    if dec:
        L.append(f"| rowtide decode+encode, stdout sink to /dev/null | {fmt(dec.get('seconds_from_start'))} | "
                 f"{fmt(dec.get('records_per_s'))} records/s | rowtide e2e is {fmt(ratio(e2e, dec.get('seconds_from_start')))}× this |")
    if pp:
        L.append(f"| Kafka ingest (ProducerPerformance, {pp.get('record_size')} B records) | "
                 f"{fmt(pp['records'] / pp['records_per_s'] if pp.get('records_per_s') else None)} | "
                 f"{fmt(pp.get('records_per_s'))} records/s ({fmt(pp.get('mb_per_s'))} MB/s) | |")
    if rt.get("catchup_queues"):
        L += ["", "rowtide queue depths during catch-up (sampled from /metrics every 0.5 s): "
              + json.dumps(rt["catchup_queues"])]
    if R.get("bottleneck"):
        L += ["", "**Bottleneck:** " + R["bottleneck"]]
    prof = lim.get("profile") or {}
    if prof.get("stages"):
        L += ["", "## CPU profile of rowtide's catch-up", "",
              f"`{prof['command']}`: {prof['records']:,} records in {prof['seconds']} s (slower than the "
              "measured run: perf samples the stacks). Inclusive share of all samples, every thread:", "",
              "| stage | root function | share of CPU samples |", "|---|---|---|"]
        for st in prof["stages"]:
            L.append(f"| {st['stage']} | `{st['root']}` | {st['cpu_share_pct']} % |")
        L += ["", "The rest is the tokio runtime itself (scheduling, channels between the stages)."]
        L += ["", f"Cross-cutting (self time): allocator {prof['allocator_self_pct']} %, memcpy/memmove "
              f"{prof['memcpy_self_pct']} %, kernel (scheduling, syscalls) {prof['kernel_self_pct']} %.", "",
              "Hottest functions (self time):", "", "| self % | function |", "|---|---|"]
        for t in prof["top_self"]:
            L.append(f"| {t['self_pct']} | `{t['symbol']}` |")
    elif prof.get("skipped"):
        L += ["", f"CPU profile: skipped ({prof['skipped']})."]
    L += ["", "## Notes", "", *[f"- {n}" for n in R["notes"]], ""]
    return "\n".join(L)


def targets(R):
    rt, dz = R["engines"].get("rowtide") or {}, R["engines"].get("debezium") or {}
    out = []

    def add(name, v, ok):
        out.append({"target": name, "value": v, "met": ok})
    a, b = (rt.get("catchup") or {}).get("records_per_s_from_start"), (dz.get("catchup") or {}).get("records_per_s_from_start")
    r = ratio(a, b)
    add("catch-up ≥ 5× Debezium (records/s from engine start)", f"{r}×" if r else "n/a", None if r is None else r >= 5)
    q = (rt.get("catchup_shaping") or {}).get("shaped_over_plain")
    if q is not None:
        add("catch-up with masking + unwrap within 15 % of plain (ratio of medians)", f"{q}", q >= 0.85)
    a, b = (rt.get("snapshot") or {}).get("rows_per_s"), (dz.get("snapshot") or {}).get("rows_per_s")
    r = ratio(a, b)
    add("snapshot ≥ 5× Debezium (rows/s from engine start)", f"{r}×" if r else "n/a", None if r is None else r >= 5)
    r = ratio(rt.get("peak_rss_mb"), dz.get("peak_rss_mb"))
    add("peak RSS ≤ 1/10 of Debezium's", f"{rt.get('peak_rss_mb')} MB vs {dz.get('peak_rss_mb')} MB = {r}",
        None if r is None else r <= 0.1)
    rates = R["settings"]["rates"]
    if rates:
        i = rates.index(max(rates))
        ra = ((rt.get("steady") or {}).get("rates") or [])
        rb = ((dz.get("steady") or {}).get("rates") or [])
        pa = ra[i].get("p99_ms") if len(ra) > i else None
        pb = rb[i].get("p99_ms") if len(rb) > i else None
        ok = None if pa is None or pb is None else (pa < pb and pa < 50)
        add(f"p99 at {max(rates)} events/s below Debezium's and under 50 ms", f"{pa} ms vs {pb} ms", ok)
    return out


def bottleneck(R):
    rt = R["engines"].get("rowtide") or {}
    rc = rt.get("catchup") or {}
    lim = R.get("limits") or {}
    rr, dec = lim.get("raw_read") or {}, lim.get("rowtide_decode_stdout") or {}
    if not rc.get("seconds_from_start") or not rr.get("seconds"):
        return None
    e2e, raw = rc["seconds_from_start"], rr["seconds"]
    parts = [f"rowtide end-to-end catch-up takes {e2e / raw:.1f}× the raw binlog read "
             f"({'within' if e2e <= 2 * raw else 'not within'} the 2× goal)."]
    if dec.get("seconds_from_start") and dec["seconds_from_start"] >= 0.9 * e2e:
        d = dec["seconds_from_start"]
        parts.append(f"Decoding and encoding alone (stdout sink to /dev/null) take {d:.2f} s, as long as "
                     f"the end-to-end run ({e2e:.2f} s): delivering to Kafka adds nothing, the rate is set "
                     f"by the source and encoder stages.")
    elif dec.get("seconds_from_start"):
        d = dec["seconds_from_start"]
        parts.append(f"Decoding and encoding alone (stdout sink) take {d:.2f} s = {d / raw:.1f}× the raw read,"
                     f" so the source+encoder stages account for {min(100, d / e2e * 100):.0f}% of the end-to-end time"
                     f" and the Kafka sink for the rest.")
    q = rt.get("catchup_queues") or {}
    src, snk, inf = q.get("queue_source", {}), q.get("queue_sink", {}), q.get("in_flight", {})
    if snk.get("share_at_90pct_capacity", 0) > 0.5 or inf.get("share_at_90pct_capacity", 0) > 0.5:
        parts.append("The queue before the sink / the in-flight window was full most of the time: "
                     "the Kafka producer (acks, batching, compression) is the saturated stage.")
    elif src.get("share_at_90pct_capacity", 0) > 0.5:
        parts.append("The queue between the binlog reader and the encoder was full most of the time: "
                     "the encoder stage (row conversion + JSON) is the saturated stage.")
    elif q.get("samples"):
        parts.append("No queue was near capacity: no stage waits on a full queue; the stages share "
                     "the machine's CPUs (with MariaDB and Kafka), so CPU time is what limits them.")
    prof = lim.get("profile") or {}
    stages = [st for st in prof.get("stages", []) if not st["stage"].startswith(" ")]
    if stages:
        top = max(stages, key=lambda st: st["cpu_share_pct"])
        parts.append("CPU profile (perf, separate run): " + ", ".join(
            f"{st['stage'].split(':')[0]} {st['cpu_share_pct']} %" for st in stages)
            + f" of the samples; the largest is the {top['stage'].split(':')[0]} stage.")
    return " ".join(parts)


# ------------------------------------------------------------------ main
def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mode", required=True)
    ap.add_argument("--rows", type=int, required=True)
    ap.add_argument("--snapshot-rows", type=int, required=True)
    ap.add_argument("--rates", required=True)
    ap.add_argument("--steady-seconds", type=int, required=True)
    ap.add_argument("--rowtide-bin", required=True)
    ap.add_argument("--connect", required=True)
    ap.add_argument("--plugin-dir", required=True)
    ap.add_argument("--debezium-version", required=True)
    ap.add_argument("--engines", default="rowtide,debezium")
    ap.add_argument("--steps", default="catchup,shaped,steady,snapshot,limits")
    ap.add_argument("--shaped-repeats", type=int, default=3)
    ap.add_argument("--out", required=True)
    ap.add_argument("--command", default="bench/run")
    a = ap.parse_args()

    env = dict(os.environ)
    engines = a.engines.split(",")
    steps = a.steps.split(",")
    rates = [int(x) for x in a.rates.split(",") if x]
    run_id = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dt%H%M%S")
    workdir = os.path.join(env["ROWTIDE_DEV_RUN"], "bench", run_id)
    os.makedirs(workdir, exist_ok=True)
    db, kafka = DB(env), Kafka(env["ROWTIDE_TEST_KAFKA_BROKERS"])
    t_run = time.time()
    long_timeout = 120 + a.rows / 1000
    snap_timeout = 120 + a.snapshot_rows / 1000

    rt = Rowtide(a.rowtide_bin, env, workdir, server_id=6601)
    dz = Debezium(a.connect, a.plugin_dir, a.debezium_version, env, workdir, server_id=6602)
    R = {"mode": a.mode, "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
         "command": a.command, "machine": machine_info(), "failures": [], "notes": [],
         "settings": {"rows": a.rows, "snapshot_rows": a.snapshot_rows, "rates": rates,
                      "steady_seconds": a.steady_seconds, "producer": PRODUCER,
                      "rowtide_bin": a.rowtide_bin, "workdir": workdir},
         "versions": {}, "workload": {}, "limits": {}, "engines": {e: {} for e in engines}}
    mv = db.q("SELECT VERSION()")[0][0]
    R["versions"] = {"rowtide": rt.version(), "debezium": f"debezium-connector-mariadb {a.debezium_version} "
                     f"on Kafka Connect 4.3.1 standalone (heap {env.get('ROWTIDE_CONNECT_HEAP', '1g')})",
                     "mariadb": mv, "kafka": "4.3.1 (KRaft, one node)",
                     "java": subprocess.run(["java", "-version"], capture_output=True, text=True).stderr.splitlines()[0]}
    live = []  # engines that may need stopping

    def step(name, fn):
        log(f"step {name}")
        try:
            return fn()
        except (StepFailed, subprocess.TimeoutExpired, KafkaException, pymysql.MySQLError, OSError) as e:
            log(f"step {name} FAILED: {e}")
            R["failures"].append(f"{name}: {e}")
            for eng in live:
                try:
                    eng.stop()
                except Exception as e2:  # noqa: BLE001
                    log(f"  stopping {eng.name}: {e2}")
            return None

    def on_signal(sig, _frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_signal)
    flush_old = db.q("SELECT @@GLOBAL.innodb_flush_log_at_trx_commit")[0][0]
    try:
        if step("prepare", lambda: prepare(db, a.snapshot_rows if "snapshot" in steps else 0) or True) is None:
            raise KeyboardInterrupt  # nothing else can work
        db.q("SET GLOBAL innodb_flush_log_at_trx_commit = 2")
        R["notes"].append(f"innodb_flush_log_at_trx_commit = 2 during the run (was {flush_old}), so the "
                          "writers are not bound by fsync; restored at the end")
        pfx = {"rowtide": f"rt{run_id}", "debezium": f"dz{run_id}"}
        kafka.create_topics([f"{pfx[e]}.bench_cdc.{t}" for e in engines for t in ALL_CDC_TABLES])
        rt_state = os.path.join(workdir, "rowtide-state")
        rt_cdc = {"include": [r"bench_cdc\..*"], "snapshot_mode": "no_data", "state": rt_state}
        dz_cdc = {"dbs": ["bench_cdc"], "snapshot_mode": "no_data",
                  "offsets": os.path.join(workdir, "dbz-catchup.offsets")}
        runs = {"rowtide": (rt, rt_cdc), "debezium": (dz, dz_cdc)}
        primed = {}
        if "catchup" in steps or "limits" in steps or "shaped" in steps or "eos" in steps:
            for e in engines:
                eng, kw = runs[e]
                live[:] = [eng]
                primed[e] = step(f"prime {e}", lambda: prime(eng, kafka, db, pfx[e], kw, 180) or True)
            if primed.get("rowtide"):
                shutil.copytree(rt_state, rt_state + "-decode")
                shutil.copytree(rt_state, rt_state + "-profile")
                shutil.copytree(rt_state, rt_state + "-pristine")
            start = db.master_status()
            R["workload"] = step("workload", lambda: workload(db, a.rows)) or {}
            R["workload"]["binlog_start"] = f"{start[0]}:{start[1]}"
            R["workload"]["binlog_end"] = "%s:%d" % db.master_status()
            expected = R["workload"].get("expected_records", 0)
            log(f"workload: {json.dumps(R['workload'])}")
            if "limits" in steps and expected:
                R["limits"]["raw_read"] = step("raw binlog read", lambda: raw_read(env, start, workdir, 600))
                if "rowtide" in engines and primed.get("rowtide"):
                    live[:] = [rt]
                    R["limits"]["rowtide_decode_stdout"] = step(
                        "rowtide decode (stdout sink)",
                        lambda: decode(rt, rt_state + "-decode", expected, long_timeout))
            if "catchup" in steps and expected:
                for e in engines:
                    if not primed.get(e):
                        continue
                    eng, kw = runs[e]
                    live[:] = [eng]
                    sampler = MetricsSampler(rt) if e == "rowtide" else None
                    R["engines"][e]["catchup"] = step(
                        f"{e} catch-up", lambda: catchup(eng, kafka, pfx[e], expected, kw, long_timeout, sampler))
                    if sampler:
                        R["engines"][e]["catchup_queues"] = sampler.summary(
                            {"queue_source": 2048, "queue_sink": 2048, "in_flight": 10_000})
        if "eos" in steps and "rowtide" in engines and primed.get("rowtide") and expected:
            live[:] = [rt]
            R["engines"]["rowtide"]["catchup_exactly_once"] = step(
                "rowtide catch-up exactly_once",
                lambda: eos_catchup(rt, kafka, pfx["rowtide"], expected, rt_cdc,
                                    rt_state + "-pristine", long_timeout))
        if "shaped" in steps and "rowtide" in engines and primed.get("rowtide") and expected:
            live[:] = [rt]
            R["engines"]["rowtide"]["catchup_shaping"] = step(
                "rowtide catch-up, plain vs masking + unwrap",
                lambda: shaped_catchups(rt, kafka, pfx["rowtide"], expected, rt_cdc,
                                        rt_state + "-pristine", a.shaped_repeats, long_timeout))
        if "steady" in steps and rates:
            for e in engines:
                eng, _ = runs[e]
                p = pfx[e] + "s"
                kafka.create_topics([f"{p}.bench_cdc.{t}" for t in ALL_CDC_TABLES])
                kw = ({"include": [r"bench_cdc\.(lat|marker)"], "snapshot_mode": "no_data",
                       "state": os.path.join(workdir, "rowtide-state-steady")} if e == "rowtide" else
                      {"dbs": ["bench_cdc"], "snapshot_mode": "no_data",
                       "offsets": os.path.join(workdir, "dbz-steady.offsets")})
                live[:] = [eng]
                R["engines"][e]["steady"] = step(
                    f"{e} steady", lambda: steady(eng, kafka, db, p, rates, a.steady_seconds, kw, 180))
        if "snapshot" in steps and a.snapshot_rows:
            for e in engines:
                eng, _ = runs[e]
                p = pfx[e] + "n"
                kafka.create_topics([f"{p}.bench_snap.big"])
                kw = ({"include": [r"bench_snap\.big"], "snapshot_mode": "initial",
                       "state": os.path.join(workdir, "rowtide-state-snapshot")} if e == "rowtide" else
                      {"dbs": ["bench_snap"], "snapshot_mode": "initial",
                       "offsets": os.path.join(workdir, "dbz-snapshot.offsets")})
                live[:] = [eng]
                R["engines"][e]["snapshot"] = step(
                    f"{e} snapshot", lambda: snapshot(eng, kafka, p, a.snapshot_rows, kw, snap_timeout))
        if "limits" in steps and R["engines"].get("rowtide", {}).get("catchup"):
            size = 500
            try:
                m = rt.metrics()  # not running: estimate from the rowtide catch-up topics instead
            except Exception:  # noqa: BLE001
                m = ""
            sample = kafka.read(f"{pfx['rowtide']}.bench_cdc.t_num", 0, limit=200, timeout=10) + \
                kafka.read(f"{pfx['rowtide']}.bench_cdc.t_str", 0, limit=200, timeout=10)
            sizes = [len(x.value() or b"") + len(x.key() or b"") for x in sample]
            if sizes:
                size = int(statistics.mean(sizes))
            R["limits"]["producer_perf"] = step(
                "Kafka ProducerPerformance",
                lambda: producer_perf(env, kafka, f"rt{run_id}perf", max(a.rows, 10_000), size, 600))
        if "limits" in steps and "rowtide" in engines and primed.get("rowtide") and expected:
            live[:] = [rt]
            R["limits"]["profile"] = step(
                "rowtide CPU profile (perf, separate run)",
                lambda: profile(rt, rt_state + "-profile", expected, f"rtprof{run_id}", workdir, long_timeout))
    except KeyboardInterrupt:
        if not R["failures"]:
            R["failures"].append("interrupted")
    finally:
        for eng in (rt, dz):
            try:
                eng.stop()
            except Exception as e:  # noqa: BLE001
                log(f"stopping {eng.name}: {e}")
        try:
            db.q(f"SET GLOBAL innodb_flush_log_at_trx_commit = {int(flush_old)}")
        except Exception as e:  # noqa: BLE001
            log(f"restoring innodb_flush_log_at_trx_commit: {e}")

    for e in engines:
        vals = [(R["engines"][e].get(k) or {}).get("peak_rss_mb") for k in ("catchup", "steady", "snapshot")]
        vals = [v for v in vals if v]
        R["engines"][e]["peak_rss_mb"] = max(vals) if vals else None
    R["bottleneck"] = bottleneck(R)
    R["targets"] = targets(R)
    R["notes"] += [
        "catch-up: both engines were started once without a data snapshot and stopped after a marker "
        "row reached Kafka; the workload was then written with no engine running; the clock starts "
        "when the engine process is launched and stops at the broker's LogAppendTime of the last "
        "record (topics are created beforehand with message.timestamp.type=LogAppendTime)",
        "records counted by topic end offsets (one partition each); deletes count twice (tombstone)",
        "steady latency = LogAppendTime of the record - the writer's commit completion time "
        "(client side, same clock); Kafka timestamps have 1 ms resolution",
        "CPU = utime+stime of the engine process (the whole JVM for Debezium) from launch to the "
        "last record, including startup; peak RSS = VmHWM of that process",
        "Debezium runs with its defaults (max.batch.size 2048, max.queue.size 8192, poll.interval.ms 500, "
        "which bounds its latency when the queue runs empty) and Kafka "
        "Connect standalone (offset.flush.interval.ms=1000); rowtide with its defaults "
        "(pipeline queues 2048, max_in_flight 10000, 2 encoder workers)",
        "the MariaDB server is shared with other test runs on this machine; the raw binlog read "
        "covers everything written in the range, the engines filter to the bench tables",
    ]
    R["wall_seconds"] = time.time() - t_run
    os.makedirs(a.out, exist_ok=True)
    base = os.path.join(a.out, f"{dt.datetime.now(dt.timezone.utc).strftime('%Y-%m-%d')}-{a.mode}")
    with open(base + ".json", "w") as f:
        json.dump(R, f, indent=2)
    with open(base + ".md", "w") as f:
        f.write(render_md(R))
    log(f"results: {base}.md and .json")
    print(render_md(R))
    if R["failures"]:
        log("FAILED steps: " + "; ".join(R["failures"]))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

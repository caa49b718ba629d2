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
  incremental each engine streams live while a writer commits 1,000 changes/s into
              bench_cdc.lat; after a baseline an execute-snapshot signal (each engine's own
              signal table in bench_inc) starts an incremental snapshot of bench_inc.inc
              (--incremental-rows rows, laid out as bench_snap.big);
              snapshot rows/s from the signal to the last r record, and the streamed
              changes' latency before (baseline) and during the snapshot (first format only)
  producer    Kafka's ProducerPerformance at the same record size and producer settings
Formats (--formats json,json_schema,avro): catchup, steady and snapshot run once per format
and engine; avro uses the registry bench/run started (rowtide: its ccompat API; Debezium:
Apicurio's AvroConverter in Confluent-compatible mode, or JSON, labelled, when no Avro
converter resolved). Repeats (--repeats N): every measured step runs N times, the engines
(and formats) alternating run by run, never two engines at once; the report gives min /
median / max of every figure and the ratio of the medians with its range.
Catch-up variants (step "shaped" and any entry added to CATCHUP_VARIANTS): rowtide's plain
catch-up alternated with the same catch-up under extra TOML, from the same primed checkpoint.
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
import traceback
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
# Catch-up variants: each is rowtide's catch-up with extra TOML appended to its config, run
# from the same primed checkpoint and alternated with the plain catch-up (--repeats times
# each). A new variant is one entry here plus its name in --steps; the report gives its runs,
# the medians and variant/plain with a target. "records" = "same" means the variant must
# deliver exactly the plain run's record count.
CATCHUP_VARIANTS = {
    "shaped": {"label": "masking + unwrap", "toml": SHAPING_TOML, "target": 0.85},
    # Exactly-once delivery: state in a Kafka topic, records and position in one Kafka
    # transaction per commit; run by eos_catchup (the primed state is copied into the state
    # topic first, and records are counted as a read_committed consumer sees them).
    "eos": {"label": "sink.delivery = exactly_once", "toml": "", "target": 0.8,
            "runner": "eos_catchup"},
}
# Encodings: rowtide [format] kind, and the Kafka Connect converters Debezium runs with.
FORMATS = {
    "json": "JSON without schemas (rowtide `json`, JsonConverter `schemas.enable=false`)",
    "json_schema": "JSON with schemas (rowtide `json_schema`, JsonConverter `schemas.enable=true`)",
    "avro": "Avro in the Confluent wire format through the bench's Apicurio registry "
            "(rowtide `avro` via the ccompat API; Debezium: Apicurio's AvroConverter, "
            "Confluent-compatible mode)",
}
FORMAT_TAG = {"json": "j", "json_schema": "s", "avro": "a"}
APICURIO_CONVERTER = "io.apicurio.registry.utils.converter.AvroConverter"


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
    "DROP DATABASE IF EXISTS bench_inc",
    "CREATE DATABASE bench_cdc",
    "CREATE DATABASE bench_snap",
    "CREATE DATABASE bench_inc",
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
    # The incremental step's database (out of the other steps' include lists): its table
    # (laid out as the snapshot's, its own size: --incremental-rows) and its signal tables
    # (Debezium's layout), one per engine; both engines
    # connect as the CDC user, which writes the watermark rows into its engine's table.
    "CREATE TABLE bench_inc.inc LIKE bench_snap.big",
    *[s for t in ("rt_signals", "dbz_signals") for s in (
        f"CREATE TABLE bench_inc.{t} (id VARCHAR(42) PRIMARY KEY, type VARCHAR(32) NOT NULL, "
        "data VARCHAR(2048) NULL)",
        f"GRANT INSERT ON bench_inc.{t} TO 'cdc'@'127.0.0.1'",
        f"GRANT INSERT ON bench_inc.{t} TO 'cdc'@'localhost'")],
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


def prepare(db, snap_rows, inc_rows=0):
    c = db.connect()
    try:
        with c.cursor() as cur:
            for s in DDL:
                cur.execute(s)
            cur.execute("USE bench_snap")
            for table, rows in (("bench_snap.big", snap_rows), ("bench_inc.inc", inc_rows)):
                lo, chunk = 1, 50_000
                while lo <= rows:
                    hi = min(rows, lo + chunk - 1)
                    cur.execute(
                        f"INSERT INTO {table} SELECT seq, seq % 100000, seq*1000003, seq/100, seq*1.5, "
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
        # A new topic's partition has no leader for a moment: wait until its end offset can
        # be read, so the engines and the counting start on a ready topic.
        for n in names:
            deadline = time.time() + 15
            while True:
                try:
                    self.consumer.get_watermark_offsets(TopicPartition(n, 0), timeout=5)
                    break
                except KafkaException:
                    if time.time() > deadline:
                        break
                    time.sleep(0.2)

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

    def ends(self, topics):
        """{topic: end offset of partition 0} (0 for a topic not there yet). A topic created
        moments ago may be cached as unknown by the long-lived probe consumer; a failed
        query is retried once on a fresh consumer (fresh metadata) and the error logged."""
        out = {}
        for t in topics:
            try:
                lo, hi = self.watermarks(t)
            except KafkaException as e:
                log(f"  end offset of {t}: {e}")
                hi = 0
            out[t] = max(hi, 0)
        return out

    def watermarks(self, t):
        """(low, high) of partition 0; a failed query (the long-lived probe consumer may hold
        a just-created topic as unknown) is retried once on a fresh consumer."""
        try:
            return self.consumer.get_watermark_offsets(TopicPartition(t, 0), timeout=5)
        except KafkaException as e:
            fresh = Consumer({"bootstrap.servers": self.brokers,
                              "group.id": "rowtide-bench-probe-fresh"})
            try:
                return fresh.get_watermark_offsets(TopicPartition(t, 0), timeout=5)
            except KafkaException as e2:
                raise KafkaException(f"{e}; fresh consumer: {e2}") from e2
            finally:
                fresh.close()

    def count(self, topics, base=None):
        """Records in the topics, past the offsets in `base` (a repeat appends to the
        topics of the runs before it)."""
        base = base or {}
        return sum(max(hi - base.get(t, 0), 0) for t, hi in self.ends(topics).items())

    def read(self, topic, offset, limit=None, timeout=30):
        """Messages of partition 0 from offset up to the high watermark (or limit)."""
        lo, hi = self.watermarks(topic)
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

    def first_last(self, topics, base=None):
        base = base or {}
        first, last = None, None
        for t in topics:
            lo, hi = self.watermarks(t)
            lo = max(lo, base.get(t, 0), 0)
            if hi <= lo:
                continue
            a, b = self.ts_at(t, lo), self.ts_at(t, hi - 1)
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
        # TOML appended to every config written (the shaped catch-up sets it), and a
        # function rewriting the config text (the exactly-once catch-up sets it).
        self.extra = ""
        self.patch = None
        # source.snapshot_parallelism for the snapshot step (None: rowtide's default).
        self.snapshot_parallelism = None

    def version(self):
        try:
            return subprocess.run([self.bin, "--version"], capture_output=True, text=True,
                                  timeout=20).stdout.strip()
        except Exception as e:  # noqa: BLE001
            return f"unknown ({e})"

    def format_toml(self, fmt):
        if fmt == "avro":
            return f'[format]\nkind = "avro"\nregistry_url = "{self.env["ROWTIDE_TEST_REGISTRY_URL"]}"\n'
        return f'[format]\nkind = "{fmt}"\n'

    def config(self, tag, prefix, include, snapshot_mode, state, sink="kafka", fmt="json"):
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
{f"snapshot_parallelism = {self.snapshot_parallelism}" if self.snapshot_parallelism else ""}

[sink]
kind = "{sink}"
brokers = "{self.env['ROWTIDE_TEST_KAFKA_BROKERS']}"
topic_prefix = "{prefix}"
tombstones_on_delete = true

[sink.kafka]
{kafka}

{self.format_toml(fmt)}
[checkpoint]
path = "{state}"

[metrics]
listen = "127.0.0.1:{self.metrics_port}"
{self.extra}"""
        if self.patch:  # the exactly-once catch-up's config (eos_catchup)
            text = self.patch(text)
        path = os.path.join(self.workdir, f"rowtide-{tag}.toml")
        with open(path, "w") as f:
            f.write(text)
        return path

    def start(self, tag, prefix, include, snapshot_mode, state, sink="kafka", wrap=None, fmt="json"):
        cfg = self.config(tag, prefix, include, snapshot_mode, state, sink, fmt)
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

    def __init__(self, connect_script, plugin_dir, version, env, workdir, server_id,
                 avro_plugin=None, avro_fallback=None):
        self.script = connect_script
        self.plugin_dir = plugin_dir
        # Apicurio's AvroConverter plugin dir (bench/run resolves it), or why there is none:
        # then Debezium's "avro" runs use JSON and the report says so.
        self.avro_plugin = avro_plugin
        self.avro_fallback = avro_fallback
        self.dbz_version = version
        self.env = env
        self.workdir = workdir
        self.server_id = server_id
        self.worker = None
        # snapshot.max.threads (1 is Debezium's default; the snapshot step sets it).
        self.snapshot_threads = 1
        self.run_dir = os.path.join(env["ROWTIDE_DEV_RUN"])
        # Connector properties appended to every connector file written (the incremental
        # step sets its signal table).
        self.extra = ""

    def effective_format(self, fmt):
        """The encoding Debezium really runs with for `fmt` (JSON when no Avro converter)."""
        return "json" if fmt == "avro" and not self.avro_plugin else fmt

    def converters(self, fmt):
        fmt = self.effective_format(fmt)
        if fmt == "avro":
            # Apicurio 2.x serdes: the registry's v2 core API; as-confluent = magic byte and a
            # 4-byte content id (= the ccompat API's schema id), no headers: the Confluent wire
            # format rowtide writes.
            v2 = self.env["ROWTIDE_TEST_REGISTRY_URL"].replace("/apis/ccompat/v7", "/apis/registry/v2")
            return "".join(
                f"{side}.converter={APICURIO_CONVERTER}\n"
                f"{side}.converter.apicurio.registry.url={v2}\n"
                f"{side}.converter.apicurio.registry.auto-register=true\n"
                f"{side}.converter.apicurio.registry.find-latest=true\n"
                f"{side}.converter.apicurio.registry.as-confluent=true\n"
                f"{side}.converter.apicurio.registry.use-id=contentId\n"
                f"{side}.converter.apicurio.registry.headers.enabled=false\n"
                for side in ("key", "value"))
        enable = "true" if fmt == "json_schema" else "false"
        return "".join(f"{side}.converter=org.apache.kafka.connect.json.JsonConverter\n"
                       f"{side}.converter.schemas.enable={enable}\n" for side in ("key", "value"))

    def start(self, tag, prefix, dbs, snapshot_mode, offsets, fmt="json"):
        self.worker = f"bench-{os.path.basename(self.workdir)}-{tag}"
        port = free_port()
        producer = "\n".join(f"producer.{k}={v}" for k, v in PRODUCER.items())
        plugins = self.plugin_dir
        if self.effective_format(fmt) == "avro":
            plugins += "," + self.avro_plugin
        wp = os.path.join(self.workdir, f"dbz-{tag}-worker.properties")
        with open(wp, "w") as f:
            f.write(f"""bootstrap.servers={self.env['ROWTIDE_TEST_KAFKA_BROKERS']}
{self.converters(fmt)}offset.storage.file.filename={offsets}
offset.flush.interval.ms=1000
plugin.path={plugins}
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
snapshot.max.threads={self.snapshot_threads}
tombstones.on.delete=true
include.schema.changes=true
schema.history.internal.kafka.bootstrap.servers={self.env['ROWTIDE_TEST_KAFKA_BROKERS']}
schema.history.internal.kafka.topic={prefix}-schemahistory
{self.extra}""")
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
def wait_count(kafka, engine, topics, expected, timeout, what, base=None):
    """Polls the topics' end offsets until they hold `expected` records past `base`.
    Returns (seconds waited, count); raises StepFailed on timeout or a dead engine."""
    t0 = time.time()
    last_report, n = t0, 0
    while True:
        n = kafka.count(topics, base)
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


def prime(engine, kafka, db, prefix, start_kwargs, timeout, tag="prime"):
    """Starts the engine without a data snapshot, waits until a marker row reaches Kafka
    (the stream is live), stops it: its offset is now just past the marker."""
    engine.start(tag, prefix, **start_kwargs)
    wait_live(engine, kafka, db, prefix, timeout, "prime")
    time.sleep(2.5)  # Connect flushes offsets every second
    engine.stop()


def catchup(engine, kafka, prefix, expected, start_kwargs, timeout, sampler=None, tag="catchup"):
    """One catch-up from a primed offset. The topics may hold earlier repeats' records (the
    same prefix keeps Debezium's offsets valid): only records past their end offsets at
    launch count."""
    topics = [f"{prefix}.bench_cdc.{t}" for t in CDC_TABLES]
    base = kafka.ends(topics)
    t_start = engine.start(tag, prefix, **start_kwargs)
    if sampler:
        sampler.start()
    try:
        waited, n = wait_count(kafka, engine, topics, expected, timeout, f"{engine.name} {tag}", base)
        st = engine.sample()
    finally:
        if sampler:
            sampler.stop_ev.set()
    first, last = kafka.first_last(topics, base)
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


def eos_catchup(rt, kafka, prefix, expected, kw, timeout, tag):
    """The rowtide catch-up from the primed position (kw["state"], a fresh copy of the sled
    checkpoint) with sink.delivery = "exactly_once": the position is first copied into the
    state topic (`rowtide offsets copy --to kafka`). Done when a read_committed consumer
    sees every expected record; records/s from engine start to the last record's append
    time, as for the plain catch-up."""
    topics = [f"{prefix}.bench_cdc.{t}" for t in CDC_TABLES]
    cfg = rt.config(f"{tag}-copy", prefix, kw["include"], kw["snapshot_mode"], kw["state"])
    subprocess.run([rt.bin, "offsets", "copy", "--to", "kafka", "-c", cfg], check=True,
                   capture_output=True, timeout=120)
    rt.patch = lambda t: t.replace("[sink]\n", '[sink]\ndelivery = "exactly_once"\n', 1) \
        .replace("[checkpoint]\n", '[checkpoint]\nstore = "kafka"\n', 1)
    try:
        t_start = rt.start(tag, prefix, **kw)
    finally:
        rt.patch = None
    try:
        wait_count(kafka, rt, topics, expected, timeout, f"rowtide {tag}")
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


def variant_catchups(rt, kafka, prefix, expected, kw, pristine, repeats, timeout, variant):
    """The same catch-up from the same primed checkpoint, alternating the plain config and
    the variant's (CATCHUP_VARIANTS[variant]["toml"] appended) `repeats` times each;
    every run, min/median/max and the ratio of the medians."""
    spec = CATCHUP_VARIANTS[variant]
    runs = {"plain": [], variant: []}
    for i in range(repeats):
        for name in ("plain", variant):
            # Own topics and state per variant, so several variants in one run never meet.
            p = f"{prefix}{variant[:3]}{name[:2]}{i}"
            kafka.create_topics([f"{p}.bench_cdc.{t}" for t in ALL_CDC_TABLES])
            state = f"{pristine}-{variant}-{name}{i}"
            shutil.copytree(pristine, state)
            rt.extra = spec["toml"] if name == variant else ""
            run = catchup
            if name == variant and spec.get("runner"):
                run = globals()[spec["runner"]]
            try:
                if run is catchup:
                    r = catchup(rt, kafka, p, expected, dict(kw, state=state), timeout,
                                tag=f"{name}{i}")
                else:
                    r = run(rt, kafka, p, expected, dict(kw, state=state), timeout, f"{name}{i}")
            finally:
                rt.extra = ""
            runs[name].append(r["records_per_s_from_start"])
            log(f"  {name} run {i + 1}: {r['records_per_s_from_start']} records/s")
    st = {k: stats(v) for k, v in runs.items()}
    mp, mv = st["plain"]["median"], st[variant]["median"]
    return {"label": spec["label"], "target": spec["target"], "records_per_s": runs, "stats": st,
            "median_plain": mp, "median_variant": mv,
            "variant_over_plain": round(mv / mp, 3) if mp else None,
            "range": spread_ratio(st[variant], st["plain"]), "config": spec["toml"].strip()}


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


def key_id(key):
    """The `id` of a bench_cdc.lat record's key in any format: JSON ({"id": N}), JSON with
    schema ({"schema": ..., "payload": {"id": N}}) or Avro in the Confluent wire format
    (magic 0, 4-byte schema id, then the key record: one long, zig-zag varint)."""
    if not key:
        return None
    if key[:1] == b"{":
        k = json.loads(key)
        return (k.get("payload", k) or {}).get("id")
    if key[0] == 0 and len(key) > 5:
        n, shift = 0, 0
        for b in key[5:]:
            n |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                return (n >> 1) ^ -(n & 1)
    return None


def steady(engine, kafka, db, prefix, rates, seconds, start_kwargs, timeout, tag="steady"):
    topic = f"{prefix}.bench_cdc.lat"
    engine.start(tag, prefix, **start_kwargs)
    wait_live(engine, kafka, db, prefix, timeout, tag)
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
        i = key_id(m.key())
        if i in commits_all:
            lat_by_id[i] = (m.timestamp()[1] / 1000.0 - commits_all[i]) * 1000.0
    for rate, lo, hi, stats in bounds:
        vals = [lat_by_id[i] for i in range(lo, hi) if i in lat_by_id]
        results.append(dict(stats, received=len(vals),
                            p50_ms=round(percentile(vals, 50), 1) if vals else None,
                            p99_ms=round(percentile(vals, 99), 1) if vals else None,
                            max_ms=round(max(vals), 1) if vals else None))
    engine.stop()
    out = {"rates": results, "peak_rss_mb": round(st["vm_hwm_kb"] / 1024, 1) if st["vm_hwm_kb"] else None}
    for r in results:  # flat figures, so repeats aggregate like every other step
        for k in ("p50_ms", "p99_ms", "max_ms", "achieved_rate"):
            out[f"r{r['target_rate']}_{k}"] = r[k]
    return out


def snapshot(engine, kafka, prefix, rows, start_kwargs, timeout, tag="snapshot"):
    topic = f"{prefix}.bench_snap.big"
    t_start = engine.start(tag, prefix, **start_kwargs)
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


# ------------------------------------------------------------------ incremental snapshot
INCREMENTAL_RATE = 1000  # streamed changes/s during the incremental step
SIGNAL_TABLE = {"rowtide": "rt_signals", "debezium": "dbz_signals"}


class BackgroundWriter(threading.Thread):
    """Commits `rate` rows/s into bench_cdc.lat (transactions of max(1, rate // 500) rows,
    as the steady step) until stopped; `commits` maps each id to its commit completion time."""

    def __init__(self, db, rate, id_base):
        super().__init__(daemon=True)
        self.db, self.rate, self.nid = db, rate, id_base
        self.commits = {}
        self.behind = 0
        self.error = None
        self.stop_ev = threading.Event()
        self.t0 = self.t1 = None

    def run(self):
        rows_per_txn = max(1, self.rate // 500)
        txn_rate = self.rate / rows_per_txn
        c = self.db.tcp(db="bench_cdc")
        cur = c.cursor()
        self.t0 = time.time()
        k = 0
        try:
            while not self.stop_ev.is_set():
                d = self.t0 + k / txn_rate - time.time()
                if d > 0:
                    time.sleep(d)
                elif d < -0.05:
                    self.behind += 1
                k += 1
                ids = list(range(self.nid, self.nid + rows_per_txn))
                self.nid += rows_per_txn
                now_us = int(time.time() * 1e6)
                cur.execute("INSERT INTO lat (id, commit_us, pad) VALUES " +
                            ",".join(f"({i},{now_us},'incremental-snapshot-latency-probe')" for i in ids))
                c.commit()
                done = time.time()
                for i in ids:
                    self.commits[i] = done
        except Exception as e:  # noqa: BLE001 (reported by the step)
            self.error = e
        finally:
            self.t1 = time.time()
            cur.close()
            c.close()


def latency_figures(vals, prefix):
    return {f"{prefix}_n": len(vals),
            f"{prefix}_p50_ms": round(percentile(vals, 50), 1) if vals else None,
            f"{prefix}_p99_ms": round(percentile(vals, 99), 1) if vals else None,
            f"{prefix}_max_ms": round(max(vals), 1) if vals else None}


def incremental(engine, kafka, db, prefix, rows, baseline_s, start_kwargs, timeout, tag):
    """One run of the incremental step: the engine streams bench_cdc.lat (and marker) and
    bench_inc; a writer commits INCREMENTAL_RATE changes/s into bench_cdc.lat (another
    captured table than the one snapshotted); after `baseline_s` seconds an execute-snapshot
    signal for bench_inc.inc goes into the engine's signal table; the writer stops once the
    last of the `rows` r records is in Kafka. Snapshot rate = rows / (LogAppendTime of the
    last r record - the signal's commit). Latency = LogAppendTime - commit completion of
    each streamed change, split into those committed before the signal (baseline) and those
    committed between the signal and the last r record (during)."""
    big, lat = f"{prefix}.bench_inc.inc", f"{prefix}.bench_cdc.lat"
    table = SIGNAL_TABLE[engine.name]
    engine.extra = ('\n[signals]\ntable = "bench_inc.rt_signals"\n' if engine.name == "rowtide"
                    else "signal.data.collection=bench_inc.dbz_signals\n")
    try:
        engine.start(tag, prefix, **start_kwargs)
    finally:
        engine.extra = ""
    wait_live(engine, kafka, db, prefix, 180, tag)
    time.sleep(1)
    base0 = kafka.count([lat])
    w = BackgroundWriter(db, INCREMENTAL_RATE, int(time.time() * 1000) * 100_000)
    sampler = None
    w.start()
    try:
        time.sleep(baseline_s)
        data = json.dumps({"data-collections": ["bench_inc.inc"], "type": "incremental"})
        db.q(f"INSERT INTO bench_inc.{table} (id, type, data) VALUES (%s, 'execute-snapshot', %s)",
             (f"bench-{tag}", data))
        t_signal = time.time()
        # rowtide's queue depths while the snapshot runs: where the streamed changes wait
        sampler = MetricsSampler(engine) if engine.name == "rowtide" else None
        if sampler:
            sampler.start()
        wait_count(kafka, engine, [big], rows, timeout, f"{engine.name} {tag}")
        st = engine.sample()
    finally:
        w.stop_ev.set()
        w.join(30)
        if sampler:
            sampler.stop_ev.set()
    if w.error:
        raise StepFailed(f"the writer failed: {w.error}")
    first, last = kafka.first_last([big])
    n = kafka.count([big])
    wait_count(kafka, engine, [lat], base0 + len(w.commits), 180, f"{engine.name} {tag} streamed changes")
    before, during = [], []
    for m in kafka.read(lat, base0, timeout=60):
        i = key_id(m.key())
        if m.value() is None or i not in w.commits:
            continue
        committed = w.commits[i]
        ms = (m.timestamp()[1] / 1000.0 - committed) * 1000.0
        # The first second is the writer's own start; the rest before the signal is the baseline.
        if w.t0 + 1 <= committed < t_signal:
            before.append(ms)
        elif t_signal <= committed <= last:
            during.append(ms)
    engine.stop()
    span = last - t_signal
    res = {"rows": n, "snapshot_seconds": round(span, 3),
           "rows_per_s": round(n / span, 1) if span > 0 else None,
           "first_row_after_signal_s": round(first - t_signal, 3) if first else None,
           "writer_achieved_rate": round(len(w.commits) / (w.t1 - w.t0), 1),
           "writer_txns_late_over_50ms": w.behind,
           "cpu_seconds": st["cpu_s"],
           "peak_rss_mb": round(st["vm_hwm_kb"] / 1024, 1) if st["vm_hwm_kb"] else None}
    if sampler:
        res["queues"] = sampler.summary({"queue_source": 2048, "queue_sink": 2048, "in_flight": 10_000})
    res.update(latency_figures(before, "baseline"))
    res.update(latency_figures(during, "during"))
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


def decode(rt, state, expected, timeout, tag="decode"):
    """rowtide with the stdout sink (to /dev/null) from the primed offset."""
    t0 = rt.start(tag, "rtdecode", [r"bench_cdc\.(t_num|t_str|t_time|t_mix)"], "no_data", state,
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


def fmt(v, unit=""):
    if v is None:
        return "–"
    if isinstance(v, float):
        v = f"{v:,.1f}" if abs(v) >= 10 else f"{v:.2f}"
    elif isinstance(v, int):
        v = f"{v:,}"
    return f"{v}{unit}"


# ------------------------------------------------------------------ repeats: min / median / max
def _num(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def stats(vals):
    """min / median / max of the runs that produced the figure (failed runs are left out)."""
    vals = [v for v in vals if _num(v)]
    if not vals:
        return None
    med = statistics.median(vals)
    if all(isinstance(v, int) for v in vals) and med == int(med):
        med = int(med)
    return {"min": min(vals), "median": round(med, 3), "max": max(vals), "n": len(vals)}


def aggregate(runs):
    """Every numeric figure of a step's runs (dicts; None for a failed run) -> its stats."""
    keys = []
    for r in runs:
        keys += [k for k, v in (r or {}).items() if _num(v) and k not in keys]
    return {k: stats([(r or {}).get(k) for r in runs]) for k in keys}


def spread_ratio(a, b):
    """The range of a/b over the runs: a's min over b's max .. a's max over b's min."""
    if not a or not b or not b.get("max") or not b.get("min") or a.get("min") is None:
        return None
    return [round(a["min"] / b["max"], 2), round(a["max"] / b["min"], 2)]


def mratio(a, b):
    """The ratio of the medians of two figures, with its range; None without both."""
    if not a or not b or not b.get("median") or a.get("median") is None:
        return None
    return {"median": round(a["median"] / b["median"], 2), "range": spread_ratio(a, b)}


def fmt_stats(st):
    if not st:
        return "–"
    if st["n"] == 1 or st["min"] == st["max"]:
        return fmt(st["median"]) + (f" ({st['n']}×)" if st["n"] > 1 else "")
    return f"{fmt(st['min'])} / **{fmt(st['median'])}** / {fmt(st['max'])}"


def fmt_ratio(r):
    if not r:
        return "–"
    rng = r.get("range")
    return f"**{fmt(r['median'])}**" + (f" ({fmt(rng[0])}–{fmt(rng[1])})" if rng and rng[0] != rng[1] else "")


def fig(R, f, e, step, key):
    """stats of one figure: format f, engine e, step (catchup/steady/snapshot), key."""
    node = (((R.get("formats") or {}).get(f) or {}).get("engines") or {}).get(e) or {}
    return ((node.get(step) or {}).get("stats") or {}).get(key)


def peak_rss(R, f, e):
    vals = [fig(R, f, e, st, "peak_rss_mb") for st in ("catchup", "steady", "snapshot")]
    vals = [v["max"] for v in vals if v]
    return {"min": max(vals), "median": max(vals), "max": max(vals), "n": 1} if vals else None


def dz_label(R, f):
    eff = (R.get("formats", {}).get(f) or {}).get("debezium_format", f)
    return "Debezium" if eff == f else f"Debezium (**{eff}**, no Avro converter)"


def render_md(R):
    rates = R["settings"]["rates"]
    n = R["settings"]["repeats"]
    m = R["machine"]
    L = [f"# rowtide vs Debezium — {R['mode']} run, {R['date']}", "",
         f"Command: `{R['command']}`; wall time {R['wall_seconds']:.0f} s; "
         f"status: **{'OK' if not R['failures'] else 'FAILED: ' + '; '.join(R['failures'])}**", "",
         f"Every measured step ran **{n}×**, the engines (and formats) alternating run by run, never "
         "two engines at once. A figure reads `min / **median** / max` over the runs; a ratio is "
         "the **ratio of the medians**, with its range (worst run against best run, both ways) in "
         "brackets. Targets are judged on the medians.", "",
         "## Machine and versions", "",
         f"- {m['nproc']} CPUs ({m['cpu_model']}), {m['memory_gb']} GB RAM, Linux {m['kernel']}; "
         f"load average (1 min) {m.get('loadavg_start')} at the start, {m.get('loadavg_end')} at the end",
         *[f"- {k}: {v}" for k, v in R["versions"].items()],
         f"- producer settings (both engines): {', '.join(f'{k}={v}' for k, v in PRODUCER.items())}",
         *[f"- format `{f}`: {FORMATS[f]}" for f in R["settings"]["formats"]],
         "- tombstones after deletes, one partition per topic",
         "", "## Workload", "",
         f"- catch-up: {fmt(R['workload'].get('row_changes'))} row changes in "
         f"{fmt(R['workload'].get('transactions'))} transactions over 4 tables "
         f"({json.dumps({k: R['workload'].get(k) for k in ('insert', 'update', 'delete', 'single_insert', 'single_update')})}); "
         f"{fmt(R['workload'].get('expected_records'))} Kafka records expected (deletes + tombstones); "
         f"written in {fmt(R['workload'].get('write_seconds'))} s",
         f"- steady: {rates} events/s for {R['settings']['steady_seconds']} s each",
         f"- snapshot: one table of {fmt(R['settings']['snapshot_rows'])} rows",
         f"- incremental: a table of {fmt(R['settings'].get('incremental_rows'))} rows laid out as the "
         f"snapshot's, snapshotted incrementally (Debezium's signal-table "
         f"protocol, chunks of 1,024 rows in both engines: their defaults) while a writer streams "
         f"{INCREMENTAL_RATE:,} changes/s into another captured table (bench_cdc.lat); format "
         f"`{R['settings']['formats'][0]}` only"]
    for f in R["settings"]["formats"]:
        L += ["", f"## Results: format `{f}`", "",
              f"| measure | rowtide | {dz_label(R, f)} | rowtide/Debezium | target |",
              "|---|---|---|---|---|"]

        def row(label, key, step, target="", ratio=True):
            a, b = fig(R, f, "rowtide", step, key), fig(R, f, "debezium", step, key)
            L.append(f"| {label} | {fmt_stats(a)} | {fmt_stats(b)} | "
                     f"{fmt_ratio(mratio(a, b)) if ratio else '–'} | {target} |")
        row("catch-up: s from engine start to last record", "seconds_from_start", "catchup", ratio=False)
        row("catch-up: records/s (from start)", "records_per_s_from_start", "catchup", "≥ 8×")
        row("catch-up: records/s (first→last record)", "records_per_s_first_to_last", "catchup")
        row("catch-up: startup s to first record", "startup_seconds_to_first_record", "catchup", ratio=False)
        row("catch-up: CPU s per million records", "cpu_seconds_per_million_records", "catchup",
            "rowtide ≤ 2.0")
        row("catch-up: peak RSS MB (VmHWM)", "peak_rss_mb", "catchup", "≤ 0.1")
        row("snapshot: rows/s (from start)", "rows_per_s", "snapshot", "≥ 10×")
        row("snapshot: CPU s per million rows", "cpu_seconds_per_million_rows", "snapshot")
        row("snapshot: peak RSS MB", "peak_rss_mb", "snapshot", "≤ 0.1")
        for rate in rates:
            row(f"steady {rate}/s: p50 latency ms", f"r{rate}_p50_ms", "steady")
            row(f"steady {rate}/s: p99 latency ms", f"r{rate}_p99_ms", "steady",
                {5000: "rowtide < 10 ms", 50000: "rowtide < 50 ms"}.get(rate, ""))
            row(f"steady {rate}/s: achieved rate (writer)", f"r{rate}_achieved_rate", "steady", ratio=False)
        row("steady: peak RSS MB", "peak_rss_mb", "steady")
        incremental_rows(R, f, row, L)
        a, b = peak_rss(R, f, "rowtide"), peak_rss(R, f, "debezium")
        L.append(f"| peak RSS MB over all runs (largest) | {fmt_stats(a)} | {fmt_stats(b)} | "
                 f"{fmt_ratio(mratio(a, b))} | ≤ 0.1 |")
    cross = cross_format(R)
    if cross:
        L += ["", "## Across formats and against Kafka's own producer", "",
              "| measure | ratio of medians (range) | target |", "|---|---|---|"]
        for c in cross:
            L.append(f"| {c['label']} | {fmt_ratio(c['ratio'])} | {c.get('target', '')} |")
    if any(R.get("variants", {}).values()):
        L += ["", "## rowtide catch-up variants (same primed checkpoint, alternated with plain)", "",
              "| variant | plain records/s | variant records/s | variant/plain | target |", "|---|---|---|---|---|"]
        for name, v in R["variants"].items():
            if not v:
                continue
            L.append(f"| {name}: {v['label']} | {fmt_stats(v['stats']['plain'])} | "
                     f"{fmt_stats(v['stats'][name])} | "
                     f"{fmt_ratio({'median': v['variant_over_plain'], 'range': v['range']})} | ≥ {v['target']} |")
    if R.get("targets"):
        L += ["", "## Targets (issue 18, on medians)", "", "| target | value | met |", "|---|---|---|"]
        for t in R["targets"]:
            L.append(f"| {t['target']} | {t['value']} | {'yes' if t['met'] else ('no' if t['met'] is False else 'n/a')} |")
    L += ["", "## Physical limits (same binlog range, same machine)", "",
          "| stage | seconds | rate | vs rowtide end-to-end (JSON) |", "|---|---|---|---|"]
    lim = R.get("limits") or {}
    rr = (lim.get("raw_read") or {}).get("stats") or {}
    dec = (lim.get("rowtide_decode_stdout") or {}).get("stats") or {}
    f0 = "json" if "json" in R["settings"]["formats"] else R["settings"]["formats"][0]
    e2e = fig(R, f0, "rowtide", "catchup", "seconds_from_start")
    if rr.get("seconds"):
        L.append(f"| server hands out the binlog (mariadb-binlog --raw) | {fmt_stats(rr['seconds'])} | "
                 f"{fmt_stats(rr.get('mb_per_s'))} MB/s ({fmt(rr['bytes']['median'] if rr.get('bytes') else None)} bytes) | "
                 f"rowtide e2e is {fmt_ratio(mratio(e2e, rr['seconds']))}× this |")
    if dec.get("seconds_from_start"):
        L.append(f"| rowtide decode+encode (JSON), stdout sink to /dev/null | {fmt_stats(dec['seconds_from_start'])} | "
                 f"{fmt_stats(dec.get('records_per_s'))} records/s | "
                 f"rowtide e2e is {fmt_ratio(mratio(e2e, dec['seconds_from_start']))}× this |")
    for f in R["settings"]["formats"]:
        pp = ((R["formats"][f].get("producer_perf") or {}).get("stats")) or {}
        if pp.get("records_per_s"):
            size = pp.get("record_size", {}).get("median")
            L.append(f"| Kafka ingest, ProducerPerformance at `{f}`'s record size ({fmt(size)} B) | – | "
                     f"{fmt_stats(pp['records_per_s'])} records/s ({fmt_stats(pp.get('mb_per_s'))} MB/s) | |")
    q = first_queues(R)
    if q:
        L += ["", "rowtide queue depths during a catch-up (sampled from /metrics every 0.5 s): " + json.dumps(q)]
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
    L += ["", "## Notes", "", *[f"- {x}" for x in R["notes"]], ""]
    return "\n".join(L)


def incremental_rows(R, f, row, L):
    """The incremental step's rows of format f's table (when it ran in that format)."""
    if not any(fig(R, f, e, "incremental", "rows") for e in ("rowtide", "debezium")):
        return
    rate = f"{INCREMENTAL_RATE:,}/s"
    row(f"incremental snapshot while {rate} stream: rows/s (signal → last r record)",
        "rows_per_s", "incremental")
    row("incremental: s from the signal to the last r record", "snapshot_seconds", "incremental",
        ratio=False)
    row("incremental: s from the signal to the first r record", "first_row_after_signal_s",
        "incremental", ratio=False)
    for q in ("p50", "p99", "max"):
        row(f"incremental: streamed changes' {q} latency ms, no snapshot (before the signal)",
            f"baseline_{q}_ms", "incremental")
        row(f"incremental: streamed changes' {q} latency ms, during the snapshot",
            f"during_{q}_ms", "incremental")
    row("incremental: streamed changes measured during the snapshot", "during_n", "incremental",
        ratio=False)
    row(f"incremental: writer's achieved rate (target {rate})", "writer_achieved_rate",
        "incremental", ratio=False)
    row("incremental: peak RSS MB", "peak_rss_mb", "incremental")
    for r in ((R["formats"][f]["engines"].get("rowtide") or {}).get("incremental") or {}).get("runs", []):
        if r and r.get("queues"):
            L.append(f"| incremental: rowtide queue depths during the snapshot (first run, /metrics "
                     f"every 0.5 s) | {json.dumps(r['queues'])} | | | |")
            break
    if not fig(R, f, "debezium", "incremental", "rows"):
        L.append("| incremental: Debezium | **absent**: not run (`--engines`) or its runs failed "
                 "(see the status line) | | | |")


def first_queues(R):
    """The queue-depth summary of the first rowtide catch-up that has one."""
    for f in R["settings"]["formats"]:
        for r in ((R["formats"][f]["engines"].get("rowtide") or {}).get("catchup") or {}).get("runs", []):
            if r and r.get("queues"):
                return r["queues"]
    return None


def cross_format(R):
    """rowtide (and Debezium) <format>/JSON catch-up, and rowtide end-to-end against Kafka's
    ProducerPerformance at the same record size and producer settings, per format."""
    out, fs = [], R["settings"]["formats"]
    key = "records_per_s_from_start"
    for f in fs:
        if f == "json" or "json" not in fs:
            continue
        r = mratio(fig(R, f, "rowtide", "catchup", key), fig(R, "json", "rowtide", "catchup", key))
        out.append({"label": f"rowtide {f} / rowtide json catch-up (records/s from start)", "ratio": r,
                    "target": "≥ 0.9" if f == "avro" else "", "key": f"rowtide_{f}_over_json"})
        lbl = f"Debezium {f}" + ("" if dz_label(R, f) == "Debezium" else " (ran JSON: no Avro converter)")
        r = mratio(fig(R, f, "debezium", "catchup", key), fig(R, "json", "debezium", "catchup", key))
        out.append({"label": f"{lbl} / Debezium json catch-up", "ratio": r, "key": f"debezium_{f}_over_json"})
    for f in fs:
        pp = ((R["formats"][f].get("producer_perf") or {}).get("stats")) or {}
        r = mratio(fig(R, f, "rowtide", "catchup", key), pp.get("records_per_s"))
        if r:
            size = (pp.get("record_size") or {}).get("median")
            out.append({"label": f"rowtide end-to-end catch-up (`{f}`, records/s from start) / Kafka's "
                        f"ProducerPerformance ({fmt(size)} B records, same producer settings)",
                        "ratio": r, "target": "≥ 1.0", "key": f"rowtide_{f}_over_producer_perf"})
    return out


def targets(R):
    """Issue 18's targets, judged on medians."""
    out, fs, rates = [], R["settings"]["formats"], R["settings"]["rates"]

    def add(name, r, ok_fn, unit="×"):
        if r is None:
            out.append({"target": name, "value": "n/a", "met": None})
            return
        rng = r.get("range")
        v = f"{r['median']}{unit}" + (f" (range {rng[0]}–{rng[1]})" if rng else "")
        out.append({"target": name, "value": v, "met": bool(ok_fn(r["median"]))})
    key = "records_per_s_from_start"
    for f in ("json", "avro"):
        if f in fs:
            lbl = "" if dz_label(R, f) == "Debezium" else " (Debezium ran JSON: no Avro converter)"
            add(f"catch-up records/s ≥ 8× Debezium, {f}{lbl}",
                mratio(fig(R, f, "rowtide", "catchup", key), fig(R, f, "debezium", "catchup", key)),
                lambda x: x >= 8)
    by_key = {c["key"]: c["ratio"] for c in cross_format(R)}
    if "rowtide_avro_over_json" in by_key:
        add("rowtide Avro / rowtide JSON catch-up ≥ 0.9", by_key["rowtide_avro_over_json"], lambda x: x >= 0.9, "")
    f0 = "json" if "json" in fs else fs[0]
    cpu = fig(R, f0, "rowtide", "catchup", "cpu_seconds_per_million_records")
    add(f"rowtide catch-up CPU-seconds per million records ≤ 2.0 ({f0})",
        {"median": cpu["median"], "range": [cpu["min"], cpu["max"]]} if cpu else None, lambda x: x <= 2.0, " s")
    if f"rowtide_{f0}_over_producer_perf" in by_key:
        add(f"rowtide end-to-end ≥ Kafka's ProducerPerformance ({f0}, same record size and settings)",
            by_key[f"rowtide_{f0}_over_producer_perf"], lambda x: x >= 1.0)
    add(f"snapshot rows/s ≥ 10× Debezium ({fmt(R['settings']['snapshot_rows'])} rows, {f0})",
        mratio(fig(R, f0, "rowtide", "snapshot", "rows_per_s"), fig(R, f0, "debezium", "snapshot", "rows_per_s")),
        lambda x: x >= 10)
    add(f"peak RSS ≤ 0.1 of Debezium's (largest over all runs, {f0})",
        mratio(peak_rss(R, f0, "rowtide"), peak_rss(R, f0, "debezium")), lambda x: x <= 0.1, "")
    for rate, limit in ((5000, 10), (50000, 50)):
        if rate in rates:
            p = fig(R, f0, "rowtide", "steady", f"r{rate}_p99_ms")
            add(f"rowtide p99 latency at {rate:,} events/s < {limit} ms ({f0})",
                {"median": p["median"], "range": [p["min"], p["max"]]} if p else None,
                lambda x, lim=limit: x < lim, " ms")
    for name, v in (R.get("variants") or {}).items():
        if v and v.get("variant_over_plain") is not None:
            add(f"catch-up with {v['label']} ≥ {v['target']} of plain",
                {"median": v["variant_over_plain"], "range": v["range"]}, lambda x, t=v["target"]: x >= t, "")
    return out


def bottleneck(R):
    fs = R["settings"]["formats"]
    f0 = "json" if "json" in fs else fs[0]
    e2e_s = fig(R, f0, "rowtide", "catchup", "seconds_from_start")
    lim = R.get("limits") or {}
    rr = ((lim.get("raw_read") or {}).get("stats") or {}).get("seconds")
    dec = ((lim.get("rowtide_decode_stdout") or {}).get("stats") or {}).get("seconds_from_start")
    if not e2e_s or not rr:
        return None
    e2e, raw = e2e_s["median"], rr["median"]
    parts = [f"rowtide end-to-end catch-up (median) takes {e2e / raw:.1f}× the raw binlog read "
             f"({'within' if e2e <= 2 * raw else 'not within'} the 2× goal)."]
    if dec and dec["median"] >= 0.9 * e2e:
        d = dec["median"]
        parts.append(f"Decoding and encoding alone (stdout sink to /dev/null) take {d:.2f} s, as long as "
                     f"the end-to-end run ({e2e:.2f} s): delivering to Kafka adds nothing, the rate is set "
                     f"by the source and encoder stages.")
    elif dec:
        d = dec["median"]
        parts.append(f"Decoding and encoding alone (stdout sink) take {d:.2f} s = {d / raw:.1f}× the raw read,"
                     f" so the source+encoder stages account for {min(100, d / e2e * 100):.0f}% of the end-to-end time"
                     f" and the Kafka sink for the rest.")
    q = first_queues(R) or {}
    src, snk, inf = q.get("queue_source", {}), q.get("queue_sink", {}), q.get("in_flight", {})
    if snk.get("share_at_90pct_capacity", 0) > 0.5 or inf.get("share_at_90pct_capacity", 0) > 0.5:
        parts.append("The queue before the sink / the in-flight window was full most of the time: "
                     "the Kafka producer (acks, batching, compression) is the saturated stage.")
    elif src.get("share_at_90pct_capacity", 0) > 0.5:
        parts.append("The queue between the binlog reader and the encoder was full most of the time: "
                     "the encoder stage (row conversion + encoding) is the saturated stage.")
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


def registry_version(env):
    url = env.get("ROWTIDE_TEST_REGISTRY_URL", "").replace("/apis/ccompat/v7", "/apis/registry/v2/system/info")
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            info = json.loads(r.read())
        return f"Apicurio Registry {info.get('version')} ({url.rsplit('/apis/', 1)[0]})"
    except Exception as e:  # noqa: BLE001
        return f"unknown ({e})"


def copy_state(src, dst):
    """A fresh copy of a primed checkpoint (rowtide: a directory; Debezium: an offsets file)."""
    if os.path.isdir(src):
        shutil.copytree(src, dst)
    else:
        shutil.copyfile(src, dst)
    return dst


# ------------------------------------------------------------------ main
def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mode", required=True)
    ap.add_argument("--rows", type=int, required=True)
    ap.add_argument("--snapshot-rows", type=int, required=True)
    ap.add_argument("--snapshot-parallelism", type=int, default=2)
    ap.add_argument("--incremental-rows", type=int, default=0)
    ap.add_argument("--rates", required=True)
    ap.add_argument("--steady-seconds", type=int, required=True)
    ap.add_argument("--rowtide-bin", required=True)
    ap.add_argument("--connect", required=True)
    ap.add_argument("--plugin-dir", required=True)
    ap.add_argument("--debezium-version", required=True)
    ap.add_argument("--engines", default="rowtide,debezium")
    ap.add_argument("--steps", default="catchup,shaped,eos,steady,snapshot,incremental,limits")
    ap.add_argument("--formats", default="json")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--avro-plugin-dir", default="")
    ap.add_argument("--avro-converter", default="")
    ap.add_argument("--avro-fallback", default="")
    ap.add_argument("--note", action="append", default=[])
    ap.add_argument("--out", required=True)
    ap.add_argument("--command", default="bench/run")
    a = ap.parse_args()

    env = dict(os.environ)
    engines = [e for e in a.engines.split(",") if e]
    steps = [x for x in a.steps.split(",") if x]
    formats = [f for f in a.formats.split(",") if f]
    bad = [f for f in formats if f not in FORMATS] + [e for e in engines if e not in ("rowtide", "debezium")]
    if bad or not formats or a.repeats < 1:
        print(f"bench.py: unknown format/engine {bad} or no format or --repeats < 1", file=sys.stderr)
        return 2
    repeats = a.repeats
    rates = [int(x) for x in a.rates.split(",") if x]
    run_id = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dt%H%M%S")
    workdir = os.path.join(env["ROWTIDE_DEV_RUN"], "bench", run_id)
    os.makedirs(workdir, exist_ok=True)
    db, kafka = DB(env), Kafka(env["ROWTIDE_TEST_KAFKA_BROKERS"])
    t_run = time.time()
    long_timeout = 120 + a.rows / 1000
    snap_timeout = 120 + a.snapshot_rows / 1000

    rt = Rowtide(a.rowtide_bin, env, workdir, server_id=6601)
    dz = Debezium(a.connect, a.plugin_dir, a.debezium_version, env, workdir, server_id=6602,
                  avro_plugin=a.avro_plugin_dir or None, avro_fallback=a.avro_fallback or None)
    machine = machine_info()
    machine["loadavg_start"] = round(os.getloadavg()[0], 2)
    R = {"mode": a.mode, "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
         "command": a.command, "machine": machine, "failures": [], "notes": list(a.note),
         "settings": {"rows": a.rows, "snapshot_rows": a.snapshot_rows, "rates": rates,
                      "incremental_rows": a.incremental_rows,
                      "steady_seconds": a.steady_seconds, "producer": PRODUCER, "formats": formats,
                      "repeats": repeats, "rowtide_bin": a.rowtide_bin, "workdir": workdir},
         "versions": {}, "workload": {}, "limits": {}, "variants": {},
         "formats": {f: {"engines": {e: {} for e in engines},
                         "debezium_format": dz.effective_format(f) if "debezium" in engines else f}
                     for f in formats}}
    mv = db.q("SELECT VERSION()")[0][0]
    R["versions"] = {"rowtide": rt.version(), "debezium": f"debezium-connector-mariadb {a.debezium_version} "
                     f"on Kafka Connect 4.3.1 standalone (heap {env.get('ROWTIDE_CONNECT_HEAP', '1g')})",
                     "mariadb": mv, "kafka": "4.3.1 (KRaft, one node)",
                     "java": subprocess.run(["java", "-version"], capture_output=True, text=True).stderr.splitlines()[0]}
    if "avro" in formats:
        R["versions"]["registry"] = registry_version(env)
        if "debezium" in engines:
            R["versions"]["debezium Avro converter"] = (
                f"`{APICURIO_CONVERTER}` from {a.avro_converter}, Confluent-compatible "
                "(as-confluent=true, use-id=contentId, headers off) against the registry's v2 API"
                if dz.avro_plugin else
                f"NONE resolved ({a.avro_fallback}): Debezium's `avro` runs use JSON without "
                "schemas, labelled in every table")
    live = []  # engines that may need stopping

    def step(name, fn):
        log(f"step {name}")
        try:
            return fn()
        except (StepFailed, subprocess.TimeoutExpired, KafkaException, pymysql.MySQLError, OSError) as e:
            log(f"step {name} FAILED: {e}")
            log("  at " + " <- ".join(f"{fr.name}:{fr.lineno}" for fr in
                                      reversed(traceback.extract_tb(e.__traceback__))))
            R["failures"].append(f"{name}: {e}")
            for eng in live:
                try:
                    eng.stop()
                except Exception as e2:  # noqa: BLE001
                    log(f"  stopping {eng.name}: {e2}")
            return None

    def collect(node, key, run):
        node.setdefault(key, {"runs": []})["runs"].append(run)

    def on_signal(sig, _frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_signal)
    flush_old = db.q("SELECT @@GLOBAL.innodb_flush_log_at_trx_commit")[0][0]
    eng_of = {"rowtide": rt, "debezium": dz}
    # One topic prefix per engine and format for the catch-up: every repeat appends to the same
    # topics (Debezium's offsets are keyed by its topic prefix) and counts from their end offsets.
    pfx = {(e, f): f"{ {'rowtide': 'rt', 'debezium': 'dz'}[e]}{FORMAT_TAG[f]}{run_id}"
           for e in engines for f in formats}

    def cdc_kw(e, f):
        if e == "rowtide":
            return {"include": [r"bench_cdc\..*"], "snapshot_mode": "no_data", "fmt": f,
                    "state": os.path.join(workdir, f"rowtide-state-{f}")}
        return {"dbs": ["bench_cdc"], "snapshot_mode": "no_data", "fmt": f,
                "offsets": os.path.join(workdir, f"dbz-catchup-{f}.offsets")}
    try:
        if step("prepare", lambda: prepare(db, a.snapshot_rows if "snapshot" in steps else 0,
                                         a.incremental_rows if "incremental" in steps else 0) or True) is None:
            raise KeyboardInterrupt  # nothing else can work
        db.q("SET GLOBAL innodb_flush_log_at_trx_commit = 2")
        R["notes"].append(f"innodb_flush_log_at_trx_commit = 2 during the run (was {flush_old}), so the "
                          "writers are not bound by fsync; restored at the end")
        kafka.create_topics([f"{p}.bench_cdc.{t}" for p in pfx.values() for t in ALL_CDC_TABLES])
        primed, expected, rt_pristine = {}, 0, None
        variants = [v for v in CATCHUP_VARIANTS if v in steps]
        if "catchup" in steps or "limits" in steps or variants:
            # without the catch-up step only rowtide's first format is needed (limits, variants)
            for f in (formats if "catchup" in steps else formats[:1]):
                for e in (engines if "catchup" in steps else [x for x in engines if x == "rowtide"]):
                    live[:] = [eng_of[e]]
                    primed[(e, f)] = step(f"prime {e} ({f})", lambda: prime(
                        eng_of[e], kafka, db, pfx[(e, f)], cdc_kw(e, f), 180, tag=f"prime-{f}") or True)
            # the JSON-only steps (limits, variants) start from the first primed rowtide state
            f0 = next((f for f in formats if primed.get(("rowtide", f))), None)
            rt_pristine = cdc_kw("rowtide", f0)["state"] if f0 else None
            start = db.master_status()
            R["workload"] = step("workload", lambda: workload(db, a.rows)) or {}
            R["workload"]["binlog_start"] = f"{start[0]}:{start[1]}"
            R["workload"]["binlog_end"] = "%s:%d" % db.master_status()
            expected = R["workload"].get("expected_records", 0)
            log(f"workload: {json.dumps(R['workload'])}")
            if "limits" in steps and expected:
                for i in range(repeats):
                    collect(R["limits"], "raw_read", step(f"raw binlog read (run {i + 1}/{repeats})",
                                                          lambda: raw_read(env, start, workdir, 600)))
                    if "rowtide" in engines and rt_pristine:
                        live[:] = [rt]
                        collect(R["limits"], "rowtide_decode_stdout", step(
                            f"rowtide decode, stdout sink (run {i + 1}/{repeats})",
                            lambda: decode(rt, copy_state(rt_pristine, f"{rt_pristine}-decode{i}"),
                                           expected, long_timeout, tag=f"decode{i}")))
            if "catchup" in steps and expected:
                for i in range(repeats):
                    for f in formats:
                        for e in engines:
                            if not primed.get((e, f)):
                                continue
                            kw = cdc_kw(e, f)
                            sk = "state" if e == "rowtide" else "offsets"
                            kw[sk] = copy_state(kw[sk], f"{kw[sk]}-run{i}")
                            sampler = MetricsSampler(rt) if e == "rowtide" else None
                            live[:] = [eng_of[e]]
                            r = step(f"{e} catch-up ({f}, run {i + 1}/{repeats})", lambda: catchup(
                                eng_of[e], kafka, pfx[(e, f)], expected, kw, long_timeout, sampler,
                                tag=f"catchup-{f}-{i}"))
                            if r and sampler:
                                r["queues"] = sampler.summary(
                                    {"queue_source": 2048, "queue_sink": 2048, "in_flight": 10_000})
                            collect(R["formats"][f]["engines"][e], "catchup", r)
        if "rowtide" in engines and rt_pristine and expected:
            for v in variants:
                live[:] = [rt]
                R["variants"][v] = step(
                    f"rowtide catch-up, plain vs {v} ({repeats}× each, alternated)",
                    lambda: variant_catchups(rt, kafka, f"rtv{run_id}", expected,
                                             dict(cdc_kw("rowtide", "json"), fmt="json"),
                                             rt_pristine, repeats, long_timeout, v))
        if "steady" in steps and rates:
            for i in range(repeats):
                for f in formats:
                    for e in engines:
                        p = f"{pfx[(e, f)]}s{i}"
                        kafka.create_topics([f"{p}.bench_cdc.{t}" for t in ALL_CDC_TABLES])
                        kw = ({"include": [r"bench_cdc\.(lat|marker)"], "snapshot_mode": "no_data", "fmt": f,
                               "state": os.path.join(workdir, f"rowtide-state-steady-{f}{i}")} if e == "rowtide" else
                              {"dbs": ["bench_cdc"], "snapshot_mode": "no_data", "fmt": f,
                               "offsets": os.path.join(workdir, f"dbz-steady-{f}{i}.offsets")})
                        live[:] = [eng_of[e]]
                        collect(R["formats"][f]["engines"][e], "steady", step(
                            f"{e} steady ({f}, run {i + 1}/{repeats})",
                            lambda: steady(eng_of[e], kafka, db, p, rates, a.steady_seconds, kw, 180,
                                           tag=f"steady-{f}-{i}")))
        if "snapshot" in steps and a.snapshot_rows:
            for i in range(repeats):
                for f in formats:
                    for e in engines:
                        p = f"{pfx[(e, f)]}n{i}"
                        kafka.create_topics([f"{p}.bench_snap.big"])
                        kw = ({"include": [r"bench_snap\.big"], "snapshot_mode": "initial", "fmt": f,
                               "state": os.path.join(workdir, f"rowtide-state-snapshot-{f}{i}")} if e == "rowtide" else
                              {"dbs": ["bench_snap"], "snapshot_mode": "initial", "fmt": f,
                               "offsets": os.path.join(workdir, f"dbz-snapshot-{f}{i}.offsets")})
                        live[:] = [eng_of[e]]
                        # The same number of connections for both (rowtide: key ranges of the
                        # one table; Debezium: snapshot.max.threads, which splits by table).
                        eng_of[e].snapshot_parallelism = a.snapshot_parallelism
                        eng_of[e].snapshot_threads = a.snapshot_parallelism
                        collect(R["formats"][f]["engines"][e], "snapshot", step(
                            f"{e} snapshot ({f}, run {i + 1}/{repeats})",
                            lambda: snapshot(eng_of[e], kafka, p, a.snapshot_rows, kw, snap_timeout,
                                             tag=f"snapshot-{f}-{i}")))
        if "incremental" in steps and a.incremental_rows:
            # The first format only (it measures the snapshot's effect on streaming, not the
            # encoding); a baseline of 3 s (smoke) or 10 s of streaming before the signal.
            f = formats[0]
            for i in range(repeats):
                for e in engines:
                    p = f"{pfx[(e, f)]}i{i}"
                    # the signal tables' topics too: a topic created on the fly (its first
                    # record: the signal row) holds up the stream behind it
                    kafka.create_topics([f"{p}.bench_cdc.lat", f"{p}.bench_cdc.marker",
                                         f"{p}.bench_inc.inc"] +
                                        [f"{p}.bench_inc.{t}" for t in SIGNAL_TABLE.values()])
                    kw = ({"include": [r"bench_cdc\.(lat|marker)", r"bench_inc\.(inc|rt_signals)"],
                           "snapshot_mode": "no_data", "fmt": f,
                           "state": os.path.join(workdir, f"rowtide-state-incremental-{f}{i}")}
                          if e == "rowtide" else
                          {"dbs": ["bench_cdc", "bench_inc"], "snapshot_mode": "no_data", "fmt": f,
                           "offsets": os.path.join(workdir, f"dbz-incremental-{f}{i}.offsets")})
                    live[:] = [eng_of[e]]
                    collect(R["formats"][f]["engines"][e], "incremental", step(
                        f"{e} incremental snapshot while streaming ({f}, run {i + 1}/{repeats})",
                        lambda: incremental(eng_of[e], kafka, db, p, a.incremental_rows,
                                            3 if a.mode == "smoke" else 10, kw,
                                            120 + a.incremental_rows / 1000,
                                            tag=f"incremental-{f}-{i}")))
        if "limits" in steps and expected:
            # Kafka's own producer at each format's mean record size (key + value, sampled from
            # the catch-up topics) and the same producer settings, alternating the formats.
            sizes = {}
            for f in formats:
                e = "rowtide" if ("rowtide", f) in pfx else engines[0]
                sample = []
                for t in ("t_num", "t_str", "t_time", "t_mix"):
                    sample += kafka.read(f"{pfx[(e, f)]}.bench_cdc.{t}", 0, limit=100, timeout=10)
                sz = [len(x.value() or b"") + len(x.key() or b"") for x in sample if x.value()]
                if sz:
                    sizes[f] = int(statistics.mean(sz))
            for i in range(repeats):
                for f in formats:
                    if f in sizes:
                        collect(R["formats"][f], "producer_perf", step(
                            f"Kafka ProducerPerformance ({f}, {sizes[f]} B, run {i + 1}/{repeats})",
                            lambda: producer_perf(env, kafka, f"pp{FORMAT_TAG[f]}{i}{run_id}",
                                                  max(a.rows, 10_000), sizes[f], 600)))
        if "limits" in steps and "rowtide" in engines and rt_pristine and expected:
            live[:] = [rt]
            R["limits"]["profile"] = step(
                "rowtide CPU profile (perf, separate run)",
                lambda: profile(rt, copy_state(rt_pristine, f"{rt_pristine}-profile"), expected,
                                f"rtprof{run_id}", workdir, long_timeout))
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

    for node in [R["limits"]] + [R["formats"][f] for f in formats] + \
            [R["formats"][f]["engines"][e] for f in formats for e in engines]:
        for key, c in node.items():
            if isinstance(c, dict) and "runs" in c:
                c["stats"] = aggregate(c["runs"])
    R["machine"]["loadavg_end"] = round(os.getloadavg()[0], 2)
    R["bottleneck"] = bottleneck(R)
    R["cross_format"] = cross_format(R)
    R["targets"] = targets(R)
    R["notes"] += [
        f"every measured step ran {repeats}× (--repeats), alternating engines and formats run by run "
        "(rowtide, Debezium, rowtide, …), never two engines at once; figures are min / median / max "
        "over the runs, ratios are ratios of medians with their range (worst run against best run)",
        "catch-up: both engines were started once per format without a data snapshot and stopped "
        "after a marker row reached Kafka; the workload was then written with no engine running; "
        "each run starts from a copy of that primed checkpoint (rowtide state dir, Debezium offsets "
        "file) into the same topics, counting past their end offsets at launch; the clock starts "
        "when the engine process is launched and stops at the broker's LogAppendTime of the last "
        "record (topics are created beforehand with message.timestamp.type=LogAppendTime)",
        "records counted by topic end offsets (one partition each); deletes count twice (tombstone)",
        f"snapshot: one table read over {a.snapshot_parallelism} connection(s) by each engine: "
        f"rowtide with source.snapshot_parallelism = {a.snapshot_parallelism} (the table split in "
        "primary-key ranges of source.snapshot_range_rows, default 500,000 rows), Debezium with "
        f"snapshot.max.threads = {a.snapshot_parallelism} (which splits work by table only, so one "
        "table is read by one thread)",
        "steady latency = LogAppendTime of the record - the writer's commit completion time "
        "(client side, same clock; the record's id is read from its key in any format); Kafka "
        "timestamps have 1 ms resolution; each run starts the engine fresh",
        "CPU = utime+stime of the engine process (the whole JVM for Debezium) from launch to the "
        "last record, including startup; peak RSS = VmHWM of that process",
        "Debezium runs with its defaults (max.batch.size 2048, max.queue.size 8192, poll.interval.ms 500, "
        "which bounds its latency when the queue runs empty) and Kafka "
        "Connect standalone (offset.flush.interval.ms=1000); rowtide with its defaults "
        "(pipeline queues 2048, max_in_flight 10000, 2 encoder workers)",
        "Kafka's ProducerPerformance is org.apache.kafka.tools.ProducerPerformance (what "
        "bin/kafka-producer-perf-test.sh runs) from the Kafka 4.3.1 install scripts/env uses, in a "
        "fresh JVM (its warm-up included), max(rows, 10,000) records",
        "incremental: each run starts the engine fresh without a data snapshot, proves it streams "
        "(a marker row), starts the writer (transactions of 2 rows, 500/s), waits a baseline "
        "(10 s; 3 s with --smoke), inserts Debezium's execute-snapshot signal "
        "({\"data-collections\": [\"bench_inc.inc\"], \"type\": \"incremental\"}) into the "
        "engine's own signal table (rowtide [signals] table, Debezium signal.data.collection), and "
        "stops the writer when the table's last r record is in Kafka; rows/s run from the signal's "
        "commit to that record's LogAppendTime; latency is the streamed change's LogAppendTime minus "
        "its commit completion, before the signal (the writer's first second left out) and "
        "between the signal and the last r record",
        "the limits steps (raw read, stdout decode, profile) and the catch-up variants run rowtide "
        "with format json",
        f"the machine is shared (2 CPUs: MariaDB, Kafka, the registry, the engine and the load "
        f"generator, and whatever else runs on it): load average {R['machine']['loadavg_start']} at "
        f"the start, {R['machine']['loadavg_end']} at the end of the run",
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

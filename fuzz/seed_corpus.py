#!/usr/bin/env python3
"""Seeds the fuzz corpora from the recorded binlogs (../shared/fixtures/binlog/, or the
directory in $ROWTIDE_FIXTURES): fuzz/corpus/event_stream/ gets every fixture (gzip undone,
Sakila cut to its first 96 KiB of whole events) twice, with mode byte 0 (bytes as they are)
and 1 (the harness recomputes CRC32s); fuzz/corpus/row_decoder/ gets, for every rows event
that writes rows (WRITE_ROWS v1/v2), its table map's tail and its row images."""
import gzip
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.environ.get("ROWTIDE_FIXTURES") or os.path.join(HERE, "..", "..", "shared", "fixtures", "binlog")
MAX = 96 * 1024


def lenenc(b, i):
    f = b[i]
    if f < 0xFB:
        return f, i + 1
    width = {0xFC: 2, 0xFD: 3, 0xFE: 8}[f]
    return int.from_bytes(b[i + 1:i + 1 + width], "little"), i + 1 + width


def events(b):
    at = 4
    while at + 19 <= len(b):
        size = struct.unpack_from("<I", b, at + 9)[0]
        if size < 19 or at + size > len(b):
            return
        yield at, b[at:at + size]
        at += size


def main():
    if not os.path.isdir(FIXTURES):
        sys.exit(f"fixtures not found at {FIXTURES}; set ROWTIDE_FIXTURES")
    out_es = os.path.join(HERE, "corpus", "event_stream")
    out_rd = os.path.join(HERE, "corpus", "row_decoder")
    os.makedirs(out_es, exist_ok=True)
    os.makedirs(out_rd, exist_ok=True)
    n_rd = 0
    for name in sorted(os.listdir(FIXTURES)):
        if name.endswith(".md"):
            continue
        b = open(os.path.join(FIXTURES, name), "rb").read()
        if b[:2] == b"\x1f\x8b":
            b = gzip.decompress(b)
        if len(b) > MAX:
            end = 4
            for at, ev in events(b):
                if at + len(ev) > MAX:
                    break
                end = at + len(ev)
            b = b[:end]
        for mode in (0, 1):
            open(os.path.join(out_es, f"{name}.{mode}"), "wb").write(bytes([mode]) + b)
        crc = False
        tables = {}
        for at, ev in events(b):
            ty = ev[4]
            if ty == 15:
                crc = ev[-5] == 1 and len(ev) > 19 + 57 + 5
            body = ev[19:len(ev) - 4] if crc and ty != 15 else ev[19:]
            try:
                if ty == 19:  # TABLE_MAP: id(6) flags(2) db(len,str,0) table(len,str,0) tail
                    tid = int.from_bytes(body[:6], "little")
                    i = 8
                    i += 1 + body[i] + 1
                    i += 1 + body[i] + 1
                    tables[tid] = body[i:]
                elif ty in (23, 30):  # WRITE_ROWS v1 / v2
                    tid = int.from_bytes(body[:6], "little")
                    i = 8
                    if ty == 30:
                        i += struct.unpack_from("<H", body, i)[0]
                    ncols, i = lenenc(body, i)
                    i += (ncols + 7) // 8
                    tail = tables.get(tid)
                    if tail is None or len(tail) > 0xFFFF:
                        continue
                    seed = struct.pack("<H", len(tail)) + tail + body[i:]
                    open(os.path.join(out_rd, f"{name}.{at}"), "wb").write(seed)
                    n_rd += 1
            except (IndexError, KeyError, struct.error):
                continue
    print(f"event_stream: {len(os.listdir(out_es))} seeds, row_decoder: {n_rd} seeds")


if __name__ == "__main__":
    main()

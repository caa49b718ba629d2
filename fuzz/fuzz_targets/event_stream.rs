//! Bytes → the path `rowtide replay` takes: `source::file::replay_stream` (framing, size
//! checks, CRC32, validation, the parser behind the panic boundary, the event handler, the
//! row decoder).
//!
//! The first input byte is a mode: when its low bit is set, the harness recomputes the CRC32
//! of every event it can frame before replaying (so the fuzzer's changes reach the parser
//! instead of stopping at the checksum); otherwise the bytes go in as they are.
//!
//! A finding is a panic that escapes, an abort (an allocation beyond the fuzzer's
//! `-rss_limit_mb`), a timeout, or an error made from a panic the boundary contained —
//! that one means a check before the parser is missing. Set
//! `ROWTIDE_FUZZ_ALLOW_CONTAINED=1` to accept contained panics and look for the rest.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rowtide::error::Error;
use rowtide::model::Filter;
use rowtide::source::file::{replay_stream, ReplayOptions};
use rowtide::source::guard::PANIC_PREFIX;

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let mut bytes = rest.to_vec();
    if mode & 1 == 1 {
        fix_checksums(&mut bytes);
    }
    let options = ReplayOptions {
        allow_positional_names: true,
        capture_system_schemas: true,
        ..ReplayOptions::default()
    };
    let input = Box::new(std::io::Cursor::new(bytes));
    let result = replay_stream(
        "fuzz-input",
        "fuzz-bin.000001",
        input,
        Filter::all(),
        options,
        &mut |_| Ok(()),
    );
    if let Err(Error::Corrupt { reason, .. }) = &result {
        if reason.starts_with(PANIC_PREFIX)
            && std::env::var_os("ROWTIDE_FUZZ_ALLOW_CONTAINED").is_none()
        {
            panic!("contained parser panic: {reason}");
        }
    }
});

/// Recomputes the CRC32 of every event the size fields frame, when the first event is a
/// format description announcing CRC32.
fn fix_checksums(file: &mut [u8]) {
    let mut at = 4;
    let mut crc32 = false;
    while at + 19 <= file.len() {
        let len = u32::from_le_bytes([file[at + 9], file[at + 10], file[at + 11], file[at + 12]])
            as usize;
        if len < 23 || at + len > file.len() {
            return;
        }
        if at == 4 {
            crc32 = file[at + 4] == 15 && file[at + len - 5] == 1;
        }
        if !crc32 {
            return;
        }
        let mut header = [0u8; 19];
        header.copy_from_slice(&file[at..at + 19]);
        header[17] &= !1;
        let mut crc = flate2::Crc::new();
        crc.update(&header);
        crc.update(&file[at + 19..at + len - 4]);
        file[at + len - 4..at + len].copy_from_slice(&crc.sum().to_le_bytes());
        at += len;
    }
}

//! Seeded mutations of recorded binlog files, for the mutation test and the fuzz corpus:
//! bit flips, byte overwrites, truncations, corrupted event size fields, duplicated and
//! removed chunks, and damage *inside* an event whose CRC32 is then recomputed (the damage a
//! checksum cannot see: it was there before the server computed it), so the parser behind
//! the checksum is exercised too.

/// splitmix64: small, seedable, and the same on every platform.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`0` when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next_u64() % n as u64) as usize
        }
    }

    pub fn byte(&mut self) -> u8 {
        self.next_u64() as u8
    }
}

/// One event of a file: where it starts and how long it is.
#[derive(Debug, Clone, Copy)]
pub struct Span {
    pub start: usize,
    pub len: usize,
}

/// The events of a well-formed binlog (after the 4 magic bytes), as far as they frame.
pub fn events(file: &[u8]) -> Vec<Span> {
    let mut out = Vec::new();
    let mut at = 4;
    while at + 19 <= file.len() {
        let len = u32::from_le_bytes([file[at + 9], file[at + 10], file[at + 11], file[at + 12]])
            as usize;
        if len < 19 || at + len > file.len() {
            break;
        }
        out.push(Span { start: at, len });
        at += len;
    }
    out
}

/// Whether the file's format description announces CRC32 (its algorithm byte, before the
/// 4-byte checksum at its end, is 1).
pub fn has_crc32(file: &[u8], spans: &[Span]) -> bool {
    spans
        .first()
        .filter(|s| file.get(s.start + 4) == Some(&15) && s.len >= 19 + 57 + 5)
        .is_some_and(|s| file[s.start + s.len - 5] == 1)
}

/// Recomputes the CRC32 of the event at `span` (in-use flag cleared, as servers do).
pub fn fix_crc(file: &mut [u8], span: Span) {
    let end = span.start + span.len;
    let mut header = [0u8; 19];
    header.copy_from_slice(&file[span.start..span.start + 19]);
    header[17] &= !1;
    let mut crc = flate2::Crc::new();
    crc.update(&header);
    crc.update(&file[span.start + 19..end - 4]);
    file[end - 4..end].copy_from_slice(&crc.sum().to_le_bytes());
}

/// The kinds of damage, for the report.
pub const KINDS: [&str; 8] = [
    "bit flips",
    "byte overwrites",
    "truncation",
    "event size field",
    "duplicated chunk",
    "removed chunk",
    "damage behind a valid CRC32",
    "interesting values behind a valid CRC32",
];

/// Values that sit on the edges of length fields.
const INTERESTING: [u8; 10] = [0x00, 0x01, 0x7f, 0x80, 0xfa, 0xfb, 0xfc, 0xfd, 0xfe, 0xff];

/// A damaged copy of `file` (whose events are `spans`) and the index of the kind of damage
/// in [`KINDS`].
pub fn mutate(file: &[u8], spans: &[Span], rng: &mut Rng) -> (Vec<u8>, usize) {
    let mut out = file.to_vec();
    if out.is_empty() {
        return (out, 2);
    }
    // The CRC-preserving kinds get half the cases: the rest mostly stops at the checksum.
    let kind = match rng.below(12) {
        0..=5 => 6 + rng.below(2),
        k => k - 6,
    };
    let kind = if spans.is_empty() && kind >= 6 {
        0
    } else {
        kind
    };
    match kind {
        0 => {
            for _ in 0..1 + rng.below(4) {
                let i = rng.below(out.len());
                out[i] ^= 1 << rng.below(8);
            }
        }
        1 => {
            for _ in 0..1 + rng.below(8) {
                let i = rng.below(out.len());
                out[i] = rng.byte();
            }
        }
        2 => out.truncate(rng.below(out.len())),
        3 if !spans.is_empty() => {
            let s = spans[rng.below(spans.len())];
            let sizes = [0u32, 1, 18, 19, 23, s.len as u32 - 1, s.len as u32 + 1];
            let size = match rng.below(4) {
                0 => sizes[rng.below(sizes.len())],
                1 => (s.len as u32).wrapping_mul(1 + rng.below(1000) as u32),
                2 => u32::MAX - rng.below(16) as u32,
                _ => rng.next_u64() as u32,
            };
            out[s.start + 9..s.start + 13].copy_from_slice(&size.to_le_bytes());
        }
        4 => {
            let (a, len) = chunk(&out, spans, rng);
            let piece = out[a..a + len].to_vec();
            let at = rng.below(out.len() + 1);
            out.splice(at..at, piece);
        }
        5 => {
            let (a, len) = chunk(&out, spans, rng);
            out.drain(a..a + len);
        }
        6 | 7 => {
            let s = spans[rng.below(spans.len())];
            let crc = has_crc32(file, spans);
            let body = s.len.saturating_sub(19 + if crc { 4 } else { 0 });
            if body > 0 {
                for _ in 0..1 + rng.below(4) {
                    let i = s.start + 19 + rng.below(body);
                    out[i] = if kind == 6 {
                        out[i] ^ (1 << rng.below(8))
                    } else {
                        INTERESTING[rng.below(INTERESTING.len())]
                    };
                }
            }
            if crc && s.len >= 23 {
                fix_crc(&mut out, s);
            }
        }
        _ => out[0] ^= 1,
    }
    (out, kind)
}

/// A range to duplicate or remove: a whole event, or any run of bytes.
fn chunk(out: &[u8], spans: &[Span], rng: &mut Rng) -> (usize, usize) {
    if !spans.is_empty() && rng.below(2) == 0 {
        let s = spans[rng.below(spans.len())];
        if s.start + s.len <= out.len() {
            return (s.start, s.len);
        }
    }
    let a = rng.below(out.len());
    let len = 1 + rng.below((out.len() - a).min(256));
    (a, len.min(out.len() - a))
}

//! Debezium's name adjusters, as the transforms use them: `schema.name.adjustment.mode`
//! (`SchemaNameAdjuster.AVRO` / `AVRO_UNICODE` on schema full names) and
//! `field.name.adjustment.mode` (`AVRO_FIELD_NAMER` / `AVRO_UNICODE_FIELD_NAMER` on field
//! names).
//!
//! Invariant: the result is what Debezium 3.5 produces for the same name, character for
//! character — Java walks UTF-16 code units, so does [`Adjuster::adjust`] (a character
//! outside the BMP is two invalid units: `__` or `_ud83d_ude00`). Debezium's global
//! "two names adjusted to the same result" check (a JVM-wide exception) is not reproduced.

use crate::error::Result;

/// An adjustment mode: `none`, `avro` or `avro_unicode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    None,
    Avro,
    AvroUnicode,
}

impl Mode {
    /// Parses a mode as Debezium does (trimmed, case-insensitive); `None` for an unknown
    /// value.
    pub fn parse(value: &str) -> Option<Mode> {
        match value.trim().to_ascii_lowercase().as_str() {
            "none" => Some(Mode::None),
            "avro" => Some(Mode::Avro),
            "avro_unicode" => Some(Mode::AvroUnicode),
            _ => None,
        }
    }

    /// Reads option `key` of `opts` (default `none`).
    pub fn option(opts: &mut super::Options, key: &str) -> Result<Mode> {
        let v = opts.string_or(key, "none")?;
        Mode::parse(&v)
            .ok_or_else(|| opts.error(key, format!("{v:?} is not one of none, avro, avro_unicode")))
    }
}

/// Which names an [`Adjuster`] adjusts: schema full names may hold dots, field names not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    SchemaName,
    FieldName,
}

/// One of Debezium's `SchemaNameAdjuster`s.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Adjuster {
    mode: Mode,
    target: Target,
}

impl Adjuster {
    pub fn new(mode: Mode, target: Target) -> Self {
        Adjuster { mode, target }
    }

    /// `SchemaNameAdjuster.adjust`: the name with every invalid UTF-16 unit replaced.
    pub fn adjust(&self, name: &str) -> String {
        if self.mode == Mode::None || name.is_empty() {
            return name.to_string();
        }
        let mut out = String::with_capacity(name.len() + 4);
        for (i, unit) in name.encode_utf16().enumerate() {
            if self.valid(unit, i == 0) {
                // Valid units are ASCII.
                out.push(char::from(unit as u8));
                continue;
            }
            match self.mode {
                Mode::AvroUnicode => {
                    // UnicodeReplacementFunction: "_u" + Integer.toHexString, "00"-padded
                    // only when it has at most two digits.
                    let hex = format!("{unit:x}");
                    let pad = if hex.len() <= 2 { "00" } else { "" };
                    out.push_str("_u");
                    out.push_str(pad);
                    out.push_str(&hex);
                }
                _ => {
                    out.push('_');
                    // A leading digit is kept after the underscore (backward compatibility
                    // of the underscore replacements).
                    if i == 0 && (0x30..=0x39).contains(&unit) {
                        out.push(char::from(unit as u8));
                    }
                }
            }
        }
        out
    }

    fn valid(&self, unit: u16, first: bool) -> bool {
        let letter = matches!(unit, 0x41..=0x5a | 0x61..=0x7a);
        // AVRO_UNICODE's first character is a letter only, and its underscore is always
        // escaped (`_` is its escape character).
        let underscore = unit == u16::from(b'_') && self.mode != Mode::AvroUnicode;
        if first {
            return letter || underscore;
        }
        let digit = matches!(unit, 0x30..=0x39);
        let dot = unit == u16::from(b'.') && self.target == Target::SchemaName;
        letter || underscore || digit || dot
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_names_as_debezium_adjusts_them() {
        let avro = Adjuster::new(Mode::Avro, Target::SchemaName);
        assert_eq!(avro.adjust("p.db.shard-all.Key"), "p.db.shard_all.Key");
        assert_eq!(avro.adjust("1db.t"), "_1db.t");
        assert_eq!(avro.adjust("ok_name.X9"), "ok_name.X9");
        assert_eq!(avro.adjust("é😀"), "___");
        let uni = Adjuster::new(Mode::AvroUnicode, Target::SchemaName);
        assert_eq!(uni.adjust("p.my_db.t-1"), "p.my_u005fdb.t_u002d1");
        assert_eq!(uni.adjust("_x"), "_u005fx");
        assert_eq!(uni.adjust("1x"), "_u0031x");
        assert_eq!(uni.adjust("aĀ例"), "a_u100_u4f8b");
        assert_eq!(uni.adjust("a😀"), "a_ud83d_ude00");
        let none = Adjuster::new(Mode::None, Target::SchemaName);
        assert_eq!(none.adjust("a-b"), "a-b");
    }

    #[test]
    fn field_names_have_no_dots() {
        let avro = Adjuster::new(Mode::Avro, Target::FieldName);
        assert_eq!(avro.adjust("test$"), "test_");
        assert_eq!(avro.adjust("a.b"), "a_b");
        assert_eq!(avro.adjust("9lives"), "_9lives");
        let uni = Adjuster::new(Mode::AvroUnicode, Target::FieldName);
        assert_eq!(uni.adjust("a_b.c"), "a_u005fb_u002ec");
        assert_eq!(Mode::parse(" AVRO "), Some(Mode::Avro));
        assert_eq!(Mode::parse("x"), None);
    }
}

//! The SQL lexer shared by DDL classification (`catalog::ddl`) and the DDL reader: words,
//! quoted names, string/number/hex/bit literals and punctuation, with comments dropped and
//! the content of executable comments (`/*!50100 … */`, `/*M!100100 … */`) kept, as the
//! server that logged the statement executed it.
//!
//! It never fails: an unterminated quote or comment ends the input, and is reported in
//! [`Lexed::error`] for callers that must not guess (the DDL reader).

/// The parts of the session's `sql_mode` that change how a statement reads (the QUERY
/// event's `Q_SQL_MODE_CODE` status variable carries them).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SqlMode {
    /// `"x"` is a name, not a string.
    pub ansi_quotes: bool,
    /// `\` is an ordinary character in strings.
    pub no_backslash_escapes: bool,
    /// `REAL` is `FLOAT`, not `DOUBLE`.
    pub real_as_float: bool,
    /// MariaDB's `sql_mode=ORACLE`: `VARCHAR2`, `NUMBER`, `RAW`, `CLOB` are types, `DATE` is
    /// a DATETIME and `BLOB` a LONGBLOB.
    pub oracle: bool,
    /// The statement was logged by MariaDB (`UNIQUE … USING HASH` makes a hidden hash
    /// column; `/*!NNNNN … */` comments for MySQL 5.7 and later are not run). Not a
    /// `sql_mode` bit: the engine sets it from the server's flavor.
    pub mariadb: bool,
    /// The statement was logged by MySQL (`/*M! … */` is an ordinary comment there).
    pub mysql: bool,
}

impl SqlMode {
    const REAL_AS_FLOAT: u64 = 0x1;
    const ANSI_QUOTES: u64 = 0x4;
    const ORACLE: u64 = 0x200;
    const NO_BACKSLASH_ESCAPES: u64 = 0x10_0000;

    /// From the raw `sql_mode` bits (same values in MySQL and MariaDB).
    pub fn from_bits(bits: u64) -> Self {
        SqlMode {
            ansi_quotes: bits & Self::ANSI_QUOTES != 0,
            no_backslash_escapes: bits & Self::NO_BACKSLASH_ESCAPES != 0,
            real_as_float: bits & Self::REAL_AS_FLOAT != 0,
            oracle: bits & Self::ORACLE != 0,
            mariadb: false,
            mysql: false,
        }
    }
}

/// One token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tok {
    /// An unquoted identifier or keyword, as written.
    Word(String),
    /// A quoted identifier (backquotes, or double quotes under ANSI_QUOTES), unescaped.
    Name(String),
    /// A string literal (`'…'`, `"…"`, `N'…'`), unescaped.
    Str(String),
    /// A number as written (`12`, `1.50`, `1e3`).
    Num(String),
    /// The digits of a hex literal (`X'0F'`, `0x0F`).
    Hex(String),
    /// The digits of a bit literal (`b'101'`, `0b101`).
    Bits(String),
    /// Any other character (`(`, `,`, `.`, `=`, `;`, operators one character at a time).
    Punct(char),
}

/// A token and where it is in the statement (byte offsets).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    pub tok: Tok,
    pub start: usize,
    pub end: usize,
}

/// The tokens of a statement, and what was wrong with its text if anything.
#[derive(Debug, Clone, Default)]
pub struct Lexed {
    pub tokens: Vec<Token>,
    pub error: Option<String>,
}

/// Splits `sql` into tokens under `mode`.
pub fn lex(sql: &str, mode: SqlMode) -> Lexed {
    let mut l = Lexer {
        s: sql,
        b: sql.as_bytes(),
        i: 0,
        mode,
        in_exec_comment: 0,
        out: Lexed::default(),
    };
    l.run();
    l.out
}

struct Lexer<'a> {
    s: &'a str,
    b: &'a [u8],
    i: usize,
    mode: SqlMode,
    /// How many executable comments are open (their `*/` is dropped).
    in_exec_comment: usize,
    out: Lexed,
}

/// Whether `c` may be part of an unquoted name (MySQL allows any non-ASCII character).
fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c == '$' || !c.is_ascii()
}

impl Lexer<'_> {
    fn at(&self, k: usize) -> Option<u8> {
        self.b.get(self.i + k).copied()
    }

    fn push(&mut self, tok: Tok, start: usize) {
        self.out.tokens.push(Token {
            tok,
            start,
            end: self.i,
        });
    }

    fn fail(&mut self, what: String) {
        if self.out.error.is_none() {
            self.out.error = Some(what);
        }
    }

    fn run(&mut self) {
        while self.i < self.b.len() {
            let c = self.b[self.i];
            let start = self.i;
            match c {
                b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c => self.i += 1,
                b'#' => self.skip_line(),
                b'-' if self.at(1) == Some(b'-') && self.at(2).is_none_or(|n| n <= b' ') => {
                    self.skip_line()
                }
                b'/' if self.at(1) == Some(b'*') => self.comment(),
                b'*' if self.at(1) == Some(b'/') && self.in_exec_comment > 0 => {
                    self.in_exec_comment -= 1;
                    self.i += 2;
                }
                b'`' => {
                    let s = self.quoted(b'`', false);
                    self.push(Tok::Name(s), start);
                }
                b'"' if self.mode.ansi_quotes => {
                    let s = self.quoted(b'"', false);
                    self.push(Tok::Name(s), start);
                }
                b'\'' | b'"' => {
                    let s = self.quoted(c, !self.mode.no_backslash_escapes);
                    self.push(Tok::Str(s), start);
                }
                b'0'..=b'9' => self.number_or_word(),
                b'.' if self.at(1).is_some_and(|d| d.is_ascii_digit()) && !self.after_name() => {
                    self.number_or_word()
                }
                _ if c >= 0x80 || c.is_ascii_alphabetic() || c == b'_' || c == b'$' => self.word(),
                _ => {
                    let ch = self.s[self.i..].chars().next().unwrap_or('?');
                    self.i += ch.len_utf8();
                    self.push(Tok::Punct(ch), start);
                }
            }
        }
        if self.in_exec_comment > 0 {
            self.fail("an executable comment `/*!` is not closed".into());
        }
    }

    /// Whether the previous token is a name that the `.` directly follows (so `.5` after it
    /// is `.` then `5`, as in `db.5t`). With blank space between, `.5` is a number, as the
    /// server reads `DEFAULT .5`.
    fn after_name(&self) -> bool {
        self.out.tokens.last().is_some_and(|t| {
            t.end == self.i && matches!(t.tok, Tok::Word(_) | Tok::Name(_) | Tok::Punct(')'))
        })
    }

    fn skip_line(&mut self) {
        while self.i < self.b.len() && self.b[self.i] != b'\n' {
            self.i += 1;
        }
    }

    /// `/* … */` is dropped; `/*!NNNNN … */` and `/*M!NNNNNN … */` keep their content, as
    /// the server that logged the statement ran it: MariaDB does not run `/*!NNNNN` for
    /// MySQL 5.7 and later (NNNNN ≥ 50700), MySQL does not know `/*M!`.
    fn comment(&mut self) {
        let exec = match (self.at(2), self.at(3)) {
            (Some(b'!'), _) => Some((3, false)),
            (Some(b'M'), Some(b'!')) => Some((4, true)),
            _ => None,
        };
        if let Some((skip, maria_only)) = exec {
            let start = self.i;
            self.i += skip;
            let from = self.i;
            while self.i - from < 6 && self.at(0).is_some_and(|d| d.is_ascii_digit()) {
                self.i += 1;
            }
            let version: u32 = self.s[from..self.i].parse().unwrap_or(0);
            let skipped = if maria_only {
                self.mode.mysql
            } else {
                self.mode.mariadb && self.i - from == 5 && version >= 50700
            };
            if !skipped {
                self.in_exec_comment += 1;
                return;
            }
            self.i = start;
        }
        self.i += 2;
        while self.i < self.b.len() && !(self.b[self.i] == b'*' && self.at(1) == Some(b'/')) {
            self.i += 1;
        }
        if self.i >= self.b.len() {
            self.fail("a comment `/*` is not closed".into());
        }
        self.i = (self.i + 2).min(self.b.len());
    }

    /// A quoted text starting at the quote `q`: doubled quotes stand for one, and with
    /// `escapes` a backslash escapes the next character.
    fn quoted(&mut self, q: u8, escapes: bool) -> String {
        self.i += 1;
        let mut out = String::new();
        loop {
            let Some(c) = self.at(0) else {
                self.fail(format!("a quote {} is not closed", q as char));
                return out;
            };
            if c == q {
                if self.at(1) == Some(q) {
                    out.push(q as char);
                    self.i += 2;
                    continue;
                }
                self.i += 1;
                return out;
            }
            if c == b'\\' && escapes && self.i + 1 < self.b.len() {
                self.i += 1;
                let ch = self.s[self.i..].chars().next().unwrap_or('\\');
                self.i += ch.len_utf8();
                match ch {
                    '0' => out.push('\0'),
                    'b' => out.push('\u{8}'),
                    'n' => out.push('\n'),
                    'r' => out.push('\r'),
                    't' => out.push('\t'),
                    'Z' => out.push('\u{1a}'),
                    '%' | '_' => {
                        out.push('\\');
                        out.push(ch);
                    }
                    other => out.push(other),
                }
                continue;
            }
            let ch = self.s[self.i..].chars().next().unwrap_or('?');
            self.i += ch.len_utf8();
            out.push(ch);
        }
    }

    /// A run of name characters from the current position (a `.` with digits first).
    fn run_of_word_chars(&mut self) -> &str {
        let from = self.i;
        if self.at(0) == Some(b'.') {
            self.i += 1;
        }
        while let Some(ch) = self.s[self.i..].chars().next() {
            if !is_word_char(ch) {
                break;
            }
            self.i += ch.len_utf8();
        }
        &self.s[from..self.i]
    }

    /// A number (`12`, `1.5`, `.5`, `1e-3`), `0x…`/`0b…` literal, or a name that starts
    /// with digits (`1abc`).
    fn number_or_word(&mut self) {
        let start = self.i;
        let run = self.run_of_word_chars().to_string();
        let lower = run.to_ascii_lowercase();
        if let Some(h) = lower.strip_prefix("0x") {
            if !h.is_empty() && h.bytes().all(|c| c.is_ascii_hexdigit()) {
                return self.push(Tok::Hex(h.to_string()), start);
            }
        }
        if let Some(bits) = lower.strip_prefix("0b") {
            if !bits.is_empty() && bits.bytes().all(|c| c == b'0' || c == b'1') {
                return self.push(Tok::Bits(bits.to_string()), start);
            }
        }
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|c| c.is_ascii_digit());
        let mut text = run.clone();
        if digits(run.trim_start_matches('.')) {
            if !run.starts_with('.')
                && self.at(0) == Some(b'.')
                && !self
                    .at(1)
                    .is_some_and(|c| c.is_ascii_alphabetic() && c != b'e')
            {
                self.i += 1;
                let frac = self.run_of_word_chars().to_string();
                text.push('.');
                text.push_str(&frac);
            }
            self.exponent_sign(&mut text);
            return self.push(Tok::Num(text), start);
        }
        // `1e10`, `1.5e3` read as a run: a number when it is digits, `e`, digits — or
        // digits and `e` before a signed exponent (`1e-3`). Otherwise a name: the server
        // reads `1e` and `2e` in `CREATE TABLE 1e_db.2e (1e INT)` as names.
        if let Some((m, e)) = lower.split_once('e') {
            let signed_exponent = e.is_empty()
                && matches!(self.at(0), Some(b'+' | b'-'))
                && self.at(1).is_some_and(|c| c.is_ascii_digit());
            if digits(m.trim_start_matches('.')) && (signed_exponent || digits(e)) {
                self.exponent_sign(&mut text);
                return self.push(Tok::Num(text), start);
            }
        }
        self.push(Tok::Word(run), start);
    }

    /// `1e-3`: a run ending in `e` followed by a signed exponent.
    fn exponent_sign(&mut self, text: &mut String) {
        if text.to_ascii_lowercase().ends_with('e')
            && matches!(self.at(0), Some(b'+' | b'-'))
            && self.at(1).is_some_and(|c| c.is_ascii_digit())
        {
            text.push(self.b[self.i] as char);
            self.i += 1;
            while let Some(c) = self.at(0).filter(|c| c.is_ascii_digit()) {
                text.push(c as char);
                self.i += 1;
            }
        }
    }

    /// A name or keyword, or a prefixed literal (`X'…'`, `B'…'`, `N'…'`).
    fn word(&mut self) {
        let start = self.i;
        let run = self.run_of_word_chars().to_string();
        if self.at(0) == Some(b'\'') && run.len() == 1 {
            match run.as_bytes()[0].to_ascii_lowercase() {
                b'x' => {
                    let s = self.quoted(b'\'', false);
                    return self.push(Tok::Hex(s), start);
                }
                b'b' => {
                    let s = self.quoted(b'\'', false);
                    return self.push(Tok::Bits(s), start);
                }
                b'n' => {
                    let s = self.quoted(b'\'', !self.mode.no_backslash_escapes);
                    return self.push(Tok::Str(s), start);
                }
                _ => {}
            }
        }
        self.push(Tok::Word(run), start);
    }
}

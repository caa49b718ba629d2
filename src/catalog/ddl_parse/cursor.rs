//! A cursor over a statement's tokens: keyword tests, names, literals, and skipping what the
//! reader does not need (parenthesised groups, the rest of a list item).

use super::lexer::{Tok, Token};

/// Reads tokens by position; `sql` is the statement they came from (for error messages
/// and the text of skipped expressions).
#[derive(Clone)]
pub(crate) struct Cursor<'a> {
    toks: &'a [Token],
    sql: &'a str,
    pub pos: usize,
}

impl<'a> Cursor<'a> {
    pub fn new(toks: &'a [Token], sql: &'a str) -> Self {
        Cursor { toks, sql, pos: 0 }
    }

    pub fn peek(&self) -> Option<&'a Tok> {
        self.peek_at(0)
    }

    pub fn peek_at(&self, n: usize) -> Option<&'a Tok> {
        self.toks.get(self.pos + n).map(|t| &t.tok)
    }

    pub fn advance(&mut self) -> Option<&'a Tok> {
        let t = self.peek();
        if t.is_some() {
            self.pos += 1;
        }
        t
    }

    /// No more tokens, or a `;`.
    pub fn at_end(&self) -> bool {
        matches!(self.peek(), None | Some(Tok::Punct(';')))
    }

    /// Whether token `n` ahead is the unquoted keyword `k`.
    pub fn is_kw_at(&self, n: usize, k: &str) -> bool {
        matches!(self.peek_at(n), Some(Tok::Word(w)) if w.eq_ignore_ascii_case(k))
    }

    pub fn is_kw(&self, k: &str) -> bool {
        self.is_kw_at(0, k)
    }

    /// Whether the next tokens are the keywords `ks`, in order.
    pub fn is_kws(&self, ks: &[&str]) -> bool {
        ks.iter().enumerate().all(|(n, k)| self.is_kw_at(n, k))
    }

    /// Whether the next token is one of the keywords `ks`.
    pub fn is_any_kw(&self, ks: &[&str]) -> bool {
        ks.iter().any(|k| self.is_kw(k))
    }

    /// Consumes the keyword `k` when it is next.
    pub fn eat_kw(&mut self, k: &str) -> bool {
        let yes = self.is_kw(k);
        if yes {
            self.pos += 1;
        }
        yes
    }

    /// Consumes the keywords `ks` when they are all next, in order.
    pub fn eat_kws(&mut self, ks: &[&str]) -> bool {
        let yes = self.is_kws(ks);
        if yes {
            self.pos += ks.len();
        }
        yes
    }

    pub fn expect_kw(&mut self, k: &str) -> Result<(), String> {
        if self.eat_kw(k) {
            Ok(())
        } else {
            Err(format!("expected {k}, found {}", self.describe()))
        }
    }

    pub fn is_punct(&self, c: char) -> bool {
        self.peek() == Some(&Tok::Punct(c))
    }

    pub fn eat_punct(&mut self, c: char) -> bool {
        let yes = self.is_punct(c);
        if yes {
            self.pos += 1;
        }
        yes
    }

    pub fn expect_punct(&mut self, c: char) -> Result<(), String> {
        if self.eat_punct(c) {
            Ok(())
        } else {
            Err(format!("expected `{c}`, found {}", self.describe()))
        }
    }

    /// Consumes `IF [NOT] EXISTS`; true when it was there.
    pub fn eat_if_exists(&mut self) -> bool {
        self.eat_kws(&["IF", "NOT", "EXISTS"]) || self.eat_kws(&["IF", "EXISTS"])
    }

    /// The next token for an error message: `` `x` `` or "the end of the statement".
    pub fn describe(&self) -> String {
        match self.toks.get(self.pos) {
            None => "the end of the statement".into(),
            Some(t) => {
                let text: String = self.sql[t.start..t.end].chars().take(40).collect();
                format!("`{text}` at offset {}", t.start)
            }
        }
    }

    /// A name: an unquoted word or a quoted name.
    pub fn name(&mut self) -> Result<String, String> {
        match self.peek() {
            Some(Tok::Word(w) | Tok::Name(w)) => {
                self.pos += 1;
                Ok(w.clone())
            }
            _ => Err(format!("expected a name, found {}", self.describe())),
        }
    }

    /// A name that may also be written as a string (charset and collation names).
    pub fn name_or_string(&mut self) -> Result<String, String> {
        if let Some(Tok::Str(s)) = self.peek() {
            self.pos += 1;
            return Ok(s.clone());
        }
        self.name()
    }

    /// `[db.]name`, with `default_db` when the database is not given.
    pub fn qualified(&mut self, default_db: &str) -> Result<(String, String), String> {
        let first = self.name()?;
        if self.eat_punct('.') {
            let second = self.name()?;
            return Ok((first, second));
        }
        Ok((default_db.to_string(), first))
    }

    /// A string literal: adjacent literals concatenated, a `_charset` introducer dropped.
    pub fn string(&mut self) -> Option<String> {
        let save = self.pos;
        if matches!(self.peek(), Some(Tok::Word(w)) if w.starts_with('_'))
            && matches!(self.peek_at(1), Some(Tok::Str(_)))
        {
            self.pos += 1;
        }
        let mut out: Option<String> = None;
        while let Some(Tok::Str(s)) = self.peek() {
            out.get_or_insert_with(String::new).push_str(s);
            self.pos += 1;
        }
        if out.is_none() {
            self.pos = save;
        }
        out
    }

    /// An unsigned integer.
    pub fn number(&mut self) -> Option<u64> {
        if let Some(Tok::Num(n)) = self.peek() {
            if let Ok(v) = n.parse() {
                self.pos += 1;
                return Some(v);
            }
        }
        None
    }

    /// Skips a parenthesised group starting at the next `(`; `Err` when it is not closed.
    pub fn skip_group(&mut self) -> Result<(), String> {
        self.expect_punct('(')?;
        let mut depth = 1usize;
        while depth > 0 {
            match self.advance() {
                None => return Err("a `(` is not closed".into()),
                Some(Tok::Punct('(')) => depth += 1,
                Some(Tok::Punct(')')) => depth -= 1,
                _ => {}
            }
        }
        Ok(())
    }

    /// Skips to the `,` or `)` that ends the current list item (not consuming it), or to
    /// the end of the statement; nested groups are skipped whole.
    pub fn skip_item(&mut self) -> Result<(), String> {
        loop {
            match self.peek() {
                None | Some(Tok::Punct(',' | ')' | ';')) => return Ok(()),
                Some(Tok::Punct('(')) => self.skip_group()?,
                _ => self.pos += 1,
            }
        }
    }

    /// Skips everything to the end of the statement (a `;` or the end of the text).
    pub fn skip_rest(&mut self) {
        while !self.at_end() {
            self.pos += 1;
        }
    }

    /// The statement text from token `from` up to the current position.
    pub fn text_since(&self, from: usize) -> &'a str {
        let (Some(a), Some(b)) = (self.toks.get(from), self.toks.get(self.pos.max(1) - 1)) else {
            return "";
        };
        if self.pos <= from {
            return "";
        }
        &self.sql[a.start..b.end]
    }

    /// Whether a top-level token from here on is the keyword `k` (groups are not looked
    /// into).
    pub fn top_level_has(&self, k: &str) -> bool {
        let mut depth = 0usize;
        for t in &self.toks[self.pos.min(self.toks.len())..] {
            match &t.tok {
                Tok::Punct('(') => depth += 1,
                Tok::Punct(')') => depth = depth.saturating_sub(1),
                Tok::Punct(';') if depth == 0 => return false,
                Tok::Word(w) if depth == 0 && w.eq_ignore_ascii_case(k) => return true,
                _ => {}
            }
        }
        false
    }
}

//! Splitting a corpus file into statements the way the `mariadb` client does: a statement
//! ends at the delimiter (`;`, or whatever a `DELIMITER xx` line set, for routine bodies)
//! outside quotes and comments. Executable comments (`/*!50100 … */`, `/*M!100100 … */`)
//! and comments inside a statement stay in its text — the server reads them; comments and
//! blank lines before a statement are dropped, so a statement's line is its first token's.

/// One statement of a corpus file.
#[derive(Debug, Clone)]
pub struct Stmt {
    /// The file name, e.g. `01_types.sql`.
    pub file: String,
    /// 1-based line of the statement's first token.
    pub line: usize,
    pub sql: String,
}

impl Stmt {
    /// `file:line`.
    pub fn place(&self) -> String {
        format!("{}:{}", self.file, self.line)
    }

    /// The statement on one line, cut to `max` characters (for reports).
    pub fn short(&self, max: usize) -> String {
        let one: String = self.sql.split_whitespace().collect::<Vec<_>>().join(" ");
        if one.chars().count() <= max {
            one
        } else {
            format!("{}…", one.chars().take(max).collect::<String>())
        }
    }

    /// The first keyword, upper-cased (`CREATE`, `ALTER`, `SET` …).
    pub fn verb(&self) -> String {
        self.sql
            .split(|c: char| !c.is_ascii_alphabetic())
            .find(|w| !w.is_empty())
            .unwrap_or("")
            .to_ascii_uppercase()
    }
}

/// Splits `text` (the content of corpus file `file`) into statements.
pub fn split(file: &str, text: &str) -> Vec<Stmt> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut delimiter: Vec<char> = vec![';'];
    let mut i = 0;
    let mut line = 1;
    loop {
        // Skip blank space and comments before a statement; read DELIMITER lines.
        let (next, next_line) = skip_leading(&chars, i, line);
        i = next;
        line = next_line;
        if i >= chars.len() {
            break;
        }
        if at_line_start(&chars, i) && starts_with_word(&chars, i, "DELIMITER") {
            let end = line_end(&chars, i);
            let arg: String = chars[i + "DELIMITER".len()..end].iter().collect();
            let arg = arg.trim();
            if !arg.is_empty() {
                delimiter = arg.chars().collect();
            }
            i = end;
            continue;
        }
        let start = i;
        let start_line = line;
        let end = statement_end(&chars, i, &delimiter);
        line += chars[start..end].iter().filter(|&&c| c == '\n').count();
        let sql: String = chars[start..end].iter().collect();
        let sql = sql.trim().to_string();
        if !sql.is_empty() {
            out.push(Stmt {
                file: file.to_string(),
                line: start_line,
                sql,
            });
        }
        i = (end + delimiter.len()).min(chars.len());
    }
    out
}

/// Past white space, `-- …`/`# …` lines and ordinary `/* … */` comments (not executable
/// ones, which start a statement); returns the index and its line.
fn skip_leading(chars: &[char], mut i: usize, mut line: usize) -> (usize, usize) {
    while i < chars.len() {
        let c = chars[i];
        if c == '\n' {
            line += 1;
            i += 1;
        } else if c.is_whitespace() {
            i += 1;
        } else if is_line_comment(chars, i) {
            i = line_end(chars, i);
        } else if c == '/' && chars.get(i + 1) == Some(&'*') && !is_executable(chars, i) {
            let end = comment_end(chars, i);
            line += chars[i..end].iter().filter(|&&c| c == '\n').count();
            i = end;
        } else {
            break;
        }
    }
    (i, line)
}

/// The index where the statement starting at `i` ends (at its delimiter, or the end).
fn statement_end(chars: &[char], mut i: usize, delimiter: &[char]) -> usize {
    while i < chars.len() {
        let c = chars[i];
        if chars[i..].starts_with(delimiter) {
            return i;
        }
        if c == '\'' || c == '"' || c == '`' {
            i = quoted_end(chars, i);
        } else if is_line_comment(chars, i) {
            i = line_end(chars, i);
        } else if c == '/' && chars.get(i + 1) == Some(&'*') && !is_executable(chars, i) {
            i = comment_end(chars, i);
        } else {
            i += 1;
        }
    }
    chars.len()
}

/// Past the closing quote of the string or name opened at `i` (doubled quotes and, outside
/// backquotes, backslash escapes stay inside).
fn quoted_end(chars: &[char], i: usize) -> usize {
    let q = chars[i];
    let mut j = i + 1;
    while j < chars.len() {
        if chars[j] == '\\' && q != '`' {
            j += 2;
        } else if chars[j] == q {
            if chars.get(j + 1) == Some(&q) {
                j += 2;
            } else {
                return j + 1;
            }
        } else {
            j += 1;
        }
    }
    chars.len()
}

fn is_line_comment(chars: &[char], i: usize) -> bool {
    chars[i] == '#'
        || (chars[i] == '-'
            && chars.get(i + 1) == Some(&'-')
            && chars.get(i + 2).is_none_or(|c| c.is_whitespace()))
}

/// `/*!…` or `/*M!…`: SQL the server executes.
fn is_executable(chars: &[char], i: usize) -> bool {
    matches!(chars.get(i + 2), Some('!'))
        || (matches!(chars.get(i + 2), Some('M')) && chars.get(i + 3) == Some(&'!'))
}

fn comment_end(chars: &[char], i: usize) -> usize {
    let mut j = i + 2;
    while j + 1 < chars.len() {
        if chars[j] == '*' && chars[j + 1] == '/' {
            return j + 2;
        }
        j += 1;
    }
    chars.len()
}

fn line_end(chars: &[char], i: usize) -> usize {
    chars[i..]
        .iter()
        .position(|&c| c == '\n')
        .map_or(chars.len(), |p| i + p)
}

fn at_line_start(chars: &[char], i: usize) -> bool {
    chars[..i]
        .iter()
        .rev()
        .take_while(|&&c| c != '\n')
        .all(|c| c.is_whitespace())
}

fn starts_with_word(chars: &[char], i: usize, word: &str) -> bool {
    let n = word.len();
    chars.len() >= i + n
        && chars[i..i + n]
            .iter()
            .zip(word.chars())
            .all(|(a, b)| a.eq_ignore_ascii_case(&b))
        && chars.get(i + n).is_none_or(|c| c.is_whitespace())
}

#[test]
fn splits_like_the_client() {
    let text = "-- a comment\nCREATE TABLE t (a INT); # trailing\n\n/* doc */ ALTER TABLE t\n  ADD b VARCHAR(3) DEFAULT ';' /*!50100 COMMENT 'x;y' */;\nDELIMITER //\nCREATE PROCEDURE p() BEGIN SELECT 1; SELECT 2; END //\nDELIMITER ;\nSELECT `a;b`, \"c;d\", 'it''s;';";
    let s = split("f.sql", text);
    let got: Vec<(usize, &str)> = s.iter().map(|s| (s.line, s.sql.as_str())).collect();
    assert_eq!(
        got,
        vec![
            (2, "CREATE TABLE t (a INT)"),
            (
                4,
                "ALTER TABLE t\n  ADD b VARCHAR(3) DEFAULT ';' /*!50100 COMMENT 'x;y' */"
            ),
            (7, "CREATE PROCEDURE p() BEGIN SELECT 1; SELECT 2; END"),
            (9, "SELECT `a;b`, \"c;d\", 'it''s;'"),
        ]
    );
    assert_eq!(s[1].verb(), "ALTER");
}

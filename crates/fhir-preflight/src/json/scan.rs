//! A byte-level JSON scanner over one line: strings, numbers and literals as spans of the line,
//! with the exact offset of every syntax error. Numbers keep their text (FHIR decimals are
//! compared as written: `2.00` is not `2`), strings are not copied unless they hold escapes.
//!
//! Why not serde_json or simd-json: validation needs the offset of every value (for columns), the
//! raw text of numbers, every duplicate key, and to check while parsing; serde_json keeps none of
//! the first three, simd-json's tape keeps no offsets and converts numbers. This scanner is the
//! only JSON reader on the hot path; serde_json and simd-json serve as oracles in tests and as
//! baselines in benchmarks.

use std::borrow::Cow;

/// Where and why a line is not JSON. Boxed, so that a `Result` of the scanner's small values
/// stays small enough to come back in registers (errors are rare; the hot path never allocates).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SyntaxError(Box<SyntaxErrorAt>);

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SyntaxErrorAt {
    /// Byte offset in the line of the offending byte (the line length at an unexpected end).
    pub(crate) offset: usize,
    pub(crate) message: Cow<'static, str>,
}

impl std::ops::Deref for SyntaxError {
    type Target = SyntaxErrorAt;
    fn deref(&self) -> &SyntaxErrorAt {
        &self.0
    }
}

impl SyntaxError {
    pub(crate) fn into_parts(self) -> (usize, Cow<'static, str>) {
        (self.0.offset, self.0.message)
    }
}

/// A JSON string: `start..end` are the bytes between the quotes, still escaped. 16 bytes (offsets
/// as `u32`: lines are at most 4 GiB − 1, see `Options::with_max_line_bytes`), so that a token
/// comes back from the scanner in registers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct JsonStr {
    start: u32,
    end: u32,
    /// Offset of the first `\u` escape that is a lone UTF-16 surrogate, or `u32::MAX`.
    lone: u32,
    /// It holds at least one backslash escape.
    pub(crate) escaped: bool,
}

impl JsonStr {
    #[inline]
    pub(crate) fn start(&self) -> usize {
        self.start as usize
    }

    #[inline]
    pub(crate) fn end(&self) -> usize {
        self.end as usize
    }

    /// Offset of the first `\u` escape that is a lone UTF-16 surrogate, if any.
    #[inline]
    pub(crate) fn lone_surrogate(&self) -> Option<usize> {
        (self.lone != u32::MAX).then_some(self.lone as usize)
    }

    #[inline]
    pub(crate) fn raw<'a>(&self, line: &'a [u8]) -> &'a [u8] {
        &line[self.start()..self.end()]
    }

    /// The decoded text. Borrows when there is no escape. A lone surrogate decodes as U+FFFD.
    pub(crate) fn text<'a>(&self, line: &'a [u8]) -> Cow<'a, str> {
        let raw = self.raw(line);
        if !self.escaped {
            // The line was checked as UTF-8 before scanning; a string never splits a character
            // (std's check, fast on ASCII; the lossy one only for bytes given from elsewhere).
            return match std::str::from_utf8(raw) {
                Ok(text) => Cow::Borrowed(text),
                Err(_) => String::from_utf8_lossy(raw),
            };
        }
        Cow::Owned(decode_escaped(raw))
    }

    /// The decoded text, from the line as `str` (no UTF-8 check: borrows when there is no escape).
    pub(crate) fn str_in<'a>(&self, line: &'a str) -> Cow<'a, str> {
        if !self.escaped {
            return Cow::Borrowed(line.get(self.start()..self.end()).unwrap_or(""));
        }
        Cow::Owned(decode_escaped(self.raw(line.as_bytes())))
    }

    /// Same decoded text as `other`, without allocating when neither is escaped.
    pub(crate) fn same_text(&self, other: &JsonStr, line: &[u8]) -> bool {
        if !self.escaped && !other.escaped {
            return self.raw(line) == other.raw(line);
        }
        self.text(line) == other.text(line)
    }
}

/// The first token of a JSON value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Token {
    ObjectStart,
    ArrayStart,
    String(JsonStr),
    /// `start..end` of the number's text.
    Number(u32, u32),
    Bool(bool),
    Null,
}

impl Token {
    /// The JSON kind, for messages ("found a number").
    pub(crate) fn kind_name(&self) -> &'static str {
        match self {
            Token::ObjectStart => "an object",
            Token::ArrayStart => "an array",
            Token::String(_) => "a string",
            Token::Number(..) => "a number",
            Token::Bool(_) => "a boolean",
            Token::Null => "null",
        }
    }
}

#[derive(Debug)]
pub(crate) struct Scanner<'a> {
    pub(crate) bytes: &'a [u8],
    pub(crate) pos: usize,
}

#[cold]
fn error(offset: usize, message: impl Into<Cow<'static, str>>) -> SyntaxError {
    SyntaxError(Box::new(SyntaxErrorAt { offset, message: message.into() }))
}

impl<'a> Scanner<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        Scanner { bytes, pos: 0 }
    }

    #[inline]
    pub(crate) fn skip_ws(&mut self) {
        while let Some(&b) = self.bytes.get(self.pos) {
            if !matches!(b, b' ' | b'\t' | b'\n' | b'\r') {
                break;
            }
            self.pos += 1;
        }
    }

    /// The next non-whitespace byte, not consumed.
    #[inline]
    pub(crate) fn peek(&mut self) -> Option<u8> {
        // Fast path: NDJSON lines rarely hold whitespace between tokens.
        if let Some(&b) = self.bytes.get(self.pos) {
            if b > b' ' {
                return Some(b);
            }
        }
        self.skip_ws();
        self.bytes.get(self.pos).copied()
    }

    /// An error about the next non-whitespace byte (or the end of the line).
    #[cold]
    pub(crate) fn unexpected(&mut self, expected: &str) -> SyntaxError {
        match self.peek() {
            None => error(self.bytes.len(), format!("unexpected end of line, expected {expected}")),
            Some(b) => error(self.pos, format!("expected {expected}, found {}", describe(self.bytes, self.pos, b))),
        }
    }

    /// Consume `byte` (after whitespace) or fail expecting `expected`.
    #[inline]
    pub(crate) fn expect(&mut self, byte: u8, expected: &str) -> Result<(), SyntaxError> {
        if self.peek() == Some(byte) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.unexpected(expected))
        }
    }

    /// The first token of the next value; objects and arrays are only opened.
    #[inline(always)]
    pub(crate) fn value(&mut self) -> Result<Token, SyntaxError> {
        match self.peek() {
            Some(b'{') => {
                self.pos += 1;
                Ok(Token::ObjectStart)
            }
            Some(b'[') => {
                self.pos += 1;
                Ok(Token::ArrayStart)
            }
            Some(b'"') => self.string().map(Token::String),
            Some(b'-' | b'0'..=b'9') => self.number().map(|(s, e)| Token::Number(s as u32, e as u32)),
            Some(b't') => self.literal(b"true").map(|()| Token::Bool(true)),
            Some(b'f') => self.literal(b"false").map(|()| Token::Bool(false)),
            Some(b'n') => self.literal(b"null").map(|()| Token::Null),
            _ => Err(self.unexpected("a JSON value")),
        }
    }

    /// A string; `pos` is at the opening quote (after whitespace).
    #[inline(always)]
    pub(crate) fn string(&mut self) -> Result<JsonStr, SyntaxError> {
        let open = self.pos;
        debug_assert_eq!(self.bytes.get(open), Some(&b'"'));
        let bytes = self.bytes;
        let start = open + 1;
        let mut i = start;
        let mut escaped = false;
        let mut lone_surrogate: Option<usize> = None;
        loop {
            i = skip_plain(bytes, i);
            match bytes.get(i) {
                None => return Err(error(open, "unterminated string")),
                Some(b'"') => {
                    self.pos = i + 1;
                    return Ok(JsonStr {
                        start: start as u32,
                        end: i as u32,
                        lone: lone_surrogate.map_or(u32::MAX, |at| at as u32),
                        escaped,
                    });
                }
                Some(b'\\') => {
                    escaped = true;
                    i = self.escape(i, &mut lone_surrogate)?;
                }
                Some(&b) => {
                    return Err(error(i, format!("control character U+{b:04X} in a string must be escaped")));
                }
            }
        }
    }

    /// One escape starting at the backslash at `at`; returns the offset after it.
    #[inline(never)]
    fn escape(&self, at: usize, lone_surrogate: &mut Option<usize>) -> Result<usize, SyntaxError> {
        match self.bytes.get(at + 1) {
            Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => Ok(at + 2),
            Some(b'u') => {
                let unit =
                    hex4(self.bytes, at + 2).ok_or_else(|| error(at, "invalid \\u escape: expected 4 hex digits"))?;
                let next = at + 6;
                match unit {
                    0xD800..=0xDBFF => {
                        // A high surrogate must be followed by an escaped low surrogate.
                        if self.bytes.get(next) == Some(&b'\\') && self.bytes.get(next + 1) == Some(&b'u') {
                            if let Some(low @ 0xDC00..=0xDFFF) = hex4(self.bytes, next + 2) {
                                let _ = low;
                                return Ok(next + 6);
                            }
                        }
                        lone_surrogate.get_or_insert(at);
                        Ok(next)
                    }
                    0xDC00..=0xDFFF => {
                        lone_surrogate.get_or_insert(at);
                        Ok(next)
                    }
                    _ => Ok(next),
                }
            }
            None => Err(error(at, "unterminated string")),
            Some(_) => Err(error(at, "invalid escape in string")),
        }
    }

    /// A number per RFC 8259; returns its span. `pos` is at its first byte.
    #[inline]
    pub(crate) fn number(&mut self) -> Result<(usize, usize), SyntaxError> {
        let bytes = self.bytes;
        let start = self.pos;
        let mut i = start;
        if bytes.get(i) == Some(&b'-') {
            i += 1;
        }
        match bytes.get(i) {
            Some(b'0') => i += 1,
            Some(b'1'..=b'9') => i = digits(bytes, i),
            _ => return Err(error(i, "invalid number: expected a digit")),
        }
        if bytes.get(i) == Some(&b'.') {
            let after = digits(bytes, i + 1);
            if after == i + 1 {
                return Err(error(i + 1, "invalid number: expected a digit after '.'"));
            }
            i = after;
        }
        if matches!(bytes.get(i), Some(b'e' | b'E')) {
            i += 1;
            if matches!(bytes.get(i), Some(b'+' | b'-')) {
                i += 1;
            }
            let after = digits(bytes, i);
            if after == i {
                return Err(error(i, "invalid number: expected a digit in the exponent"));
            }
            i = after;
        }
        if let Some(&b) = bytes.get(i) {
            if b.is_ascii_alphanumeric() || b == b'.' || b == b'+' || b == b'-' {
                return Err(error(i, "invalid number"));
            }
        }
        self.pos = i;
        Ok((start, i))
    }

    fn literal(&mut self, word: &'static [u8]) -> Result<(), SyntaxError> {
        let end = self.pos + word.len();
        if self.bytes.get(self.pos..end) == Some(word)
            && !self.bytes.get(end).is_some_and(|b| b.is_ascii_alphanumeric())
        {
            self.pos = end;
            Ok(())
        } else {
            Err(error(self.pos, "invalid literal (expected true, false or null)"))
        }
    }

    /// Skip one whole value without checking anything but its syntax, iteratively (no recursion,
    /// any depth). Used by look-ahead scans, never by validation.
    pub(crate) fn skip_value(&mut self) -> Result<(), SyntaxError> {
        let mut depth = 0usize;
        loop {
            match self.value()? {
                Token::ObjectStart => {
                    if self.peek() == Some(b'}') {
                        self.pos += 1;
                    } else {
                        depth += 1;
                        self.member_key()?;
                        continue;
                    }
                }
                Token::ArrayStart => {
                    if self.peek() == Some(b']') {
                        self.pos += 1;
                    } else {
                        depth += 1;
                        continue;
                    }
                }
                _ => {}
            }
            // After a complete value: close containers or move to the next element.
            loop {
                if depth == 0 {
                    return Ok(());
                }
                match self.peek() {
                    Some(b',') => {
                        self.pos += 1;
                        // In an object the next element starts with a key.
                        if self.in_object_hint() {
                            self.member_key()?;
                        }
                        break;
                    }
                    Some(b'}' | b']') => {
                        self.pos += 1;
                        depth -= 1;
                    }
                    _ => return Err(self.unexpected("',' or a closing bracket")),
                }
            }
        }
    }

    /// In `skip_value`, after a comma: does a key follow? (A key is a string followed by ':'.)
    fn in_object_hint(&mut self) -> bool {
        if self.peek() != Some(b'"') {
            return false;
        }
        let save = self.pos;
        let is_key = self.string().is_ok() && self.peek() == Some(b':');
        self.pos = save;
        is_key
    }

    /// `"key" :` — returns the key.
    #[inline(always)]
    pub(crate) fn member_key(&mut self) -> Result<JsonStr, SyntaxError> {
        if self.peek() != Some(b'"') {
            return Err(self.unexpected("a property name in double quotes"));
        }
        let key = self.string()?;
        self.expect(b':', "':' after the property name")?;
        Ok(key)
    }
}

/// The offset of the first byte at or after `i` that is `"`, `\\` or a control character (or the
/// end), eight bytes at a time (SWAR: no `unsafe`, no SIMD intrinsics).
#[inline]
fn skip_plain(bytes: &[u8], mut i: usize) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let has_zero = |x: u64| x.wrapping_sub(ONES) & !x & HIGHS;
    while let Some(chunk) = bytes.get(i..i + 8) {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let w = u64::from_le_bytes(word);
        let quote = has_zero(w ^ (ONES * u64::from(b'"')));
        let backslash = has_zero(w ^ (ONES * u64::from(b'\\')));
        // Bytes below 0x20: (w - 0x20 per byte) & !w & 0x80 per byte.
        let control = w.wrapping_sub(ONES * 0x20) & !w & HIGHS;
        let hits = quote | backslash | control;
        if hits != 0 {
            return i + (hits.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while let Some(&b) = bytes.get(i) {
        if b == b'"' || b == b'\\' || b < 0x20 {
            break;
        }
        i += 1;
    }
    i
}

fn digits(bytes: &[u8], mut i: usize) -> usize {
    while bytes.get(i).is_some_and(u8::is_ascii_digit) {
        i += 1;
    }
    i
}

fn hex4(bytes: &[u8], at: usize) -> Option<u32> {
    let h = bytes.get(at..at + 4)?;
    let mut v = 0u32;
    for &b in h {
        v = v * 16 + (b as char).to_digit(16)?;
    }
    Some(v)
}

/// How to name the byte at `at` in a message: a printable ASCII character is quoted, anything
/// else is given as a code point (never free text beyond one character).
fn describe(bytes: &[u8], at: usize, b: u8) -> String {
    if b.is_ascii_graphic() {
        format!("'{}'", b as char)
    } else if b.is_ascii() {
        format!("byte 0x{b:02X}")
    } else {
        let ch = std::str::from_utf8(&bytes[at..bytes.len().min(at + 4)])
            .ok()
            .or_else(|| std::str::from_utf8(&bytes[at..bytes.len().min(at + 3)]).ok())
            .or_else(|| std::str::from_utf8(&bytes[at..bytes.len().min(at + 2)]).ok())
            .and_then(|s| s.chars().next());
        match ch {
            Some(c) => format!("U+{:04X}", c as u32),
            None => format!("byte 0x{b:02X}"),
        }
    }
}

/// Decode a string body that holds escapes (already checked by [`Scanner::string`]).
fn decode_escaped(raw: &[u8]) -> String {
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        let b = raw[i];
        if b != b'\\' {
            out.push(b);
            i += 1;
            continue;
        }
        let Some(&e) = raw.get(i + 1) else { break };
        i += 2;
        let c = match e {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => {
                let unit = hex4(raw, i).unwrap_or(0xFFFD);
                i += 4;
                if (0xD800..=0xDBFF).contains(&unit) && raw.get(i) == Some(&b'\\') && raw.get(i + 1) == Some(&b'u') {
                    if let Some(low @ 0xDC00..=0xDFFF) = hex4(raw, i + 2) {
                        i += 6;
                        let cp = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00);
                        char::from_u32(cp).unwrap_or('\u{FFFD}')
                    } else {
                        '\u{FFFD}'
                    }
                } else {
                    char::from_u32(unit).unwrap_or('\u{FFFD}')
                }
            }
            _ => '\u{FFFD}',
        };
        let mut buf = [0u8; 4];
        out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
    }
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// The bytes of the JSON string whose opening quote is at `at`, when it holds no escape (its
/// text is then its value), found without scanning it as a token; `None`: not a string, or one
/// with escapes.
pub(crate) fn unescaped_string(bytes: &[u8], at: usize) -> Option<&[u8]> {
    let body = bytes.get(at..)?.strip_prefix(b"\"")?;
    let end = memchr::memchr2(b'"', b'\\', body)?;
    (body[end] == b'"').then(|| &body[..end])
}

/// The first token of the top-level member `key` of the object at `open`, by look-ahead.
pub(crate) fn find_member(line: &[u8], open: usize, key: &str) -> Option<Token> {
    let mut sc = Scanner { bytes: line, pos: open + 1 };
    if sc.peek() == Some(b'}') {
        return None;
    }
    loop {
        let k = sc.member_key().ok()?;
        if k.raw(line) == key.as_bytes() || (k.escaped && k.text(line) == key) {
            return sc.value().ok();
        }
        if sc.skip_value().is_err() || sc.peek() != Some(b',') {
            return None;
        }
        sc.pos += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The scanner's results stay small enough to be returned in registers (the hot path).
    #[test]
    fn tokens_are_two_words() {
        assert_eq!(std::mem::size_of::<JsonStr>(), 16);
        assert_eq!(std::mem::size_of::<Token>(), 16);
        assert_eq!(std::mem::size_of::<Result<JsonStr, SyntaxError>>(), 16);
        assert_eq!(std::mem::size_of::<Result<Token, SyntaxError>>(), 16);
    }

    fn scan_value(s: &str) -> Result<Token, SyntaxError> {
        Scanner::new(s.as_bytes()).value()
    }

    #[test]
    fn numbers_pass() {
        for n in [
            "0",
            "-0",
            "1",
            "-12",
            "1.5",
            "1e5",
            "1E+5",
            "1e-05",
            "0.000",
            "123456789012345678901234567890",
            "1e999999",
        ] {
            let t = scan_value(n).unwrap_or_else(|e| panic!("{n}: {e:?}"));
            assert_eq!(t, Token::Number(0, n.len() as u32), "{n}");
        }
    }

    #[test]
    fn numbers_fail() {
        for (n, at) in [
            ("01", 1),
            ("-", 1),
            ("1.", 2),
            ("1e", 2),
            ("1e+", 3),
            (".5", 0),
            ("+1", 0),
            ("1.5.5", 3),
            ("0x10", 1),
            ("-a", 1),
            ("NaN", 0),
        ] {
            let e = scan_value(n).expect_err(n);
            assert_eq!(e.offset, at, "{n}: {e:?}");
        }
    }

    #[test]
    fn strings() {
        let s = r#""a\"b\u00e9\ud83d\ude00""#;
        let Token::String(js) = scan_value(s).unwrap() else { panic!() };
        assert!(js.escaped);
        assert_eq!(js.lone_surrogate(), None);
        assert_eq!(js.text(s.as_bytes()), "a\"bé😀");

        let lone = r#""x\ud800y""#;
        let Token::String(js) = scan_value(lone).unwrap() else { panic!() };
        assert_eq!(js.lone_surrogate(), Some(2));
        let lone_low = r#""\udc00""#;
        let Token::String(js) = scan_value(lone_low).unwrap() else { panic!() };
        assert_eq!(js.lone_surrogate(), Some(1));
    }

    #[test]
    fn strings_fail() {
        for (s, at) in [("\"abc", 0), ("\"a\tb\"", 2), ("\"a\\x\"", 2), ("\"\\u12g4\"", 1), ("\"\\", 1), ("\"a\0\"", 2)]
        {
            let e = scan_value(s).expect_err(s);
            assert_eq!(e.offset, at, "{s:?}: {e:?}");
        }
    }

    #[test]
    fn skip_plain_finds_the_first_special_byte() {
        for (text, at) in [
            ("abcdefghij\"", 10),
            ("ab\"cdefghijk", 2),
            ("abcdefgh\\x", 8),
            ("abcdefghijklmnopqrs\u{1}", 19),
            ("é€😀abc\"", 12),
            ("", 0),
            ("abc", 3),
        ] {
            assert_eq!(skip_plain(text.as_bytes(), 0), at, "{text:?}");
        }
        // A non-ASCII byte (>= 0x80) is never a hit, whatever its neighbours.
        let bytes = [0xC3, 0xA9, 0x20, 0x7F, 0x80, 0xFF, 0x21, 0x23, 0x22];
        assert_eq!(skip_plain(&bytes, 0), 8);
    }

    #[test]
    fn literals() {
        assert_eq!(scan_value(" true").unwrap(), Token::Bool(true));
        assert_eq!(scan_value("false").unwrap(), Token::Bool(false));
        assert_eq!(scan_value("null").unwrap(), Token::Null);
        assert!(scan_value("nul").is_err());
        assert!(scan_value("truex").is_err());
        assert!(scan_value("True").is_err());
    }

    #[test]
    fn skip_value_any_depth() {
        let deep = format!("{}1{}", "[".repeat(100_000), "]".repeat(100_000));
        let mut sc = Scanner::new(deep.as_bytes());
        sc.skip_value().unwrap();
        assert_eq!(sc.pos, deep.len());
        let obj = r#"{"a":[1,{"b":"c"},[]],"d":{}} rest"#;
        let mut sc = Scanner::new(obj.as_bytes());
        sc.skip_value().unwrap();
        assert_eq!(&obj[sc.pos..], " rest");
        for bad in [r#"{"a" 1}"#, "[1,]", "[1 2]", r#"{"a":1,}"#, "{1:2}"] {
            assert!(Scanner::new(bad.as_bytes()).skip_value().is_err(), "{bad}");
        }
    }

    #[test]
    fn messages_name_the_byte_not_text() {
        let e = scan_value("é").unwrap_err();
        assert_eq!(e.message, "expected a JSON value, found U+00E9");
        let e = scan_value("").unwrap_err();
        assert_eq!(e.message, "unexpected end of line, expected a JSON value");
    }
}

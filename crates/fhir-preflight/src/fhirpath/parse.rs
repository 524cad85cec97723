//! FHIRPath text → [`Expr`]: a lexer and a precedence-climbing parser for the grammar of
//! FHIRPath N1 (the normative release FHIR R4 uses): literals (strings, numbers, booleans, `{}`,
//! dates, times, quantities), paths, function calls, indexers, `$this`/`$index`/`$total`,
//! `%`-variables, and the operators by precedence — `.` and `[]`; unary `+ -`; `* / div mod`;
//! `+ - &`; `is as`; `|`; `< > <= >=`; `= ~ != !~`; `in contains`; `and`; `or xor`; `implies`.

use std::fmt;

/// A binary operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum BinOp {
    Mul,
    Div,
    IntDiv,
    Mod,
    Add,
    Sub,
    Concat,
    Union,
    Lt,
    Gt,
    Le,
    Ge,
    Eq,
    Equiv,
    Ne,
    NotEquiv,
    In,
    Contains,
    And,
    Or,
    Xor,
    Implies,
}

impl BinOp {
    /// For a comparison (`<`, `>`, `<=`, `>=`): does `a op b` hold when `a` compares to `b` as `o`?
    pub(crate) fn holds(self, o: std::cmp::Ordering) -> bool {
        use std::cmp::Ordering::{Greater, Less};
        match self {
            BinOp::Lt => o == Less,
            BinOp::Gt => o == Greater,
            BinOp::Le => o != Greater,
            _ => o != Less,
        }
    }
}

/// A parsed FHIRPath expression.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Expr {
    /// `{}`.
    Empty,
    Bool(bool),
    Int(i64),
    /// A decimal literal, as written.
    Dec(String),
    Str(String),
    /// `@2020-01-01`, `@2020-01-01T10:00:00Z`, `@T10:00` — the text after `@`.
    DateTime(String),
    /// `5 'mg'`, `3 days`.
    Quantity(String, String),
    /// `$this`.
    This,
    /// `$index`.
    Index,
    /// `$total`.
    Total,
    /// `%name`.
    Var(String),
    /// An identifier at the start of a path: a member of `$this` (or a type name, which the
    /// evaluator also treats as a member).
    Ident(String),
    /// `target.name`.
    Member(Box<Expr>, String),
    /// `target.name(args)`, or `name(args)` on `$this` (target `None`).
    Call(Option<Box<Expr>>, String, Vec<Expr>),
    /// `target[index]`.
    Indexer(Box<Expr>, Box<Expr>),
    /// `-x`.
    Neg(Box<Expr>),
    Binary(BinOp, Box<Expr>, Box<Expr>),
    /// `x is Type`, `x as Type`.
    Is(Box<Expr>, String),
    As(Box<Expr>, String),
    /// A sub-expression whose value is the same wherever it is evaluated in one evaluation,
    /// kept in slot `n` once computed (`hoist.rs`; the parser never makes it).
    Fixed(usize, Box<Expr>),
}

/// A parse error: what, and where (a byte offset in the expression).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ParseError {
    pub(crate) at: usize,
    pub(crate) what: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "at {}: {}", self.at, self.what)
    }
}

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Ident(String),
    Str(String),
    Num(String),
    DateTime(String),
    Var(String),
    Special(String),
    Sym(&'static str),
    End,
}

struct Lexer<'s> {
    src: &'s str,
    pos: usize,
}

const SYMBOLS: &[&str] =
    &["<=", ">=", "!=", "!~", "(", ")", "[", "]", "{", "}", ".", ",", "+", "-", "*", "/", "&", "|", "<", ">", "=", "~"];

impl<'s> Lexer<'s> {
    fn err(&self, what: impl Into<String>) -> ParseError {
        ParseError { at: self.pos, what: what.into() }
    }

    fn skip_space(&mut self) {
        loop {
            let rest = &self.src[self.pos..];
            if let Some(c) = rest.chars().next().filter(|c| c.is_whitespace()) {
                self.pos += c.len_utf8();
            } else if rest.starts_with("//") {
                self.pos += rest.find('\n').unwrap_or(rest.len());
            } else if rest.starts_with("/*") {
                self.pos += rest.find("*/").map_or(rest.len(), |i| i + 2);
            } else {
                return;
            }
        }
    }

    /// A quoted string's content, escapes decoded; `quote` is `'` or `` ` ``.
    fn quoted(&mut self, quote: char) -> Result<String, ParseError> {
        let mut out = String::new();
        let mut chars = self.src[self.pos + 1..].char_indices();
        while let Some((i, c)) = chars.next() {
            if c == quote {
                self.pos += 1 + i + 1;
                return Ok(out);
            }
            if c != '\\' {
                out.push(c);
                continue;
            }
            let Some((_, e)) = chars.next() else { break };
            match e {
                'n' => out.push('\n'),
                'r' => out.push('\r'),
                't' => out.push('\t'),
                'f' => out.push('\u{c}'),
                'u' => {
                    let hex: String = chars.by_ref().take(4).map(|(_, c)| c).collect();
                    let code = u32::from_str_radix(&hex, 16).map_err(|_| self.err("bad \\u escape"))?;
                    out.push(char::from_u32(code).unwrap_or('\u{fffd}'));
                }
                other => out.push(other),
            }
        }
        Err(self.err("unterminated string"))
    }

    fn next(&mut self) -> Result<Tok, ParseError> {
        self.skip_space();
        let rest = &self.src[self.pos..];
        let Some(c) = rest.chars().next() else { return Ok(Tok::End) };
        if c == '\'' {
            return self.quoted('\'').map(Tok::Str);
        }
        if c == '`' {
            return self.quoted('`').map(Tok::Ident);
        }
        if c == '@' {
            let len = rest[1..]
                .find(|ch: char| !(ch.is_ascii_alphanumeric() || matches!(ch, '-' | ':' | '.' | '+' | 'T' | 'Z')))
                .unwrap_or(rest.len() - 1);
            self.pos += 1 + len;
            return Ok(Tok::DateTime(rest[1..1 + len].to_owned()));
        }
        if c == '%' || c == '$' {
            let body = &rest[1..];
            let (name, len) = if body.starts_with('`') || body.starts_with('\'') {
                let quote = body.chars().next().unwrap_or('`');
                self.pos += 1;
                let name = self.quoted(quote)?;
                return Ok(if c == '%' { Tok::Var(name) } else { Tok::Special(name) });
            } else {
                let len = body.find(|ch: char| !(ch.is_ascii_alphanumeric() || ch == '_')).unwrap_or(body.len());
                (body[..len].to_owned(), len)
            };
            self.pos += 1 + len;
            return Ok(if c == '%' { Tok::Var(name) } else { Tok::Special(name) });
        }
        if c.is_ascii_digit() {
            let mut len = rest.find(|ch: char| !ch.is_ascii_digit()).unwrap_or(rest.len());
            if rest[len..].starts_with('.') && rest[len + 1..].starts_with(|ch: char| ch.is_ascii_digit()) {
                len += 1 + rest[len + 1..].find(|ch: char| !ch.is_ascii_digit()).unwrap_or(rest.len() - len - 1);
            }
            self.pos += len;
            return Ok(Tok::Num(rest[..len].to_owned()));
        }
        if c.is_alphabetic() || c == '_' {
            let len = rest.find(|ch: char| !(ch.is_alphanumeric() || ch == '_')).unwrap_or(rest.len());
            self.pos += len;
            return Ok(Tok::Ident(rest[..len].to_owned()));
        }
        for sym in SYMBOLS {
            if rest.starts_with(sym) {
                self.pos += sym.len();
                return Ok(Tok::Sym(sym));
            }
        }
        Err(self.err(format!("unexpected character {c:?}")))
    }
}

/// Parse a FHIRPath expression.
pub(crate) fn parse(src: &str) -> Result<Expr, ParseError> {
    let mut lexer = Lexer { src, pos: 0 };
    let mut toks = Vec::new();
    loop {
        let at = lexer.pos;
        let tok = lexer.next()?;
        let end = tok == Tok::End;
        toks.push((at, tok));
        if end {
            break;
        }
    }
    let mut p = Parser { toks, i: 0 };
    let e = p.expr(0)?;
    if p.peek() != &Tok::End {
        return Err(p.err("unexpected text after the expression"));
    }
    Ok(e)
}

struct Parser {
    toks: Vec<(usize, Tok)>,
    i: usize,
}

/// Binding power of a binary operator (higher binds tighter), from its token.
fn binary(tok: &Tok) -> Option<(u8, BinOp)> {
    Some(match tok {
        Tok::Sym("*") => (9, BinOp::Mul),
        Tok::Sym("/") => (9, BinOp::Div),
        Tok::Ident(w) if w == "div" => (9, BinOp::IntDiv),
        Tok::Ident(w) if w == "mod" => (9, BinOp::Mod),
        Tok::Sym("+") => (8, BinOp::Add),
        Tok::Sym("-") => (8, BinOp::Sub),
        Tok::Sym("&") => (8, BinOp::Concat),
        Tok::Sym("|") => (6, BinOp::Union),
        Tok::Sym("<") => (5, BinOp::Lt),
        Tok::Sym(">") => (5, BinOp::Gt),
        Tok::Sym("<=") => (5, BinOp::Le),
        Tok::Sym(">=") => (5, BinOp::Ge),
        Tok::Sym("=") => (4, BinOp::Eq),
        Tok::Sym("~") => (4, BinOp::Equiv),
        Tok::Sym("!=") => (4, BinOp::Ne),
        Tok::Sym("!~") => (4, BinOp::NotEquiv),
        Tok::Ident(w) if w == "in" => (3, BinOp::In),
        Tok::Ident(w) if w == "contains" => (3, BinOp::Contains),
        Tok::Ident(w) if w == "and" => (2, BinOp::And),
        Tok::Ident(w) if w == "or" => (1, BinOp::Or),
        Tok::Ident(w) if w == "xor" => (1, BinOp::Xor),
        Tok::Ident(w) if w == "implies" => (0, BinOp::Implies),
        _ => return None,
    })
}

/// Binding power of `is` and `as`.
const TYPE_OP: u8 = 7;

impl Parser {
    fn peek(&self) -> &Tok {
        &self.toks[self.i].1
    }

    fn bump(&mut self) -> Tok {
        let t = self.toks[self.i].1.clone();
        if self.i + 1 < self.toks.len() {
            self.i += 1;
        }
        t
    }

    fn err(&self, what: impl Into<String>) -> ParseError {
        ParseError { at: self.toks[self.i].0, what: what.into() }
    }

    fn expect(&mut self, sym: &'static str) -> Result<(), ParseError> {
        if self.peek() == &Tok::Sym(sym) {
            self.bump();
            Ok(())
        } else {
            Err(self.err(format!("expected '{sym}'")))
        }
    }

    /// Binary operators of binding power at least `min`.
    fn expr(&mut self, min: u8) -> Result<Expr, ParseError> {
        let mut left = self.unary()?;
        loop {
            let tok = self.peek().clone();
            if let Tok::Ident(w) = &tok {
                if (w == "is" || w == "as") && TYPE_OP >= min {
                    self.bump();
                    let ty = self.type_name()?;
                    left = if w == "is" { Expr::Is(Box::new(left), ty) } else { Expr::As(Box::new(left), ty) };
                    continue;
                }
            }
            let Some((power, op)) = binary(&tok).filter(|(p, _)| *p >= min) else { return Ok(left) };
            self.bump();
            // Left-associative: the right side binds tighter.
            let right = self.expr(power + 1)?;
            left = Expr::Binary(op, Box::new(left), Box::new(right));
        }
    }

    /// A type specifier: `Type` or `Namespace.Type`.
    fn type_name(&mut self) -> Result<String, ParseError> {
        let Tok::Ident(mut name) = self.bump() else { return Err(self.err("expected a type name")) };
        while self.peek() == &Tok::Sym(".") {
            if let Some((_, Tok::Ident(next))) = self.toks.get(self.i + 1).cloned() {
                self.bump();
                self.bump();
                name = format!("{name}.{next}");
            } else {
                break;
            }
        }
        Ok(name)
    }

    fn unary(&mut self) -> Result<Expr, ParseError> {
        match self.peek() {
            Tok::Sym("-") => {
                self.bump();
                Ok(Expr::Neg(Box::new(self.unary()?)))
            }
            Tok::Sym("+") => {
                self.bump();
                self.unary()
            }
            _ => self.postfix(),
        }
    }

    fn postfix(&mut self) -> Result<Expr, ParseError> {
        let mut e = self.term()?;
        loop {
            match self.peek() {
                Tok::Sym(".") => {
                    self.bump();
                    let Tok::Ident(name) = self.bump() else { return Err(self.err("expected a name after '.'")) };
                    if self.peek() == &Tok::Sym("(") {
                        let args = self.args()?;
                        e = Expr::Call(Some(Box::new(e)), name, args);
                    } else {
                        e = Expr::Member(Box::new(e), name);
                    }
                }
                Tok::Sym("[") => {
                    self.bump();
                    let index = self.expr(0)?;
                    self.expect("]")?;
                    e = Expr::Indexer(Box::new(e), Box::new(index));
                }
                _ => return Ok(e),
            }
        }
    }

    fn args(&mut self) -> Result<Vec<Expr>, ParseError> {
        self.expect("(")?;
        let mut args = Vec::new();
        if self.peek() == &Tok::Sym(")") {
            self.bump();
            return Ok(args);
        }
        loop {
            args.push(self.expr(0)?);
            match self.bump() {
                Tok::Sym(",") => {}
                Tok::Sym(")") => return Ok(args),
                _ => return Err(self.err("expected ',' or ')'")),
            }
        }
    }

    fn term(&mut self) -> Result<Expr, ParseError> {
        match self.bump() {
            Tok::Sym("(") => {
                let e = self.expr(0)?;
                self.expect(")")?;
                Ok(e)
            }
            Tok::Sym("{") => {
                self.expect("}")?;
                Ok(Expr::Empty)
            }
            Tok::Str(s) => Ok(Expr::Str(s)),
            Tok::DateTime(s) => Ok(Expr::DateTime(s)),
            Tok::Num(n) => {
                // A quantity: a number and a unit (a string, or a calendar word).
                if let Tok::Str(unit) = self.peek().clone() {
                    self.bump();
                    return Ok(Expr::Quantity(n, unit));
                }
                if let Tok::Ident(w) = self.peek().clone() {
                    const UNITS: &[&str] = &[
                        "year",
                        "years",
                        "month",
                        "months",
                        "week",
                        "weeks",
                        "day",
                        "days",
                        "hour",
                        "hours",
                        "minute",
                        "minutes",
                        "second",
                        "seconds",
                        "millisecond",
                        "milliseconds",
                    ];
                    if UNITS.contains(&w.as_str()) {
                        self.bump();
                        return Ok(Expr::Quantity(n, w));
                    }
                }
                if n.contains('.') {
                    Ok(Expr::Dec(n))
                } else {
                    n.parse().map(Expr::Int).map_err(|_| self.err("integer out of range"))
                }
            }
            Tok::Var(v) => Ok(Expr::Var(v)),
            Tok::Special(s) => match s.as_str() {
                "this" => Ok(Expr::This),
                "index" => Ok(Expr::Index),
                "total" => Ok(Expr::Total),
                other => Err(self.err(format!("unknown ${other}"))),
            },
            Tok::Ident(name) => {
                if self.peek() == &Tok::Sym("(") {
                    let args = self.args()?;
                    return Ok(Expr::Call(None, name, args));
                }
                match name.as_str() {
                    "true" => Ok(Expr::Bool(true)),
                    "false" => Ok(Expr::Bool(false)),
                    _ => Ok(Expr::Ident(name)),
                }
            }
            other => Err(self.err(format!("unexpected {other:?}"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Expr {
        parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn precedence() {
        use Expr::*;
        let e = p("a.exists() or b and c.empty()");
        let Binary(BinOp::Or, _, right) = e else { panic!("{e:?}") };
        assert!(matches!(*right, Binary(BinOp::And, _, _)));
        assert_eq!(
            p("1 + 2 * 3"),
            Binary(BinOp::Add, Box::new(Int(1)), Box::new(Binary(BinOp::Mul, Box::new(Int(2)), Box::new(Int(3)))))
        );
        assert!(matches!(p("a implies b or c"), Binary(BinOp::Implies, _, _)));
        assert!(matches!(p("x is Quantity"), Is(_, _)));
    }

    #[test]
    fn every_r4_expression_shape() {
        for src in [
            "start.hasValue().not() or end.hasValue().not() or (start <= end)",
            "text.`div`.exists()",
            "entry.all(request.exists() = (%resource.type = 'batch' or %resource.type = 'transaction'))",
            "reference.startsWith('#').not() or (reference.substring(1).trace('url') in %rootResource.contained.id.trace('ids'))",
            "sliceName.empty() or sliceName.matches('^[a-zA-Z0-9\\\\/\\\\-_\\\\[\\\\]\\\\@]+$')",
            "(type = 'history') or entry.where(fullUrl.exists()).select(fullUrl&resource.meta.versionId).isDistinct()",
            "onBehalfOf.exists() implies (member.resolve().iif(empty(), true, ofType(Practitioner).exists()))",
            "empty() or ($this = '*') or (toInteger() >= 0)",
            "(numerator.empty() xor denominator.exists()) and (numerator.exists() or extension.exists())",
            "value.empty() or value > 0 'mg' or @2020-01-01T10:00:00Z > @T10:00 or x[0] != -1.5",
        ] {
            p(src);
        }
        assert!(parse("a.(").is_err());
        assert!(parse("'open").is_err());
    }
}

//! Messages as data: our own text, and the values taken from the line kept apart, so that
//! rendering — at the edge, by whoever writes the text out — decides whether values are shown or
//! redacted (`--redact`). A FHIR path is a message too: its property names that FHIR does not
//! define are values (a JSON key may be data: `"John Smith 1970-01-01": true`).
//!
//! Only values of code, id, uri and date/time types are ever quoted (at most 64 characters,
//! control characters escaped), never free text; that is the rules' business, checked by tests.

use std::borrow::Cow;

/// How values from the data are rendered.
///
/// ```
/// use fhir_preflight::{validate_bytes, LineResult, Options, Redaction};
/// let mut messages = Vec::new();
/// let mut sink = |l: &LineResult<'_>| {
///     for d in l.diagnostics {
///         messages.push((d.message_with(Redaction::Off), d.message_with(Redaction::On)));
///     }
/// };
/// validate_bytes(b"{\"resourceType\":\"Patient\",\"id\":\"p\",\"gender\":\"F\"}\n", &Options::default(), &mut sink);
/// assert!(messages[0].0.contains("('F')") && messages[0].1.contains("('<redacted>')"));
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Redaction {
    /// Values are quoted as found (at most 64 characters, control characters escaped).
    #[default]
    Off,
    /// No value at all: `'<redacted>'`; property names FHIR does not define: `<redacted>`.
    On,
}

/// What stands for a value under [`Redaction::On`].
pub(crate) const REDACTED: &str = "<redacted>";

/// One piece of a message.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Part {
    /// Our own words (and names from the FHIR definitions).
    Text(Cow<'static, str>),
    /// A value from the data, quoted: `'F'`.
    Quoted(Box<str>),
    /// A value (or a name that may be data) from the line, shown as is.
    Raw(Box<str>),
}

/// A value for a message template's `{}`.
#[derive(Debug)]
pub(crate) enum Arg {
    Quoted(String),
    Message(Message),
}

/// A value to quote: `'F'`.
pub(crate) fn q(value: impl Into<String>) -> Arg {
    Arg::Quoted(value.into())
}

/// A message (a path) inside a message.
pub(crate) fn m(message: Message) -> Arg {
    Arg::Message(message)
}

/// A message: our words with the data's values kept apart.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Message {
    /// Most messages are one part: kept inline (no allocation for a message of our own words).
    parts: smallvec::SmallVec<[Part; 1]>,
}

impl Message {
    /// Our own words only.
    pub(crate) fn plain(text: impl Into<Cow<'static, str>>) -> Self {
        Message { parts: smallvec::smallvec![Part::Text(text.into())] }
    }

    /// `template` with each `{}` replaced by the next of `args`. The template holds our words and
    /// names from the definitions only (build it with `format!`, writing `{{}}` for the values).
    pub(crate) fn new(template: impl Into<Cow<'static, str>>, args: impl IntoIterator<Item = Arg>) -> Self {
        let template = template.into();
        let mut args = args.into_iter();
        let mut message = Message::default();
        let mut rest: &str = &template;
        while let Some(at) = rest.find("{}") {
            message.push_text(rest[..at].to_owned());
            match args.next() {
                Some(Arg::Quoted(v)) => message.parts.push(Part::Quoted(v.into_boxed_str())),
                Some(Arg::Message(inner)) => message.parts.extend(inner.parts),
                None => message.push_text("{}"),
            }
            rest = &rest[at + 2..];
        }
        if message.parts.is_empty() {
            return Message::plain(template);
        }
        message.push_text(rest.to_owned());
        message
    }

    /// Append our own words.
    pub(crate) fn push_text(&mut self, text: impl Into<Cow<'static, str>>) {
        let text = text.into();
        if text.is_empty() {
            return;
        }
        match self.parts.last_mut() {
            Some(Part::Text(last)) => last.to_mut().push_str(&text),
            _ => self.parts.push(Part::Text(text)),
        }
    }

    /// Append our own words borrowed from elsewhere (copied onto the last text part, if any).
    /// A part started here has room for more: paths are rendered a name at a time.
    pub(crate) fn push_str(&mut self, text: &str) {
        match self.parts.last_mut() {
            Some(Part::Text(last)) => last.to_mut().push_str(text),
            _ if text.is_empty() => {}
            _ => {
                let mut owned = String::with_capacity(text.len().max(48));
                owned.push_str(text);
                self.parts.push(Part::Text(Cow::Owned(owned)));
            }
        }
    }

    /// Append a value shown as is (redacted as `<redacted>`).
    pub(crate) fn push_raw(&mut self, value: impl Into<String>) {
        self.parts.push(Part::Raw(value.into().into_boxed_str()));
    }

    /// The text, values shown or redacted.
    pub(crate) fn render(&self, redaction: Redaction) -> String {
        let mut out = String::new();
        for part in &self.parts {
            match (part, redaction) {
                (Part::Text(t), _) => out.push_str(t),
                (Part::Quoted(_), Redaction::On) => {
                    out.push('\'');
                    out.push_str(REDACTED);
                    out.push('\'');
                }
                (Part::Quoted(v), Redaction::Off) => quote_into(&mut out, v),
                (Part::Raw(_), Redaction::On) => out.push_str(REDACTED),
                (Part::Raw(v), Redaction::Off) => out.push_str(v),
            }
        }
        out
    }
}

impl From<String> for Message {
    /// Our own words only.
    fn from(text: String) -> Self {
        Message::plain(text)
    }
}

impl From<&'static str> for Message {
    /// Our own words only.
    fn from(text: &'static str) -> Self {
        Message::plain(text)
    }
}

/// Quote a value: at most 64 characters, control characters escaped.
fn quote_into(out: &mut String, value: &str) {
    const MAX: usize = 64;
    out.push('\'');
    for (n, c) in value.chars().enumerate() {
        if n == MAX {
            out.push('…');
            break;
        }
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out.push('\'');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_and_values() {
        let msg = Message::new(format!("property {{}} of {} is {{}}", "Patient"), [q("a\u{1}b"), q("x".repeat(100))]);
        assert_eq!(msg.render(Redaction::Off), format!("property 'a\\u{{1}}b' of Patient is '{}…'", "x".repeat(64)));
        assert_eq!(msg.render(Redaction::On), "property '<redacted>' of Patient is '<redacted>'");
        let plain = Message::new("no values: [A-Za-z]{1,256}", []);
        assert_eq!(plain.render(Redaction::On), "no values: [A-Za-z]{1,256}");
        let mut path = Message::plain("Patient.name[0].");
        path.push_raw("John Smith");
        let nested = Message::new("at {} here", [m(path)]);
        assert_eq!(nested.render(Redaction::Off), "at Patient.name[0].John Smith here");
        assert_eq!(nested.render(Redaction::On), "at Patient.name[0].<redacted> here");
    }
}

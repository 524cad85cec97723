//! FHIR paths, built lazily: a linked list of stack frames that the walk carries down, rendered
//! (`Patient.name[0].given`) only when a diagnostic needs it.

use crate::diagnostic::Message;

#[derive(Clone, Copy, Debug)]
pub(crate) enum Path<'p> {
    /// The resource at the root of the line; its type name, or `""` when unknown.
    Root(&'static str),
    /// A property of the parent.
    Member(&'p Path<'p>, &'p str),
    /// An item of the parent array.
    Index(&'p Path<'p>, usize),
}

/// Property names longer than this are cut (with `…`) in rendered paths.
const MAX_KEY_CHARS: usize = 64;

impl Path<'_> {
    /// The path, or `None` at the root of a resource of unknown type. Property names that R4 does
    /// not define are kept as values (redacted under `--redact`: a key may be data).
    #[cold]
    pub(crate) fn render(&self) -> Option<Message> {
        // The root alone (a resource's own finding): a name from the model, no allocation.
        if let Path::Root(name) = self {
            return (!name.is_empty()).then(|| Message::plain(*name));
        }
        let mut out = Message::default();
        let mut empty = true;
        self.render_into(&mut out, &mut empty);
        (!empty).then_some(out)
    }

    fn render_into(&self, out: &mut Message, empty: &mut bool) {
        match self {
            Path::Root(name) => {
                if !name.is_empty() {
                    out.push_str(name);
                    *empty = false;
                }
            }
            Path::Member(parent, key) => {
                parent.render_into(out, empty);
                if !*empty {
                    out.push_str(".");
                }
                *empty = false;
                // A key of at most MAX_KEY_CHARS bytes has at most that many characters.
                let cut = if key.len() <= MAX_KEY_CHARS { None } else { key.char_indices().nth(MAX_KEY_CHARS) };
                if let Some((cut, _)) = cut {
                    out.push_raw(format!("{}…", &key[..cut]));
                } else if is_fhir_name(key) {
                    out.push_str(key);
                } else {
                    // A name FHIR does not define may be data (`"John Smith 1970-01-01": true`).
                    out.push_raw(*key);
                }
            }
            Path::Index(parent, index) => {
                parent.render_into(out, empty);
                let mut digits = [0u8; 20];
                out.push_str("[");
                out.push_str(decimal(*index, &mut digits));
                out.push_str("]");
                *empty = false;
            }
        }
    }
}

/// `n` in decimal, written into `buf`.
fn decimal(mut n: usize, buf: &mut [u8; 20]) -> &str {
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    std::str::from_utf8(&buf[i..]).unwrap_or("")
}

/// Is `key` a JSON property name that R4 defines somewhere? (Property names do not change with
/// profiles, so base R4's are the ones.)
fn is_fhir_name(key: &str) -> bool {
    crate::model::Model::r4().is_property_name(key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::Redaction;

    fn text(p: &Path<'_>) -> Option<String> {
        p.render().map(|m| m.render(Redaction::Off))
    }

    #[test]
    fn renders() {
        let root = Path::Root("Patient");
        let name = Path::Member(&root, "name");
        let first = Path::Index(&name, 0);
        let given = Path::Member(&first, "given");
        let big = Path::Index(&name, 1234567890);
        assert_eq!(text(&big).as_deref(), Some("Patient.name[1234567890]"));
        assert_eq!(text(&Path::Index(&name, 10)).as_deref(), Some("Patient.name[10]"));
        assert_eq!(text(&given).as_deref(), Some("Patient.name[0].given"));
        let anon = Path::Root("");
        assert_eq!(text(&Path::Member(&anon, "x")).as_deref(), Some("x"));
        assert_eq!(text(&anon), None);
        assert_eq!(text(&root).as_deref(), Some("Patient"));
        let long = "k".repeat(100);
        let cut = format!("Patient.{}…", "k".repeat(64));
        assert_eq!(text(&Path::Member(&root, &long)), Some(cut));
    }

    #[test]
    fn redacted_paths_keep_fhir_names_only() {
        let root = Path::Root("Patient");
        let name = Path::Member(&root, "name");
        let first = Path::Index(&name, 0);
        let odd = Path::Member(&first, "John Smith");
        let birth = Path::Member(&root, "_birthDate");
        let redacted = |p: &Path<'_>| p.render().map(|m| m.render(Redaction::On));
        assert_eq!(redacted(&odd).as_deref(), Some("Patient.name[0].<redacted>"));
        assert_eq!(redacted(&birth).as_deref(), Some("Patient._birthDate"));
        assert_eq!(text(&odd).as_deref(), Some("Patient.name[0].John Smith"));
        assert!(is_fhir_name("valueQuantity") && is_fhir_name("resourceType") && !is_fhir_name("_x_"));
    }
}

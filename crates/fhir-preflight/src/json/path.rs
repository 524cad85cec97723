//! FHIR paths, built lazily: a linked list of stack frames that the walk carries down, rendered
//! (`Patient.name[0].given`) only when a diagnostic needs it.

#[derive(Clone, Copy, Debug)]
pub(crate) enum Path<'p> {
    /// The resource at the root of the line; its type name, or `""` when unknown.
    Root(&'p str),
    /// A property of the parent.
    Member(&'p Path<'p>, &'p str),
    /// An item of the parent array.
    Index(&'p Path<'p>, usize),
}

/// Property names longer than this are cut (with `…`) in rendered paths.
const MAX_KEY_CHARS: usize = 64;

impl Path<'_> {
    /// The path as text, or `None` at the root of a resource of unknown type.
    #[cold]
    pub(crate) fn render(&self) -> Option<String> {
        let mut out = String::with_capacity(64);
        self.render_into(&mut out);
        (!out.is_empty()).then_some(out)
    }

    fn render_into(&self, out: &mut String) {
        match self {
            Path::Root(name) => out.push_str(name),
            Path::Member(parent, key) => {
                parent.render_into(out);
                if !out.is_empty() {
                    out.push('.');
                }
                if crate::diagnostic::redacting() && !is_fhir_name(key) {
                    // A name FHIR does not define may be data (`"John Smith 1970-01-01": true`).
                    out.push_str(crate::diagnostic::REDACTED);
                    return;
                }
                // A key of at most MAX_KEY_CHARS bytes has at most that many characters.
                let cut = if key.len() <= MAX_KEY_CHARS { None } else { key.char_indices().nth(MAX_KEY_CHARS) };
                match cut {
                    Some((cut, _)) => {
                        out.push_str(&key[..cut]);
                        out.push('…');
                    }
                    None => out.push_str(key),
                }
            }
            Path::Index(parent, index) => {
                parent.render_into(out);
                out.push('[');
                push_decimal(out, *index);
                out.push(']');
            }
        }
    }
}

/// Is `key` a JSON property name that R4 defines somewhere (`gender`, `_birthDate`,
/// `resourceType`)? Only such names are shown in paths under `--redact`.
pub(crate) fn is_fhir_name(key: &str) -> bool {
    let known = |k: &str| crate::r4::TYPES.iter().any(|t| (t.lookup)(k.as_bytes()).is_some());
    key == "resourceType" || known(key) || key.strip_prefix('_').is_some_and(known)
}

/// `n` in decimal, without the formatting machinery.
fn push_decimal(out: &mut String, mut n: usize) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend(digits[i..].iter().map(|&d| char::from(d)));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders() {
        let root = Path::Root("Patient");
        let name = Path::Member(&root, "name");
        let first = Path::Index(&name, 0);
        let given = Path::Member(&first, "given");
        let big = Path::Index(&name, 1234567890);
        assert_eq!(big.render().as_deref(), Some("Patient.name[1234567890]"));
        assert_eq!(Path::Index(&name, 10).render().as_deref(), Some("Patient.name[10]"));
        assert_eq!(given.render().as_deref(), Some("Patient.name[0].given"));
        let anon = Path::Root("");
        assert_eq!(Path::Member(&anon, "x").render().as_deref(), Some("x"));
        assert_eq!(anon.render(), None);
        assert_eq!(root.render().as_deref(), Some("Patient"));
        let long = "k".repeat(100);
        let cut = format!("Patient.{}…", "k".repeat(64));
        assert_eq!(Path::Member(&root, &long).render(), Some(cut));
    }

    #[test]
    fn redacted_paths_keep_fhir_names_only() {
        let root = Path::Root("Patient");
        let name = Path::Member(&root, "name");
        let first = Path::Index(&name, 0);
        let odd = Path::Member(&first, "John Smith");
        let birth = Path::Member(&root, "_birthDate");
        crate::diagnostic::REDACT.with(|r| r.set(true));
        let redacted = (odd.render(), birth.render());
        crate::diagnostic::REDACT.with(|r| r.set(false));
        assert_eq!(redacted.0.as_deref(), Some("Patient.name[0].<redacted>"));
        assert_eq!(redacted.1.as_deref(), Some("Patient._birthDate"));
        assert_eq!(odd.render().as_deref(), Some("Patient.name[0].John Smith"));
        assert!(is_fhir_name("valueQuantity") && is_fhir_name("resourceType") && !is_fhir_name("_x_"));
    }
}

//! FHIR paths, built lazily: a linked list of stack frames that the walk carries down, rendered
//! (`Patient.name[0].given`) only when a diagnostic needs it.

use std::fmt::Write;

#[derive(Clone, Copy, Debug)]
pub(crate) enum Path<'p> {
    /// The resource at the root of the line; its type name, or `""` when unknown.
    Root(&'p str),
    /// A property of the parent.
    Member(&'p Path<'p>, &'p str),
    /// An item of the parent array.
    Index(&'p Path<'p>, usize),
}

impl Path<'_> {
    #[cold]
    pub(crate) fn render(&self) -> String {
        let mut out = String::new();
        self.render_into(&mut out);
        out
    }

    fn render_into(&self, out: &mut String) {
        match self {
            Path::Root(name) => out.push_str(name),
            Path::Member(parent, key) => {
                parent.render_into(out);
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(key);
            }
            Path::Index(parent, index) => {
                parent.render_into(out);
                let _ = write!(out, "[{index}]");
            }
        }
    }
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
        assert_eq!(given.render(), "Patient.name[0].given");
        let anon = Path::Root("");
        assert_eq!(Path::Member(&anon, "x").render(), "x");
        assert_eq!(root.render(), "Patient");
    }
}

//! Where a profile finding is: an item's FHIR path (`Observation.component[1].valueQuantity`),
//! as a chain of borrowed segments on the engine's stack, written out only when a finding is
//! reported (most items have none, and a path per item was the engine's largest cost).
//!
//! May import: nothing.

use std::fmt::Write;

#[derive(Clone, Copy, Debug)]
pub(crate) struct At<'p> {
    parent: Option<&'p At<'p>>,
    segment: Segment<'p>,
}

#[derive(Clone, Copy, Debug)]
enum Segment<'p> {
    /// The path of the node the profile is checked on, as the walk wrote it.
    Root(&'p str),
    /// An item of an element: its name, the type of a choice's item (`value` + `Quantity`), and
    /// its index when the element repeats.
    Item { name: &'p str, choice: Option<&'static str>, index: Option<usize> },
}

impl<'p> At<'p> {
    pub(crate) fn root(path: &'p str) -> At<'p> {
        At { parent: None, segment: Segment::Root(path) }
    }

    /// Item `index` (`None`: the element does not repeat) of element `name` below this one; a
    /// choice's item is named by its type (`valueQuantity`).
    pub(crate) fn item(&'p self, name: &'p str, choice: Option<&'static str>, index: Option<usize>) -> At<'p> {
        At { parent: Some(self), segment: Segment::Item { name, choice, index } }
    }

    /// Member `name` below this one (`reference` of a Reference).
    pub(crate) fn member(&'p self, name: &'p str) -> At<'p> {
        self.item(name, None, None)
    }

    pub(crate) fn render(&self) -> String {
        let mut out = String::new();
        self.write(&mut out);
        out
    }

    fn write(&self, out: &mut String) {
        if let Some(parent) = self.parent {
            parent.write(out);
        }
        match self.segment {
            Segment::Root(path) => out.push_str(path),
            Segment::Item { name, choice, index } => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(name);
                if let Some(ty) = choice {
                    let mut chars = ty.chars();
                    if let Some(first) = chars.next() {
                        out.extend(first.to_uppercase());
                        out.push_str(chars.as_str());
                    }
                }
                if let Some(i) = index {
                    let _ = write!(out, "[{i}]");
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths() {
        let root = At::root("Observation");
        let component = root.item("component", None, Some(1));
        let value = component.item("value", Some("Quantity"), None);
        assert_eq!(value.render(), "Observation.component[1].valueQuantity");
        assert_eq!(value.member("code").render(), "Observation.component[1].valueQuantity.code");
        assert_eq!(At::root("").item("extension", None, Some(0)).render(), "extension[0]");
    }
}

/// The known name closest to `input` (case-insensitive edit distance), when
/// it is close enough to be a likely typo.
pub fn nearest_name<'a>(input: &str, known: &[&'a str]) -> Option<&'a str> {
    let input = input.to_ascii_lowercase();
    known
        .iter()
        .map(|name| (strsim::levenshtein(&input, &name.to_ascii_lowercase()), *name))
        .min_by_key(|(distance, _)| *distance)
        .filter(|(distance, name)| *distance <= 3.max(name.len() / 3))
        .map(|(_, name)| name)
}

/// At most this many unknown names are answered one by one; the rest are
/// counted in the last error, so a body or query of many thousand
/// made-up names answers in a few hundred bytes, not megabytes.
pub const UNKNOWN_LISTED: usize = 10;

/// Longer names are neither compared (edit distance is quadratic) nor
/// echoed whole.
const NAME_SHOWN: usize = 64;

/// What an unknown name was given as: a body field or a query parameter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unknown {
    Field,
    QueryParameter,
}

impl Unknown {
    fn noun(self) -> &'static str {
        match self {
            Unknown::Field => "field",
            Unknown::QueryParameter => "query parameter",
        }
    }
}

/// The error for one unknown name: the nearest known one when it is close,
/// else the known ones.
fn unknown_name(name: &str, known: &[&str], kind: Unknown) -> crate::domain::FieldError {
    let noun = kind.noun();
    let nearest = if name.chars().count() > NAME_SHOWN { None } else { nearest_name(name, known) };
    let message = match (nearest, kind) {
        (Some(near), _) => format!("is not a known {noun}: did you mean `{near}`?"),
        (None, Unknown::Field) => format!("is not a known field (known fields: {})", known.join(", ")),
        (None, Unknown::QueryParameter) => format!("is not a known query parameter (known: {})", known.join(", ")),
    };
    crate::domain::FieldError::new(shown(name), message)
}

/// One error per unknown name, in order, at most `UNKNOWN_LISTED` of them
/// and then one that counts the rest.
pub fn unknown_names<'a>(
    names: impl IntoIterator<Item = &'a str>,
    known: &[&str],
    kind: Unknown,
) -> Vec<crate::domain::FieldError> {
    let mut tally = UnknownTally::new(known, kind);
    let mut errors: Vec<_> =
        names.into_iter().filter(|name| !known.contains(name)).filter_map(|n| tally.note(n)).collect();
    errors.extend(tally.rest());
    errors
}

/// Unknown names met one at a time among other checks (a query string):
/// `note` answers the error to report now, `rest` the one that counts
/// those past `UNKNOWN_LISTED`.
pub struct UnknownTally<'k> {
    known: &'k [&'k str],
    kind: Unknown,
    seen: usize,
    first_unlisted: Option<String>,
}

impl<'k> UnknownTally<'k> {
    pub fn new(known: &'k [&'k str], kind: Unknown) -> Self {
        Self { known, kind, seen: 0, first_unlisted: None }
    }

    pub fn note(&mut self, name: &str) -> Option<crate::domain::FieldError> {
        self.seen += 1;
        if self.seen <= UNKNOWN_LISTED {
            return Some(unknown_name(name, self.known, self.kind));
        }
        if self.first_unlisted.is_none() {
            self.first_unlisted = Some(shown(name));
        }
        None
    }

    pub fn rest(self) -> Option<crate::domain::FieldError> {
        let first = self.first_unlisted?;
        let after = self.seen - UNKNOWN_LISTED - 1;
        let noun = self.kind.noun();
        let message = if after == 0 {
            format!("is not a known {noun} either")
        } else {
            format!("is not a known {noun} either, nor are the {after} after it (not listed)")
        };
        Some(crate::domain::FieldError::new(first, message))
    }
}

/// A name as an error echoes it: whole, or its first `NAME_SHOWN` characters and "…".
fn shown(name: &str) -> String {
    if name.chars().count() <= NAME_SHOWN {
        name.to_owned()
    } else {
        name.chars().take(NAME_SHOWN).chain(std::iter::once('…')).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::nearest_name;

    #[test]
    fn suggests_close_names_only() {
        let known = ["endPoint", "hookType", "_shop"];
        assert_eq!(nearest_name("endpoint", &known), Some("endPoint"));
        assert_eq!(nearest_name("shop", &known), Some("_shop"));
        assert_eq!(nearest_name("hooktyp", &known), Some("hookType"));
        assert_eq!(nearest_name("completely-different", &known), None);
    }

    #[test]
    fn many_unknown_names_answer_briefly() {
        let known = ["endPoint", "hookType"];
        let names: Vec<String> = (0..5000).map(|i| format!("made-up-{i}")).collect();
        let errors =
            super::unknown_names(names.iter().map(String::as_str).chain(["endPoint"]), &known, super::Unknown::Field);
        assert_eq!(errors.len(), super::UNKNOWN_LISTED + 1);
        assert_eq!(errors[0].field, "made-up-0");
        assert_eq!(errors[10].field, "made-up-10");
        assert!(errors[10].message.contains("nor are the 4989 after it"), "{}", errors[10].message);
        // Eleven are listed one by one, without a summary.
        assert_eq!(
            super::unknown_names(names[..11].iter().map(String::as_str), &known, super::Unknown::Field).len(),
            11
        );
    }

    #[test]
    fn a_long_name_is_cut_and_not_compared() {
        let long = format!("endPoint{}", "x".repeat(100_000));
        let error = super::unknown_name(&long, &["endPoint"], super::Unknown::QueryParameter);
        assert_eq!(error.field.chars().count(), 65);
        assert!(error.field.ends_with('…'));
        assert_eq!(error.message, "is not a known query parameter (known: endPoint)");
    }
}

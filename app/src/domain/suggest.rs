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

/// The error for a field nobody knows, naming the nearest known one (or all of them).
pub fn unknown_field(key: &str, known: &[&str]) -> crate::domain::FieldError {
    let message = match nearest_name(key, known) {
        Some(name) => format!("is not a known field: did you mean `{name}`?"),
        None => format!("is not a known field (known fields: {})", known.join(", ")),
    };
    crate::domain::FieldError::new(key, message)
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
}

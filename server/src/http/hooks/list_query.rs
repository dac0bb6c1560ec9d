//! List query parameters: `page`, `size` and filters. Every bad or unknown
//! parameter is reported at once.

use crate::http::error::{ApiError, FieldError};
use app::domain::{Catalogue, Unknown, UnknownTally, Vertical};
use app::storage::hooks::HookFilter;

pub const DEFAULT_PAGE_SIZE: u32 = 10;
pub const MAX_PAGE_SIZE: u32 = 100;
const MAX_PAGE: u32 = 1_000_000;

#[derive(Debug, PartialEq, Eq)]
pub struct ListQuery {
    pub page: u32,
    pub size: u32,
    pub filter: HookFilter,
}

/// The parameters a vertical's list accepts.
fn allowed(vertical: Vertical) -> &'static [&'static str] {
    match vertical {
        Vertical::Flightrates => &["page", "size", "_shop", "hookType", "isActiveStatus", "search"],
        Vertical::Eventsshop => &["page", "size", "isActiveStatus", "search"],
    }
}

/// `page` and `size`, the only parameters of a plain paged list: `(page, size)`.
pub fn parse_paging(pairs: &[(String, String)]) -> Result<(u32, u32), ApiError> {
    const PAGING: &[&str] = &["page", "size"];
    let (mut page, mut size, mut errors) = (1, DEFAULT_PAGE_SIZE, Vec::new());
    let mut unknown = UnknownTally::new(PAGING, Unknown::QueryParameter);
    for (name, value) in pairs {
        match name.as_str() {
            "page" | "size" => paging_param(name, value.trim(), &mut page, &mut size, &mut errors),
            other => errors.extend(unknown.note(other)),
        }
    }
    errors.extend(unknown.rest());
    if errors.is_empty() { Ok((page, size)) } else { Err(ApiError::Validation(errors)) }
}

pub fn paging_param(name: &str, value: &str, page: &mut u32, size: &mut u32, errors: &mut Vec<FieldError>) {
    let (slot, max) = if name == "page" { (page, MAX_PAGE) } else { (size, MAX_PAGE_SIZE) };
    match value.parse::<u32>() {
        Ok(n) if (1..=max).contains(&n) => *slot = n,
        _ => errors.push(FieldError::new(name, format!("must be a whole number from 1 to {max}"))),
    }
}

pub fn parse(pairs: &[(String, String)], vertical: Vertical, catalogue: &Catalogue) -> Result<ListQuery, ApiError> {
    let mut errors = Vec::new();
    let mut unknown = UnknownTally::new(allowed(vertical), Unknown::QueryParameter);
    let mut query = ListQuery { page: 1, size: DEFAULT_PAGE_SIZE, filter: HookFilter::default() };
    for (name, value) in pairs {
        let value = value.trim();
        match name.as_str() {
            "page" | "size" => paging_param(name, value, &mut query.page, &mut query.size, &mut errors),
            "_shop" if allowed(vertical).contains(&"_shop") => {
                if value.is_empty() || value.len() > 128 {
                    errors.push(FieldError::new("_shop", "must be 1 to 128 characters"));
                } else {
                    query.filter.shop = Some(value.to_owned());
                }
            }
            "hookType" if allowed(vertical).contains(&"hookType") => {
                if catalogue.contains(vertical, value) {
                    query.filter.hook_type = Some(value.to_owned());
                } else {
                    errors.push(FieldError::new(
                        "hookType",
                        format!("must be one of: {}", catalogue.hook_types(vertical).join(", ")),
                    ));
                }
            }
            "isActiveStatus" => match value {
                "true" => query.filter.is_active = Some(true),
                "false" => query.filter.is_active = Some(false),
                _ => errors.push(FieldError::new("isActiveStatus", "must be true or false")),
            },
            "search" => {
                if value.len() > 2048 {
                    errors.push(FieldError::new("search", "must be at most 2048 characters"));
                } else if !value.is_empty() {
                    query.filter.endpoint_contains = Some(value.to_owned());
                }
            }
            other => errors.extend(unknown.note(other)),
        }
    }
    errors.extend(unknown.rest());
    if errors.is_empty() { Ok(query) } else { Err(ApiError::Validation(errors)) }
}

/// `ceil(total / size)`.
pub fn total_pages(total: u64, size: u32) -> u64 {
    total.div_ceil(u64::from(size.max(1)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn defaults_filters_and_errors() {
        let c = Catalogue::default();
        let parsed = parse(&q(&[]), Vertical::Flightrates, &c).expect("ok");
        assert_eq!((parsed.page, parsed.size), (1, 10));
        let parsed = parse(
            &q(&[("page", "3"), ("size", "100"), ("hookType", "dbs"), ("isActiveStatus", "false")]),
            Vertical::Flightrates,
            &c,
        )
        .expect("ok");
        assert_eq!((parsed.page, parsed.size), (3, 100));
        assert_eq!(parsed.filter.is_active, Some(false));
        match parse(
            &q(&[("page", "0"), ("size", "101"), ("hookTyp", "dbs"), ("isActiveStatus", "yes")]),
            Vertical::Flightrates,
            &c,
        ) {
            Err(ApiError::Validation(errors)) => {
                let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
                assert_eq!(fields, ["page", "size", "hookTyp", "isActiveStatus"]);
                assert!(errors[2].message.contains("did you mean `hookType`"));
            }
            other => panic!("expected errors, got {other:?}"),
        }
        assert!(parse(&q(&[("_shop", "x")]), Vertical::Eventsshop, &c).is_err());
    }

    #[test]
    fn paging_alone_refuses_other_parameters() {
        assert_eq!(parse_paging(&q(&[("page", "2"), ("size", "5")])).expect("ok"), (2, 5));
        match parse_paging(&q(&[("pgae", "2"), ("status", "failed")])) {
            Err(ApiError::Validation(errors)) => {
                assert_eq!(errors.len(), 2);
                assert!(errors[0].message.contains("did you mean `page`"), "{}", errors[0].message);
                assert_eq!(errors[1].field, "status");
            }
            other => panic!("expected errors, got {other:?}"),
        }
    }

    #[test]
    fn thousands_of_unknown_parameters_answer_briefly() {
        let pairs: Vec<(String, String)> = (0..3000).map(|i| (format!("x{i}"), String::new())).collect();
        match parse(&pairs, Vertical::Flightrates, &Catalogue::default()) {
            Err(ApiError::Validation(errors)) => {
                assert_eq!(errors.len(), app::domain::UNKNOWN_LISTED + 1);
                assert!(errors.last().expect("one").message.contains("nor are the 2989 after it"));
            }
            other => panic!("expected errors, got {other:?}"),
        }
    }

    #[test]
    fn pages_round_up() {
        assert_eq!(total_pages(0, 10), 0);
        assert_eq!(total_pages(10, 10), 1);
        assert_eq!(total_pages(11, 10), 2);
    }
}

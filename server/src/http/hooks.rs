//! `/api/v1/hooks`: the hook collection. (The registry itself comes with the
//! hooks table; until then an account's list is empty.)

use super::auth::Authenticated;
use super::error::{ApiError, FieldError};
use axum::Json;
use axum::extract::Query;
use serde::Serialize;
use serde_json::Value;
use std::collections::HashMap;

pub const DEFAULT_PAGE_SIZE: u32 = 10;
pub const MAX_PAGE_SIZE: u32 = 100;

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HookList {
    pub error: bool,
    pub hooks: Vec<Value>,
    pub total_data: u64,
    pub total_pages: u64,
    pub page: u32,
    pub size: u32,
}

#[derive(Debug, PartialEq, Eq)]
pub struct Paging {
    pub page: u32,
    pub size: u32,
}

/// Parses `page` (≥ 1) and `size` (1..=100), listing every bad parameter.
pub fn parse_paging(query: &HashMap<String, String>) -> Result<Paging, ApiError> {
    let mut errors = Vec::new();
    let mut number = |name: &str, default: u32, max: u32| match query.get(name) {
        None => default,
        Some(raw) => match raw.trim().parse::<u32>() {
            Ok(n) if (1..=max).contains(&n) => n,
            _ => {
                errors.push(FieldError::new(
                    name,
                    format!("must be a whole number from 1 to {max}"),
                ));
                default
            }
        },
    };
    let page = number("page", 1, u32::MAX);
    let size = number("size", DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE);
    if errors.is_empty() {
        Ok(Paging { page, size })
    } else {
        Err(ApiError::Validation(errors))
    }
}

/// `GET /api/v1/hooks?page=1&size=10`
pub async fn list(
    Authenticated(_account): Authenticated,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<HookList>, ApiError> {
    let paging = parse_paging(&query)?;
    Ok(Json(HookList {
        error: false,
        hooks: Vec::new(),
        total_data: 0,
        total_pages: 0,
        page: paging.page,
        size: paging.size,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn paging_defaults_and_bounds() {
        assert_eq!(
            parse_paging(&q(&[])).ok(),
            Some(Paging { page: 1, size: 10 })
        );
        assert_eq!(
            parse_paging(&q(&[("page", "3"), ("size", "100")])).ok(),
            Some(Paging { page: 3, size: 100 })
        );
        match parse_paging(&q(&[("page", "0"), ("size", "101")])) {
            Err(ApiError::Validation(errors)) => {
                let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
                assert_eq!(fields, ["page", "size"]);
            }
            other => panic!("expected a validation error, got {other:?}"),
        }
    }
}

//! The hook registry over REST: the FlightRates routes (`/api/v1/hook…`),
//! the EventsShop routes (`/endpoint/…`), their JSON shapes and list queries.
//! Each route family manages its own vertical's hooks; another vertical's
//! id is a 404 there, like another account's.

pub mod eventsshop;
pub mod flightrates;
pub mod list_query;
pub mod representation;

use crate::http::error::ApiError;
use crate::http::state::AppState;
use app::domain::{ResourceId, Vertical};
use app::storage::hooks::{self, Hook};

/// A page of one vertical's hooks of the account, as the list routes answer it.
pub struct Page {
    pub hooks: Vec<Hook>,
    pub total: u64,
    pub total_pages: u64,
    pub page: u32,
    pub size: u32,
}

pub async fn page_of(
    state: &AppState,
    account: &ResourceId,
    vertical: Vertical,
    pairs: &[(String, String)],
) -> Result<Page, ApiError> {
    let query = list_query::parse(pairs, vertical, &state.catalogue)?;
    let (found, total) = hooks::list(&state.db, account, Some(vertical), &query.filter, query.page, query.size).await?;
    Ok(Page {
        hooks: found,
        total,
        total_pages: list_query::total_pages(total, query.size),
        page: query.page,
        size: query.size,
    })
}

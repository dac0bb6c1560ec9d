//! The hook registry over REST: the FlightRates routes (`/api/v1/hook…`),
//! the EventsShop routes (`/endpoint/…`), their JSON shapes and list queries.
//! Each route family manages its own vertical's hooks; another vertical's
//! id is a 404 there, like another account's.

pub mod eventsshop;
pub mod flightrates;
pub mod list_query;
pub mod representation;

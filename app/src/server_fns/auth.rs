//! Signing in and out of the dashboard, and who is signed in.

use super::error::DashboardError;
use super::types::UserInfo;
use leptos::prelude::*;

/// Checks email and password, opens a session (HttpOnly, SameSite=Strict
/// cookie) and goes to the overview. A wrong password sets no cookie.
#[server(name = LoginFn, prefix = "/_rpc", endpoint = "login")]
pub async fn login(email: String, password: String) -> Result<(), DashboardError> {
    use super::context::{client_address, internal, services};
    use super::error::answered;
    use crate::storage::sessions;
    let services = services()?;
    // Before the password hash: a refused attempt costs no argon2 run.
    if let Err(wait) = (services.login_allowed)(&email.trim().to_lowercase(), &client_address()) {
        tracing::warn!("dashboard login throttled");
        let message = format!("Too many login attempts. Try again in {wait} seconds.");
        return Err(answered(DashboardError::TooMany { message, retry_after_secs: wait }));
    }
    let Some((token, account)) = sessions::login(&services.db, &email, &password).await.map_err(internal)? else {
        tracing::info!("dashboard login refused");
        return Err(answered(DashboardError::WrongCredentials));
    };
    let max_age = cookie::time::Duration::milliseconds(sessions::SESSION_TTL_MS);
    set_cookie(&session_cookie(token).max_age(max_age).secure(behind_https()).build())?;
    tracing::info!(account = %account.id, "dashboard login");
    leptos_axum::redirect("/");
    Ok(())
}

/// Ends the session and clears the cookie.
#[server(name = LogoutFn, prefix = "/_rpc", endpoint = "logout")]
pub async fn logout() -> Result<(), DashboardError> {
    use super::context::{internal, services, session_token};
    let services = services()?;
    if let Some(token) = session_token() {
        crate::storage::sessions::end(&services.db, &token).await.map_err(internal)?;
    }
    set_cookie(&session_cookie(String::new()).max_age(cookie::time::Duration::ZERO).build())?;
    leptos_axum::redirect("/login");
    Ok(())
}

/// The signed-in person, or `None`.
#[server(name = CurrentUserFn, prefix = "/_rpc", endpoint = "current_user")]
pub async fn current_user() -> Result<Option<UserInfo>, DashboardError> {
    use super::context::{internal, services, session_token};
    let services = services()?;
    let Some(token) = session_token() else { return Ok(None) };
    let account = crate::storage::sessions::account(&services.db, &token).await.map_err(internal)?;
    Ok(account.map(|a| UserInfo { email: a.email, vertical: a.vertical.as_str().to_owned() }))
}

/// The session cookie: HttpOnly (no script reads it), SameSite=Strict (no
/// other site's request carries it), for the whole dashboard.
#[cfg(feature = "ssr")]
fn session_cookie(value: String) -> cookie::CookieBuilder<'static> {
    cookie::Cookie::build((super::context::SESSION_COOKIE, value))
        .path("/")
        .http_only(true)
        .same_site(cookie::SameSite::Strict)
}

#[cfg(feature = "ssr")]
fn set_cookie(cookie: &cookie::Cookie<'_>) -> Result<(), DashboardError> {
    let response = use_context::<leptos_axum::ResponseOptions>()
        .ok_or_else(|| super::context::internal("no response to set a cookie on"))?;
    let value = http::HeaderValue::from_str(&cookie.to_string()).map_err(super::context::internal)?;
    response.append_header(http::header::SET_COOKIE, value);
    Ok(())
}

/// True when a proxy in front says the browser used https (the cookie is then `Secure`).
#[cfg(feature = "ssr")]
fn behind_https() -> bool {
    use_context::<http::request::Parts>().is_some_and(|parts| {
        parts
            .headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|p| p.eq_ignore_ascii_case("https"))
    })
}

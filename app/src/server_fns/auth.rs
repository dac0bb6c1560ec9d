//! Signing in and out of the dashboard, and who is signed in.

use super::types::UserInfo;
use leptos::prelude::*;

/// Checks email and password, opens a session (HttpOnly, SameSite=Strict
/// cookie) and goes to the overview. A wrong password sets no cookie.
#[server(name = LoginFn, prefix = "/_rpc", endpoint = "login")]
pub async fn login(email: String, password: String) -> Result<(), ServerFnError> {
    use super::context::{SESSION_COOKIE, client_address, internal, services};
    use crate::storage::sessions;
    let services = services()?;
    // Before the password hash: a refused attempt costs no argon2 run.
    if let Err(wait) = (services.login_allowed)(&email.trim().to_lowercase(), &client_address()) {
        if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
            response.set_status(http::StatusCode::TOO_MANY_REQUESTS);
            response.insert_header(http::header::RETRY_AFTER, http::HeaderValue::from(wait));
        }
        tracing::warn!("dashboard login throttled");
        return Err(ServerFnError::new(format!("Too many login attempts. Try again in {wait} seconds.")));
    }
    let Some((token, account)) = sessions::login(&services.db, &email, &password).await.map_err(internal)? else {
        if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
            response.set_status(http::StatusCode::UNAUTHORIZED);
        }
        tracing::info!("dashboard login refused");
        return Err(ServerFnError::new("Wrong email or password."));
    };
    let max_age = sessions::SESSION_TTL_MS / 1000;
    let cookie = format!(
        "{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}{}",
        if behind_https() { "; Secure" } else { "" }
    );
    set_cookie(&cookie)?;
    tracing::info!(account = %account.id, "dashboard login");
    leptos_axum::redirect("/");
    Ok(())
}

/// Ends the session and clears the cookie.
#[server(name = LogoutFn, prefix = "/_rpc", endpoint = "logout")]
pub async fn logout() -> Result<(), ServerFnError> {
    use super::context::{SESSION_COOKIE, internal, services, session_token};
    let services = services()?;
    if let Some(token) = session_token() {
        crate::storage::sessions::end(&services.db, &token).await.map_err(internal)?;
    }
    set_cookie(&format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"))?;
    leptos_axum::redirect("/login");
    Ok(())
}

/// The signed-in person, or `None`.
#[server(name = CurrentUserFn, prefix = "/_rpc", endpoint = "current_user")]
pub async fn current_user() -> Result<Option<UserInfo>, ServerFnError> {
    use super::context::{internal, services, session_token};
    let services = services()?;
    let Some(token) = session_token() else { return Ok(None) };
    let account = crate::storage::sessions::account(&services.db, &token).await.map_err(internal)?;
    Ok(account.map(|a| UserInfo { email: a.email, vertical: a.vertical.as_str().to_owned() }))
}

#[cfg(feature = "ssr")]
fn set_cookie(cookie: &str) -> Result<(), ServerFnError> {
    let response = use_context::<leptos_axum::ResponseOptions>()
        .ok_or_else(|| ServerFnError::new("no response to set a cookie on"))?;
    let value = http::HeaderValue::from_str(cookie).map_err(super::context::internal)?;
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

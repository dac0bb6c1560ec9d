//! The endpoint URL rule: absolute `http`/`https`, a host, no user info,
//! at most 2048 characters.

pub const ENDPOINT_MAX: usize = 2048;

/// What is wrong with an endpoint URL, said as the end of "endPoint …".
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum EndpointError {
    #[error("must not be empty")]
    Empty,
    #[error("must be at most {ENDPOINT_MAX} characters")]
    TooLong,
    #[error("must be an absolute http(s) URL, like https://example.com/hook")]
    NotAbsolute,
    #[error("must use http or https, not `{0}`")]
    Scheme(String),
    #[error("must name a host, like https://example.com/hook")]
    NoHost,
    #[error("must not contain a user name or password: set authType and its credentials instead")]
    Credentials,
}

/// Returns the URL (trimmed) or what is wrong with it.
pub fn validate_endpoint(raw: &str) -> Result<String, EndpointError> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Err(EndpointError::Empty);
    }
    if raw.chars().count() > ENDPOINT_MAX {
        return Err(EndpointError::TooLong);
    }
    let url = url::Url::parse(raw).map_err(|_| EndpointError::NotAbsolute)?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(EndpointError::Scheme(url.scheme().to_owned()));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(EndpointError::NoHost);
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(EndpointError::Credentials);
    }
    Ok(raw.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_absolute_http_urls_only() {
        assert!(validate_endpoint("https://example.com/my-hook").is_ok());
        assert!(validate_endpoint("http://127.0.0.1:8080/x?y=1").is_ok());
        for bad in [
            "//my-hook",
            "/my-hook",
            "example.com/hook",
            "ftp://example.com/x",
            "javascript:alert(1)",
            "https://user:pw@example.com/",
            "https://user@example.com/",
            "http://",
            "",
            "   ",
        ] {
            assert!(validate_endpoint(bad).is_err(), "{bad:?} accepted");
        }
        assert!(validate_endpoint(&format!("https://example.com/{}", "a".repeat(2048))).is_err());
    }
}

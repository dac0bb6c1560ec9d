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
    let url = parse(raw).ok_or(EndpointError::NotAbsolute)?;
    if !matches!(url.scheme.as_str(), "http" | "https") {
        return Err(EndpointError::Scheme(url.scheme));
    }
    if !url.has_host {
        return Err(EndpointError::NoHost);
    }
    if url.has_credentials {
        return Err(EndpointError::Credentials);
    }
    Ok(raw.to_owned())
}

/// What the rule looks at in a parsed URL.
struct Parsed {
    scheme: String,
    has_host: bool,
    has_credentials: bool,
}

/// The server (and the tests) parse with the `url` crate.
#[cfg(not(target_arch = "wasm32"))]
fn parse(raw: &str) -> Option<Parsed> {
    let url = url::Url::parse(raw).ok()?;
    Some(Parsed {
        scheme: url.scheme().to_owned(),
        has_host: url.host_str().is_some_and(|host| !host.is_empty()),
        has_credentials: !url.username().is_empty() || url.password().is_some(),
    })
}

/// The dashboard parses with the browser's own WHATWG URL parser, the
/// standard the `url` crate implements: the same answers without shipping
/// the crate's IDNA and Unicode tables in the WASM (about a tenth of it).
#[cfg(target_arch = "wasm32")]
fn parse(raw: &str) -> Option<Parsed> {
    let url = web_sys::Url::new(raw).ok()?;
    let protocol = url.protocol();
    Some(Parsed {
        scheme: protocol.strip_suffix(':').unwrap_or(&protocol).to_owned(),
        has_host: !url.hostname().is_empty(),
        has_credentials: !url.username().is_empty() || !url.password().is_empty(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_absolute_http_urls_only() {
        assert!(validate_endpoint("https://example.com/my-hook").is_ok());
        assert!(validate_endpoint("http://127.0.0.1:8080/x?y=1").is_ok());
        assert!(validate_endpoint("https://bücher.example/hook").is_ok());
        assert_eq!(validate_endpoint("mailto:ops@example.com"), Err(EndpointError::Scheme("mailto".into())));
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

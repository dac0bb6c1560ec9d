//! How the service is reached from outside (`cli::ExposureArgs`): the
//! dashboard's public origin (the cross-site check and HSTS) and the token
//! that guards `/metrics`.

use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

#[derive(Debug, Default)]
pub struct Exposure {
    /// `--public-url`: the origin browsers see.
    pub public_origin: Option<url::Origin>,
    /// SHA-256 of `--metrics-token` (compared in constant time).
    metrics_token_hash: Option<[u8; 32]>,
}

impl Exposure {
    pub fn new(public_origin: Option<url::Origin>, metrics_token: Option<&str>) -> Self {
        let metrics_token_hash = metrics_token.filter(|t| !t.is_empty()).map(|t| Sha256::digest(t.as_bytes()).into());
        Self { public_origin, metrics_token_hash }
    }

    /// True when the dashboard is served over https (HSTS is then sent).
    pub fn is_https(&self) -> bool {
        self.public_origin.as_ref().is_some_and(|o| matches!(o, url::Origin::Tuple(scheme, ..) if scheme == "https"))
    }

    /// `/metrics` may be read: no token is set, or the request bears it.
    pub fn metrics_allowed(&self, headers: &HeaderMap) -> bool {
        let Some(expected) = &self.metrics_token_hash else {
            return true;
        };
        let Some(presented) = headers.get(AUTHORIZATION).and_then(|v| v.to_str().ok()) else {
            return false;
        };
        let token = match presented.trim().split_once(' ') {
            Some((scheme, rest)) if scheme.eq_ignore_ascii_case("bearer") => rest.trim(),
            _ => return false,
        };
        let hash: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        bool::from(hash.ct_eq(expected))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn with_auth(value: &'static str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(AUTHORIZATION, HeaderValue::from_static(value));
        headers
    }

    #[test]
    fn metrics_need_the_token_only_when_one_is_set() {
        let open = Exposure::new(None, None);
        assert!(open.metrics_allowed(&HeaderMap::new()));
        let guarded = Exposure::new(None, Some("s3cret-token"));
        assert!(!guarded.metrics_allowed(&HeaderMap::new()));
        assert!(!guarded.metrics_allowed(&with_auth("Bearer wrong")));
        assert!(!guarded.metrics_allowed(&with_auth("s3cret-token")));
        assert!(guarded.metrics_allowed(&with_auth("Bearer s3cret-token")));
        assert!(guarded.metrics_allowed(&with_auth("bearer  s3cret-token ")));
    }
}

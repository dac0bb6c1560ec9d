//! How Hookrelay authenticates to a hook's endpoint. One canonical value is
//! stored; each route answers in its own vendor's spelling.

use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum AuthType {
    #[default]
    None,
    Basic,
    #[serde(rename = "oauth2")]
    OAuth2,
    Jwt,
}

impl AuthType {
    pub const ALL: [AuthType; 4] = [AuthType::None, AuthType::Basic, AuthType::OAuth2, AuthType::Jwt];

    /// Accepts every documented spelling: `none`, `basic`/`Basic Auth`,
    /// `oauth2`/`OAuth 2.0`, `jwt` (case-insensitive).
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "none" => Some(Self::None),
            "basic" | "basic auth" => Some(Self::Basic),
            "oauth2" | "oauth 2.0" => Some(Self::OAuth2),
            "jwt" => Some(Self::Jwt),
            _ => None,
        }
    }

    /// The canonical (stored, FlightRates) spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Basic => "basic",
            Self::OAuth2 => "oauth2",
            Self::Jwt => "jwt",
        }
    }

    /// The EventsShop spelling.
    pub fn as_eventsshop(self) -> &'static str {
        match self {
            Self::Basic => "Basic Auth",
            Self::OAuth2 => "OAuth 2.0",
            other => other.as_str(),
        }
    }

    /// A short label for people (the dashboard).
    pub fn label(self) -> &'static str {
        match self {
            Self::None => "None",
            Self::Basic => "Basic Auth",
            Self::OAuth2 => "OAuth 2.0 bearer token",
            Self::Jwt => "JWT (HS256)",
        }
    }
}

impl fmt::Display for AuthType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_documented_spelling_parses_to_one_value() {
        assert_eq!(AuthType::parse("basic"), Some(AuthType::Basic));
        assert_eq!(AuthType::parse("Basic Auth"), Some(AuthType::Basic));
        assert_eq!(AuthType::parse("oauth2"), Some(AuthType::OAuth2));
        assert_eq!(AuthType::parse("OAuth 2.0"), Some(AuthType::OAuth2));
        assert_eq!(AuthType::parse("jwt"), Some(AuthType::Jwt));
        assert_eq!(AuthType::parse("none"), Some(AuthType::None));
        assert_eq!(AuthType::parse("digest"), None);
        assert_eq!(AuthType::Basic.as_eventsshop(), "Basic Auth");
        assert_eq!(AuthType::OAuth2.as_str(), "oauth2");
    }
}

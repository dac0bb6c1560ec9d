//! Verticals: the vendor product lines whose "Create Hook" APIs Hookrelay
//! accepts. A hook belongs to the vertical of the route that created it; an
//! account has a default vertical (used by the dashboard's create form).

use serde::{Deserialize, Serialize};
use std::{fmt, str::FromStr};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Vertical {
    #[default]
    Flightrates,
    Eventsshop,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown vertical `{0}`: expected one of flightrates, eventsshop")]
pub struct UnknownVertical(pub String);

impl Vertical {
    pub const ALL: [Vertical; 2] = [Vertical::Flightrates, Vertical::Eventsshop];

    pub fn as_str(self) -> &'static str {
        match self {
            Vertical::Flightrates => "flightrates",
            Vertical::Eventsshop => "eventsshop",
        }
    }
}

impl FromStr for Vertical {
    type Err = UnknownVertical;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|v| v.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| UnknownVertical(s.to_owned()))
    }
}

impl fmt::Display for Vertical {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_known_verticals_case_insensitively() {
        assert_eq!("flightrates".parse(), Ok(Vertical::Flightrates));
        assert_eq!("EventsShop".parse(), Ok(Vertical::Eventsshop));
        assert!("hotels".parse::<Vertical>().is_err());
    }
}

//! The hook types (data feeds) each vertical offers.

use super::Vertical;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Catalogue {
    pub flightrates: Vec<String>,
    pub eventsshop: Vec<String>,
}

impl Default for Catalogue {
    fn default() -> Self {
        Self {
            flightrates: vec!["dbs".into()],
            eventsshop: vec!["eventsinfo".into(), "eventimpact".into(), "hoteldemand".into()],
        }
    }
}

impl Catalogue {
    pub fn hook_types(&self, vertical: Vertical) -> &[String] {
        match vertical {
            Vertical::Flightrates => &self.flightrates,
            Vertical::Eventsshop => &self.eventsshop,
        }
    }

    pub fn contains(&self, vertical: Vertical, hook_type: &str) -> bool {
        self.hook_types(vertical).iter().any(|t| t == hook_type)
    }

    /// Every vertical's hook types, for "must be one of: …".
    pub fn all_hook_types(&self) -> Vec<&str> {
        Vertical::ALL.iter().flat_map(|v| self.hook_types(*v).iter().map(String::as_str)).collect()
    }

    /// The vertical offering `hook_type`, if any.
    pub fn vertical_of(&self, hook_type: &str) -> Option<Vertical> {
        Vertical::ALL.into_iter().find(|v| self.contains(*v, hook_type))
    }

    /// Parses `flightrates=dbs;eventsshop=eventsinfo,eventimpact,hoteldemand`
    /// (the `--hook-types` setting). Verticals left out keep their defaults.
    pub fn parse(spec: &str) -> Result<Self, CatalogueError> {
        let mut catalogue = Self::default();
        for part in spec.split(';').map(str::trim).filter(|p| !p.is_empty()) {
            let (vertical, types) = part.split_once('=').ok_or_else(|| CatalogueError::Shape(part.to_owned()))?;
            let vertical: Vertical = vertical.parse()?;
            let types: Vec<String> =
                types.split(',').map(str::trim).filter(|t| !t.is_empty()).map(str::to_owned).collect();
            if types.is_empty() {
                return Err(CatalogueError::NoTypes(part.to_owned()));
            }
            if let Some(bad) =
                types.iter().find(|t| !t.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-'))
            {
                return Err(CatalogueError::BadType(bad.clone()));
            }
            match vertical {
                Vertical::Flightrates => catalogue.flightrates = types,
                Vertical::Eventsshop => catalogue.eventsshop = types,
            }
        }
        // A published event finds its vertical by its hook type
        // (`vertical_of`), so one type cannot belong to two verticals.
        if let Some(shared) = catalogue.flightrates.iter().find(|t| catalogue.eventsshop.contains(t)) {
            return Err(CatalogueError::Shared(shared.clone()));
        }
        Ok(catalogue)
    }
}

/// What is wrong with a `--hook-types` setting.
#[derive(Debug, thiserror::Error)]
pub enum CatalogueError {
    #[error("`{0}`: expected vertical=type1,type2")]
    Shape(String),
    #[error(transparent)]
    Vertical(#[from] super::UnknownVertical),
    #[error("`{0}`: no hook types")]
    NoTypes(String),
    #[error("hook type `{0}`: use letters, digits, `-` and `_` only")]
    BadType(String),
    #[error("hook type `{0}` is in both verticals: each type belongs to one")]
    Shared(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_matches_the_spec_and_parse_overrides() {
        let c = Catalogue::default();
        assert!(c.contains(Vertical::Flightrates, "dbs"));
        assert_eq!(c.vertical_of("hoteldemand"), Some(Vertical::Eventsshop));
        let c = Catalogue::parse("flightrates=dbs,fares").expect("parse");
        assert_eq!(c.flightrates, ["dbs", "fares"]);
        assert_eq!(c.eventsshop.len(), 3);
        assert!(Catalogue::parse("hotels=x").is_err());
        assert!(Catalogue::parse("flightrates=").is_err());
        assert!(matches!(
            Catalogue::parse("flightrates=dbs;eventsshop=dbs"),
            Err(CatalogueError::Shared(t)) if t == "dbs"
        ));
        // The other vertical's defaults count too.
        assert!(Catalogue::parse("eventsshop=dbs").is_err());
    }
}

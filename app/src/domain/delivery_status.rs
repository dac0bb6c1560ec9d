//! Where a delivery stands. Stored and sent on the wire as the lowercase
//! word (`"pending"`, `"succeeded"`, `"failed"`).

use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::Type), sqlx(type_name = "TEXT", rename_all = "lowercase"))]
#[serde(rename_all = "lowercase")]
pub enum DeliveryStatus {
    /// Waiting for its next attempt (or for its paused hook).
    Pending,
    /// An attempt was answered 2xx.
    Succeeded,
    /// Dead-lettered: out of attempts, answered 410, or its hook was
    /// disabled. A manual retry makes it pending again.
    Failed,
}

impl DeliveryStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
        }
    }

    /// True once no attempt is due any more.
    pub fn is_finished(self) -> bool {
        self != Self::Pending
    }
}

impl fmt::Display for DeliveryStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::DeliveryStatus;

    #[test]
    fn the_wire_form_is_the_lowercase_word() {
        for status in [DeliveryStatus::Pending, DeliveryStatus::Succeeded, DeliveryStatus::Failed] {
            let json = serde_json::to_string(&status).expect("serialize");
            assert_eq!(json, format!("\"{}\"", status.as_str()));
            assert_eq!(serde_json::from_str::<DeliveryStatus>(&json).expect("parse"), status);
        }
    }
}

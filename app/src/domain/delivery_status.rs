//! Where a delivery stands. Stored and sent on the wire as the lowercase
//! word (`"pending"`, `"succeeded"`, `"failed"`).

use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
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

impl std::str::FromStr for DeliveryStatus {
    type Err = UnknownStatus;
    fn from_str(s: &str) -> Result<Self, UnknownStatus> {
        match s {
            "pending" => Ok(Self::Pending),
            "succeeded" => Ok(Self::Succeeded),
            "failed" => Ok(Self::Failed),
            _ => Err(UnknownStatus),
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("unknown delivery status")]
pub struct UnknownStatus;

/// Stored as its word in a text column, on either backend.
#[cfg(feature = "ssr")]
mod sql {
    use super::DeliveryStatus;
    use sqlx::encode::IsNull;
    use sqlx::error::BoxDynError;
    use sqlx::{Database, Decode, Encode, Type};

    impl<DB: Database> Type<DB> for DeliveryStatus
    where
        str: Type<DB>,
    {
        fn type_info() -> DB::TypeInfo {
            <str as Type<DB>>::type_info()
        }
        fn compatible(ty: &DB::TypeInfo) -> bool {
            <str as Type<DB>>::compatible(ty)
        }
    }

    impl<'q, DB: Database> Encode<'q, DB> for DeliveryStatus
    where
        &'static str: Encode<'q, DB>,
    {
        fn encode_by_ref(&self, buf: &mut <DB as Database>::ArgumentBuffer) -> Result<IsNull, BoxDynError> {
            self.as_str().encode_by_ref(buf)
        }
    }

    impl<'r, DB: Database> Decode<'r, DB> for DeliveryStatus
    where
        &'r str: Decode<'r, DB>,
    {
        fn decode(value: <DB as Database>::ValueRef<'r>) -> Result<Self, BoxDynError> {
            Ok(<&str as Decode<DB>>::decode(value)?.parse()?)
        }
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

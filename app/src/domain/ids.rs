//! Resource ids: 24 lowercase hex characters (12 bytes), the shape the
//! vendors' APIs use. The first 4 bytes are the creation time in seconds, so
//! ids sort roughly by creation; the other 8 are random.

use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ResourceId(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("must be 24 lowercase hexadecimal characters")]
pub struct InvalidId;

impl ResourceId {
    pub const LEN: usize = 24;

    /// Parses an id from user input (a path segment, a JSON field).
    pub fn parse(s: &str) -> Result<Self, InvalidId> {
        if s.len() == Self::LEN && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
            Ok(Self(s.to_owned()))
        } else {
            Err(InvalidId)
        }
    }

    /// Builds an id from its 12 bytes: `seconds` (big-endian) then 8 random bytes.
    pub fn from_parts(seconds: u32, random: [u8; 8]) -> Self {
        let mut s = String::with_capacity(Self::LEN);
        for b in seconds.to_be_bytes().iter().chain(random.iter()) {
            s.push(char::from_digit(u32::from(b >> 4), 16).unwrap_or('0'));
            s.push(char::from_digit(u32::from(b & 0x0f), 16).unwrap_or('0'));
        }
        Self(s)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for ResourceId {
    type Error = InvalidId;
    fn try_from(s: String) -> Result<Self, InvalidId> {
        Self::parse(&s)
    }
}

impl From<ResourceId> for String {
    fn from(id: ResourceId) -> String {
        id.0
    }
}

impl fmt::Display for ResourceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An id of the outbox (events, deliveries): the same 24-hex shape as a
/// `ResourceId`, a type of its own so that one can't be passed for another.
/// Read back from the database as stored (the database made it).
macro_rules! outbox_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        // Stored as its text on either backend (what `#[derive(sqlx::Type)]`
        // with `transparent` gave, without sqlx's proc macro).
        #[cfg(feature = "ssr")]
        impl<DB: sqlx::Database> sqlx::Type<DB> for $name
        where
            String: sqlx::Type<DB>,
        {
            fn type_info() -> DB::TypeInfo {
                <String as sqlx::Type<DB>>::type_info()
            }

            fn compatible(ty: &DB::TypeInfo) -> bool {
                <String as sqlx::Type<DB>>::compatible(ty)
            }
        }

        #[cfg(feature = "ssr")]
        impl<'r, DB: sqlx::Database> sqlx::Decode<'r, DB> for $name
        where
            String: sqlx::Decode<'r, DB>,
        {
            fn decode(value: DB::ValueRef<'r>) -> Result<Self, sqlx::error::BoxDynError> {
                <String as sqlx::Decode<'r, DB>>::decode(value).map(Self)
            }
        }

        #[cfg(feature = "ssr")]
        impl<'q, DB: sqlx::Database> sqlx::Encode<'q, DB> for $name
        where
            String: sqlx::Encode<'q, DB>,
        {
            fn encode_by_ref(
                &self,
                buf: &mut DB::ArgumentBuffer,
            ) -> Result<sqlx::encode::IsNull, sqlx::error::BoxDynError> {
                <String as sqlx::Encode<'q, DB>>::encode_by_ref(&self.0, buf)
            }

            fn size_hint(&self) -> usize {
                <String as sqlx::Encode<'q, DB>>::size_hint(&self.0)
            }
        }

        impl $name {
            /// Parses an id from user input (a path segment, a JSON field).
            pub fn parse(s: &str) -> Result<Self, InvalidId> {
                ResourceId::parse(s).map(|id| Self(id.into()))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        /// A freshly made id (`security::random::new_id`).
        impl From<ResourceId> for $name {
            fn from(id: ResourceId) -> Self {
                Self(id.into())
            }
        }

        impl TryFrom<String> for $name {
            type Error = InvalidId;
            fn try_from(s: String) -> Result<Self, InvalidId> {
                Self::parse(&s)
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

outbox_id!(
    /// A published event; also the `webhook-id` every delivery of it sends.
    EventId
);
outbox_id!(
    /// One event's delivery to one hook.
    DeliveryId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn from_parts_is_24_lowercase_hex_and_parses_back() {
        let id = ResourceId::from_parts(0x63ff246f, [0xb2, 0x48, 0x2d, 0xb1, 0xc6, 0x60, 0xe3, 0x10]);
        assert_eq!(id.as_str(), "63ff246fb2482db1c660e310");
        assert_eq!(ResourceId::parse(id.as_str()), Ok(id));
    }

    #[test]
    fn parse_rejects_wrong_length_case_and_characters() {
        assert!(ResourceId::parse("63ff246fb2482db1c660e31").is_err());
        assert!(ResourceId::parse("63FF246FB2482DB1C660E310").is_err());
        assert!(ResourceId::parse("63ff246fb2482db1c660e31g").is_err());
        assert!(ResourceId::parse("").is_err());
    }
}

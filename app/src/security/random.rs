//! Random bytes and new resource ids from the OS generator.

use super::SecurityError;
use crate::domain::ResourceId;
use std::time::{SystemTime, UNIX_EPOCH};

pub fn bytes<const N: usize>() -> Result<[u8; N], SecurityError> {
    let mut buf = [0u8; N];
    getrandom::fill(&mut buf).map_err(|_| SecurityError::Random)?;
    Ok(buf)
}

/// A new 24-hex id: creation second + 8 random bytes.
pub fn new_id() -> Result<ResourceId, SecurityError> {
    let secs = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    // ObjectId-style 32-bit seconds: the low 32 bits, wrapping in 2106.
    let low_bits = u32::try_from(secs & u64::from(u32::MAX)).unwrap_or(0);
    Ok(ResourceId::from_parts(low_bits, bytes::<8>()?))
}

/// A random (version 4) UUID in its usual text form: the token Hookrelay
/// makes for EventsShop Basic Auth hooks.
pub fn uuid_v4() -> Result<String, SecurityError> {
    let mut b = bytes::<16>()?;
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex::encode(b);
    Ok(format!("{}-{}-{}-{}-{}", &h[0..8], &h[8..12], &h[12..16], &h[16..20], &h[20..32]))
}

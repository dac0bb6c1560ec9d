//! Standard Webhooks signatures: `whsec_<base64 key>` secrets and
//! `v1,<base64 HMAC-SHA256("{id}.{timestamp}.{body}")>`.

use super::{SecurityError, random};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

pub const PREFIX: &str = "whsec_";

/// A new signing secret (24 random bytes, the Standard Webhooks default size).
pub fn new_secret() -> Result<String, SecurityError> {
    Ok(format!("{PREFIX}{}", STANDARD.encode(random::bytes::<24>()?)))
}

/// The `v1,<signature>` entry for one secret.
pub fn sign(secret: &str, msg_id: &str, timestamp: i64, body: &[u8]) -> Result<String, SecurityError> {
    let key = STANDARD.decode(secret.strip_prefix(PREFIX).unwrap_or(secret)).map_err(|_| SecurityError::Crypto)?;
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).map_err(|_| SecurityError::Crypto)?;
    mac.update(msg_id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    Ok(format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes())))
}

/// HS256 JWT with `sub`, `iat`, `exp` (iat + 5 min) and `jti`, signed with `secret` as raw bytes.
pub fn jwt_hs256(secret: &str, sub: &str, jti: &str, iat: i64) -> Result<String, SecurityError> {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
    let claims = serde_json::json!({ "sub": sub, "iat": iat, "exp": iat + 300, "jti": jti });
    let claims = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).map_err(|_| SecurityError::Crypto)?);
    let signing_input = format!("{header}.{claims}");
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).map_err(|_| SecurityError::Crypto)?;
    mac.update(signing_input.as_bytes());
    Ok(format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_standard_webhooks_reference_vector() {
        // From the Standard Webhooks specification's example.
        let sig = sign(
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            br#"{"test": 2432232314}"#,
        )
        .expect("sign");
        assert_eq!(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
        assert!(new_secret().expect("secret").starts_with(PREFIX));
    }

    #[test]
    fn jwt_has_three_parts_and_the_claims() {
        let jwt = jwt_hs256("secret", "user-1", "d1", 1_700_000_000).expect("jwt");
        let parts: Vec<&str> = jwt.split('.').collect();
        assert_eq!(parts.len(), 3);
        let claims = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(parts[1]).expect("b64");
        let claims: serde_json::Value = serde_json::from_slice(&claims).expect("json");
        assert_eq!(claims["sub"], "user-1");
        assert_eq!(claims["exp"], 1_700_000_300);
    }
}

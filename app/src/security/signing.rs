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
    #[derive(serde::Serialize)]
    struct Claims<'a> {
        sub: &'a str,
        iat: i64,
        exp: i64,
        jti: &'a str,
    }
    let claims = Claims { sub, iat, exp: iat + 300, jti };
    let header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
    let key = jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()).map_err(|_| SecurityError::Crypto)?;
    jsonwebtoken::encode(&header, &claims, &key).map_err(|_| SecurityError::Crypto)
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
        assert_eq!(jwt.split('.').count(), 3);
        let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
        validation.validate_exp = false;
        let key = jsonwebtoken::DecodingKey::from_secret(b"secret").expect("key");
        let claims = jsonwebtoken::decode::<serde_json::Value>(&jwt, &key, &validation).expect("verifies").claims;
        assert_eq!(claims["sub"], "user-1");
        assert_eq!(claims["jti"], "d1");
        assert_eq!(claims["exp"], 1_700_000_300);
        assert!(
            jsonwebtoken::decode::<serde_json::Value>(
                &jwt,
                &jsonwebtoken::DecodingKey::from_secret(b"other").expect("key"),
                &validation
            )
            .is_err()
        );
    }
}

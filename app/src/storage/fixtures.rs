//! What the storage tests build their data from: an account, a hook of a
//! type, an event to publish to it.

use super::events::PublishRequest;
use super::{Db, accounts, hooks};
use crate::domain::{AuthType, HookSpec, ResourceId, SecretChange, Vertical};
use crate::security::SecretBox;

/// A FlightRates account with this email.
pub async fn account(db: &Db, email: &str) -> ResourceId {
    let new = accounts::NewAccount { email, password_hash: "x", is_admin: false, vertical: Vertical::Flightrates };
    accounts::create(db, new).await.expect("account").id
}

/// An active FlightRates hook of `hook_type` to https://example.com/h, without auth.
pub async fn hook(db: &Db, account: &ResourceId, hook_type: &str) -> ResourceId {
    let spec = HookSpec {
        vertical: Vertical::Flightrates,
        endpoint: "https://example.com/h".into(),
        auth_type: AuthType::None,
        username: None,
        password: SecretChange::Keep,
        token: SecretChange::Keep,
        generate_token: false,
        hook_type: Some(hook_type.into()),
        shop: None,
        is_active: true,
        delivery: Default::default(),
    };
    hooks::create(db, &SecretBox::new(&[7; 32]), account, &spec).await.expect("hook").id
}

/// An event of `hook_type` for the account (its payload names the type).
pub fn event(account: &ResourceId, hook_type: &str) -> PublishRequest {
    PublishRequest {
        id: crate::security::random::new_id().expect("id").into(),
        account_id: account.clone(),
        hook_type: hook_type.into(),
        vertical: Vertical::Flightrates,
        shop: None,
        payload: format!("{{\"type\":\"{hook_type}\"}}"),
        only_hook: None,
        idempotency_key: None,
        answer: |_, _| String::new(),
    }
}

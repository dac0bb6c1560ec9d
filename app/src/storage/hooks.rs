//! Hooks: the registrations. Secrets are sealed with the `SecretBox` on the
//! way in; reads report only whether a secret is set.

use super::backend::{on_pool, on_tx};
use super::row::row;
use super::{Db, StorageError, now_ms};
use crate::domain::delivery_options::StoredDelivery;
use crate::domain::{AuthType, HookSpec, HookState, ResourceId, SecretChange, StoredSecrets, Vertical};
use crate::security::{SecretBox, random, signing};

#[derive(Clone, Debug)]
pub struct Hook {
    pub id: ResourceId,
    pub account_id: ResourceId,
    pub vertical: Vertical,
    pub endpoint: String,
    pub auth_type: AuthType,
    pub username: Option<String>,
    pub secrets: StoredSecrets,
    pub token_generated: bool,
    pub hook_type: Option<String>,
    pub shop: Option<String>,
    pub is_active: bool,
    pub is_customer_created: bool,
    pub disabled_reason: Option<String>,
    /// Headers, secret header names, timeout.
    pub delivery: StoredDelivery,
    pub created_at: i64,
    pub updated_at: i64,
}

impl Hook {
    /// The hook as the base for a PUT or PATCH.
    pub fn state(&self) -> HookState {
        HookState {
            endpoint: self.endpoint.clone(),
            auth_type: self.auth_type,
            username: self.username.clone(),
            secrets: self.secrets,
            hook_type: self.hook_type.clone(),
            shop: self.shop.clone(),
            is_active: self.is_active,
            delivery: self.delivery.clone(),
        }
    }
}

/// List filters; `None` means "any".
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HookFilter {
    pub hook_type: Option<String>,
    pub shop: Option<String>,
    pub is_active: Option<bool>,
    /// Case-insensitive substring of the endpoint URL.
    pub endpoint_contains: Option<String>,
}

row! {
    struct HookRow {
        id: String,
        account_id: String,
        vertical: String,
        endpoint: String,
        auth_type: String,
        username: Option<String>,
        has_password: bool,
        has_token: bool,
        token_generated: bool,
        hook_type: Option<String>,
        shop: Option<String>,
        is_active: bool,
        is_customer_created: bool,
        disabled_reason: Option<String>,
        created_at: i64,
        updated_at: i64,
    }
    flatten { options: super::hook_options::OptionRow }
}

const COLUMNS: &str = "id, account_id, vertical, endpoint, auth_type, username,
    password_enc IS NOT NULL AS has_password, token_enc IS NOT NULL AS has_token, token_generated,
    hook_type, shop, is_active, is_customer_created, disabled_reason, headers, secret_header_names, timeout_seconds,
    rate_limit, max_in_flight, ordered, created_at, updated_at";

impl TryFrom<HookRow> for Hook {
    type Error = StorageError;
    fn try_from(r: HookRow) -> Result<Self, StorageError> {
        let corrupt = |what: &'static str| StorageError::Corrupt(what);
        Ok(Hook {
            id: ResourceId::parse(&r.id).map_err(|_| corrupt("hook id"))?,
            account_id: ResourceId::parse(&r.account_id).map_err(|_| corrupt("hook account id"))?,
            vertical: r.vertical.parse().map_err(|_| corrupt("hook vertical"))?,
            endpoint: r.endpoint,
            auth_type: AuthType::parse(&r.auth_type).ok_or(corrupt("hook auth type"))?,
            username: r.username,
            secrets: StoredSecrets { password: r.has_password, token: r.has_token },
            token_generated: r.token_generated,
            hook_type: r.hook_type,
            shop: r.shop,
            is_active: r.is_active,
            is_customer_created: r.is_customer_created,
            disabled_reason: r.disabled_reason,
            delivery: super::hook_options::stored(r.options)?,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

/// The context (associated data) a hook's sealed field is bound to.
pub fn context(id: &ResourceId, field: &str) -> String {
    format!("hook:{id}:{field}")
}

/// What to write for a secret column: `(replace?, new value)`.
fn sealed(
    secrets: &SecretBox,
    change: &SecretChange,
    id: &ResourceId,
    field: &str,
) -> Result<(bool, Option<Vec<u8>>), StorageError> {
    Ok(match change {
        SecretChange::Keep => (false, None),
        SecretChange::Clear => (true, None),
        SecretChange::Set(plain) => (true, Some(secrets.seal(plain, &context(id, field))?)),
    })
}

/// EventsShop Basic Auth hooks carry a token Hookrelay makes (SPEC §2.2):
/// a new one when the hook is created or switched to Basic Auth, the stored
/// one kept on every other edit. Returns a new token, to be shown once.
/// The REST route and the dashboard both call this before saving.
pub fn settle_generated_token(spec: &mut HookSpec, existing: Option<&Hook>) -> Result<Option<String>, StorageError> {
    if !spec.generate_token {
        return Ok(None);
    }
    if existing.is_some_and(|h| h.token_generated && h.secrets.token && h.auth_type == AuthType::Basic) {
        spec.token = SecretChange::Keep;
        return Ok(None);
    }
    let token = random::uuid_v4()?;
    spec.token = SecretChange::Set(token.clone());
    Ok(Some(token))
}

pub async fn create(
    db: &Db,
    secrets: &SecretBox,
    account_id: &ResourceId,
    spec: &HookSpec,
) -> Result<Hook, StorageError> {
    let id = random::new_id()?;
    let (_, password) = sealed(secrets, &spec.password, &id, "password")?;
    let (_, token) = sealed(secrets, &spec.token, &id, "token")?;
    let signing = secrets.seal(&signing::new_secret()?, &context(&id, "signing"))?;
    let now = now_ms();
    let mut tx = db.begin_write().await?;
    super::quota::ensure_room(&mut tx, account_id, super::quota::Counted::Hooks, db.limits().max_hooks).await?;
    let options = super::hook_options::columns(&mut tx, secrets, &id, &spec.delivery).await?;
    on_tx!(&mut tx, t => sqlx::query(
        "INSERT INTO hooks (id, account_id, vertical, endpoint, auth_type, username, password_enc, token_enc,
                            token_generated, hook_type, shop, is_active, is_customer_created, created_at, updated_at,
                            signing_secret_enc, headers, secret_headers_enc, secret_header_names, timeout_seconds,
                            rate_limit, max_in_flight, ordered)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, TRUE, $13, $14, $15, $16, $17, $18, $19, $20, $21,
                 $22)",
    )
    .bind(id.as_str())
    .bind(account_id.as_str())
    .bind(spec.vertical.as_str())
    .bind(&spec.endpoint)
    .bind(spec.auth_type.as_str())
    .bind(&spec.username)
    .bind(&password)
    .bind(&token)
    .bind(spec.generate_token && matches!(spec.token, SecretChange::Set(_)))
    .bind(&spec.hook_type)
    .bind(&spec.shop)
    .bind(spec.is_active)
    .bind(now)
    .bind(now)
    .bind(&signing)
    .bind(&options.headers)
    .bind(&options.secret_headers_enc)
    .bind(&options.secret_header_names)
    .bind(options.timeout_seconds)
    .bind(options.rate_limit)
    .bind(options.max_in_flight)
    .bind(options.ordered)
    .execute(&mut **t)
    .await
    .map(|_| ()))?;
    tx.commit().await?;
    get(db, account_id, None, &id).await?.ok_or(StorageError::NotFound("hook"))
}

/// One of the account's hooks; `vertical` restricts to one route family.
pub async fn get(
    db: &Db,
    account_id: &ResourceId,
    vertical: Option<Vertical>,
    id: &ResourceId,
) -> Result<Option<Hook>, StorageError> {
    let sql =
        format!("SELECT {COLUMNS} FROM hooks WHERE id = $1 AND account_id = $2 AND ($3 IS NULL OR vertical = $3)");
    let row: Option<HookRow> = on_pool!(&db.pool, p => sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
        .bind(id.as_str())
        .bind(account_id.as_str())
        .bind(vertical.map(Vertical::as_str))
        .fetch_optional(p)
        .await)?;
    row.map(Hook::try_from).transpose()
}

/// A page of the account's hooks (newest first) and the total matching.
pub async fn list(
    db: &Db,
    account_id: &ResourceId,
    vertical: Option<Vertical>,
    filter: &HookFilter,
    page: u32,
    size: u32,
) -> Result<(Vec<Hook>, u64), StorageError> {
    let filters = db.sql(
        "account_id = $1 AND ($2 IS NULL OR vertical = $2)
        AND ($3 IS NULL OR hook_type = $3) AND ($4 IS NULL OR shop = $4) AND ($5 IS NULL OR is_active = $5)
        AND ($6 IS NULL OR instr(lower(endpoint), lower($6)) > 0)",
        "account_id = $1 AND ($2::text IS NULL OR vertical = $2)
        AND ($3::text IS NULL OR hook_type = $3) AND ($4::text IS NULL OR shop = $4)
        AND ($5::boolean IS NULL OR is_active = $5)
        AND ($6::text IS NULL OR strpos(lower(endpoint), lower($6)) > 0)",
    );
    // No stored value holds NUL (PostgreSQL could not even compare one).
    let texts = [&filter.hook_type, &filter.shop, &filter.endpoint_contains];
    if texts.iter().any(|t| t.as_deref().is_some_and(|t| t.contains('\0'))) {
        return Ok((Vec::new(), 0));
    }
    let vertical = vertical.map(Vertical::as_str);
    let count = format!("SELECT count(*) FROM hooks WHERE {filters}");
    let (total,): (i64,) = on_pool!(&db.pool, p => sqlx::query_as(sqlx::AssertSqlSafe(count.clone()))
        .bind(account_id.as_str())
        .bind(vertical)
        .bind(&filter.hook_type)
        .bind(&filter.shop)
        .bind(filter.is_active)
        .bind(&filter.endpoint_contains)
        .fetch_one(p)
        .await)?;
    let offset = i64::from(page.saturating_sub(1)) * i64::from(size);
    let sql =
        format!("SELECT {COLUMNS} FROM hooks WHERE {filters} ORDER BY created_at DESC, id DESC LIMIT $7 OFFSET $8");
    let rows: Vec<HookRow> = on_pool!(&db.pool, p => sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
        .bind(account_id.as_str())
        .bind(vertical)
        .bind(&filter.hook_type)
        .bind(&filter.shop)
        .bind(filter.is_active)
        .bind(&filter.endpoint_contains)
        .bind(i64::from(size))
        .bind(offset)
        .fetch_all(p)
        .await)?;
    let hooks = rows.into_iter().map(Hook::try_from).collect::<Result<Vec<_>, _>>()?;
    Ok((hooks, u64::try_from(total).unwrap_or(0)))
}

/// Applies a validated spec to the account's hook. `None` if there is no such hook.
pub async fn update(
    db: &Db,
    secrets: &SecretBox,
    account_id: &ResourceId,
    id: &ResourceId,
    spec: &HookSpec,
) -> Result<Option<Hook>, StorageError> {
    let (replace_password, password) = sealed(secrets, &spec.password, id, "password")?;
    let (replace_token, token) = sealed(secrets, &spec.token, id, "token")?;
    let mut tx = db.begin_write().await?;
    let options = super::hook_options::columns(&mut tx, secrets, id, &spec.delivery).await?;
    let changed = on_tx!(&mut tx, t => sqlx::query(
        "UPDATE hooks SET revision = revision + 1, endpoint = $1, auth_type = $2, username = $3,
             password_enc = CASE WHEN $4 THEN $5 ELSE password_enc END,
             token_enc = CASE WHEN $6 THEN $7 ELSE token_enc END,
             token_generated = CASE WHEN $6 THEN $15 ELSE token_generated END,
             hook_type = $8, shop = $9, is_active = $10,
             disabled_reason = CASE WHEN $10 THEN NULL ELSE disabled_reason END,
             failing_since = CASE WHEN $10 AND NOT is_active THEN NULL ELSE failing_since END,
             updated_at = $11, headers = $16, timeout_seconds = $17, rate_limit = $21, max_in_flight = $22, ordered = $23,
             secret_headers_enc = CASE WHEN $18 THEN $19 ELSE secret_headers_enc END,
             secret_header_names = CASE WHEN $18 THEN $20 ELSE secret_header_names END
         WHERE id = $12 AND account_id = $13 AND vertical = $14",
    )
    .bind(&spec.endpoint)
    .bind(spec.auth_type.as_str())
    .bind(&spec.username)
    .bind(replace_password)
    .bind(&password)
    .bind(replace_token)
    .bind(&token)
    .bind(&spec.hook_type)
    .bind(&spec.shop)
    .bind(spec.is_active)
    .bind(now_ms())
    .bind(id.as_str())
    .bind(account_id.as_str())
    .bind(spec.vertical.as_str())
    .bind(spec.generate_token && matches!(spec.token, SecretChange::Set(_)))
    .bind(&options.headers)
    .bind(options.timeout_seconds)
    .bind(options.replace_secrets)
    .bind(&options.secret_headers_enc)
    .bind(&options.secret_header_names)
    .bind(options.rate_limit)
    .bind(options.max_in_flight)
    .bind(options.ordered)
    .execute(&mut **t)
    .await
    .map(|r| r.rows_affected()))?;
    if changed == 0 {
        return Ok(None);
    }
    db.commit_hook_write(tx, id.as_str(), true).await?;
    get(db, account_id, None, id).await
}

/// Deletes the account's hook; false if there was none.
pub async fn delete(
    db: &Db,
    account_id: &ResourceId,
    vertical: Option<Vertical>,
    id: &ResourceId,
) -> Result<bool, StorageError> {
    // The cascade over the hook's deliveries can deadlock with a lease
    // renewal on PostgreSQL.
    super::again_if_deadlocked(|| delete_once(db, account_id, vertical, id)).await
}

async fn delete_once(
    db: &Db,
    account_id: &ResourceId,
    vertical: Option<Vertical>,
    id: &ResourceId,
) -> Result<bool, StorageError> {
    let mut tx = db.begin_write().await?;
    let deleted = on_tx!(&mut tx, t => sqlx::query(
        "DELETE FROM hooks WHERE id = $1 AND account_id = $2 AND ($3 IS NULL OR vertical = $3)",
    )
    .bind(id.as_str())
    .bind(account_id.as_str())
    .bind(vertical.map(Vertical::as_str))
    .execute(&mut **t)
    .await
    .map(|r| r.rows_affected() > 0))?;
    db.commit_hook_write(tx, id.as_str(), deleted).await?;
    Ok(deleted)
}

/// The hook's current signing secret (`whsec_…`), creating one if it has none.
pub async fn signing_secret(
    db: &Db,
    secrets: &SecretBox,
    account_id: &ResourceId,
    id: &ResourceId,
) -> Result<Option<String>, StorageError> {
    let row: Option<(Option<Vec<u8>>,)> = on_pool!(&db.pool, p => sqlx::query_as("SELECT signing_secret_enc FROM hooks WHERE id = $1 AND account_id = $2")
            .bind(id.as_str())
            .bind(account_id.as_str())
            .fetch_optional(p)
            .await)?;
    match row {
        None => Ok(None),
        Some((Some(sealed),)) => Ok(Some(secrets.open(&sealed, &context(id, "signing"))?)),
        Some((None,)) => rotate_signing_secret(db, secrets, account_id, id, 0).await,
    }
}

/// Replaces the signing secret; the old one keeps signing for `overlap_ms`.
pub async fn rotate_signing_secret(
    db: &Db,
    secrets: &SecretBox,
    account_id: &ResourceId,
    id: &ResourceId,
    overlap_ms: i64,
) -> Result<Option<String>, StorageError> {
    let fresh = signing::new_secret()?;
    let now = now_ms();
    let sealed = secrets.seal(&fresh, &context(id, "signing"))?;
    let mut tx = db.begin_write().await?;
    let rotated = on_tx!(&mut tx, t => sqlx::query(
        "UPDATE hooks SET revision = revision + 1, previous_signing_secret_enc = signing_secret_enc,
                previous_signing_expires_at = CASE WHEN signing_secret_enc IS NULL THEN NULL ELSE $1 END,
                signing_secret_enc = $2, updated_at = $3
         WHERE id = $4 AND account_id = $5",
    )
    .bind(now + overlap_ms)
    .bind(&sealed)
    .bind(now)
    .bind(id.as_str())
    .bind(account_id.as_str())
    .execute(&mut **t)
    .await
    .map(|r| r.rows_affected() > 0))?;
    db.commit_hook_write(tx, id.as_str(), rotated).await?;
    Ok(rotated.then_some(fresh))
}

/// Turns the account's hook on or off (turning it on clears a disable
/// reason). False if there is no such hook.
pub async fn set_active(db: &Db, account_id: &ResourceId, id: &ResourceId, active: bool) -> Result<bool, StorageError> {
    let mut tx = db.begin_write().await?;
    let switched = on_tx!(&mut tx, t => sqlx::query(
        "UPDATE hooks SET revision = revision + 1, is_active = $1, disabled_reason = CASE WHEN $1 THEN NULL ELSE disabled_reason END,
                failing_since = CASE WHEN $1 AND NOT is_active THEN NULL ELSE failing_since END,
                updated_at = $2
         WHERE id = $3 AND account_id = $4",
    )
    .bind(active)
    .bind(now_ms())
    .bind(id.as_str())
    .bind(account_id.as_str())
    .execute(&mut **t)
    .await
    .map(|r| r.rows_affected() > 0))?;
    db.commit_hook_write(tx, id.as_str(), switched).await?;
    Ok(switched)
}

/// The current revision of each of `ids` that still exists (every hook
/// write adds one): a process confirms its in-memory copy of a hook with
/// this right before sending with it (`server/src/delivery/fence.rs`).
pub async fn revisions(db: &Db, ids: &[&str]) -> Result<std::collections::HashMap<String, i64>, StorageError> {
    let ids = super::json_rows(ids)?;
    let sql = db.sql(
        "SELECT id, revision FROM hooks WHERE id IN (SELECT value FROM json_each($1))",
        "SELECT id, revision FROM hooks WHERE id IN (SELECT value FROM json_array_elements_text($1::json))",
    );
    let rows: Vec<(String, i64)> = on_pool!(&db.pool, p => sqlx::query_as(sql).bind(&ids).fetch_all(p).await)?;
    Ok(rows.into_iter().collect())
}

use super::*;
use serde_json::json;

fn fields(errors: &[FieldError]) -> Vec<&str> {
    errors.iter().map(|e| e.field.as_str()).collect()
}

fn vendor_example() -> Value {
    json!({"endPoint":"https://example.com/my-hook","authType":"jwt","userId":"63fda531bde67155fc46fb4",
           "pwdTxt":"uuxx","token":"eyJhbGciOiJIUzI1NiIsInR5cCI6I","hookType":"dbs",
           "isActiveStatus":true,"_shop":"63fdc414cccc3592d31b3ac8"})
}

#[test]
fn the_vendor_example_parses() {
    let spec = parse_flightrates(&vendor_example(), Mode::Create, &Catalogue::default()).expect("valid");
    assert_eq!(spec.auth_type, AuthType::Jwt);
    assert_eq!(spec.endpoint, "https://example.com/my-hook");
    assert_eq!(spec.token, SecretChange::Set("eyJhbGciOiJIUzI1NiIsInR5cCI6I".into()));
    assert_eq!(spec.hook_type.as_deref(), Some("dbs"));
    assert!(spec.is_active);
}

#[test]
fn the_mangled_vendor_url_names_endpoint() {
    let mut body = vendor_example();
    body["endPoint"] = json!("//my-hook");
    let errors = parse_flightrates(&body, Mode::Create, &Catalogue::default()).expect_err("invalid");
    assert_eq!(fields(&errors), ["endPoint"]);
}

#[test]
fn every_missing_mandatory_field_is_listed() {
    let errors = parse_flightrates(&json!({}), Mode::Create, &Catalogue::default()).expect_err("invalid");
    assert_eq!(fields(&errors), ["endPoint", "hookType", "isActiveStatus", "_shop"]);
    let errors = parse_eventsshop(&json!({}), &Catalogue::default()).expect_err("invalid");
    assert_eq!(fields(&errors), ["authType", "endpoint"]);
}

#[test]
fn wrong_types_unknown_fields_and_bad_values_are_all_reported() {
    let body = json!({"endPoint": 5, "hookType": "nope", "isActiveStatus": "true", "_shop": "s",
                      "authType": "digest", "endpoint": "x", "tokn": "t"});
    let errors = parse_flightrates(&body, Mode::Create, &Catalogue::default()).expect_err("invalid");
    let f = fields(&errors);
    for expected in ["endPoint", "hookType", "isActiveStatus", "authType", "endpoint", "tokn"] {
        assert!(f.contains(&expected), "{expected} missing from {errors:?}");
    }
    let by = |name: &str| errors.iter().find(|e| e.field == name).map(|e| e.message.clone()).unwrap_or_default();
    assert!(by("endpoint").contains("did you mean `endPoint`"), "{errors:?}");
    assert!(by("tokn").contains("did you mean `token`"), "{errors:?}");
    assert!(by("isActiveStatus").contains("not a string"), "{errors:?}");
}

#[test]
fn credentials_follow_the_auth_type() {
    let c = Catalogue::default();
    let base = json!({"endPoint":"https://e.com/h","hookType":"dbs","isActiveStatus":true,"_shop":"s"});
    let with = |extra: Value| {
        let mut b = base.clone();
        for (k, v) in extra.as_object().cloned().unwrap_or_default() {
            b[k] = v;
        }
        b
    };
    assert_eq!(
        fields(&parse_flightrates(&with(json!({"authType":"basic"})), Mode::Create, &c).expect_err("x")),
        ["userId", "pwdTxt"]
    );
    assert_eq!(
        fields(&parse_flightrates(&with(json!({"authType":"OAuth 2.0"})), Mode::Create, &c).expect_err("x")),
        ["token"]
    );
    assert_eq!(
        fields(&parse_flightrates(&with(json!({"authType":"jwt"})), Mode::Create, &c).expect_err("x")),
        ["userId", "token"]
    );
    assert!(
        parse_flightrates(&with(json!({"authType":"Basic Auth","userId":"u","pwdTxt":"p"})), Mode::Create, &c).is_ok()
    );
    assert_eq!(parse_flightrates(&base, Mode::Create, &c).map(|s| s.auth_type), Ok(AuthType::None));
}

#[test]
fn eventsshop_basic_generates_a_token_and_oauth_needs_one() {
    let c = Catalogue::default();
    let spec = parse_eventsshop(
        &json!({"authType":"Basic Auth","endpoint":"https://e.com/h","userName":"u","password":"p"}),
        &c,
    )
    .expect("valid");
    assert!(spec.generate_token);
    assert_eq!(spec.hook_type, None);
    let errors = parse_eventsshop(&json!({"authType":"OAuth 2.0","endpoint":"https://e.com/h"}), &c).expect_err("x");
    assert_eq!(fields(&errors), ["token"]);
    let errors = parse_eventsshop(&json!({"authType":"jwt","endpoint":"https://e.com/h"}), &c).expect_err("x");
    assert_eq!(fields(&errors), ["authType"]);
}

#[test]
fn mask_keeps_a_stored_secret_and_patch_keeps_absent_fields() {
    let c = Catalogue::default();
    let created = parse_flightrates(&vendor_example(), Mode::Create, &c).expect("valid");
    let state = created.state_after(StoredSecrets::default(), &Default::default());
    assert!(state.secrets.token && state.secrets.password);

    let mut put = vendor_example();
    put["token"] = json!(MASK);
    put["pwdTxt"] = json!(MASK);
    let spec = parse_flightrates(&put, Mode::Replace(&state), &c).expect("valid");
    assert_eq!(spec.token, SecretChange::Keep);

    let spec = parse_flightrates(&json!({"isActiveStatus": false}), Mode::Patch(&state), &c).expect("valid");
    assert!(!spec.is_active);
    assert_eq!(spec.endpoint, "https://example.com/my-hook");
    assert_eq!(spec.token, SecretChange::Keep);

    // Clearing the token of a JWT hook is refused.
    let errors = parse_flightrates(&json!({"token": null}), Mode::Patch(&state), &c).expect_err("x");
    assert_eq!(fields(&errors), ["token"]);
    // The mask on create means nothing.
    let mut create = vendor_example();
    create["token"] = json!(MASK);
    assert_eq!(fields(&parse_flightrates(&create, Mode::Create, &c).expect_err("x")), ["token"]);
}

#[test]
fn non_objects_are_rejected() {
    for body in [json!([]), json!("x"), json!(1), json!(null), json!(true)] {
        let errors = parse_flightrates(&body, Mode::Create, &Catalogue::default()).expect_err("x");
        assert_eq!(fields(&errors), ["body"]);
    }
}

#[test]
fn over_long_strings_are_rejected() {
    let mut body = vendor_example();
    body["userId"] = json!("u".repeat(USERNAME_MAX + 1));
    body["token"] = json!("t".repeat(TOKEN_MAX + 1));
    body["_shop"] = json!("s".repeat(SHOP_MAX + 1));
    let errors = parse_flightrates(&body, Mode::Create, &Catalogue::default()).expect_err("x");
    assert_eq!(fields(&errors), ["userId", "token", "_shop"]);
}

#[test]
fn delivery_options_are_read_merged_and_masked_on_both_verticals() {
    use crate::domain::delivery_options::{SecretHeadersChange, SecretValue};
    let c = Catalogue::default();
    let mut body = vendor_example();
    body["headers"] = json!({"X-Tenant": "acme"});
    body["secretHeaders"] = json!({"X-Api-Key": "k-1"});
    body["timeoutSeconds"] = json!(5);
    let created = parse_flightrates(&body, Mode::Create, &c).expect("valid");
    assert_eq!(created.delivery.timeout_seconds, Some(5));
    let state = created.state_after(StoredSecrets::default(), &Default::default());
    assert_eq!(state.delivery.secret_header_names, ["X-Api-Key"]);

    // PATCH keeps what it does not name; the mask keeps a stored secret header.
    let spec =
        parse_flightrates(&json!({"secretHeaders": {"X-Api-Key": MASK, "X-More": "m"}}), Mode::Patch(&state), &c)
            .expect("valid");
    assert_eq!(spec.delivery.headers.get("X-Tenant").map(String::as_str), Some("acme"));
    assert_eq!(spec.delivery.timeout_seconds, Some(5));
    let SecretHeadersChange::Replace(change) = &spec.delivery.secret_headers else { panic!("replaced") };
    assert_eq!(change.get("X-Api-Key"), Some(&SecretValue::Keep));
    // PUT without them clears them; null clears too.
    let spec = parse_flightrates(&vendor_example(), Mode::Replace(&state), &c).expect("valid");
    assert!(spec.delivery.headers.is_empty() && spec.delivery.timeout_seconds.is_none());
    assert_eq!(spec.delivery.secret_headers, SecretHeadersChange::Replace(Default::default()));

    let bad = json!({"authType":"Basic Auth","endpoint":"https://e.com/h","userName":"u","password":"p",
                     "headers": {"Authorization": "x"}, "secretHeaders": {"X-K": MASK}, "timeoutSeconds": 31});
    let errors = parse_eventsshop(&bad, &c).expect_err("invalid");
    assert_eq!(fields(&errors), ["headers", "timeoutSeconds", "secretHeaders"]);
    assert!(errors[0].message.contains("Authorization"), "{errors:?}");
    let both = json!({"authType":"OAuth 2.0","endpoint":"https://e.com/h","token":"t",
                      "headers": {"X-K": "a"}, "secretHeaders": {"x-k": "b"}});
    assert_eq!(fields(&parse_eventsshop(&both, &c).expect_err("twice")), ["secretHeaders"]);
}

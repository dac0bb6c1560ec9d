//! The event log over HTTP: `GET /api/v1/events` (filters, paging, newest
//! first, only the account's own) and `GET /api/v1/events/{id}` (the data
//! as published, every delivery with its attempts).

use crate::delivery::{WAIT, create_hook, hook_body, publish};
use crate::helpers::{TestApp, assert_error, eventually};
use crate::receiver::Receiver;
use reqwest::Method;
use serde_json::{Value, json};

const FLAGS: &[&str] = &["--allow-private-targets", "--retry-schedule", "0s", "--delivery-timeout", "2s"];

async fn get(app: &TestApp, key: &str, path: &str) -> (u16, Value) {
    app.send_json(Method::GET, path, key, &Value::Null).await
}

fn ids(list: &Value) -> Vec<&str> {
    list["events"].as_array().expect("events").iter().map(|e| e["id"].as_str().expect("id")).collect()
}

#[tokio::test]
async fn the_event_log_lists_the_accounts_events_newest_first_with_filters() {
    let app = TestApp::spawn_with(FLAGS).await;
    let key = app.create_user("events@example.com");
    let other = app.create_user("someone-else@example.com");
    let receiver = Receiver::start().await;
    create_hook(&app, &key, hook_body(&receiver.url, "s1")).await;
    let first = publish(&app, &key, json!({"hookType":"dbs","_shop":"s1","data":{"n":1}})).await;
    let second = publish(&app, &key, json!({"hookType":"dbs","_shop":"s2","data":{"n":2}})).await;
    let third = publish(&app, &key, json!({"hookType":"eventsinfo","data":{"n":3}})).await;
    publish(&app, &other, json!({"hookType":"dbs","_shop":"s1","data":{"theirs":true}})).await;
    let id = |v: &Value| v["id"].as_str().expect("id").to_owned();

    let (status, all) = get(&app, &key, "/api/v1/events").await;
    assert_eq!(status, 200, "{all}");
    let mut listed = ids(&all);
    listed.sort_unstable();
    let mut mine = [id(&first), id(&second), id(&third)];
    mine.sort_unstable();
    assert_eq!(listed, mine, "only this account's");
    let times: Vec<&str> =
        all["events"].as_array().expect("events").iter().map(|e| e["createdAt"].as_str().expect("t")).collect();
    assert!(times.windows(2).all(|w| w[0] >= w[1]), "newest first: {times:?}");
    assert_eq!(
        (all["error"].clone(), all["totalData"].clone(), all["page"].clone(), all["size"].clone()),
        (json!(false), json!(3), json!(1), json!(10))
    );
    let listed_as = |event: &Value| {
        all["events"].as_array().expect("events").iter().find(|e| e["id"] == event["id"]).expect("listed").clone()
    };
    let third_listed = listed_as(&third);
    assert_eq!(
        (&third_listed["hookType"], &third_listed["_shop"], &third_listed["deliveries"]),
        (&json!("eventsinfo"), &Value::Null, &json!(0))
    );
    assert!(third_listed["createdAt"].as_str().is_some_and(|t| t.ends_with('Z')));
    assert_eq!(listed_as(&first)["deliveries"], 1, "the first event matched the hook");

    let (_, by_shop) = get(&app, &key, "/api/v1/events?_shop=s2").await;
    assert_eq!(ids(&by_shop), [id(&second)]);
    let (_, page1) = get(&app, &key, "/api/v1/events?hookType=dbs&size=1&page=1").await;
    let (_, page2) = get(&app, &key, "/api/v1/events?hookType=dbs&size=1&page=2").await;
    assert_eq!((page2["totalData"].clone(), page2["totalPages"].clone()), (json!(2), json!(2)));
    let mut both = [ids(&page1)[0].to_owned(), ids(&page2)[0].to_owned()];
    both.sort_unstable();
    let mut dbs = [id(&first), id(&second)];
    dbs.sort_unstable();
    assert_eq!(both, dbs, "two pages of one, the dbs events only");
    let (_, future) = get(&app, &key, "/api/v1/events?since=2999-01-01T00:00:00Z").await;
    assert_eq!(future["totalData"], 0);
    let (_, past) = get(&app, &key, "/api/v1/events?since=2020-01-01T00:00:00%2B02:00").await;
    assert_eq!(past["totalData"], 3);

    let res = app
        .request(Method::GET, "/api/v1/events?since=yesterday&hookType=nope&sise=3&page=0", &key)
        .send()
        .await
        .expect("request");
    let body = assert_error(res, 400).await;
    let fields: Vec<&str> =
        body["errors"].as_array().expect("errors").iter().map(|e| e["field"].as_str().expect("f")).collect();
    assert_eq!(fields, ["since", "hookType", "sise", "page"], "{body}");
    assert!(body["errors"][2]["message"].as_str().is_some_and(|m| m.contains("did you mean `size`")), "{body}");
    let res = app.get("/api/v1/events").send().await.expect("request");
    assert_error(res, 401).await;
}

#[tokio::test]
async fn an_event_shows_its_data_and_every_delivery_with_its_attempts() {
    let app = TestApp::spawn_with(FLAGS).await;
    let key = app.create_user("event-detail@example.com");
    let (ok, failing) = (Receiver::start().await, Receiver::start().await);
    failing.set_default(503);
    let ok_hook = create_hook(&app, &key, hook_body(&ok.url, "s1")).await;
    let failing_hook = create_hook(&app, &key, hook_body(&failing.url, "s1")).await;
    let data = json!({"fare": 123.4, "note": "ünï \"q\"", "list": [1, null, true]});
    let accepted = publish(&app, &key, json!({"hookType":"dbs","_shop":"s1","data": data})).await;
    let event = accepted["id"].as_str().expect("id");

    let path = format!("/api/v1/events/{event}");
    let detail = eventually("both deliveries finished", WAIT, || async {
        let (status, body) = get(&app, &key, &path).await;
        assert_eq!(status, 200, "{body}");
        let finished = body["event"]["deliveries"]
            .as_array()
            .is_some_and(|d| d.len() == 2 && d.iter().all(|d| d["status"] != "pending"));
        finished.then_some(body)
    })
    .await;
    let event_view = &detail["event"];
    assert_eq!(
        (&event_view["id"], &event_view["hookType"], &event_view["_shop"]),
        (&json!(event), &json!("dbs"), &json!("s1"))
    );
    assert_eq!(event_view["data"], data, "the data exactly as published");
    let deliveries = event_view["deliveries"].as_array().expect("deliveries");
    let of = |hook: &str| deliveries.iter().find(|d| d["hookId"] == hook).expect("a delivery per hook");
    assert_eq!(of(&ok_hook)["status"], "succeeded");
    assert_eq!(of(&ok_hook)["attempts"][0]["statusCode"], 200);
    assert_eq!(of(&failing_hook)["status"], "failed");
    assert_eq!(of(&failing_hook)["attempts"][0]["statusCode"], 503);
    assert!(of(&failing_hook)["nextAttemptAt"].is_null());

    let stranger = app.create_user("stranger@example.com");
    let res = app.request(Method::GET, &path, &stranger).send().await.expect("request");
    assert_error(res, 404).await;
    let res = app.request(Method::GET, "/api/v1/events/not-an-id", &key).send().await.expect("request");
    assert_error(res, 400).await;
    let res = app.request(Method::GET, "/api/v1/events/0123456789abcdef01234567", &key).send().await.expect("request");
    assert_error(res, 404).await;
}

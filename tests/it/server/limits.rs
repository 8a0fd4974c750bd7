//! One concurrency limit, the routing core's `MAX_CAP`, for the profile and the HTTP API alike:
//! a cap one accepts the other accepts, and the first cap past it is refused by both, naming
//! the range.

use chatcap::profile;
use chatcap::routing::MAX_CAP;
use reqwest::StatusCode;
use serde_json::json;

use super::{PROFILE, expect_error, start};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrency_limit_is_the_routing_core_cap_for_profile_and_http() {
    let at_cap = PROFILE.replace("concurrency = 2", &format!("concurrency = {MAX_CAP}"));
    assert_ne!(at_cap, PROFILE, "the test profile sets a concurrency");
    profile::parse(&at_cap, "cap.toml", None).expect("a profile takes MAX_CAP");
    let past = PROFILE.replace("concurrency = 2", &format!("concurrency = {}", MAX_CAP + 1));
    let err = profile::parse(&past, "cap.toml", None).expect_err("a profile refuses MAX_CAP + 1");
    assert!(err.to_string().contains(&MAX_CAP.to_string()), "{err}");

    let ts = start().await;
    ts.agent_token("tier1-1").await;
    let resp = ts
        .agent_post("tier1-1", "/v1/agents/tier1-1/status")
        .json(&json!({"status": "available", "concurrency": MAX_CAP}))
        .send()
        .await
        .expect("status at the cap");
    assert_eq!(resp.status(), StatusCode::CREATED);
    let agent: serde_json::Value = resp.json().await.expect("agent json");
    assert_eq!(agent["concurrency"], MAX_CAP);
    let resp = ts
        .agent_post("tier1-1", "/v1/agents/tier1-1/status")
        .json(&json!({"status": "available", "concurrency": MAX_CAP + 1}))
        .send()
        .await
        .expect("status past the cap");
    let detail = expect_error(resp, StatusCode::BAD_REQUEST, "bad_field").await;
    assert!(detail.contains(&format!("1..={MAX_CAP}")), "{detail}");
    let stats = ts.stats().await;
    assert_eq!(
        stats["agents"]["registered"], 1,
        "the refusal changed nothing"
    );
    ts.stop().await;
}

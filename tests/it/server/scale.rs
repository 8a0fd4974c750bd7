//! The server compiles its profile into the scenario the simulator runs, then compresses that
//! scenario's times by `--time-scale`: an offer's 30 s profile timeout lasts 3 wall seconds at
//! scale 10, and the stats say which scale they are in.

use super::{TOKEN, start_with, str_of};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offer_timeout_from_the_scenario_is_compressed_by_the_time_scale() {
    let ts = start_with(super::PROFILE, Some(TOKEN), 10.0).await;
    ts.login("tier1-1").await;
    let chat = ts.create_chat("orders").await;
    let inbox = ts.offers("tier1-1", 5.0).await;
    let offer = &inbox["offers"][0];
    assert_eq!(offer["chat_id"], chat["id"], "{inbox}");
    let deadline = offer["deadline"].as_f64().expect("an offer has a deadline");
    let offered = offer["offered_at"].as_f64().expect("offered_at");
    let timeout = deadline - offered;
    assert!(
        (timeout - 3.0).abs() < 0.01,
        "30 s at scale 10: {timeout} s"
    );
    let stats = ts.stats().await;
    assert_eq!(stats["time_scale"], 10.0);
    assert_eq!(str_of(&stats["profile"]), "server test");
    ts.stop().await;
}

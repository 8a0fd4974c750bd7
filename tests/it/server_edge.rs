//! The edges of `chatcap serve`: what a flood, a half-sent request, a shutdown and bytes no HTTP
//! client would send do to it. Some tests run the built binary (memory is measured per process,
//! and SIGTERM is what operators send); all talk to 127.0.0.1 only, bound every wait, and stop
//! what they start by its process id.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use chatcap::profile;
use chatcap::server::{self, RunningServer, ServerConfig, ShutdownReport};
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// `chatcap serve` run as its own process, stopped (by its id) when dropped.
struct ServeProcess {
    child: Child,
    addr: String,
    stderr: mpsc::Receiver<String>,
}

impl ServeProcess {
    /// Starts `chatcap serve --bind 127.0.0.1:0 <args>` and waits up to 20 s for its address.
    fn start(args: &[&str]) -> ServeProcess {
        let mut child = Command::new(env!("CARGO_BIN_EXE_chatcap"))
            .args(["serve", "--bind", "127.0.0.1:0"])
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("chatcap starts");
        let stderr = child.stderr.take().expect("stderr is piped");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut process = ServeProcess {
            child,
            addr: String::new(),
            stderr: rx,
        };
        let line = process
            .stderr
            .recv_timeout(Duration::from_secs(20))
            .expect("a first line on stderr within 20 s");
        let addr = line
            .split("http://")
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
            .unwrap_or_else(|| panic!("no address in {line:?}"));
        process.addr = addr.to_string();
        process
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Resident memory of the server process, KiB.
    fn rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .expect("/proc status is readable");
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmRSS in /proc status")
    }

    /// Sends SIGTERM to the server by its process id.
    fn terminate(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success(), "kill -TERM {}", self.child.id());
    }

    /// Waits up to `limit` for the process to exit; its exit status and the time it took.
    fn wait_exit(&mut self, limit: Duration) -> Option<(std::process::ExitStatus, Duration)> {
        let started = Instant::now();
        while started.elapsed() < limit {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return Some((status, started.elapsed()));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }

    /// The stderr lines printed so far, waiting up to 2 s for the last ones.
    fn stderr_lines(&self) -> Vec<String> {
        let mut lines = Vec::new();
        while let Ok(line) = self.stderr.recv_timeout(Duration::from_secs(2)) {
            lines.push(line);
        }
        lines
    }
}

impl Drop for ServeProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Sends raw bytes and returns everything the server answers until it closes the connection
/// or 5 s pass.
async fn raw_exchange(addr: &str, request: &[u8]) -> String {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    stream.write_all(request).await.expect("write");
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut answer)).await;
    String::from_utf8_lossy(&answer).into_owned()
}

/// Checks that `answer` starts with one HTTP response of `status` whose body is the API's JSON
/// error with `code`, of exactly the length the head declares; returns the rest of `answer`.
fn expect_json_error<'a>(answer: &'a str, status: u16, code: &str) -> &'a str {
    let (head, rest) = answer
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("no complete head in {answer:?}"));
    assert!(
        head.starts_with(&format!("HTTP/1.1 {status} ")),
        "status {status} expected: {head}"
    );
    let head = head.to_ascii_lowercase();
    assert!(head.contains("content-type: application/json"), "{head}");
    let length: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length: "))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no content-length in {head}"));
    assert!(rest.len() >= length, "body shorter than {length}: {rest:?}");
    let body: Value = serde_json::from_str(&rest[..length]).expect("the body is JSON");
    assert_eq!(body["error"], code, "{body}");
    let detail = body["detail"].as_str().unwrap_or("");
    assert!(!detail.is_empty() && !detail.contains('\n'), "{body}");
    assert_eq!(body.as_object().map(|o| o.len()), Some(2), "{body}");
    &rest[length..]
}

/// A one-queue profile, offers off, served in-process on a free port with these limits.
async fn serve_with(limits: impl FnOnce(&mut server::ServerLimits)) -> RunningServer {
    let toml = r#"
name = "edge test"
interval = "30m"
intervals = 1

[[queues]]
name = "orders"
volume = 10
handle_time = { dist = "exponential", mean = "5m" }

[[agents]]
name = "tier1"
skills = ["orders"]
"#;
    let profile = profile::parse(toml, "edge-test.toml", None).expect("test profile is valid");
    let mut config = ServerConfig::new(profile);
    config.bind = "127.0.0.1:0".parse().expect("address");
    limits(&mut config.limits);
    server::bind(config).await.expect("server binds")
}

async fn stop(server: RunningServer) -> ShutdownReport {
    server.shutdown();
    tokio::time::timeout(Duration::from_secs(5), server.join())
        .await
        .expect("shutdown completes within 5 s")
        .expect("server stops cleanly")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_new_chats_is_refused_past_the_cap_and_memory_stays_flat() {
    const CAP: u64 = 500;
    const WARMUP: u64 = 3_000;
    const FLOOD: u64 = 30_000;
    const TASKS: u64 = 8;
    let serve = ServeProcess::start(&["--max-chats", &CAP.to_string()]);
    let client = Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client");
    let deadline = Instant::now() + Duration::from_secs(45);
    // Each task posts `n` chats and returns (created, refused, a refusal's body and Retry-After).
    let flood = |n: u64| {
        let handles: Vec<_> = (0..TASKS)
            .map(|_| {
                let (client, url) = (client.clone(), serve.url("/v1/chats"));
                tokio::spawn(async move {
                    let (mut created, mut refused, mut sample) = (0u64, 0u64, None);
                    for _ in 0..n / TASKS {
                        if Instant::now() > deadline {
                            break;
                        }
                        let resp = client
                            .post(&url)
                            .json(&json!({"queue": "orders"}))
                            .send()
                            .await
                            .expect("post");
                        match resp.status() {
                            StatusCode::CREATED => created += 1,
                            StatusCode::SERVICE_UNAVAILABLE => {
                                refused += 1;
                                let retry = resp.headers().get("retry-after").cloned();
                                let body: Value = resp.json().await.expect("JSON error");
                                sample.get_or_insert((body, retry));
                            }
                            other => panic!("unexpected status {other}"),
                        }
                    }
                    (created, refused, sample)
                })
            })
            .collect();
        async move {
            let mut total = (0, 0, None);
            for h in handles {
                let (c, r, s) = h.await.expect("flood task");
                total.0 += c;
                total.1 += r;
                total.2 = total.2.or(s);
            }
            total
        }
    };
    let (created, refused, _) = flood(WARMUP).await;
    assert_eq!(created, CAP, "the server takes chats up to its cap");
    let rss_warm = serve.rss_kib();
    let (more_created, more_refused, sample) = flood(FLOOD).await;
    let rss_flooded = serve.rss_kib();
    assert!(Instant::now() < deadline, "the flood ran within 45 s");
    assert_eq!(more_created, 0, "nothing is taken past the cap");
    let (body, retry) = sample.expect("refusals");
    assert_eq!(body["error"], "server_full", "{body}");
    assert_eq!(
        retry.as_ref().and_then(|v| v.to_str().ok()),
        Some("5"),
        "Retry-After"
    );
    // Refusals are counted as created and rejected; nothing else moved.
    let stats: Value = client
        .get(serve.url("/v1/stats"))
        .send()
        .await
        .expect("stats")
        .json()
        .await
        .expect("stats JSON");
    let sent = created + refused + more_created + more_refused;
    assert_eq!(stats["chats"]["created"], sent, "{stats}");
    assert_eq!(
        stats["chats"]["rejected"],
        refused + more_refused,
        "{stats}"
    );
    assert_eq!(stats["chats"]["queued"], CAP, "{stats}");
    assert_eq!(
        stats["queues"]["orders"]["rejected"],
        (refused + more_refused) as f64
    );
    // Memory is flat: before the cap, each live chat costs over a KiB; past it, 30,000 more
    // requests may not add 4 MiB.
    let growth = rss_flooded.saturating_sub(rss_warm);
    assert!(
        growth < 4 * 1024,
        "RSS grew {growth} KiB ({rss_warm} -> {rss_flooded}) under {more_refused} refused chats"
    );
}

#[test]
fn sigterm_with_a_half_sent_request_exits_at_the_shutdown_deadline() {
    let mut serve = ServeProcess::start(&["--shutdown-timeout", "1s"]);
    let mut half = std::net::TcpStream::connect(&serve.addr).expect("connect");
    std::io::Write::write_all(&mut half, b"GET /healthz HTTP/1.1\r\nHost: x\r\n").expect("write");
    std::thread::sleep(Duration::from_millis(200));
    serve.terminate();
    let (status, took) = serve
        .wait_exit(Duration::from_secs(10))
        .expect("the server exits within 10 s of SIGTERM");
    assert!(status.success(), "{status}");
    assert!(
        took < Duration::from_secs(4),
        "exited {took:?} after SIGTERM with a 1 s deadline"
    );
    let lines = serve.stderr_lines();
    let last = lines.last().map(String::as_str).unwrap_or("");
    assert!(
        last.contains("shutdown deadline") && last.contains("closed 1 connection"),
        "{lines:?}"
    );
    assert!(last.contains("cutting 0 requests"), "{lines:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_half_sent_request_head_is_closed_after_the_header_timeout() {
    let server = serve_with(|l| l.header_timeout = Duration::from_millis(300)).await;
    let addr = server.local_addr().to_string();
    let started = Instant::now();
    let answer = raw_exchange(&addr, b"GET /healthz HTTP/1.1\r\nHost: x\r\n").await;
    let took = started.elapsed();
    assert_eq!(answer, "", "no answer to half a head");
    assert!(
        took >= Duration::from_millis(250) && took < Duration::from_secs(3),
        "closed after {took:?} with a 300 ms header timeout"
    );
    // A whole request on a fresh connection is still served.
    let ok = raw_exchange(
        &addr,
        b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert!(ok.starts_with("HTTP/1.1 200"), "{ok}");
    assert_eq!(stop(server).await, ShutdownReport::default());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_shutdown_deadline_closes_connections_and_counts_cut_requests() {
    let server = serve_with(|l| l.shutdown_timeout = Duration::from_millis(300)).await;
    let addr = server.local_addr().to_string();
    // An idle keep-alive connection ends at shutdown by itself; a body that never finishes
    // keeps its request in progress until the deadline cuts it.
    let mut idle = TcpStream::connect(&addr).await.expect("connect");
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .expect("write");
    let mut buf = [0u8; 512];
    let n = idle.read(&mut buf).await.expect("read");
    assert!(buf[..n].starts_with(b"HTTP/1.1 200"));
    let mut stalled = TcpStream::connect(&addr).await.expect("connect");
    stalled
        .write_all(b"POST /v1/chats HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"queue\"")
        .await
        .expect("write");
    tokio::time::sleep(Duration::from_millis(200)).await;
    let started = Instant::now();
    let report = stop(server).await;
    assert!(started.elapsed() < Duration::from_secs(2), "{report:?}");
    assert_eq!(
        report,
        ShutdownReport {
            connections_closed: 1,
            requests_cut: 1
        }
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_below_the_api_answer_json() {
    let server = serve_with(|l| l.url_bytes = 1024).await;
    let addr = server.local_addr().to_string();
    let cases: Vec<(Vec<u8>, u16, &str)> = vec![
        (
            b"GET /v1/chats/\xff HTTP/1.1\r\nHost: x\r\n\r\n".to_vec(),
            400,
            "bad_request",
        ),
        (b"GARBAGE\r\n\r\n".to_vec(), 400, "bad_request"),
        (
            b"GET /healthz HTTP/1.1\r\nHost: x\r\nBad Header: 1\r\n\r\n".to_vec(),
            400,
            "bad_request",
        ),
        (
            format!(
                "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n",
                "a".repeat(200_000)
            )
            .into_bytes(),
            431,
            "headers_too_large",
        ),
        (
            format!(
                "GET /healthz HTTP/1.1\r\nHost: x\r\n{}\r\n",
                (0..150)
                    .map(|i| format!("X-H{i}: 1\r\n"))
                    .collect::<String>()
            )
            .into_bytes(),
            431,
            "headers_too_large",
        ),
        (
            format!(
                "GET /healthz?{} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                "a".repeat(2000)
            )
            .into_bytes(),
            414,
            "uri_too_long",
        ),
        (
            b"GET /nowhere HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".to_vec(),
            404,
            "not_found",
        ),
        (
            b"DELETE /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".to_vec(),
            405,
            "method_not_allowed",
        ),
    ];
    for (request, status, code) in cases {
        let answer = raw_exchange(&addr, &request).await;
        let rest = expect_json_error(&answer, status, code);
        assert_eq!(rest, "", "one answer only");
    }
    // A good request and a bad one pipelined: each gets its own answer, the bad one in JSON.
    let answer = raw_exchange(
        &addr,
        b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /\xff HTTP/1.1\r\nHost: x\r\n\r\n",
    )
    .await;
    let (first, rest) = answer.split_once("\r\n\r\n").expect("first head");
    assert!(first.starts_with("HTTP/1.1 200"), "{answer}");
    let second = &rest[rest.find("HTTP/1.1").expect("a second answer")..];
    expect_json_error(second, 400, "bad_request");
    stop(server).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bind_errors_state_their_cause_once() {
    let first = serve_with(|_| {}).await;
    let profile = profile::default_profile().expect("the default profile is valid");
    let mut config = ServerConfig::new(profile);
    config.bind = first.local_addr();
    let err = server::bind(config).await.err().expect("the port is taken");
    let chained = format!("{:#}", anyhow::Error::new(chatcap::Error::from(err)));
    assert_eq!(chained.matches("in use").count(), 1, "{chained}");
    assert!(
        chained.contains(&first.local_addr().to_string()),
        "{chained}"
    );
    stop(first).await;
}

#[test]
fn serve_flags_out_of_range_say_what_is_valid() {
    use clap::Parser;
    for value in ["0", "-5", "10000001"] {
        let err = chatcap::Cli::try_parse_from(["chatcap", "serve", "--max-chats", value])
            .expect_err("out of range");
        assert!(err.to_string().contains("1..=10000000"), "{err}");
    }
    let cli = chatcap::Cli::parse_from(["chatcap", "serve", "--shutdown-timeout", "2h"]);
    let err = chatcap::run(cli, &mut Vec::new()).expect_err("2 h is too long");
    assert_eq!(err.exit_code(), 2);
    assert!(err.to_string().contains("--shutdown-timeout"), "{err}");
}

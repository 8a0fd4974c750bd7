//! The axum layer: routes, request parsing (every rejection becomes the API's JSON error),
//! credentials, and the long-poll loops. Handlers never touch state themselves; they send a
//! closure to the actor and, for long-polls, wait on a watch channel between asks, so a waiting
//! client holds no lock and no actor time.

use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{
    DefaultBodyLimit, FromRequest, FromRequestParts, MatchedPath, Path, Query, Request, State,
};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::de::DeserializeOwned;
use tokio::sync::watch;
use tokio::time::Instant;

use super::ServerLimits;
use super::actor::Handle;
use super::desk::{Credentials, Poll};
use super::error::ApiError;
use super::listen::InFlight;
use super::prom;
use super::telemetry::{self, Telemetry};
use crate::api::{
    Agent, Chat, CloseRequest, CreateChatRequest, CreatedChat, Health, Inbox, Login, Message,
    MessageRequest, Messages, OfferAnswer, PollQuery, Stats, StatsQuery, StatusRequest,
    TransferRequest,
};

/// What every handler shares.
#[derive(Clone)]
pub(super) struct AppState {
    /// The actor owning the desk.
    pub actor: Handle,
    /// Becomes `true` when the server shuts down; long-polls return at once.
    pub shutdown: watch::Receiver<bool>,
    /// Size and time limits.
    pub limits: ServerLimits,
    /// Requests being handled now (what a shutdown deadline would cut).
    pub in_flight: InFlight,
    /// The live histograms; every request is counted in them.
    pub telemetry: Arc<Telemetry>,
}

/// The API's routes over `state`.
pub(super) fn router(state: AppState) -> Router {
    let body_limit = state.limits.body_bytes;
    let track = middleware::from_fn_with_state(state.telemetry.clone(), track);
    Router::new()
        .route("/v1/chats", post(create_chat))
        .route("/v1/chats/{id}", get(chat_info))
        .route(
            "/v1/chats/{id}/messages",
            get(get_messages).post(post_message),
        )
        .route("/v1/chats/{id}/leave", post(leave))
        .route("/v1/chats/{id}/close", post(close))
        .route("/v1/chats/{id}/transfer", post(transfer))
        .route("/v1/agents/{id}", get(agent_info))
        .route("/v1/agents/{id}/login", post(login))
        .route("/v1/agents/{id}/status", post(agent_status))
        .route("/v1/agents/{id}/offers", get(agent_offers))
        .route("/v1/offers/{id}/accept", post(accept))
        .route("/v1/offers/{id}/decline", post(decline))
        .route("/v1/stats", get(stats))
        .route("/metrics", get(metrics))
        .route("/healthz", get(healthz))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(middleware::from_fn_with_state(state.clone(), edge))
        .layer(track)
        .with_state(state)
}

/// Runs around every request, unknown routes included: counts it in flight and refuses a URL
/// over the limit with 414 (hyper's own limits are set above the API's, see `wire`).
async fn edge(State(s): State<AppState>, request: Request, next: Next) -> Response {
    let _counted = s.in_flight.enter();
    let uri = request.uri();
    let url_len = uri.path_and_query().map_or(0, |pq| pq.as_str().len())
        + uri.authority().map_or(0, |a| a.as_str().len());
    if url_len > s.limits.url_bytes {
        return ApiError::new(
            StatusCode::URI_TOO_LONG,
            "uri_too_long",
            format!(
                "the URL has {url_len} bytes, more than {}; send a shorter path and query",
                s.limits.url_bytes
            ),
        )
        .into_response();
    }
    next.run(request).await
}

/// A path id, with the API's error shape when it cannot be read (not UTF-8).
pub(super) struct ApiPath(pub String);

impl FromRequestParts<AppState> for ApiPath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        Path::<String>::from_request_parts(parts, state)
            .await
            .map(|Path(id)| ApiPath(id))
            .map_err(|rejection| {
                ApiError::new(
                    rejection.status(),
                    "bad_path",
                    format!(
                        "{}; ids are like c-17, o-4 or tier1-3",
                        rejection.body_text()
                    ),
                )
            })
    }
}

/// A JSON body parsed by serde, with the API's error shape for every failure: 413 over the
/// body limit, 400 `malformed_json` for bad syntax, 400 `bad_field` for a missing, unknown or
/// mistyped field. The `Content-Type` is not checked.
pub(super) struct ApiJson<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, ApiError> {
        let limit = state.limits.body_bytes;
        let too_large = || {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "body_too_large",
                format!("the request body is larger than {limit} bytes; send less"),
            )
        };
        let declared = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|n| n > limit as u64) {
            return Err(too_large());
        }
        // A client that stops sending mid-body gets 408 instead of holding the connection.
        let timeout = state.limits.body_timeout;
        let read = tokio::time::timeout(timeout, Bytes::from_request(req, state));
        let Ok(bytes) = read.await else {
            return Err(ApiError::new(
                StatusCode::REQUEST_TIMEOUT,
                "body_timeout",
                format!(
                    "the request body did not arrive within {:.1} s; send it whole",
                    timeout.as_secs_f64()
                ),
            ));
        };
        let bytes = bytes.map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                too_large()
            } else {
                ApiError::new(rejection.status(), "bad_body", rejection.body_text())
            }
        })?;
        // Serde would also read a struct from an array of its fields in order: not the API.
        if bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[') {
            return Err(ApiError::bad_field(
                "the body is a JSON array; send a JSON object with named fields",
            ));
        }
        serde_json::from_slice(&bytes).map(ApiJson).map_err(|e| {
            if e.classify() == serde_json::error::Category::Data {
                ApiError::bad_field(format!("the body does not fit the request: {e}"))
            } else {
                ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "malformed_json",
                    format!("the body is not valid JSON: {e}"),
                )
            }
        })
    }
}

fn poll_query(
    query: Result<Query<PollQuery>, QueryRejection>,
    limits: &ServerLimits,
) -> Result<(Duration, u64), ApiError> {
    let Query(q) = query.map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad_query",
            format!(
                "{}; use wait=<seconds> and after=<sequence number>",
                e.body_text()
            ),
        )
    })?;
    let wait = q.wait.unwrap_or(0.0);
    if !(wait.is_finite() && (0.0..=limits.max_wait_secs).contains(&wait)) {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad_query",
            format!(
                "wait={wait} is out of range; use 0..={} seconds",
                limits.max_wait_secs
            ),
        ));
    }
    Ok((Duration::from_secs_f64(wait), q.after.unwrap_or(0)))
}

fn header_text(headers: &HeaderMap, name: impl header::AsHeaderName) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

fn credentials(headers: &HeaderMap) -> Credentials {
    Credentials {
        chat_token: header_text(headers, "x-chat-token"),
        bearer: header_text(headers, header::AUTHORIZATION).and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
                .map(|t| t.trim().to_string())
        }),
    }
}

/// Waits until `rx` changes, `deadline` passes or the server shuts down.
async fn wait_for_change(
    rx: &mut watch::Receiver<u64>,
    deadline: Instant,
    shutdown: &mut watch::Receiver<bool>,
) {
    tokio::select! {
        _ = rx.changed() => {}
        _ = tokio::time::sleep_until(deadline) => {}
        _ = shutting_down(shutdown) => {}
    }
}

/// Resolves once the shutdown flag is set (or its sender is gone).
pub(super) async fn shutting_down(rx: &mut watch::Receiver<bool>) {
    loop {
        let stop = *rx.borrow_and_update();
        if stop || rx.changed().await.is_err() {
            return;
        }
    }
}

fn is_shutting_down(rx: &watch::Receiver<bool>) -> bool {
    *rx.borrow()
}

// ----- customers -----

async fn create_chat(
    State(s): State<AppState>,
    ApiJson(req): ApiJson<CreateChatRequest>,
) -> Result<(StatusCode, Json<CreatedChat>), ApiError> {
    let out = s.actor.call(move |c| c.create_chat(req)).await??;
    Ok((StatusCode::CREATED, Json(out)))
}

async fn chat_info(
    State(s): State<AppState>,
    ApiPath(id): ApiPath,
    headers: HeaderMap,
) -> Result<Json<Chat>, ApiError> {
    let creds = credentials(&headers);
    Ok(Json(
        s.actor.call(move |c| c.chat_info(&id, &creds)).await??,
    ))
}

async fn post_message(
    State(s): State<AppState>,
    ApiPath(id): ApiPath,
    headers: HeaderMap,
    ApiJson(req): ApiJson<MessageRequest>,
) -> Result<(StatusCode, Json<Message>), ApiError> {
    let creds = credentials(&headers);
    let out = s
        .actor
        .call(move |c| c.post_message(&id, &creds, req))
        .await??;
    Ok((StatusCode::CREATED, Json(out)))
}

async fn get_messages(
    State(s): State<AppState>,
    ApiPath(id): ApiPath,
    headers: HeaderMap,
    query: Result<Query<PollQuery>, QueryRejection>,
) -> Result<Json<Messages>, ApiError> {
    let (wait, after) = poll_query(query, &s.limits)?;
    let creds = credentials(&headers);
    let deadline = Instant::now() + wait;
    let mut shutdown = s.shutdown.clone();
    loop {
        let force = Instant::now() >= deadline || is_shutting_down(&shutdown);
        let (id, creds) = (id.clone(), creds.clone());
        let poll = s
            .actor
            .call(move |c| c.poll_messages(&id, &creds, after, force))
            .await??;
        match poll {
            Poll::Ready(out) => return Ok(Json(out)),
            Poll::Wait(mut rx) => wait_for_change(&mut rx, deadline, &mut shutdown).await,
        }
    }
}

async fn leave(
    State(s): State<AppState>,
    ApiPath(id): ApiPath,
    headers: HeaderMap,
) -> Result<Json<Chat>, ApiError> {
    let creds = credentials(&headers);
    Ok(Json(s.actor.call(move |c| c.leave(&id, &creds)).await??))
}

// ----- agents -----

async fn close(
    State(s): State<AppState>,
    ApiPath(id): ApiPath,
    headers: HeaderMap,
    ApiJson(req): ApiJson<CloseRequest>,
) -> Result<Json<Chat>, ApiError> {
    let creds = credentials(&headers);
    Ok(Json(
        s.actor.call(move |c| c.close(&id, &creds, req)).await??,
    ))
}

async fn transfer(
    State(s): State<AppState>,
    ApiPath(id): ApiPath,
    headers: HeaderMap,
    ApiJson(req): ApiJson<TransferRequest>,
) -> Result<Json<Chat>, ApiError> {
    let creds = credentials(&headers);
    Ok(Json(
        s.actor
            .call(move |c| c.transfer(&id, &creds, req))
            .await??,
    ))
}

async fn login(
    State(s): State<AppState>,
    ApiPath(id): ApiPath,
    headers: HeaderMap,
) -> Result<Json<Login>, ApiError> {
    let creds = credentials(&headers);
    Ok(Json(s.actor.call(move |c| c.login(&id, &creds)).await??))
}

async fn agent_info(
    State(s): State<AppState>,
    ApiPath(id): ApiPath,
    headers: HeaderMap,
) -> Result<Json<Agent>, ApiError> {
    let creds = credentials(&headers);
    Ok(Json(
        s.actor.call(move |c| c.agent_info(&id, &creds)).await??,
    ))
}

async fn agent_status(
    State(s): State<AppState>,
    ApiPath(id): ApiPath,
    headers: HeaderMap,
    ApiJson(req): ApiJson<StatusRequest>,
) -> Result<Response, ApiError> {
    let creds = credentials(&headers);
    let out = s
        .actor
        .call(move |c| c.agent_status(&id, &creds, req))
        .await??;
    let status = if out.registered {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(out)).into_response())
}

async fn agent_offers(
    State(s): State<AppState>,
    ApiPath(id): ApiPath,
    headers: HeaderMap,
    query: Result<Query<PollQuery>, QueryRejection>,
) -> Result<Json<Inbox>, ApiError> {
    let creds = credentials(&headers);
    let (wait, _) = poll_query(query, &s.limits)?;
    let deadline = Instant::now() + wait;
    let mut shutdown = s.shutdown.clone();
    loop {
        let force = Instant::now() >= deadline || is_shutting_down(&shutdown);
        let (id, creds) = (id.clone(), creds.clone());
        match s
            .actor
            .call(move |c| c.poll_offers(&id, &creds, force))
            .await??
        {
            Poll::Ready(out) => return Ok(Json(out)),
            Poll::Wait(mut rx) => wait_for_change(&mut rx, deadline, &mut shutdown).await,
        }
    }
}

async fn accept(
    State(s): State<AppState>,
    ApiPath(id): ApiPath,
    headers: HeaderMap,
) -> Result<Json<OfferAnswer>, ApiError> {
    let creds = credentials(&headers);
    Ok(Json(s.actor.call(move |c| c.accept(&id, &creds)).await??))
}

async fn decline(
    State(s): State<AppState>,
    ApiPath(id): ApiPath,
    headers: HeaderMap,
) -> Result<Json<OfferAnswer>, ApiError> {
    let creds = credentials(&headers);
    Ok(Json(s.actor.call(move |c| c.decline(&id, &creds)).await??))
}

// ----- operations -----

async fn stats(
    State(s): State<AppState>,
    query: Result<Query<StatsQuery>, QueryRejection>,
) -> Result<Json<Stats>, ApiError> {
    let Query(q) = query.map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad_query",
            format!("{}; use buckets=true or leave it out", e.body_text()),
        )
    })?;
    let buckets = q.buckets.unwrap_or(false);
    Ok(Json(s.actor.call(move |c| c.stats(buckets)).await?))
}

async fn metrics(State(s): State<AppState>) -> Result<Response, ApiError> {
    let snapshot = s.actor.call(|c| c.metrics_snapshot()).await?;
    let text = prom::render(snapshot).map_err(|e| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "metrics_failed",
            format!("the metrics could not be written: {e}"),
        )
    })?;
    Ok(([(header::CONTENT_TYPE, prom::CONTENT_TYPE)], text).into_response())
}

async fn healthz(State(s): State<AppState>) -> Result<Json<Health>, ApiError> {
    let uptime_secs = s.actor.call(|c| c.uptime_secs()).await?;
    Ok(Json(Health {
        status: "ok".to_string(),
        uptime_secs,
    }))
}

async fn not_found(request: Request) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "not_found",
        format!(
            "no route {} {}; see docs/api.md for the paths",
            request.method(),
            request.uri().path()
        ),
    )
}

async fn method_not_allowed(request: Request) -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        format!(
            "{} is not allowed on {}; see docs/api.md",
            request.method(),
            request.uri().path()
        ),
    )
}

// ----- request metrics -----

/// The `method` label: a standard method's name, `other` for the rest.
fn method_label(method: &Method) -> &'static str {
    const KNOWN: [Method; 7] = [
        Method::GET,
        Method::POST,
        Method::PUT,
        Method::PATCH,
        Method::DELETE,
        Method::HEAD,
        Method::OPTIONS,
    ];
    KNOWN
        .iter()
        .find(|m| *m == *method)
        .map_or("other", |m| m.as_str())
}

/// Middleware counting each request and its duration under its route template and status.
async fn track(State(telemetry): State<Arc<Telemetry>>, req: Request, next: Next) -> Response {
    let route = req.extensions().get::<MatchedPath>().cloned();
    let method = method_label(req.method());
    let start = Instant::now();
    let response = next.run(req).await;
    let route = route
        .as_ref()
        .map_or(telemetry::UNMATCHED_ROUTE, MatchedPath::as_str);
    telemetry.observe_request(
        method,
        route,
        response.status().as_str(),
        start.elapsed().as_secs_f64(),
    );
    response
}

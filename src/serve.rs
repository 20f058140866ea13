//! `semaforo serve`: the live pack behind an HTTP JSON API (axum on tokio).
//!
//! - `POST /v1/evaluate` — rows as JSON (`application/json`, an array of
//!   objects keyed by column header) or CSV (`text/csv`, in the pack's data
//!   format); answers the array `eval --format json` writes, with the pack
//!   that computed it in `X-Semaforo-Pack`, `X-Semaforo-Hash` and
//!   `X-Semaforo-Generation`.
//! - `GET /v1/pack` — id, version, hash, generation, indicators and the last
//!   refused reload, if the pack on disk is broken now.
//! - `GET /healthz` — `ok`.
//!
//! Each request takes one [`Snapshot`] and keeps it to the end, so a reload
//! never changes the rules under a request. Evaluation runs on tokio's
//! blocking pool. Bad requests are answered `{"error": {"kind", "message",
//! "field"?, "line"?, "column"?}}` with a 4xx status (see [`error`]).
//!
//! Every resource is bounded ([`Bounds`]): at most `max_concurrent`
//! evaluations — a request past it gets `503` with `Retry-After` before its
//! body is read, so only that many bodies are ever held; a slot is held
//! until its evaluation really ends, even when the client has gone or the
//! deadline answered it. Request heads must arrive within `header_timeout`,
//! which also closes idle keep-alive connections (hyper's header timer runs
//! from the previous response); bodies within `body_timeout` (`408`, the
//! connection closed); evaluations within `request_timeout` (`503`). At
//! most [`MAX_CONNECTIONS`] connections are open; past it, new ones wait in
//! the kernel's accept queue.

#[cfg(test)]
mod body_fuzz;
mod bounds;
mod error;
mod rows;

pub(crate) use bounds::{Bounds, duration};

use std::io;
use std::path::Path;
use std::pin::pin;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, FromRequest, Request, State};
use axum::http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use semaforo::{Cancel, LiveOptions, LiveRules, ReloadEvent, Snapshot};
use serde::Serialize;
use tokio::sync::Semaphore;

use error::ApiError;
use semaforo::report::{self, Format};

/// The name request data goes by in cell messages (`request.csv:3:2`).
const CSV_SOURCE: &str = "request.csv";
/// The name of JSON rows in cell messages: line 2 is row 0.
const JSON_SOURCE: &str = "rows as CSV";

/// Connections open at once; past it, new ones wait in the accept queue.
pub(crate) const MAX_CONNECTIONS: usize = 1024;

/// Serves the pack in `dir` on `addr` until Ctrl-C, reloading it whenever
/// its files change. Exit codes as for `eval`: 1 when the pack is invalid at
/// start, 2 when the address cannot be listened on.
///
/// # Errors
/// When the watcher, the runtime or the listener cannot start.
pub fn run(
    dir: &Path,
    addr: &str,
    require_tests: bool,
    bounds: Bounds,
) -> anyhow::Result<ExitCode> {
    let options = LiveOptions {
        require_tests,
        ..LiveOptions::default()
    };
    let live = match LiveRules::load(dir, semaforo::PLUGINS, options) {
        Ok(live) => live,
        Err(diagnostics) => return crate::refuse(&diagnostics),
    };
    let _watch = live.watch(log_reload)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(serve(live, dir, addr, bounds))?;
    Ok(ExitCode::SUCCESS)
}

/// Listens on `addr` and answers until Ctrl-C, then lets the requests in
/// flight finish (for at most the request timeout).
async fn serve(live: Arc<LiveRules>, dir: &Path, addr: &str, bounds: Bounds) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {addr}: {e}"))?;
    let snapshot = live.snapshot();
    eprintln!(
        "semaforo: serving {} from {}, generation {}",
        snapshot.rules.pack().identity(),
        dir.display(),
        snapshot.generation
    );
    eprintln!(
        "semaforo: {} evaluation(s) at once, bodies up to {} bytes",
        bounds.max_concurrent, bounds.max_body
    );
    eprintln!("semaforo: listening on http://{}", listener.local_addr()?);
    let app = router(live, bounds);
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(bounds.header_timeout);
    let connections = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    let graceful = GracefulShutdown::new();
    let mut stop = pin!(ctrl_c());
    loop {
        let slot = tokio::select! {
            slot = Arc::clone(&connections).acquire_owned() => slot?,
            () = &mut stop => break,
        };
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                // Out of file descriptors, or the peer left before accept: wait, go on.
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut stop => break,
        };
        let service = TowerToHyperService::new(app.clone());
        let connection = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            // A connection that fails (reset, timed out) has no one to tell.
            let _ = connection.await;
            drop(slot);
        });
    }
    drop(listener);
    let grace = bounds.request_timeout + Duration::from_secs(1);
    if tokio::time::timeout(grace, graceful.shutdown())
        .await
        .is_err()
    {
        eprintln!("semaforo: requests still in flight after {grace:?}; stopping anyway");
    }
    eprintln!("semaforo: stopped");
    Ok(())
}

/// What every request handler shares.
struct Server {
    live: Arc<LiveRules>,
    bounds: Bounds,
    /// One permit per evaluation in flight.
    evaluations: Arc<Semaphore>,
}

/// The API's routes over `live`, within `bounds`.
fn router(live: Arc<LiveRules>, bounds: Bounds) -> Router {
    let server = Arc::new(Server {
        live,
        bounds,
        evaluations: Arc::new(Semaphore::new(bounds.max_concurrent)),
    });
    Router::new()
        .route("/v1/evaluate", post(evaluate))
        .route("/v1/pack", get(pack))
        .route("/healthz", get(|| async { "ok" }))
        .fallback(|| async { ApiError::not_found() })
        .method_not_allowed_fallback(|| async { ApiError::method_not_allowed() })
        .layer(DefaultBodyLimit::max(bounds.max_body))
        .with_state(server)
}

/// Resolves on Ctrl-C; never, where that signal cannot be listened for.
async fn ctrl_c() {
    if tokio::signal::ctrl_c().await.is_err() {
        std::future::pending::<()>().await;
    }
    eprintln!("semaforo: shutting down after the requests in flight");
}

/// Reports each published version and each refused reload on stderr.
fn log_reload(event: ReloadEvent) {
    match event {
        ReloadEvent::Published(snapshot) => eprintln!(
            "semaforo: generation {} live: {}",
            snapshot.generation,
            snapshot.rules.pack().identity()
        ),
        ReloadEvent::Refused(failure) => {
            let mut err = io::stderr().lock();
            // A log line that cannot be written has nowhere else to go.
            let _ = crate::render::diagnostics(failure.diagnostics.iter(), &mut err);
            eprintln!(
                "semaforo: reload refused ({} error(s)); generation {} keeps serving",
                failure.diagnostics.error_count(),
                failure.serving
            );
        }
        _ => {}
    }
}

/// `POST /v1/evaluate`: checks what it can from the head, takes an
/// evaluation slot (else `503` with the body unread), reads the body within
/// the body timeout, and evaluates within the request timeout.
async fn evaluate(
    State(server): State<Arc<Server>>,
    request: Request,
) -> Result<Response, ApiError> {
    let bounds = server.bounds;
    let kind = BodyKind::of(request.headers())?;
    let declared = request
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|length| length > bounds.max_body as u64) {
        return Err(ApiError::too_large());
    }
    let slot = Arc::clone(&server.evaluations)
        .try_acquire_owned()
        .map_err(|_| ApiError::busy(bounds.max_concurrent))?;
    let body = tokio::time::timeout(bounds.body_timeout, Bytes::from_request(request, &()))
        .await
        .map_err(|_| ApiError::body_timeout(bounds.body_timeout))?
        .map_err(ApiError::body)?;
    let snapshot = server.live.snapshot();
    // Fired when this future ends: answered, past the deadline, or dropped
    // because the client left; the evaluation also stops by itself at the
    // deadline.
    let abandon = Abandon::until(Instant::now() + bounds.request_timeout);
    let abandoned = abandon.cancel();
    // The slot goes with the evaluation: it is free only once the work ends,
    // even when the deadline has answered the client or the client has left.
    let evaluation = tokio::task::spawn_blocking(move || {
        let answer = evaluate_body(&snapshot, kind, &body, &abandoned);
        drop(slot);
        answer
    });
    match tokio::time::timeout(bounds.request_timeout, evaluation).await {
        Ok(Ok(answer)) => answer,
        Ok(Err(_)) => Err(ApiError::internal("the evaluation stopped unexpectedly")),
        Err(_) => Err(ApiError::deadline(bounds.request_timeout)),
    }
}

/// What a request body holds, from its `Content-Type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BodyKind {
    Json,
    Csv,
}

impl BodyKind {
    fn of(headers: &HeaderMap) -> Result<Self, ApiError> {
        let Some(value) = headers.get(CONTENT_TYPE) else {
            return Err(ApiError::unsupported_media_type(None));
        };
        let text = value.to_str().unwrap_or_default();
        let essence = text.split(';').next().unwrap_or_default().trim();
        if essence.eq_ignore_ascii_case("application/json") {
            Ok(Self::Json)
        } else if essence.eq_ignore_ascii_case("text/csv") {
            Ok(Self::Csv)
        } else {
            Err(ApiError::unsupported_media_type(Some(text)))
        }
    }
}

/// Reads the body with the snapshot's pack, evaluates it, and answers the
/// JSON report. Once `abandoned` fires no one is waiting for the answer:
/// the evaluation stops mid-table (its remaining cells cancelled) and the
/// stages after it are skipped.
fn evaluate_body(
    snapshot: &Snapshot,
    kind: BodyKind,
    body: &[u8],
    abandoned: &Cancel,
) -> Result<Response, ApiError> {
    let rules = &snapshot.rules;
    let table = match kind {
        BodyKind::Csv => semaforo::read_data_from(rules, &mut &body[..], CSV_SOURCE),
        BodyKind::Json => {
            let rows = rows::to_records(body, rules.pack().data_shape())?;
            semaforo::read_records(rules, &rows.header, &rows.records, JSON_SOURCE)
        }
    }
    .map_err(ApiError::data)?;
    if abandoned.is_cancelled() {
        return Err(ApiError::abandoned());
    }
    let results = semaforo::evaluate_with(rules, &table, abandoned);
    if abandoned.is_cancelled() {
        return Err(ApiError::abandoned());
    }
    let mut json = Vec::new();
    report::write(
        &results,
        Format::Json,
        &report::Origin::now("request body"),
        &mut json,
    )
    .map_err(|e| ApiError::internal(&format!("cannot write the results: {e}")))?;
    Ok(json_response(StatusCode::OK, snapshot, json))
}

/// Cancels a request's evaluation when dropped: the handler's future
/// ended, because it answered, its deadline passed, or the client left
/// (hyper drops the future of a closed connection).
#[derive(Debug, Default)]
struct Abandon(Cancel);

impl Abandon {
    /// An evaluation that also stops by itself at `deadline`.
    fn until(deadline: Instant) -> Self {
        Self(Cancel::with_deadline(deadline))
    }

    /// The token the evaluation watches.
    fn cancel(&self) -> Cancel {
        self.0.clone()
    }
}

impl Drop for Abandon {
    fn drop(&mut self) {
        self.0.cancel();
    }
}

/// `GET /v1/pack`.
async fn pack(State(server): State<Arc<Server>>) -> Response {
    let live = &server.live;
    let snapshot = live.snapshot();
    let pack = snapshot.rules.pack();
    let identity = pack.identity();
    let info = PackInfo {
        id: &identity.id,
        version: &identity.version,
        hash: &identity.content_hash,
        generation: snapshot.generation,
        indicators: pack
            .indicators()
            .iter()
            .map(|i| IndicatorInfo {
                id: &i.id,
                name: &i.name,
                unit: i.unit.as_str(),
                direction: i.direction.as_str(),
                standard: i.standard.map(report::standard_text),
            })
            .collect(),
        last_reload_error: live.last_error().map(|failure| ReloadError {
            serving_generation: failure.serving,
            errors: failure
                .diagnostics
                .iter()
                .map(ToString::to_string)
                .collect(),
        }),
    };
    let mut json = serde_json::to_vec_pretty(&info).unwrap_or_default();
    json.push(b'\n');
    json_response(StatusCode::OK, &snapshot, json)
}

/// The body of `GET /v1/pack`.
#[derive(Serialize)]
struct PackInfo<'a> {
    id: &'a str,
    version: &'a str,
    hash: &'a str,
    generation: u64,
    indicators: Vec<IndicatorInfo<'a>>,
    last_reload_error: Option<ReloadError>,
}

#[derive(Serialize)]
struct IndicatorInfo<'a> {
    id: &'a str,
    name: &'a str,
    unit: &'static str,
    direction: &'static str,
    standard: Option<String>,
}

/// The refused reload: the generation still serving and every diagnostic,
/// one `path:line:col: error[SEMnnn]: message` line each.
#[derive(Serialize)]
struct ReloadError {
    serving_generation: u64,
    errors: Vec<String>,
}

/// A JSON response naming the pack version that produced it.
fn json_response(status: StatusCode, snapshot: &Snapshot, json: Vec<u8>) -> Response {
    let identity = snapshot.rules.pack().identity();
    let mut response = (status, [(CONTENT_TYPE, "application/json")], json).into_response();
    let headers = response.headers_mut();
    for (name, value) in [
        (
            "x-semaforo-pack",
            format!("{} {}", identity.id, identity.version),
        ),
        ("x-semaforo-hash", identity.content_hash.clone()),
        ("x-semaforo-generation", snapshot.generation.to_string()),
    ] {
        // A pack id with control characters cannot be a header; the body still names it.
        if let Ok(value) = HeaderValue::from_bytes(value.as_bytes()) {
            headers.insert(HeaderName::from_static(name), value);
        }
    }
    response
}

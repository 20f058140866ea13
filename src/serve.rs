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

mod error;
mod rows;

use std::io;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use semaforo::{LiveOptions, LiveRules, ReloadEvent, Snapshot};
use serde::Serialize;

use error::ApiError;
use semaforo::report::{self, Format};

/// The name request data goes by in cell messages (`request.csv:3:2`).
const CSV_SOURCE: &str = "request.csv";
/// The name of JSON rows turned into CSV: line 2 is row 0.
const JSON_SOURCE: &str = "rows as CSV";

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
    max_body: usize,
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
    runtime.block_on(serve(live, dir, addr, max_body))?;
    Ok(ExitCode::SUCCESS)
}

/// Listens on `addr` and answers until Ctrl-C.
async fn serve(
    live: Arc<LiveRules>,
    dir: &Path,
    addr: &str,
    max_body: usize,
) -> anyhow::Result<()> {
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
    eprintln!("semaforo: listening on http://{}", listener.local_addr()?);
    axum::serve(listener, router(live, max_body))
        .with_graceful_shutdown(ctrl_c())
        .await?;
    eprintln!("semaforo: stopped");
    Ok(())
}

/// The API's routes over `live`, request bodies limited to `max_body` bytes.
fn router(live: Arc<LiveRules>, max_body: usize) -> Router {
    Router::new()
        .route("/v1/evaluate", post(evaluate))
        .route("/v1/pack", get(pack))
        .route("/healthz", get(|| async { "ok" }))
        .fallback(|| async { ApiError::not_found() })
        .method_not_allowed_fallback(|| async { ApiError::method_not_allowed() })
        .layer(DefaultBodyLimit::max(max_body))
        .with_state(live)
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

/// `POST /v1/evaluate`.
async fn evaluate(
    State(live): State<Arc<LiveRules>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let body = body.map_err(ApiError::body)?;
    let kind = BodyKind::of(&headers)?;
    let snapshot = live.snapshot();
    tokio::task::spawn_blocking(move || evaluate_body(&snapshot, kind, &body))
        .await
        .map_err(|_| ApiError::internal("the evaluation stopped unexpectedly"))?
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
/// JSON report.
fn evaluate_body(snapshot: &Snapshot, kind: BodyKind, body: &[u8]) -> Result<Response, ApiError> {
    let rules = &snapshot.rules;
    let table = match kind {
        BodyKind::Csv => semaforo::read_data_from(rules, &mut &body[..], CSV_SOURCE),
        BodyKind::Json => {
            let csv = rows::to_csv(body, rules.pack().data_shape())?;
            semaforo::read_data_from(rules, &mut csv.as_slice(), JSON_SOURCE)
        }
    }
    .map_err(ApiError::data)?;
    let results = semaforo::evaluate(rules, &table);
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

/// `GET /v1/pack`.
async fn pack(State(live): State<Arc<LiveRules>>) -> Response {
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

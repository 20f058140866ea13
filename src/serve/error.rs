//! The API's answer to a request it cannot serve: a 4xx (or 500) status and
//! `{"error": {"kind", "message", "field"?, "line"?, "column"?}}`, `kind` a
//! stable word, `field` the JSON path or column the problem is in.

use std::time::Duration;

use axum::extract::rejection::BytesRejection;
use axum::http::header::{CONNECTION, CONTENT_TYPE, RETRY_AFTER};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use semaforo::DataError;
use serde::Serialize;

/// Why a request was refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct ApiError {
    #[serde(skip)]
    pub status: StatusCode,
    /// Stable, machine-readable: `malformed_json`, `not_an_object`, …
    pub kind: &'static str,
    /// For people: what is wrong and, where it helps, what to send instead.
    pub message: String,
    /// The JSON path (`$[3].loans`) or column the problem is in.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// 1-based line of the body, for malformed JSON and unreadable CSV.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
    /// 1-based column of the body in characters, for malformed JSON.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<u64>,
    /// Seconds after which the request may be sent again (`Retry-After`).
    #[serde(skip)]
    pub retry_after: Option<u32>,
    /// Close the connection after answering (its body may be unread).
    #[serde(skip)]
    pub close: bool,
}

impl ApiError {
    /// A 400 of `kind`.
    pub fn bad_request(kind: &'static str, message: String) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            kind,
            message,
            field: None,
            line: None,
            column: None,
            retry_after: None,
            close: false,
        }
    }

    /// Names the field the problem is in.
    #[must_use]
    pub fn at_field(mut self, field: String) -> Self {
        self.field = Some(field);
        self
    }

    pub fn not_found() -> Self {
        Self {
            status: StatusCode::NOT_FOUND,
            ..Self::bad_request(
                "not_found",
                "no such resource; the API has POST /v1/evaluate, GET /v1/pack and GET /healthz"
                    .to_owned(),
            )
        }
    }

    pub fn method_not_allowed() -> Self {
        Self {
            status: StatusCode::METHOD_NOT_ALLOWED,
            ..Self::bad_request(
                "method_not_allowed",
                "method not allowed here; the API has POST /v1/evaluate, GET /v1/pack and GET /healthz"
                    .to_owned(),
            )
        }
    }

    /// The `Content-Type` is missing (`None`) or neither JSON nor CSV.
    pub fn unsupported_media_type(content_type: Option<&str>) -> Self {
        let got = content_type.map_or_else(
            || "no Content-Type".to_owned(),
            |t| format!("Content-Type `{t}`"),
        );
        Self {
            status: StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ..Self::bad_request(
                "unsupported_media_type",
                format!(
                    "send rows as `application/json` (an array of objects) or `text/csv` (the pack's data format); got {got}"
                ),
            )
            .at_field("Content-Type".to_owned())
        }
    }

    /// The body is larger than `--max-body`: said by its `Content-Length`
    /// before it is read, or found while reading it.
    pub fn too_large() -> Self {
        Self {
            status: StatusCode::PAYLOAD_TOO_LARGE,
            close: true,
            ..Self::bad_request(
                "body_too_large",
                "the request body is larger than this server accepts (--max-body); send fewer rows per request".to_owned(),
            )
        }
    }

    /// Every evaluation slot is taken (`--max-concurrent`): refused before
    /// the body is read.
    pub fn busy(max_concurrent: usize) -> Self {
        Self {
            status: StatusCode::SERVICE_UNAVAILABLE,
            retry_after: Some(1),
            close: true,
            ..Self::bad_request(
                "busy",
                format!(
                    "the server is already evaluating {max_concurrent} request(s) (--max-concurrent); send it again after the Retry-After seconds"
                ),
            )
        }
    }

    /// The body did not arrive whole within `--body-timeout`.
    pub fn body_timeout(limit: Duration) -> Self {
        Self {
            status: StatusCode::REQUEST_TIMEOUT,
            close: true,
            ..Self::bad_request(
                "body_timeout",
                format!(
                    "the request body did not arrive whole within {} (--body-timeout); send it in one go, or fewer rows per request",
                    seconds(limit)
                ),
            )
        }
    }

    /// The evaluation did not finish within `--request-timeout`.
    pub fn deadline(limit: Duration) -> Self {
        Self {
            status: StatusCode::SERVICE_UNAVAILABLE,
            ..Self::bad_request(
                "evaluation_timeout",
                format!(
                    "the evaluation did not finish within {} (--request-timeout); send fewer rows per request",
                    seconds(limit)
                ),
            )
        }
    }

    /// No one waits for the answer any more (the client left, or the
    /// deadline answered); never sent.
    pub fn abandoned() -> Self {
        Self {
            status: StatusCode::SERVICE_UNAVAILABLE,
            ..Self::bad_request("abandoned", "the request was abandoned".to_owned())
        }
    }

    /// The body could not be received: too large, or the connection failed.
    pub fn body(rejection: BytesRejection) -> Self {
        let status = rejection.status();
        if status == StatusCode::PAYLOAD_TOO_LARGE {
            Self::too_large()
        } else {
            Self {
                status,
                ..Self::bad_request("unreadable_body", rejection.body_text())
            }
        }
    }

    /// The data could not be read at all (bad cells are not errors: they
    /// become cell errors in the results).
    pub fn data(error: DataError) -> Self {
        match &error {
            DataError::Csv { line, .. } => Self {
                line: Some(*line),
                ..Self::bad_request("unreadable_csv", error.to_string())
            },
            DataError::MissingKeyColumn { column, .. } => {
                Self::bad_request("missing_column", error.to_string()).at_field(column.clone())
            }
            _ => Self::bad_request("unreadable_data", error.to_string()),
        }
    }

    /// Something on the server's side failed; the request may be retried.
    pub fn internal(message: &str) -> Self {
        Self {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            ..Self::bad_request("internal", message.to_owned())
        }
    }
}

/// `30 s`, `500 ms`.
fn seconds(limit: Duration) -> String {
    if limit.subsec_millis() == 0 {
        format!("{} s", limit.as_secs())
    } else {
        format!("{} ms", limit.as_millis())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        #[derive(Serialize)]
        struct Body<'a> {
            error: &'a ApiError,
        }
        let mut json = serde_json::to_vec(&Body { error: &self }).unwrap_or_default();
        json.push(b'\n');
        let mut response =
            (self.status, [(CONTENT_TYPE, "application/json")], json).into_response();
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(RETRY_AFTER, HeaderValue::from(seconds));
        }
        if self.close {
            response
                .headers_mut()
                .insert(CONNECTION, HeaderValue::from_static("close"));
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unreadable_data_names_its_line_or_column() {
        let csv = ApiError::data(DataError::Csv {
            source_name: "request.csv".to_owned(),
            line: 3,
            message: "the header has no `code` column".to_owned(),
        });
        assert_eq!(
            (csv.status, csv.kind, csv.line),
            (StatusCode::BAD_REQUEST, "unreadable_csv", Some(3))
        );
        assert!(
            csv.message.starts_with("request.csv:3: "),
            "{}",
            csv.message
        );

        let missing = ApiError::data(DataError::MissingKeyColumn {
            source_name: "request.csv".to_owned(),
            column: "period".to_owned(),
            role: "period",
        });
        assert_eq!(
            (missing.kind, missing.field.as_deref()),
            ("missing_column", Some("period"))
        );
    }
}

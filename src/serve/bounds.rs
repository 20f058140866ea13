//! What `semaforo serve` bounds: body size, evaluations at once, and how
//! long a request head, a body and an evaluation may take.

use std::time::Duration;

/// The resource bounds of the server (see the `serve` flags).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Bounds {
    /// Largest request body, in bytes (`413` past it).
    pub max_body: usize,
    /// Evaluations at once (`503` with `Retry-After` past it, body unread).
    pub max_concurrent: usize,
    /// From a connection's start, or its previous response, to a complete
    /// request head; an idle keep-alive connection is closed after it too.
    pub header_timeout: Duration,
    /// To receive a whole body once its head is in (`408`, connection closed).
    pub body_timeout: Duration,
    /// To evaluate a request once its body is in (`503`).
    pub request_timeout: Duration,
}

impl Bounds {
    /// Evaluations at once by default: one per core, as evaluation is CPU-bound.
    pub fn default_concurrency() -> usize {
        std::thread::available_parallelism().map_or(2, std::num::NonZero::get)
    }
}

/// Parses a duration flag: `30` or `30s` (seconds), `500ms`; more than zero.
///
/// # Errors
/// A message for clap when the text is not such a duration.
pub(crate) fn duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let (number, unit) = match text.strip_suffix("ms") {
        Some(number) => (number, Duration::from_millis(1)),
        None => (
            text.strip_suffix('s').unwrap_or(text),
            Duration::from_secs(1),
        ),
    };
    let wrong = || {
        format!("`{text}` is not a duration: write seconds (`30`, `30s`) or milliseconds (`500ms`)")
    };
    let count: u32 = number.trim().parse().map_err(|_| wrong())?;
    if count == 0 {
        return Err(format!("`{text}`: a timeout must be longer than zero"));
    }
    Ok(unit * count)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_are_seconds_or_milliseconds() {
        assert_eq!(duration("30"), Ok(Duration::from_secs(30)));
        assert_eq!(duration("2s"), Ok(Duration::from_secs(2)));
        assert_eq!(duration("500ms"), Ok(Duration::from_millis(500)));
        assert!(duration("0").unwrap_err().contains("longer than zero"));
        assert!(duration("1.5s").unwrap_err().contains("not a duration"));
        assert!(duration("-3").is_err());
    }
}

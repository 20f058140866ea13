//! Stopping an evaluation early: a [`Cancel`] is shared between the caller
//! (a server whose client went away, a request past its deadline) and the
//! threads evaluating, which look at it between chunks of rows and, inside a
//! running formula, every [`crate::pack::limits::TIME_CHECK_EVERY`] operations.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

/// A request to stop an evaluation early, shared between threads (cheap to clone).
///
/// ```
/// use std::time::{Duration, Instant};
/// use semaforo_core::Cancel;
/// let cancel = Cancel::new();
/// let handle = cancel.clone();
/// assert!(!cancel.is_cancelled());
/// handle.cancel();
/// assert!(cancel.is_cancelled());
/// assert!(Cancel::with_deadline(Instant::now() - Duration::from_secs(1)).is_cancelled());
/// ```
#[derive(Clone, Debug, Default)]
pub struct Cancel {
    flag: Arc<AtomicBool>,
    deadline: Option<Instant>,
}

impl Cancel {
    /// A cancel that fires only when [`Cancel::cancel`] is called.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// A cancel that also fires once `deadline` has passed.
    #[must_use]
    pub fn with_deadline(deadline: Instant) -> Self {
        Self {
            flag: Arc::default(),
            deadline: Some(deadline),
        }
    }

    /// Asks every evaluation sharing this cancel to stop.
    pub fn cancel(&self) {
        self.flag.store(true, Ordering::Relaxed);
    }

    /// Whether [`Cancel::cancel`] was called or the deadline has passed.
    #[must_use]
    pub fn is_cancelled(&self) -> bool {
        self.flag.load(Ordering::Relaxed) || self.deadline.is_some_and(|d| Instant::now() >= d)
    }
}

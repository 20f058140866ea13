//! The watchdog of running formulas: rhai calls [`progress`] at every
//! operation; it stops the formula when the thread's stack is nearly used
//! up, and every [`TIME_CHECK_EVERY`] operations when the cell has run past
//! its time budget or the evaluation was cancelled. What it needs per
//! thread (the evaluation's [`Cancel`], the cell's start) lives in
//! thread-locals, set by [`watching`] around each chunk of work.

use std::cell::{Cell, RefCell};
use std::time::{Duration, Instant};

use rhai::Dynamic;

use crate::compile::cancel::Cancel;
use crate::pack::limits::TIME_CHECK_EVERY;

/// Why the watchdog stopped a formula (the token of rhai's `ErrorTerminated`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stop {
    /// The cell ran past `max_cell_time_ms`.
    Time,
    /// The evaluation's [`Cancel`] fired.
    Cancelled,
    /// The stack left is down to the red zone.
    Stack,
}

thread_local! {
    /// The cancel of the evaluation this thread is working for.
    static CANCEL: RefCell<Option<Cancel>> = const { RefCell::new(None) };
    /// When the running cell's clock started (at its first check).
    static STARTED: Cell<Option<Instant>> = const { Cell::new(None) };
}

/// Runs `work` with `cancel` as this thread's evaluation's cancel, then
/// restores the one before (work can nest: a stream's batch evaluates a table).
pub(crate) fn watching<T>(cancel: &Cancel, work: impl FnOnce() -> T) -> T {
    let before = CANCEL.with(|c| c.replace(Some(cancel.clone())));
    let result = work();
    CANCEL.with(|c| *c.borrow_mut() = before);
    result
}

/// Whether this thread's evaluation was cancelled.
pub(crate) fn cancelled() -> bool {
    CANCEL.with(|c| c.borrow().as_ref().is_some_and(Cancel::is_cancelled))
}

/// rhai's progress callback: `Some(stop)` ends the formula with
/// `ErrorTerminated(stop)`.
///
/// The stack check runs at every operation (a read of the stack pointer);
/// the clock and the cancel are read every [`TIME_CHECK_EVERY`] operations.
/// The cell's clock starts at its first check: rhai counts operations from
/// zero for every evaluation, so operation [`TIME_CHECK_EVERY`] is the first
/// check of a new cell, and the cell's first operations before it are not
/// timed (they are at most that many).
pub(crate) fn progress(operations: u64, budget: Duration, red_zone: usize) -> Option<Dynamic> {
    if stacker::remaining_stack().is_some_and(|left| left < red_zone) {
        return Some(Dynamic::from(Stop::Stack));
    }
    if !operations.is_multiple_of(TIME_CHECK_EVERY) {
        return None;
    }
    let now = Instant::now();
    let started = match STARTED.get() {
        Some(started) if operations != TIME_CHECK_EVERY => started,
        _ => {
            STARTED.set(Some(now));
            now
        }
    };
    if now.duration_since(started) > budget {
        return Some(Dynamic::from(Stop::Time));
    }
    cancelled().then(|| Dynamic::from(Stop::Cancelled))
}

//! Sandbox limits for formulas: administrators write them, so every
//! evaluation is bounded in time, operations, call depth, expression depth
//! and data sizes — and every bound has a safe range, checked when the pack
//! loads, so no value can turn a limit off (rhai reads 0 as "unlimited") or
//! let a formula reach past the native stack.

use std::ops::RangeInclusive;
use std::time::Duration;

use rhai::Engine;

/// Bounds applied to every formula evaluation.
///
/// Each field has a safe range ([`Limits::RANGES`]); `[limits]` keys
/// outside it are refused when the pack loads (`SEM015`).
///
/// ```
/// use semaforo_core::Limits;
/// let limits = Limits::default();
/// assert_eq!(limits.max_operations, 1_000_000);
/// assert_eq!(limits.max_cell_time_ms, 1_000);
/// assert!(limits.max_expr_depth >= 1_000, "a flat sum of 1,000 terms compiles");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Operations one cell may run before it is stopped (a `loop {}` hits
    /// this). Range 1–1,000,000,000; default 1,000,000.
    pub max_operations: u64,
    /// Depth of nested script-function calls (deep recursion hits this).
    /// Range 1–128, default 32: the evaluation stack is sized for it.
    pub max_call_levels: usize,
    /// Depth of nested expressions in one formula or `.rhai` function,
    /// checked when compiling; a flat sum `a + b + …` counts one level per
    /// term. Range 1–3,000, default 1,500: the stack is sized for it.
    pub max_expr_depth: usize,
    /// Longest string a formula may build, in bytes. Range 1–1,048,576,
    /// default 4,096.
    pub max_string_size: usize,
    /// Largest array a formula may build (elements, nested arrays
    /// included). Range 1–20,000, default 10,000.
    pub max_array_size: usize,
    /// Largest object map a formula may build (entries, nested maps
    /// included). Range 1–20,000, default 1,000.
    pub max_map_size: usize,
    /// Wall-clock time one cell's formula may run, in milliseconds,
    /// checked every [`TIME_CHECK_EVERY`] operations. Range 1–60,000,
    /// default 1,000.
    pub max_cell_time_ms: u64,
}

/// How often (in rhai operations) a running formula looks at the clock and
/// at its evaluation's [`crate::Cancel`].
pub const TIME_CHECK_EVERY: u64 = 256;

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_operations: 1_000_000,
            max_call_levels: 32,
            max_expr_depth: 1_500,
            max_string_size: 4_096,
            max_array_size: 10_000,
            max_map_size: 1_000,
            max_cell_time_ms: 1_000,
        }
    }
}

/// Native stack one level of expression nesting may use, parsing or
/// evaluating: measured at most 13.3 KiB (evaluating a long sum) in a debug
/// build and 1.6 KiB in release (`tests/limits.rs`,
/// `stack_per_level_fits_the_reserve`), with a margin.
const STACK_PER_EXPR_LEVEL: usize = 20 << 10;
/// Native stack one level of script-function calls uses: measured 36 KiB
/// in debug, 4.5 KiB in release, with a margin.
const STACK_PER_CALL_LEVEL: usize = 48 << 10;
/// Native stack one level of nested arrays or maps uses when rhai sizes,
/// copies or drops them: measured under 1.6 KiB in debug.
const STACK_PER_NESTED_VALUE: usize = 2 << 10;
/// The rest: the evaluator's own frames, plugin functions, the caller.
const STACK_BASE: usize = 1 << 20;
/// Room for the frames between where a thread starts (or a stack segment
/// begins) and where formulas run.
pub const STACK_SLACK: usize = 1 << 20;

impl Limits {
    /// Every `[limits]` key with its safe range, in the order of the fields.
    pub const RANGES: [(&'static str, RangeInclusive<u64>); 7] = [
        ("max_operations", 1..=1_000_000_000),
        ("max_call_levels", 1..=128),
        ("max_expr_depth", 1..=3_000),
        ("max_string_size", 1..=1_048_576),
        ("max_array_size", 1..=20_000),
        ("max_map_size", 1..=20_000),
        ("max_cell_time_ms", 1..=60_000),
    ];

    /// The largest limits allowed: every key at the top of its range.
    #[must_use]
    pub fn largest() -> Self {
        let top = |key: &str| {
            Self::RANGES
                .iter()
                .find(|(k, _)| *k == key)
                .map_or(0, |(_, r)| *r.end())
        };
        let size = |key: &str| usize::try_from(top(key)).unwrap_or(usize::MAX);
        Self {
            max_operations: top("max_operations"),
            max_call_levels: size("max_call_levels"),
            max_expr_depth: size("max_expr_depth"),
            max_string_size: size("max_string_size"),
            max_array_size: size("max_array_size"),
            max_map_size: size("max_map_size"),
            max_cell_time_ms: top("max_cell_time_ms"),
        }
    }

    /// Checks one `[limits]` value against its key's range.
    ///
    /// # Errors
    /// The message to show at the value: the key, the value and the range.
    ///
    /// ```
    /// use semaforo_core::Limits;
    /// assert!(Limits::check("max_call_levels", 64).is_ok());
    /// let message = Limits::check("max_operations", 0).unwrap_err();
    /// assert!(message.contains("from 1 to 1000000000"), "{message}");
    /// ```
    pub fn check(key: &str, value: u64) -> Result<(), String> {
        let Some((_, range)) = Self::RANGES.iter().find(|(k, _)| *k == key) else {
            return Err(format!("`{key}` is not a limit"));
        };
        if range.contains(&value) {
            return Ok(());
        }
        let why = match key {
            "max_call_levels" | "max_expr_depth" => {
                "deeper formulas could overflow the native stack"
            }
            _ if value == 0 => "0 would turn the limit off",
            _ => "larger values could exhaust memory or time",
        };
        Err(format!(
            "limits.{key} = {value} is out of range: it must be from {} to {} ({why})",
            range.start(),
            range.end()
        ))
    }

    /// The wall-clock budget of one cell.
    #[must_use]
    pub fn cell_time(&self) -> Duration {
        Duration::from_millis(self.max_cell_time_ms)
    }

    /// Native stack that compiling or evaluating formulas under these
    /// limits may need: what Semáforo makes sure a thread has before it
    /// compiles or evaluates (see [`Self::red_zone`] for the rest).
    ///
    /// ```
    /// use semaforo_core::Limits;
    /// assert!(Limits::largest().stack_size() < 128 << 20);
    /// ```
    ///
    /// It includes [`STACK_SLACK`] for the caller's own frames: a thread
    /// with a stack this size (e.g. rayon's `stack_size`) never needs a
    /// segment of its own.
    #[must_use]
    pub fn stack_size(&self) -> usize {
        self.stack_needed().saturating_add(STACK_SLACK)
    }

    /// What must be left on the stack where formulas start.
    fn stack_needed(&self) -> usize {
        STACK_BASE
            .saturating_add(self.max_expr_depth.saturating_mul(STACK_PER_EXPR_LEVEL))
            .saturating_add(self.max_call_levels.saturating_mul(STACK_PER_CALL_LEVEL))
            .saturating_add(self.red_zone())
    }

    /// Stack a running formula always keeps free: deeper recursion than
    /// that (e.g. deeply nested expressions inside every level of a
    /// recursive function) stops the formula with a `limit_exceeded` error
    /// before it can reach the end of the stack. Covers what rhai does
    /// without counting an operation: sizing, copying and dropping nested
    /// arrays and maps.
    #[must_use]
    pub fn red_zone(&self) -> usize {
        let nesting = self.max_array_size.max(self.max_map_size);
        (256_usize << 10).saturating_add(nesting.saturating_mul(STACK_PER_NESTED_VALUE))
    }

    pub(crate) fn apply(&self, engine: &mut Engine) {
        engine
            .set_max_operations(self.max_operations)
            .set_max_call_levels(self.max_call_levels)
            .set_max_expr_depths(self.max_expr_depth, self.max_expr_depth)
            .set_max_string_size(self.max_string_size)
            .set_max_array_size(self.max_array_size)
            .set_max_map_size(self.max_map_size);
    }
}

/// Runs `work` on a stack of at least `limits.stack_size()` bytes: on the
/// current thread's when it has that much left, else on a new segment
/// (allocated, used, freed), so formulas under the pack's limits never
/// reach the end of whatever thread calls Semáforo.
///
/// A new segment has [`STACK_SLACK`] more than is needed, so work that
/// checks again inside it (a chunk, then a cell) stays on it.
pub(crate) fn with_stack<T>(limits: &Limits, work: impl FnOnce() -> T) -> T {
    stacker::maybe_grow(limits.stack_needed(), limits.stack_size(), work)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_inside_their_ranges() {
        let d = Limits::default();
        let values = [
            d.max_operations,
            d.max_call_levels as u64,
            d.max_expr_depth as u64,
            d.max_string_size as u64,
            d.max_array_size as u64,
            d.max_map_size as u64,
            d.max_cell_time_ms,
        ];
        for ((key, _), value) in Limits::RANGES.iter().zip(values) {
            assert_eq!(Limits::check(key, value), Ok(()), "{key}");
        }
    }

    #[test]
    fn zero_and_huge_values_are_refused_with_the_range() {
        for (key, range) in &Limits::RANGES {
            assert!(Limits::check(key, 0).is_err(), "{key} = 0");
            let message = Limits::check(key, range.end() + 1).unwrap_err();
            assert!(
                message.contains(&format!("from 1 to {}", range.end())),
                "{message}"
            );
        }
        assert_eq!(
            Limits::check("max_call_levels", 1000).unwrap_err(),
            "limits.max_call_levels = 1000 is out of range: it must be from 1 to 128 \
             (deeper formulas could overflow the native stack)"
        );
        assert_eq!(
            Limits::check("max_operations", 0).unwrap_err(),
            "limits.max_operations = 0 is out of range: it must be from 1 to 1000000000 \
             (0 would turn the limit off)"
        );
    }

    #[test]
    fn the_largest_limits_need_a_bounded_stack() {
        let largest = Limits::largest();
        assert_eq!(largest.max_call_levels, 128);
        assert_eq!(largest.max_expr_depth, 3_000);
        assert!(largest.stack_size() > Limits::default().stack_size());
        assert!(largest.stack_size() < 128 << 20);
    }
}

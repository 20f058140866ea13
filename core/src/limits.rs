//! Sandbox limits for formulas: administrators write them, so every
//! evaluation is bounded in operations, call depth, expression depth and
//! data sizes.

use rhai::Engine;

/// Bounds applied to every formula evaluation.
///
/// ```
/// use semaforo_core::Limits;
/// let limits = Limits::default();
/// assert_eq!(limits.max_operations, 1_000_000);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Operations one cell may run before it is stopped (a `loop {}` hits this).
    pub max_operations: u64,
    /// Depth of nested function calls (deep recursion hits this).
    pub max_call_levels: usize,
    /// Depth of nested expressions in one formula, checked when compiling.
    pub max_expr_depth: usize,
    /// Longest string a formula may build, in bytes.
    pub max_string_size: usize,
    /// Largest array a formula may build.
    pub max_array_size: usize,
    /// Largest object map a formula may build.
    pub max_map_size: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_operations: 1_000_000,
            max_call_levels: 32,
            max_expr_depth: 64,
            max_string_size: 4_096,
            max_array_size: 10_000,
            max_map_size: 1_000,
        }
    }
}

impl Limits {
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

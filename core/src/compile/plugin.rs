//! The plugin mechanism: a plugin is a Rust crate, registered statically,
//! that adds rhai functions to the engines of the packs that declare it.
//!
//! The core knows no plugin by name; the binary lists them (see the
//! `semaforo` crate's `PLUGINS`) and passes them to [`crate::compile`].

use rhai::Engine;

use crate::compile::inputs::InputFunction;
use crate::data::reader::DataReader;

/// A domain plugin: a name packs refer to, and what it registers.
///
/// ```
/// use semaforo_core::{Plugin, Registry};
/// use semaforo_core::rhai::Dynamic;
/// use rust_decimal::Decimal;
///
/// /// Adds `double(x)`.
/// struct Doubler;
/// impl Plugin for Doubler {
///     fn name(&self) -> &'static str { "doubler" }
///     fn description(&self) -> &'static str { "double(x) = 2x" }
///     fn register(&self, registry: &mut Registry<'_>) {
///         registry.engine().register_fn("double", |x: Decimal| x * Decimal::TWO);
///     }
/// }
/// assert_eq!(Doubler.name(), "doubler");
/// ```
pub trait Plugin: Sync {
    /// The name a pack lists under `pack.plugins`.
    fn name(&self) -> &'static str;
    /// One line saying what the plugin adds.
    fn description(&self) -> &'static str;
    /// Registers the plugin's functions.
    fn register(&self, registry: &mut Registry<'_>);
    /// The data format this plugin reads (`[data] format = "…"`), if any.
    fn data_reader(&self) -> Option<&dyn DataReader> {
        None
    }
}

/// What a plugin registers into: the engine of one pack, being built.
pub struct Registry<'a> {
    engine: &'a mut Engine,
    input_functions: &'a mut Vec<InputFunction>,
}

impl<'a> Registry<'a> {
    pub(crate) fn new(engine: &'a mut Engine, input_functions: &'a mut Vec<InputFunction>) -> Self {
        Self {
            engine,
            input_functions,
        }
    }

    /// Declares an input function: its literal calls are bound to columns at
    /// compile time (see [`InputFunction`]).
    pub fn input_function(&mut self, function: InputFunction) {
        self.input_functions.push(function);
    }

    /// The pack's rhai engine, for `register_fn` and friends. Numbers reach
    /// functions as [`rust_decimal::Decimal`]; return `Decimal` too.
    pub fn engine(&mut self) -> &mut Engine {
        self.engine
    }
}

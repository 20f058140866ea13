//! [`CompiledRuleSet`]: a pack ready to evaluate — the engine, one compiled
//! formula per indicator with its inputs bound to field, indicator and
//! parameter indices, and the evaluation order. What the compiler makes and
//! the evaluator and the data readers use.

use std::collections::BTreeMap;
use std::sync::Arc;

use rhai::{AST, Engine};

use crate::compile::binding::{Aggregate, Input};
use crate::compile::native::NativeFormula;
use crate::compile::plugin::Plugin;
use crate::data::reader::{DataReader, ReadRequest};
use crate::data::shape::{DataShape, Field};
use crate::pack::RulePack;
use crate::source::SourceFile;

/// A pack ready to evaluate: one configured engine and one compiled formula
/// per indicator. Cheap to share across threads (`Send + Sync`).
pub struct CompiledRuleSet {
    pub(crate) pack: Arc<RulePack>,
    pub(crate) engine: Engine,
    /// The pack's fields, then one per distinct input-function call.
    pub(crate) fields: Vec<Field>,
    pub(crate) formulas: Vec<CompiledFormula>,
    pub(crate) order: Vec<usize>,
    pub(crate) script_functions: BTreeMap<String, Arc<SourceFile>>,
    pub(crate) plugins: Vec<&'static dyn Plugin>,
}

impl std::fmt::Debug for CompiledRuleSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CompiledRuleSet")
            .field("pack", &self.pack.identity)
            .field("indicators", &self.formulas.len())
            .finish_non_exhaustive()
    }
}

impl CompiledRuleSet {
    /// The pack this set was compiled from.
    #[must_use]
    pub fn pack(&self) -> &RulePack {
        &self.pack
    }

    /// Every input the formulas read: the pack's fields, then one per
    /// distinct input-function call (e.g. `saldo("14")`), in first-use order.
    #[must_use]
    pub fn fields(&self) -> &[Field] {
        &self.fields
    }

    /// What a data reader is asked to read for this pack: its data shape and
    /// every column its formulas read.
    #[must_use]
    pub fn read_request(&self) -> ReadRequest<'_> {
        ReadRequest {
            shape: self.pack.data_shape(),
            fields: &self.fields,
        }
    }

    /// The plugin reader of the pack's data format, or `None` for `wide`.
    #[must_use]
    pub fn data_reader(&self) -> Option<&dyn DataReader> {
        self.plugins
            .iter()
            .filter_map(|p| p.data_reader())
            .find(|r| r.format() == self.pack.data.format)
    }

    /// Indicator indices in evaluation order (every indicator after those it reads).
    #[must_use]
    pub fn evaluation_order(&self) -> &[usize] {
        &self.order
    }

    /// How indicator `indicator` (pack order) is evaluated for each row:
    /// `"native"` (plain arithmetic lowered to the native decimal evaluator)
    /// or `"rhai"`.
    #[must_use]
    pub fn evaluation_path(&self, indicator: usize) -> &'static str {
        if self.formulas[indicator].native.is_some() {
            "native"
        } else {
            "rhai"
        }
    }

    /// The same rule set with every indicator on the rhai path: for
    /// differential tests and benchmarks of the native path.
    #[doc(hidden)]
    #[must_use]
    pub fn without_native(mut self) -> Self {
        for formula in &mut self.formulas {
            formula.native = None;
        }
        self
    }

    /// The same rules reading data laid out differently: `edit` changes the
    /// pack's [`DataShape`] (e.g. the separators a command-line flag gives).
    /// The pack's identity does not change: how a file is written is not a rule.
    #[must_use]
    pub fn with_data_shape(mut self, edit: impl FnOnce(&mut DataShape)) -> Self {
        edit(&mut Arc::make_mut(&mut self.pack).data);
        self
    }
}

pub(crate) struct CompiledFormula {
    pub ast: AST,
    pub inputs: Vec<Input>,
    pub aggregates: Vec<Aggregate>,
    /// The formula lowered to the native evaluator, when it is plain arithmetic.
    pub native: Option<NativeFormula>,
}

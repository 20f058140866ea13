//! # semaforo-poa
//!
//! Functions for following an annual operating plan (POA) and its budget:
//! plan-versus-actual compliance capped at 100 %, the additional compliance
//! that over-execution earns (reported apart, never mixed into the capped
//! figure), compliance with percentage targets, the target of one period of
//! the year, and budget execution, which is **not** capped.
//!
//! | function | computes | zero base |
//! |---|---|---|
//! | `cumplimiento(realizado, planificado)` | `min(realizado, planificado) / planificado * 100` | not applicable |
//! | `adicional(realizado, planificado)` | `max(realizado - planificado, 0) / planificado * 100` | not applicable |
//! | `exceso(realizado, planificado)` | `max(realizado - planificado, 0)` | — |
//! | `cumplimiento_meta(real_pct, meta_pct)` | `min(real_pct / meta_pct, 1) * 100` | not applicable |
//! | `meta_periodo(anual, periodos)` | `anual / periodos` | error |
//! | `ejecucion(ejecutado, programado)` | `ejecutado / programado * 100` | not applicable |
//!
//! "Not applicable" is a division-by-zero cell error that names the function
//! and its arguments: a zero plan or budget is never a silent 0 %.
//!
//! Worked values (DOMAIN.md §1, §5): technical assistance, 995 done of 547
//! planned → `cumplimiento` 100, `adicional` 81.90 (shown 82), `exceso` 448;
//! transport, 51 of 75 → 68.00; the quarterly target `meta_periodo(90, 4)` =
//! 22.5; licences, `ejecucion(169791, 298843)` = 56.82; payroll executed at
//! 132.15 % stays 132.15.
#![forbid(unsafe_code)]

mod compliance;
mod execution;
mod period;

pub use compliance::{adicional, cumplimiento, cumplimiento_meta, exceso};
pub use execution::ejecucion;
pub use period::meta_periodo;

use rust_decimal::Decimal;
use semaforo_core::rhai::EvalAltResult;
use semaforo_core::{FormulaFailure, Plugin, Registry};

/// The `poa` plugin. List it in a pack as `plugins = ["poa"]`.
///
/// ```
/// use semaforo_core::{compile, evaluate, RulePack, SourceFile, Table};
/// let pack = RulePack::from_sources(SourceFile::new("pack.toml", r#"
/// [pack]
/// id = "demo"
/// version = "1"
/// plugins = ["poa"]
/// [fields]
/// planificado = "activities planned"
/// realizado = "activities done"
/// [[indicator]]
/// id = "capped"
/// formula = "cumplimiento(realizado, planificado)"
/// [[indicator]]
/// id = "extra"
/// formula = "adicional(realizado, planificado)"
/// "#), vec![]).unwrap();
/// let rules = compile(pack, &[&semaforo_poa::PoaPlugin]).unwrap();
/// let csv = "entity,planificado,realizado\nasistencia,547,995\nno_planificada,0,5\n";
/// let table = Table::from_csv_reader(csv.as_bytes(), "inline", rules.pack().data_shape()).unwrap();
/// let results = evaluate(&rules, &table);
/// assert_eq!(results.cell(0, 0).value.unwrap().to_string(), "100");
/// assert_eq!(results.cell(0, 1).value.unwrap().round_dp(2).to_string(), "81.90");
/// assert_eq!(results.cell(1, 0).error.as_ref().unwrap().kind(), "division_by_zero");
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct PoaPlugin;

/// What every function returns to rhai.
type Outcome = Result<Decimal, Box<EvalAltResult>>;

/// A zero base: a `division_by_zero` cell error, "not applicable".
fn not_applicable(call: &str, why: &str) -> Box<EvalAltResult> {
    FormulaFailure::division_by_zero(format!("Division by zero: {call}: {why}")).into_error()
}

/// A result too large for a decimal: an `overflow` cell error.
fn overflow(call: &str) -> Box<EvalAltResult> {
    FormulaFailure::overflow(format!("Arithmetic overflow in {call}")).into_error()
}

/// An argument the function refuses (a negative plan…): a `script_error`
/// cell error with this message.
fn invalid(call: &str, why: &str) -> Box<EvalAltResult> {
    FormulaFailure::refused(format!("{call}: {why}")).into_error()
}

/// The failure a function's error carries, for the tests: its kind and text.
#[cfg(test)]
fn failure(error: &EvalAltResult) -> (&'static str, String) {
    let failure = FormulaFailure::of(error).expect("a typed formula failure");
    (failure.kind(), failure.to_string())
}

impl Plugin for PoaPlugin {
    fn name(&self) -> &'static str {
        "poa"
    }

    fn description(&self) -> &'static str {
        "cumplimiento, adicional, exceso, cumplimiento_meta, meta_periodo and ejecucion for operating-plan follow-up"
    }

    fn register(&self, registry: &mut Registry<'_>) {
        let engine = registry.engine();
        engine.register_fn("cumplimiento", cumplimiento);
        engine.register_fn("adicional", adicional);
        engine.register_fn("exceso", exceso);
        engine.register_fn("cumplimiento_meta", cumplimiento_meta);
        engine.register_fn("meta_periodo", meta_periodo);
        engine.register_fn("ejecucion", ejecucion);
    }
}

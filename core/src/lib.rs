//! # semaforo-core
//!
//! The engine of Semáforo: rule packs (TOML + rhai), compiled once and
//! evaluated exactly — every number a [`rust_decimal::Decimal`] — over
//! tables of many entities. The core knows no domain: plugins add the
//! domain's functions and packs hold the rules.
//!
//! Load → compile → evaluate:
//!
//! ```
//! use semaforo_core::{compile, evaluate, RulePack, SourceFile, Table};
//! let manifest = SourceFile::new("pack.toml", r#"
//! [pack]
//! id = "coop"
//! version = "1"
//! [fields]
//! npl = "non-performing loans"
//! loans = "gross loans"
//! [[indicator]]
//! id = "delinquency"
//! unit = "percent"
//! direction = "lower"
//! standard = 4
//! formula = "npl / loans * 100"
//! "#);
//! let rules = compile(RulePack::from_sources(manifest, vec![]).unwrap(), &[]).unwrap();
//! let csv = "entity,npl,loans\nEl Sagrario,1084203.65,37734583.53\n";
//! let table = Table::from_csv_reader(csv.as_bytes(), "inline", rules.pack().data_shape()).unwrap();
//! let results = evaluate(&rules, &table);
//! let cell = results.cell(0, 0);
//! assert_eq!(cell.value.unwrap().round_dp(2).to_string(), "2.87");
//! assert_eq!(cell.met, Some(true));
//! ```
#![deny(missing_docs)]

mod acceptance;
mod analysis;
mod compile;
mod data;
mod diagnostic;
mod evaluate;
mod live;
mod pack;
mod source;

pub use acceptance::{PackTest, TESTS_DIR, TestFailure, TestOutcome};
pub use analysis::{
    Analysis, MatrixCut, PeerRanks, PeerStanding, Ranking, SlotStats, Slots, Variation,
};
pub use compile::cancel::Cancel;
pub use compile::inputs::InputFunction;
pub use compile::math::FormulaFailure;
pub use compile::plugin::{Plugin, Registry};
pub use compile::set::CompiledRuleSet;
pub use compile::{compile, load_and_compile};
pub use data::decimal::{NumberFormat, parse_decimal, round_for_display};
pub use data::encoding::{ENCODING_NAMES, NotDecodable, TextEncoding, escape_bytes};
pub use data::error::DataError;
pub use data::period::{PeriodForm, PeriodFormat, PeriodTime, time_keys};
pub use data::quotes::QuoteCheck;
pub use data::reader::{BatchReader, DataReader, ReadRequest};
pub use data::records::{
    FieldValue, Record, RecordBatch, check_duplicate_headers, decode_header, duplicate_headers,
    each_record, header_names, open_csv,
};
pub use data::shape::{DataShape, Field, FieldKind, Value, WIDE_FORMAT};
pub use data::table::{CellProblem, DataWarning, NumberColumn, Table, TextColumn};
pub use data::warnings::{KEPT_PER_KIND, Warnings};
pub use data::workbook::is_workbook;
pub use diagnostic::{Diagnostic, DiagnosticCode, Diagnostics, Severity};
pub use evaluate::assess::{Assessment, assess};
pub use evaluate::explain::{
    BandReason, BandScore, Explanation, IndicatorExplanation, InputExplanation, InputValue, explain,
};
pub use evaluate::file::{
    FileEvaluation, FileReading, Reading, ResultParts, WholeReason, evaluate_file,
    evaluate_file_with,
};
pub use evaluate::read::{read_data, read_data_from, read_records};
pub use evaluate::result::{Cell, CellError, GroupResult, LimitKind, ResultSet, RowKey};
pub use evaluate::{evaluate, evaluate_with};
pub use live::{LiveOptions, LiveRules, ReloadEvent, ReloadFailure, Snapshot, Watch, WatchError};
pub use pack::colour::Colour;
pub use pack::files::{ArchiveLimits, ArchiveSource, DirectorySource, MemorySource, PackSource};
pub use pack::limits::{Limits, STACK_SLACK, TIME_CHECK_EVERY};
pub use pack::standard::{BandBasis, BandLevel, BandSet, Direction, Standard};
pub use pack::{
    FormulaKind, FormulaSource, FormulaText, Indicator, Labels, Matrix, Override, PACK_FILE,
    PackIdentity, Parameter, RulePack, Selection, SelectionRule, TieRule, Unit,
};
pub use source::{Location, SourceFile};

/// What a plugin needs of rhai, the script engine Semáforo embeds (the
/// same version and features), to register its functions and types on the
/// pack's engine ([`Registry::engine`]) and to fail with a located error.
/// The rest of rhai stays the core's business.
pub mod rhai {
    pub use ::rhai::{
        Dynamic, Engine, EvalAltResult, ImmutableString, NativeCallContext, Position,
    };
}

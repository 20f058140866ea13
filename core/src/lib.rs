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

mod analysis;
mod band;
mod callable;
mod cancel;
mod colour;
mod compile;
mod csv_input;
mod decimal;
mod diagnostic;
mod encoding;
mod engine;
mod evaluate;
mod explain;
mod grain;
mod inputs;
mod limits;
mod live;
mod math;
mod names;
mod native;
mod pack;
mod pack_tests;
mod period;
mod plugin;
mod quotes;
mod reader;
mod records;
mod result;
mod scan;
mod source;
mod stream;
mod table;
mod warnings;
mod watchdog;
mod workbook;
mod workbook_extent;
mod workbook_xls;

pub use analysis::{Analysis, MatrixCut, PeerStanding, Ranking, Variation};
pub use band::{Assessment, BandBasis, BandLevel, BandSet, assess};
pub use cancel::Cancel;
pub use colour::Colour;
pub use compile::{CompiledRuleSet, compile, load_and_compile};
pub use csv_input::DataError;
pub use decimal::{NumberFormat, parse_decimal, round_for_display};
pub use diagnostic::{Diagnostic, DiagnosticCode, Diagnostics, Severity};
pub use encoding::{ENCODING_NAMES, NotDecodable, TextEncoding, escape_bytes};
pub use evaluate::{evaluate, evaluate_with};
pub use explain::{
    BandReason, BandScore, Explanation, IndicatorExplanation, InputExplanation, InputValue, explain,
};
pub use inputs::InputFunction;
pub use limits::{Limits, STACK_SLACK, TIME_CHECK_EVERY};
pub use live::{LiveOptions, LiveRules, ReloadEvent, ReloadFailure, Snapshot, Watch, WatchError};
pub use pack::{
    DataShape, Direction, Field, FieldKind, FormulaKind, FormulaSource, FormulaText, Indicator,
    Labels, Matrix, Override, PACK_FILE, PackIdentity, Parameter, RulePack, Selection,
    SelectionRule, Standard, TieRule, Unit, Value,
};
pub use pack_tests::{PackTest, TESTS_DIR, TestFailure, TestOutcome};
pub use period::{PeriodForm, PeriodFormat, PeriodTime, time_keys};
pub use plugin::{Plugin, Registry};
pub use quotes::QuoteCheck;
pub use reader::{BatchReader, DataReader, WIDE_FORMAT, read_data, read_data_from};
pub use records::{
    Record, RecordBatch, check_duplicate_headers, decode_header, duplicate_headers, header_names,
};
pub use result::{Cell, CellError, GroupResult, LimitKind, ResultSet, RowKey};
pub use source::{Location, SourceFile};
pub use stream::{FileEvaluation, Reading, WholeReason, evaluate_file};
pub use table::{CellProblem, DataWarning, NumberColumn, Table, TextColumn};
pub use warnings::{KEPT_PER_KIND, Warnings};
pub use workbook::is_workbook;

/// The rhai version Semáforo embeds, for plugins to register functions with.
pub use rhai;

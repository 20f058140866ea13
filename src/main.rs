//! `semaforo`: evaluate rule packs over data from the command line.
//!
//! Exit codes: 0 success (eval: results produced, even with cell errors;
//! check: the pack is valid; test: every test passed), 1 the pack is invalid
//! or a test failed, 2 usage or I/O error, 3 `eval --strict` found a cell
//! error or a data warning (the results are written all the same).

mod explain;
mod progress;
mod render;
#[cfg(feature = "serve")]
mod serve;
mod watch;

use std::fs::File;
use std::io::{self, BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use semaforo::{DiagnosticCode, Diagnostics};

use semaforo::report::{self, Format};

/// Evaluate indicators, thresholds and traffic-light bands over the data of
/// many institutions, exactly.
#[derive(Debug, Parser)]
#[command(
    name = "semaforo",
    version,
    about,
    long_about = None,
    after_help = "Examples:\n  semaforo eval --pack rules/sagrario --data examples/sagrario/balances.csv\n  semaforo check rules/sagrario\n  semaforo test rules/sagrario\n\n`semaforo <command> --help` shows each command's options and an example."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Threads evaluating rows (default: one per core). Results do not depend on it.
    #[arg(long, global = true, value_name = "N")]
    threads: Option<usize>,
}

/// How the data file is written, when it differs from the pack's `[data]` section.
#[derive(Debug, Clone, clap::Args)]
struct DataLayout {
    /// The sheet of a spreadsheet to read (default: the pack's, else the first).
    #[arg(long, value_name = "NAME")]
    sheet: Option<String>,
    /// The CSV field separator, e.g. ';' (default: the pack's, else ',').
    #[arg(long, value_name = "CHAR", value_parser = one_ascii_char)]
    delimiter: Option<char>,
    /// The decimal separator of numbers: '.' or ',' (default: the pack's, else '.').
    #[arg(long, value_name = "CHAR", value_parser = [".", ","])]
    decimal: Option<String>,
    /// The thousands separator of numbers: '.', ',', ' ' or "'" (default: the pack's, else none).
    #[arg(long, value_name = "CHAR", value_parser = [".", ",", " ", "'"])]
    thousands: Option<String>,
    /// The text encoding of a CSV file: utf-8, windows-1252 or latin1 (default: the pack's, else utf-8).
    #[arg(long, value_name = "NAME", value_parser = ["utf-8", "windows-1252", "latin1"])]
    encoding: Option<String>,
}

impl DataLayout {
    /// The rules reading data as these options say.
    fn apply(&self, rules: semaforo::CompiledRuleSet) -> semaforo::CompiledRuleSet {
        let first = |text: &Option<String>| text.as_deref().and_then(|t| t.chars().next());
        let (sheet, delimiter) = (self.sheet.clone(), self.delimiter);
        let (decimal, thousands) = (first(&self.decimal), first(&self.thousands));
        let encoding = self
            .encoding
            .as_deref()
            .and_then(semaforo::TextEncoding::from_name);
        if sheet.is_none()
            && delimiter.is_none()
            && decimal.is_none()
            && thousands.is_none()
            && encoding.is_none()
        {
            return rules;
        }
        rules.with_data_shape(|shape| {
            if let Some(sheet) = sheet {
                shape.sheet = Some(sheet);
            }
            if let Some(delimiter) = delimiter.and_then(|c| u8::try_from(c).ok()) {
                shape.delimiter = delimiter;
            }
            if let Some(decimal) = decimal {
                shape.numbers.decimal = decimal;
            }
            if thousands.is_some() {
                shape.numbers.thousands = thousands;
            }
            if let Some(encoding) = encoding {
                shape.encoding = encoding;
            }
        })
    }
}

/// `--format`: the [`Format`]s this build writes, as the command line names
/// them (the library's `Format` does not depend on clap).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum OutputFormat {
    /// A readable table, values rounded for display.
    Table,
    /// One line per entity × indicator, exact decimals.
    Csv,
    /// An array of objects, exact decimals as strings.
    Json,
    /// An Excel workbook: results with band colours and number formats,
    /// and a summary sheet of counts per band.
    #[cfg(feature = "xlsx")]
    Xlsx,
    /// One self-contained HTML page: summary, coloured tables, charts.
    Html,
}

impl OutputFormat {
    /// The name `--format` takes, e.g. `xlsx`.
    fn name(self) -> String {
        self.to_possible_value()
            .map(|v| v.get_name().to_owned())
            .unwrap_or_default()
    }
}

impl From<OutputFormat> for Format {
    fn from(format: OutputFormat) -> Self {
        match format {
            OutputFormat::Table => Self::Table,
            OutputFormat::Csv => Self::Csv,
            OutputFormat::Json => Self::Json,
            #[cfg(feature = "xlsx")]
            OutputFormat::Xlsx => Self::Xlsx,
            OutputFormat::Html => Self::Html,
        }
    }
}

/// A CSV separator given on the command line: one ASCII character (`\t` for a tab).
fn one_ascii_char(text: &str) -> Result<char, String> {
    let text = if text == "\\t" { "\t" } else { text };
    match text.as_bytes() {
        [b] if b.is_ascii() && !matches!(b, b'"' | b'\n' | b'\r') => Ok(char::from(*b)),
        _ => Err(format!(
            "`{text}` is not one ASCII character that can separate fields"
        )),
    }
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Evaluate every indicator of a pack for every row of a data file.
    #[command(
        after_help = "Examples:\n  semaforo eval --pack rules/sagrario --data examples/sagrario/balances.csv --format json\n  semaforo eval --pack rules/poa-senavex --data examples/senavex/ejecucion_2020.xlsx\n  semaforo eval --pack rules/poa-senavex --data ejecucion.csv --delimiter ';' --decimal ',' --thousands '.'"
    )]
    Eval {
        /// The rule pack directory (holding pack.toml).
        #[arg(long, value_name = "DIR")]
        pack: PathBuf,
        /// The data: CSV with a header row, or a spreadsheet (.xlsx, .xls, .ods).
        #[arg(long, value_name = "FILE")]
        data: PathBuf,
        #[command(flatten)]
        layout: DataLayout,
        /// Output format.
        #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
        format: OutputFormat,
        /// Write the results here instead of stdout.
        #[arg(long, short, value_name = "FILE")]
        output: Option<PathBuf>,
        /// Do not print the summary line on stderr.
        #[arg(long, short)]
        quiet: bool,
        /// Exit with status 3 when any cell has an error or the data gave a
        /// warning (the results are still written), so a pipeline stops on bad data.
        #[arg(long)]
        strict: bool,
    },
    /// Load and compile a pack and report every problem with its location.
    #[command(
        after_help = "Examples:\n  semaforo check rules/sagrario\n  semaforo check rules/sagrario --data examples/sagrario/balances.csv"
    )]
    Check {
        /// The rule pack directory (holding pack.toml).
        #[arg(value_name = "DIR")]
        pack: PathBuf,
        /// Also read this data file and report what is odd in it (e.g. an
        /// account whose balance disagrees with its sub-accounts).
        #[arg(long, value_name = "FILE")]
        data: Option<PathBuf>,
        #[command(flatten)]
        layout: DataLayout,
        /// List the indicators and how each is evaluated (native arithmetic or rhai).
        #[arg(long, short)]
        verbose: bool,
    },
    /// Evaluate, then re-evaluate on every change of the rules and show what changed.
    #[command(
        after_help = "Example:\n  semaforo watch --pack rules/sagrario --data examples/sagrario/balances.csv\n\nEdit rules/sagrario/pack.toml in another window: each save prints the cells whose\nvalue or band changed, or the save's errors (the last good rules stay live)."
    )]
    Watch {
        /// The rule pack directory (holding pack.toml).
        #[arg(long, value_name = "DIR")]
        pack: PathBuf,
        /// The data file.
        #[arg(long, value_name = "FILE")]
        data: PathBuf,
        /// Refuse a change unless the pack's own tests pass with it.
        #[arg(long)]
        require_tests: bool,
    },
    /// Explain one indicator for one entity (and period): formula, where it is
    /// defined and overridden, every input's value, the result and the band's reason.
    #[command(
        after_help = "Example:\n  semaforo explain --pack rules/sagrario --data examples/sagrario/balances.csv --entity COAC_EL_SAGRARIO --indicator morosidad --period 2008-12\n\nWithout --period, the entity's last period is explained (and named). An unknown\nentity, period or indicator is refused with the near matches (exit 2)."
    )]
    Explain {
        /// The rule pack directory (holding pack.toml).
        #[arg(long, value_name = "DIR")]
        pack: PathBuf,
        /// The data: CSV with a header row, or a spreadsheet (.xlsx, .xls, .ods).
        #[arg(long, value_name = "FILE")]
        data: PathBuf,
        #[command(flatten)]
        layout: DataLayout,
        /// The entity key, as in the data.
        #[arg(long, value_name = "E")]
        entity: String,
        /// The indicator id.
        #[arg(long, value_name = "I")]
        indicator: String,
        /// The period (default: the entity's last).
        #[arg(long, value_name = "P")]
        period: Option<String>,
    },
    /// Run a pack's own tests (tests/*.toml) and show every failure.
    #[command(after_help = "Example:\n  semaforo test rules/sagrario")]
    Test {
        /// The rule pack directory (holding pack.toml and tests/).
        #[arg(value_name = "DIR")]
        pack: PathBuf,
    },
    /// Serve a pack over HTTP (JSON API); edits to the pack go live.
    #[cfg(feature = "serve")]
    #[command(
        after_help = "Example:\n  semaforo serve --pack rules/sagrario --addr 127.0.0.1:8080\n  curl -s http://127.0.0.1:8080/v1/pack\n  curl -s http://127.0.0.1:8080/v1/evaluate -H 'Content-Type: text/csv' --data-binary @examples/sagrario/balances.csv\n\nPOST /v1/evaluate takes rows as JSON (an array of objects keyed by column) or CSV and\nanswers what `eval --format json` writes; GET /v1/pack shows the live version and the\nlast refused reload; GET /healthz answers ok. Ctrl-C stops after the requests in flight."
    )]
    Serve {
        /// The rule pack directory (holding pack.toml), watched for edits.
        #[arg(long, value_name = "DIR")]
        pack: PathBuf,
        /// Address to listen on; port 0 picks a free port (printed on stderr).
        #[arg(long, value_name = "HOST:PORT", default_value = "127.0.0.1:8080")]
        addr: String,
        /// Publish an edited pack only if its own tests (tests/*.toml) pass.
        #[arg(long)]
        require_tests: bool,
        /// Largest request body accepted, in bytes; larger ones get 413.
        #[arg(long, value_name = "BYTES", default_value_t = 10 * 1024 * 1024)]
        max_body: usize,
        /// Evaluations at once (default: one per core); past it, 503 with Retry-After, body unread.
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
        max_concurrent: Option<u16>,
        /// Longest evaluation of one request (e.g. 30, 30s, 500ms); past it, 503.
        #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = serve::duration)]
        request_timeout: std::time::Duration,
        /// Longest wait for a request head, from connecting or the previous response (idle connections close after it).
        #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = serve::duration)]
        header_timeout: std::time::Duration,
        /// Longest wait for a whole request body; past it, 408 and the connection is closed.
        #[arg(long, value_name = "DURATION", default_value = "60s", value_parser = serve::duration)]
        body_timeout: std::time::Duration,
    },
}

const INVALID_PACK: u8 = 1;
const TESTS_FAILED: u8 = 1;
const USAGE_OR_IO: u8 = 2;
const STRICT_PROBLEMS: u8 = 3;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(error) if is_broken_pipe(&error) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("semaforo: {error:#}");
            ExitCode::from(USAGE_OR_IO)
        }
    }
}

fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error
        .downcast_ref::<io::Error>()
        .is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe)
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    // Threads with the stack the largest [limits] need, so formulas never
    // have to move to a stack segment of their own (see `Limits::stack_size`).
    let mut pool =
        rayon::ThreadPoolBuilder::new().stack_size(semaforo::Limits::largest().stack_size());
    if let Some(threads) = cli.threads {
        pool = pool.num_threads(threads.max(1));
    }
    pool.build_global()?;
    match cli.command {
        Command::Eval {
            pack,
            data,
            layout,
            format,
            output,
            quiet,
            strict,
        } => eval(
            &pack,
            &data,
            &layout,
            format,
            output.as_deref(),
            Strictness { quiet, strict },
        ),
        Command::Check {
            pack,
            data,
            layout,
            verbose,
        } => check(&pack, data.as_deref(), &layout, verbose),
        Command::Test { pack } => test(&pack),
        Command::Explain {
            pack,
            data,
            layout,
            entity,
            indicator,
            period,
        } => explain::run(
            &pack,
            &data,
            &layout,
            &explain::Target {
                entity: &entity,
                indicator: &indicator,
                period: period.as_deref(),
            },
        ),
        #[cfg(feature = "serve")]
        Command::Serve {
            pack,
            addr,
            require_tests,
            max_body,
            max_concurrent,
            request_timeout,
            header_timeout,
            body_timeout,
        } => serve::run(
            &pack,
            &addr,
            require_tests,
            serve::Bounds {
                max_body,
                max_concurrent: max_concurrent
                    .map_or_else(serve::Bounds::default_concurrency, usize::from),
                header_timeout,
                body_timeout,
                request_timeout,
            },
        ),
        Command::Watch {
            pack,
            data,
            require_tests,
        } => watch::run(
            &pack,
            &data,
            semaforo::LiveOptions {
                require_tests,
                ..semaforo::LiveOptions::default()
            },
        ),
    }
}

/// Renders a pack's diagnostics and picks the exit code: I/O problems are usage errors.
fn refuse(diagnostics: &Diagnostics) -> anyhow::Result<ExitCode> {
    render::diagnostics(diagnostics.iter(), &mut io::stderr().lock())?;
    let only_io = diagnostics.iter().all(|d| d.code == DiagnosticCode::Io);
    eprintln!(
        "semaforo: the pack has {} error(s)",
        diagnostics.error_count()
    );
    Ok(ExitCode::from(if only_io {
        USAGE_OR_IO
    } else {
        INVALID_PACK
    }))
}

fn check(
    dir: &Path,
    data: Option<&Path>,
    layout: &DataLayout,
    verbose: bool,
) -> anyhow::Result<ExitCode> {
    let rules = match semaforo::load(dir) {
        Ok(rules) => layout.apply(rules),
        Err(diagnostics) => return refuse(&diagnostics),
    };
    let pack = rules.pack();
    println!(
        "{}: ok — {} ({} indicators, {} fields, {} band sets)",
        dir.display(),
        pack.identity(),
        pack.indicators().len(),
        pack.fields().len(),
        pack.band_sets().len()
    );
    if verbose {
        for (i, indicator) in pack.indicators().iter().enumerate() {
            let grain = indicator
                .grain
                .as_ref()
                .map(|g| format!(" grain [{}]", g.join(", ")))
                .unwrap_or_default();
            println!("  {:<6} {}{grain}", rules.evaluation_path(i), indicator.id);
        }
    }
    if let Some(data) = data {
        let (source, rows, warnings) = if semaforo::is_workbook(data) {
            // A sheet is read whole into memory whichever way it is read;
            // its table names the sheet (`file.xlsx[Sheet]`).
            let table = semaforo::read_data(&rules, data)?;
            let warnings = table.warnings().iter().cloned().collect();
            (table.source().to_owned(), table.len(), warnings)
        } else {
            // Read as `eval` reads it: in batches of whole entities when the
            // file and the pack allow, each counted and dropped, so memory
            // grows neither with the input nor with the results.
            let mut rows = RowCount::default();
            let done = semaforo::evaluate_file_with(&rules, data, &|_| {}, &mut rows)?;
            (data.display().to_string(), rows.0, done.warnings)
        };
        print_warnings(&source, &warnings);
        println!("{source}: {rows} rows, {} warnings", warnings.total());
    }
    Ok(ExitCode::SUCCESS)
}

/// Counts the rows of the evaluated parts of a file, keeping none.
#[derive(Default)]
struct RowCount(usize);

impl semaforo::ResultParts for RowCount {
    fn part(&mut self, part: semaforo::ResultSet) {
        self.0 += part.rows().len();
    }
    fn restart(&mut self) {
        self.0 = 0;
    }
}

/// Prints the warnings kept, then how many of each kind were left out.
fn print_warnings(source: &str, warnings: &semaforo::Warnings) {
    for warning in warnings.kept() {
        match warning.line {
            Some(line) => eprintln!("{source}:{line}: warning: {}", warning.message),
            None => eprintln!("{source}: warning: {}", warning.message),
        }
    }
    for (kind, omitted) in warnings.omitted() {
        eprintln!(
            "{source}: warning: … and {omitted} more `{kind}` warning(s), not shown (the first {} of each kind are)",
            semaforo::KEPT_PER_KIND
        );
    }
}

fn test(dir: &Path) -> anyhow::Result<ExitCode> {
    let rules = match semaforo::load(dir) {
        Ok(rules) => rules,
        Err(diagnostics) => return refuse(&diagnostics),
    };
    let tests = match semaforo::PackTest::load_all(dir) {
        Ok(tests) => tests,
        Err(diagnostics) => return refuse(&diagnostics),
    };
    let mut out = io::stdout().lock();
    writeln!(out, "{}: {}", dir.display(), rules.pack().identity())?;
    if tests.is_empty() {
        writeln!(out, "no tests: add {}/tests/*.toml", dir.display())?;
        return Ok(ExitCode::SUCCESS);
    }
    let (mut passed, mut failed) = (0, 0);
    for test in &tests {
        let outcome = test.run(&rules);
        if outcome.failures.is_empty() {
            passed += 1;
            writeln!(
                out,
                "ok    {} — {} checks",
                test.path().display(),
                outcome.checks
            )?;
        } else {
            failed += 1;
            writeln!(
                out,
                "FAIL  {} — {} of {} checks failed",
                test.path().display(),
                outcome.failures.len(),
                outcome.checks
            )?;
            for failure in &outcome.failures {
                writeln!(out, "  {failure}")?;
            }
        }
    }
    writeln!(out, "{passed} passed, {failed} failed")?;
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(TESTS_FAILED)
    })
}

/// How `eval` reports on stderr and what its exit status says.
#[derive(Debug, Clone, Copy)]
struct Strictness {
    /// No progress and no summary on stderr.
    quiet: bool,
    /// Cell errors and data warnings make the exit status [`STRICT_PROBLEMS`].
    strict: bool,
}

/// Prints the warnings of reading `data`, and why it was read whole when it was not grouped.
fn report_reading(data: &Path, warnings: &semaforo::Warnings, reading: &semaforo::Reading) {
    print_warnings(&data.display().to_string(), warnings);
    if let semaforo::Reading::Whole(reason @ semaforo::WholeReason::NotGrouped { .. }) = reading {
        eprintln!("{}: note: {reason}", data.display());
    }
}

fn eval(
    dir: &Path,
    data: &Path,
    layout: &DataLayout,
    format: OutputFormat,
    output: Option<&Path>,
    Strictness { quiet, strict }: Strictness,
) -> anyhow::Result<ExitCode> {
    let rules = match semaforo::load(dir) {
        Ok(rules) => layout.apply(rules),
        Err(diagnostics) => return refuse(&diagnostics),
    };
    let (name, format) = (format.name(), Format::from(format));
    if format.is_binary() && output.is_none() && io::stdout().is_terminal() {
        anyhow::bail!(
            "--format {name} is a binary file: give --output FILE, or redirect standard output"
        );
    }
    let show_progress = progress::wanted(quiet);
    let open_output = || -> anyhow::Result<Box<dyn Write>> {
        Ok(match output {
            Some(path) => {
                Box::new(BufWriter::new(File::create(path).map_err(|e| {
                    anyhow::anyhow!("cannot create {}: {e}", path.display())
                })?))
            }
            None => Box::new(BufWriter::new(io::stdout().lock())),
        })
    };
    let (tally, selection, mut warnings) = if matches!(format, Format::Csv | Format::Json) {
        // Part by part: memory grows with the slots of the analysis, not the cells.
        let mut spool = report::Spool::new(&rules, report::SPOOL_BUDGET);
        let semaforo::FileReading {
            mut warnings,
            reading,
        } = progress::evaluate_with(&rules, data, show_progress, &mut spool)?;
        let spooled = spool.finish()?;
        warnings.extend(spooled.period_warnings().iter().cloned());
        report_reading(data, &warnings, &reading);
        let step = progress::step("writing", show_progress);
        let tally = spooled.tally().clone();
        let selection = spooled.selection_summary();
        let mut out = open_output()?;
        spooled.write(format, &mut out)?;
        out.flush()?;
        if let Some(step) = step {
            step.finish_and_clear();
        }
        (tally, selection, warnings)
    } else {
        let semaforo::FileEvaluation {
            results,
            mut warnings,
            reading,
        } = progress::evaluate(&rules, data, show_progress)?;
        warnings.extend(semaforo::Analysis::period_warnings(&results));
        report_reading(data, &warnings, &reading);
        let step = progress::step("writing", show_progress);
        let mut out = open_output()?;
        report::write(
            &results,
            format,
            &report::Origin::now(data.display().to_string()),
            &mut out,
        )?;
        out.flush()?;
        if let Some(step) = step {
            step.finish_and_clear();
        }
        (
            report::Tally::of(&results),
            report::selection_summary(&results),
            warnings,
        )
    };
    if !quiet {
        for line in selection {
            eprintln!("{line}");
        }
        eprintln!("{}", tally.line());
    }
    let errors = tally.errors;
    let warnings = std::mem::take(&mut warnings).total();
    if strict && (errors > 0 || warnings > 0) {
        eprintln!(
            "semaforo: --strict: {errors} cell(s) with errors, {warnings} data warning(s); exit status {STRICT_PROBLEMS}"
        );
        return Ok(ExitCode::from(STRICT_PROBLEMS));
    }
    Ok(ExitCode::SUCCESS)
}

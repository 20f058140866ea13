//! `semaforo watch`: evaluate, then re-evaluate on every rule change the
//! live pack publishes and print what changed; print the diagnostics of a
//! refused change and keep the last results.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::path::Path;
use std::process::ExitCode;
use std::sync::{Arc, mpsc};

use semaforo::{LiveOptions, LiveRules, ReloadEvent, ResultSet, Snapshot};

use crate::render;
use crate::report::{self, Format};

/// One cell's identity across versions: level, entity, period, indicator.
type CellKey = (String, String, Option<String>, String);

/// What a reader compares between versions of a cell.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Shown {
    value: String,
    band: String,
}

/// Runs until interrupted.
///
/// # Errors
/// When the data cannot be read or output cannot be written.
pub fn run(dir: &Path, data: &Path, options: LiveOptions) -> anyhow::Result<ExitCode> {
    let live = match LiveRules::load(dir, semaforo::PLUGINS, options) {
        Ok(live) => live,
        Err(diagnostics) => {
            render::diagnostics(diagnostics.iter(), &mut io::stderr().lock())?;
            return Ok(ExitCode::from(1));
        }
    };
    // Watch before the first evaluation, so a save made meanwhile is not missed.
    let (events, received) = mpsc::channel();
    let _watch = live.watch(move |event| {
        let _ = events.send(event);
    })?;
    let mut out = io::stdout().lock();
    let first = live.snapshot();
    let results = evaluate(&first, data)?;
    report::write(
        &results,
        Format::Table,
        &report::Origin::now(data.display().to_string()),
        &mut out,
    )?;
    writeln!(
        out,
        "{} generation {}: watching {} for changes (Ctrl-C to stop)",
        first.rules.pack().identity(),
        first.generation,
        dir.display()
    )?;
    out.flush()?;
    let mut shown = cells(&results);

    for event in received {
        match event {
            ReloadEvent::Published(snapshot) => match evaluate(&snapshot, data) {
                Ok(results) => {
                    let now = cells(&results);
                    print_changes(&mut out, &snapshot, &shown, &now)?;
                    shown = now;
                }
                Err(error) => writeln!(
                    out,
                    "generation {}: cannot read {}: {error:#}",
                    snapshot.generation,
                    data.display()
                )?,
            },
            ReloadEvent::Refused(failure) => {
                render::diagnostics(failure.diagnostics.iter(), &mut out)?;
                writeln!(
                    out,
                    "refused: {} error(s); generation {} keeps serving",
                    failure.diagnostics.error_count(),
                    failure.serving
                )?;
            }
            _ => {}
        }
        out.flush()?;
    }
    Ok(ExitCode::SUCCESS)
}

fn evaluate(snapshot: &Arc<Snapshot>, data: &Path) -> anyhow::Result<ResultSet> {
    let table = semaforo::read_data(&snapshot.rules, data)?;
    Ok(semaforo::evaluate(&snapshot.rules, &table))
}

fn cells(results: &ResultSet) -> BTreeMap<CellKey, Shown> {
    let shown = |index: usize, cell: &semaforo::Cell| Shown {
        value: cell.value.map_or_else(
            || {
                cell.error
                    .as_ref()
                    .map_or_else(String::new, |e| e.kind().to_owned())
            },
            |v| semaforo::round_for_display(v, results.pack().indicators()[index].decimals),
        ),
        band: results
            .band_label(index, cell)
            .unwrap_or_default()
            .to_owned(),
    };
    let rows = results.cells().map(|(_, row, index, indicator, cell)| {
        (
            (
                "row".to_owned(),
                row.entity.clone(),
                row.period.clone(),
                indicator.id.clone(),
            ),
            shown(index, cell),
        )
    });
    let groups = results.groups().iter().map(|g| {
        let id = results.pack().indicators()[g.indicator].id.clone();
        (
            (g.level.clone(), g.entity.clone(), g.period.clone(), id),
            shown(g.indicator, &g.cell),
        )
    });
    rows.chain(groups).collect()
}

fn print_changes(
    out: &mut dyn Write,
    snapshot: &Snapshot,
    before: &BTreeMap<CellKey, Shown>,
    after: &BTreeMap<CellKey, Shown>,
) -> io::Result<()> {
    let changed: Vec<(&CellKey, Option<&Shown>, &Shown)> = after
        .iter()
        .filter(|(k, v)| before.get(*k) != Some(*v))
        .map(|(k, v)| (k, before.get(k), v))
        .collect();
    let removed = before.keys().filter(|k| !after.contains_key(*k)).count();
    writeln!(
        out,
        "{} generation {}: {} cell(s) changed, {removed} removed",
        snapshot.rules.pack().identity(),
        snapshot.generation,
        changed.len()
    )?;
    for ((level, entity, period, indicator), old, new) in changed {
        let place = match (level.as_str(), period) {
            ("row", Some(p)) => format!("{entity} {p}"),
            ("row", None) => entity.clone(),
            (level, Some(p)) => format!("[{level}] {entity} {p}"),
            (level, None) => format!("[{level}] {entity}"),
        };
        let old = old.map_or_else(|| "(new)".to_owned(), |o| format!("{} {}", o.value, o.band));
        writeln!(
            out,
            "  {place} {indicator}: {} → {} {}",
            old.trim(),
            new.value,
            new.band
        )?;
    }
    let mut bands: BTreeMap<&str, usize> = BTreeMap::new();
    for shown in after.values().filter(|s| !s.band.is_empty()) {
        *bands.entry(shown.band.as_str()).or_default() += 1;
    }
    let counts: Vec<String> = bands
        .iter()
        .map(|(band, n)| format!("{band}: {n}"))
        .collect();
    if !counts.is_empty() {
        writeln!(out, "  bands now — {}", counts.join(", "))?;
    }
    Ok(())
}

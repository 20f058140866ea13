//! The evaluation order of indicators: each after the indicators it
//! reads (Kahn's order), or the cycle that prevents one, as a diagnostic.

use std::collections::BTreeSet;

use crate::compile::binding::{InputSource, Operand};
use crate::compile::set::CompiledFormula;
use crate::diagnostic::{Diagnostic, DiagnosticCode, Diagnostics};
use crate::pack::RulePack;

pub(super) fn dependency_order(
    pack: &RulePack,
    formulas: &[CompiledFormula],
) -> Result<Vec<usize>, Diagnostics> {
    let deps: Vec<BTreeSet<usize>> = formulas
        .iter()
        .map(|f| {
            f.inputs
                .iter()
                .filter_map(|i| match i.source {
                    InputSource::Indicator(j) => Some(j),
                    InputSource::Field(_)
                    | InputSource::Parameter(_)
                    | InputSource::Aggregate(_) => None,
                })
                .chain(
                    f.aggregates
                        .iter()
                        .flat_map(|a| &a.operands)
                        .filter_map(|o| match o {
                            Operand::Indicator(j) => Some(*j),
                            Operand::Field(_) => None,
                        }),
                )
                .collect()
        })
        .collect();
    // Level by level: an indicator's level is one more than the highest of
    // those it reads; the order is by level, then pack order. Kahn's
    // algorithm finds the levels in time linear in indicators and reads.
    let mut waiting: Vec<usize> = deps.iter().map(BTreeSet::len).collect();
    let mut readers: Vec<Vec<usize>> = vec![Vec::new(); deps.len()];
    for (i, reads) in deps.iter().enumerate() {
        for &d in reads {
            readers[d].push(i);
        }
    }
    let mut level = vec![0_usize; deps.len()];
    let mut placed = vec![false; deps.len()];
    let mut ready: Vec<usize> = (0..deps.len()).filter(|&i| waiting[i] == 0).collect();
    let mut done = 0;
    while let Some(i) = ready.pop() {
        placed[i] = true;
        done += 1;
        for &reader in &readers[i] {
            level[reader] = level[reader].max(level[i] + 1);
            waiting[reader] -= 1;
            if waiting[reader] == 0 {
                ready.push(reader);
            }
        }
    }
    if done < deps.len() {
        return Err(Diagnostics(vec![cycle_diagnostic(pack, &deps, &placed)]));
    }
    let mut order: Vec<usize> = (0..deps.len()).collect();
    order.sort_by_key(|&i| (level[i], i));
    Ok(order)
}

pub(super) fn cycle_diagnostic(
    pack: &RulePack,
    deps: &[BTreeSet<usize>],
    placed: &[bool],
) -> Diagnostic {
    // Every unplaced indicator waits on another unplaced one: walk until a node repeats.
    let start = (0..deps.len())
        .find(|&i| !placed[i])
        .expect("some indicator is unplaced");
    let mut path = vec![start];
    let mut current = start;
    loop {
        current = *deps[current]
            .iter()
            .find(|&&d| !placed[d])
            .expect("an unplaced indicator waits on an unplaced one");
        if let Some(at) = path.iter().position(|&p| p == current) {
            path.drain(..at);
            break;
        }
        path.push(current);
    }
    let first = path[0];
    let names: Vec<&str> = path
        .iter()
        .chain(std::iter::once(&first))
        .map(|&i| pack.indicators[i].id.as_str())
        .collect();
    Diagnostic::error(
        DiagnosticCode::DependencyCycle,
        format!(
            "indicators depend on each other in a cycle: {}",
            names.join(" → ")
        ),
        Some(pack.indicators[first].location.clone()),
    )
    .with_help("an indicator may read other indicators' values only if none of them reads it back")
}

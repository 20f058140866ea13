//! The page's legend: every indicator's description, formula, standard
//! and bands.

use std::fmt::Write as _;
use std::io::{self, Write};

use semaforo_core::{BandBasis, Direction, FormulaKind};

use super::super::exact;
use super::{Page, esc};

impl Page<'_, '_> {
    /// Every indicator: what it measures, its formula, standard and bands.
    pub(super) fn legend(&self, out: &mut dyn Write) -> io::Result<()> {
        let pack = self.pack();
        writeln!(
            out,
            "<section id=\"legend\">\n<h2>Indicators</h2>\n<dl class=\"legend\">"
        )?;
        for indicator in pack.indicators() {
            let mut entry = format!(
                "<dt id=\"ind-{}\">{} <code>{}</code></dt>\n<dd>",
                esc(&indicator.id),
                esc(&indicator.name),
                esc(&indicator.id)
            );
            if !indicator.description.is_empty() {
                let _ = write!(entry, "<p>{}</p>", esc(&indicator.description));
            }
            let _ = write!(
                entry,
                "<p class=\"facts\">unit {}{} · {} is better",
                esc(indicator.unit.as_str()),
                if indicator.group.is_empty() {
                    String::new()
                } else {
                    format!(" · group {}", esc(&indicator.group))
                },
                esc(indicator.direction.as_str())
            );
            match indicator.standard {
                Some(standard) => {
                    let _ = write!(
                        entry,
                        " · standard <b class=\"standard\">{}</b>",
                        esc(&self.standard(indicator, standard))
                    );
                }
                None => entry.push_str(" · no standard"),
            }
            if let Some(grain) = &indicator.grain {
                let _ = write!(
                    entry,
                    " · computed per {}",
                    if grain.is_empty() {
                        "whole table".to_owned()
                    } else {
                        esc(&grain.join(", "))
                    }
                );
            }
            entry.push_str("</p>");
            let formula = pack.formula_text(indicator);
            let kind = match formula.kind {
                FormulaKind::Generated => "generated formula",
                FormulaKind::Function => "function",
                _ => "formula",
            };
            let _ = write!(
                entry,
                "<p class=\"formula-kind\">{kind}</p><pre class=\"formula\"><code>{}</code></pre>",
                esc(&formula.text)
            );
            if let Some(set) = indicator.band_set.and_then(|s| pack.band_sets().get(s)) {
                let basis = match set.basis {
                    BandBasis::Value => "value",
                    _ => "compliance %",
                };
                let reading = match indicator.direction {
                    Direction::HigherIsBetter => "≥",
                    _ => "≤",
                };
                let _ = write!(
                    entry,
                    "<p class=\"bands\">bands <code>{}</code>: ",
                    esc(&set.id)
                );
                for (level_index, level) in set.levels.iter().enumerate() {
                    let class = self
                        .band_class(indicator, Some(level_index))
                        .map_or_else(|| "nob".to_owned(), |c| format!("b{c}"));
                    let rule = level.threshold.map_or_else(
                        || "otherwise".to_owned(),
                        |t| format!("{basis} {reading} {}", exact(t)),
                    );
                    let _ = write!(
                        entry,
                        "<span class=\"chip {class}\">{}</span> {} ",
                        esc(&level.label),
                        esc(&rule)
                    );
                }
                entry.push_str("</p>");
            }
            if !indicator.overrides.is_empty() {
                let changed: Vec<String> = indicator
                    .overrides
                    .iter()
                    .map(|o| {
                        format!(
                            "{} ({})",
                            o.keys.join(", "),
                            o.location.file.path().display()
                        )
                    })
                    .collect();
                let _ = write!(
                    entry,
                    "<p class=\"facts\">tailored: {}</p>",
                    esc(&changed.join("; "))
                );
            }
            entry.push_str("</dd>\n");
            out.write_all(entry.as_bytes())?;
        }
        writeln!(out, "</dl>\n</section>")
    }
}

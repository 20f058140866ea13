//! Rendering pack diagnostics for people: one `path:line:col: error[CODE]:
//! message` line (for grep and editors), then the offending line with the
//! span underlined, then the advice.

use std::io::{self, Write};

use codespan_reporting::diagnostic::{Diagnostic as Report, Label};
use codespan_reporting::files::SimpleFiles;
use codespan_reporting::term;
use semaforo_core::{Diagnostic, Severity};

/// Writes every diagnostic to `out`.
///
/// # Errors
/// When `out` cannot be written.
pub fn diagnostics<'a>(
    list: impl IntoIterator<Item = &'a Diagnostic>,
    out: &mut dyn Write,
) -> io::Result<()> {
    let mut files = SimpleFiles::new();
    let mut ids: Vec<(std::path::PathBuf, usize)> = Vec::new();
    let config = term::Config::default();
    for diagnostic in list {
        writeln!(out, "{diagnostic}")?;
        let mut report = match diagnostic.severity {
            Severity::Warning => Report::warning(),
            _ => Report::error(),
        };
        if let Some(location) = &diagnostic.location {
            let path = location.file.path().to_path_buf();
            let id = match ids.iter().find(|(p, _)| *p == path) {
                Some((_, id)) => *id,
                None => {
                    let id = files.add(path.display().to_string(), location.file.text().to_owned());
                    ids.push((path, id));
                    id
                }
            };
            report = report.with_labels(vec![Label::primary(id, location.span.clone())]);
        }
        if let Some(help) = &diagnostic.help {
            report = report.with_notes(vec![format!("help: {help}")]);
        }
        if report.labels.is_empty() && report.notes.is_empty() {
            continue;
        }
        let rendered =
            term::emit_into_string(&config, &files, &report).map_err(io::Error::other)?;
        // The first line is codespan's own header, which repeats the line written above.
        let body = rendered.split_once('\n').map_or("", |(_, body)| body);
        write!(out, "{body}")?;
    }
    Ok(())
}

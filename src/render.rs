//! Rendering pack diagnostics for people: `path:line:col`, the message, the
//! offending line with the span underlined, and the advice.

use std::io::{self, IsTerminal};

use codespan_reporting::diagnostic::{Diagnostic as Report, Label};
use codespan_reporting::files::SimpleFiles;
use codespan_reporting::term::{self, termcolor::{ColorChoice, StandardStream}};
use semaforo_core::{Diagnostic, Severity};

/// Writes every diagnostic to stderr, with colour when stderr is a terminal.
///
/// # Errors
/// When stderr cannot be written.
pub fn diagnostics<'a>(list: impl IntoIterator<Item = &'a Diagnostic>) -> io::Result<()> {
    let color = if io::stderr().is_terminal() { ColorChoice::Auto } else { ColorChoice::Never };
    let mut stderr = StandardStream::stderr(color);
    let mut files = SimpleFiles::new();
    let mut ids: Vec<(std::path::PathBuf, usize)> = Vec::new();
    let config = term::Config::default();
    for diagnostic in list {
        let mut report = match diagnostic.severity {
            Severity::Warning => Report::warning(),
            _ => Report::error(),
        }
        .with_code(diagnostic.code.as_str())
        .with_message(&diagnostic.message);
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
            // The `path:line:col: message` line first, so it can be grepped and clicked;
            // then the offending line, underlined.
            eprintln!("{diagnostic}");
            report = report.with_labels(vec![Label::primary(id, location.span.clone())]);
        }
        if let Some(help) = &diagnostic.help {
            report = report.with_notes(vec![format!("help: {help}")]);
        }
        term::emit_to_write_style(&mut stderr, &config, &files, &report).map_err(io::Error::other)?;
    }
    Ok(())
}

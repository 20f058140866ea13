//! `--format html`: one self-contained page for people. Nothing in it is
//! fetched: the CSS, a little JS (sortable tables) and the charts (SVG) are
//! inline, and the page links only to its own sections.
//!
//! The page has a header (pack id, version and hash; the data and when it
//! was evaluated, UTC), a summary (cells per band in the band colours,
//! errors), one table per peer group (else per period, else one) with the
//! entities as rows and the indicators as columns, each cell coloured by its
//! band and its error message in its tooltip, the roll-ups of indicators
//! with a grain, charts (each prioritisation matrix's Pareto chart; the
//! distribution of each indicator across institutions) and a legend of every
//! indicator's formula, standard and bands.
//!
//! Values are shown as the table format shows them: rounded half away from
//! zero to the indicator's `decimals`, with the unit's suffix, from the
//! exact `Decimal`. Chart *coordinates* are computed in `f64` from those
//! decimals: a position on the screen, never a figure anyone reads.

mod charts;
mod legend;
mod tables;

use std::io::{self, Write};

use semaforo_core::{Colour, Indicator, RulePack, Standard};

use super::{Origin, Sheet};

pub(super) fn write(sheet: &Sheet<'_>, origin: &Origin, out: &mut dyn Write) -> io::Result<()> {
    let page = Page::new(sheet);
    let identity = sheet.results.identity();
    write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"generator\" content=\"semaforo\">\n<title>{} {} — Semáforo report</title>\n\
         <style>\n{STYLE}",
        esc(&identity.id),
        esc(&identity.version)
    )?;
    for (index, (fill, text)) in page.colours.iter().enumerate() {
        writeln!(out, ".b{index}{{background:{fill};color:{text}}}")?;
    }
    writeln!(out, "</style>\n</head>\n<body>")?;
    let selections = page.selections();
    let charts = page.charts();
    let mut sections = vec![("summary", "Summary")];
    if !selections.is_empty() {
        sections.push(("selection", "Selection"));
    }
    sections.push(("results", "Results"));
    if !sheet.results.groups().is_empty() {
        sections.push(("rollups", "Roll-ups"));
    }
    if !charts.is_empty() {
        sections.push(("charts", "Distributions"));
    }
    sections.push(("legend", "Indicators"));
    page.header(origin, &sections, out)?;
    writeln!(out, "<main>")?;
    page.summary(out)?;
    out.write_all(selections.as_bytes())?;
    page.tables(out)?;
    page.rollups(out)?;
    out.write_all(charts.as_bytes())?;
    page.legend(out)?;
    writeln!(
        out,
        "</main>\n<footer>Written by Semáforo. Click a column header to sort; \
         hover or tap a cell for its details.</footer>\n<script>\n{SCRIPT}</script>\n</body>\n</html>"
    )
}

/// What the page needs besides the sheet: band colours as CSS classes.
struct Page<'s, 'a> {
    sheet: &'s Sheet<'a>,
    /// Distinct band fills (`#rrggbb`) with their readable text colour; class `b<index>`.
    colours: Vec<(String, Colour)>,
    /// Per band set, per level: the index in `colours` of its fill.
    level_classes: Vec<Vec<Option<usize>>>,
}

impl<'s, 'a> Page<'s, 'a> {
    fn new(sheet: &'s Sheet<'a>) -> Self {
        let mut colours: Vec<(String, Colour)> = Vec::new();
        let level_classes =
            sheet
                .results
                .pack()
                .band_sets()
                .iter()
                .map(|set| {
                    set.levels
                        .iter()
                        .map(|level| {
                            let colour = level.colour?;
                            let fill = colour.to_string();
                            Some(colours.iter().position(|(f, _)| *f == fill).unwrap_or_else(
                                || {
                                    colours.push((fill, colour.text_on()));
                                    colours.len() - 1
                                },
                            ))
                        })
                        .collect()
                })
                .collect();
        Self {
            sheet,
            colours,
            level_classes,
        }
    }

    fn pack(&self) -> &RulePack {
        self.sheet.results.pack()
    }

    /// The CSS class of a band level's fill, if it has a colour.
    fn band_class(&self, indicator: &Indicator, band: Option<usize>) -> Option<usize> {
        *self.level_classes.get(indicator.band_set?)?.get(band?)?
    }

    /// The page's header: what was evaluated, with what, when; links to `sections`.
    fn header(
        &self,
        origin: &Origin,
        sections: &[(&str, &str)],
        out: &mut dyn Write,
    ) -> io::Result<()> {
        let identity = self.sheet.results.identity();
        let description = self.pack().description();
        writeln!(
            out,
            "<header class=\"top\"><div class=\"wrap\">\n<h1>{} <span class=\"version\">{}</span></h1>",
            esc(&identity.id),
            esc(&identity.version)
        )?;
        if !description.is_empty() {
            writeln!(out, "<p class=\"description\">{}</p>", esc(description))?;
        }
        let nav: Vec<String> = sections
            .iter()
            .map(|(id, title)| format!("<a href=\"#{id}\">{title}</a>"))
            .collect();
        writeln!(
            out,
            "<dl class=\"meta\">\n<dt>Pack</dt><dd>{} {}</dd>\n<dt>Hash</dt><dd><code class=\"hash\">{}</code></dd>\n\
             <dt>Data</dt><dd><code>{}</code></dd>\n<dt>Evaluated</dt><dd><time datetime=\"{at}\">{at}</time></dd>\n</dl>\n\
             <nav>{}</nav>\n</div></header>",
            esc(&identity.id),
            esc(&identity.version),
            esc(&identity.content_hash),
            esc(&origin.data),
            nav.join(" "),
            at = origin.utc_iso8601(),
        )
    }

    /// A standard as displayed: rounded with the unit's suffix.
    fn standard(&self, indicator: &Indicator, standard: Standard) -> String {
        match standard {
            Standard::Target(v) => self.sheet.displayed(indicator, v),
            Standard::Range { min, max } => format!(
                "{}..{}",
                self.sheet.displayed(indicator, min),
                self.sheet.displayed(indicator, max)
            ),
            other => other.to_string(),
        }
    }
}

/// Text escaped for HTML content and attribute values.
fn esc(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            c => escaped.push(c),
        }
    }
    escaped
}

/// The page's CSS: readable on a phone (tables scroll sideways, the entity column stays put).
const STYLE: &str = r#":root{--fg:#1f2328;--muted:#59636e;--line:#d1d9e0;--bg:#f6f8fa}
*{box-sizing:border-box}
body{margin:0;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:var(--fg);background:var(--bg)}
.wrap,main{max-width:1280px;margin:0 auto;padding:0 1rem}
header.top{background:#24292f;color:#fff;padding:1rem 0}
header.top h1{margin:.2rem 0;font-size:1.5rem}
header.top .version{font-weight:400;opacity:.8}
header.top .description{margin:.3rem 0 .6rem;opacity:.9;max-width:60rem}
header.top a{color:#9ecbff;margin-right:1rem}
dl.meta{display:grid;grid-template-columns:max-content 1fr;gap:.1rem 1rem;margin:.5rem 0}
dl.meta dt{opacity:.7}dl.meta dd{margin:0;overflow-wrap:anywhere}
code{font:.9em ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
h2{margin:1.6rem 0 .6rem;font-size:1.25rem;border-bottom:1px solid var(--line);padding-bottom:.2rem}
h3{margin:1rem 0 .4rem;font-size:1.05rem}
h3 small{color:var(--muted);font-weight:400}
.chips{display:flex;flex-wrap:wrap;gap:.4rem}
.chip{display:inline-block;padding:.15rem .6rem;border-radius:1rem;border:1px solid rgba(0,0,0,.12);white-space:nowrap}
.chip.nob{background:#fff;color:var(--fg)}
.chip.errors{background:#fff8c5;color:#6b4c00}
.selections{color:var(--muted)}
.scroll{overflow-x:auto;-webkit-overflow-scrolling:touch;border:1px solid var(--line);border-radius:6px;background:#fff;max-width:100%}
table{border-collapse:collapse;font-size:.85rem;font-variant-numeric:tabular-nums}
th,td{padding:.3rem .55rem;border-bottom:1px solid var(--line);text-align:right;white-space:nowrap}
th{background:#eef1f4;cursor:pointer;white-space:normal;min-width:5.5rem;max-width:11rem;vertical-align:bottom;font-weight:600;user-select:none}
th:hover,th:focus{background:#dde3ea;outline:none}
th[aria-sort=ascending]::after{content:" \25B2";font-size:.7em}
th[aria-sort=descending]::after{content:" \25BC";font-size:.7em}
.k{text-align:left;position:sticky;left:0;background:#fff;z-index:1;font-weight:600}
th.k{background:#eef1f4;z-index:2}
tr.selected .k{background:#ddf4ff}
td.sel{color:#0550ae;font-weight:600}
td.t{text-align:left}
td.err{background:repeating-linear-gradient(135deg,#fff8c5 0 6px,#fff 6px 12px);color:#6b4c00;cursor:help;text-align:left}
td[title]{cursor:help}
.chart{background:#fff;border:1px solid var(--line);border-radius:6px;margin:0 0 1rem;padding:.5rem}
.chart figcaption{font-weight:600;margin-bottom:.3rem}
.chart figcaption small{font-weight:400;color:var(--muted)}
.chart svg{width:100%;height:auto;display:block}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(320px,1fr));gap:1rem}
.grid .chart{margin:0}
svg text{font-size:11px;fill:var(--fg)}
svg .tick{fill:var(--muted)}
svg .grid{stroke:#eaeef2;stroke-width:1}
svg .axis{stroke:#8c959f;stroke-width:1}
svg .cumulative{fill:none;stroke:#cf222e;stroke-width:2}
svg .cut{stroke:#1f2328;stroke-width:1.5;stroke-dasharray:6 4}
svg .cut-label{font-weight:600}
svg text.item.selected{font-weight:700;fill:#0550ae}
svg .standard{stroke:#1f2328;stroke-width:1.5;stroke-dasharray:4 3}
svg .standard-label{font-weight:600}
.key{font-size:.85rem;color:var(--muted);margin:.3rem 0 0}
.sw{display:inline-block;width:.9rem;height:.9rem;vertical-align:-.1rem;margin:0 .2rem 0 .6rem;border-radius:2px}
.sw.line{height:0;border-top:2px solid #cf222e;vertical-align:.25rem}
.sw.dash{height:0;border-top:2px dashed #1f2328;vertical-align:.25rem}
dl.legend dt{font-weight:600;margin-top:1rem}
dl.legend dd{margin:.2rem 0 0 0;padding-left:.8rem;border-left:3px solid var(--line)}
dl.legend p{margin:.2rem 0}
.facts,.formula-kind{color:var(--muted);font-size:.9rem}
pre.formula{background:#fff;border:1px solid var(--line);border-radius:6px;padding:.4rem .6rem;overflow-x:auto;margin:.2rem 0;white-space:pre-wrap;overflow-wrap:anywhere}
footer{color:var(--muted);font-size:.85rem;text-align:center;padding:2rem 1rem}
@media (max-width:640px){body{font-size:14px}.wrap,main{padding:0 .5rem}header.top h1{font-size:1.2rem}
th,td{padding:.25rem .4rem}table{font-size:.8rem}.grid{grid-template-columns:1fr}}
"#;

/// Sortable tables: a click (or Enter) on a header sorts by that column,
/// numbers by their exact value's `data-v`, empty cells last; then the page
/// marks itself ready (`data-ready="yes"` on `<html>`), or `data-js-error`
/// if a script error happened.
const SCRIPT: &str = r#"(function () {
  'use strict';
  var root = document.documentElement;
  window.addEventListener('error', function (e) {
    root.setAttribute('data-js-error', String(e.message || 'error'));
  });
  function key(cell, numeric) {
    var v = cell ? cell.getAttribute('data-v') : null;
    if (numeric) {
      if (v === null) { v = cell ? cell.textContent : ''; }
      var x = parseFloat(v);
      return isNaN(x) ? null : x;
    }
    var t = v === null ? (cell ? cell.textContent : '') : v;
    return t === '' ? null : t;
  }
  function sortBy(table, th, index) {
    var numeric = th.getAttribute('data-type') === 'num';
    var ascending = th.getAttribute('aria-sort') !== 'ascending';
    var heads = th.parentNode.cells;
    for (var h = 0; h < heads.length; h++) { heads[h].removeAttribute('aria-sort'); }
    th.setAttribute('aria-sort', ascending ? 'ascending' : 'descending');
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    var keyed = rows.map(function (row, i) { return [key(row.cells[index], numeric), i, row]; });
    keyed.sort(function (a, b) {
      var x = a[0], y = b[0];
      if (x === null || y === null) { return x === y ? a[1] - b[1] : (x === null ? 1 : -1); }
      var c = numeric ? (x < y ? -1 : (x > y ? 1 : 0)) : String(x).localeCompare(String(y), undefined, {numeric: true});
      return c === 0 ? a[1] - b[1] : (ascending ? c : -c);
    });
    var fragment = document.createDocumentFragment();
    keyed.forEach(function (k) { fragment.appendChild(k[2]); });
    body.appendChild(fragment);
  }
  var tables = document.querySelectorAll('table.sortable');
  Array.prototype.forEach.call(tables, function (table) {
    if (!table.tHead || !table.tBodies.length) { return; }
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, index) {
      th.tabIndex = 0;
      th.setAttribute('role', 'button');
      th.addEventListener('click', function () { sortBy(table, th, index); });
      th.addEventListener('keydown', function (e) {
        if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); sortBy(table, th, index); }
      });
    });
  });
  root.setAttribute('data-ready', 'yes');
})();
"#;

#[cfg(test)]
mod tests {
    use super::esc;

    #[test]
    fn escapes_markup() {
        assert_eq!(
            esc(r#"<a href="x">&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;"
        );
    }
}

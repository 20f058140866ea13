//! `semaforo eval --format html`: the page of the shipped examples holds
//! what it should (hash, values as displayed, band colours, the Pareto chart
//! of the selection), fetches nothing, and renders in a real headless
//! Chromium without console errors.
//!
//! The browser test needs `chromium` (or `chromium-browser`) on the `PATH`;
//! without one it is skipped, unless `SEMAFORO_REQUIRE_BROWSER=1` (CI sets
//! it), when it fails.
#![expect(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a broken fixture should fail the test loudly"
)]

mod support;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use semaforo::round_for_display;
use support::{PRIORIZACION, SAGRARIO, eval};

/// One run of the example in HTML (written to a file) and in CSV.
struct Run {
    html: String,
    stderr: String,
    csv: Vec<csv::StringRecord>,
    headers: csv::StringRecord,
    file: PathBuf,
    _dir: tempfile::TempDir,
}

impl Run {
    fn of((pack, data): (&str, &str)) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("report.html");
        let output = eval(
            pack,
            data,
            &["--format", "html", "--output", file.to_str().unwrap()],
        );
        let stderr = String::from_utf8(output.stderr).unwrap();
        assert!(output.status.success(), "{stderr}");
        let html = fs::read_to_string(&file).unwrap();
        let output = eval(pack, data, &["--format", "csv"]);
        assert!(output.status.success());
        let mut reader = csv::Reader::from_reader(output.stdout.as_slice());
        let headers = reader.headers().unwrap().clone();
        let csv = reader.records().map(Result::unwrap).collect();
        Self {
            html,
            stderr,
            csv,
            headers,
            file,
            _dir: dir,
        }
    }

    /// The CSV record of `entity` (and `period`) × `indicator`.
    fn record(&self, entity: &str, period: Option<&str>, indicator: &str) -> &csv::StringRecord {
        let column = |name: &str| self.headers.iter().position(|h| h == name).unwrap();
        self.csv
            .iter()
            .find(|r| {
                r[column("entity")] == *entity
                    && period.is_none_or(|p| r[column("period")] == *p)
                    && r[column("indicator")] == *indicator
            })
            .unwrap()
    }

    fn field<'r>(&self, record: &'r csv::StringRecord, name: &str) -> &'r str {
        &record[self.headers.iter().position(|h| h == name).unwrap()]
    }
}

/// The page fetches nothing: no absolute URL anywhere, no `src=`, links only to its own sections.
fn assert_self_contained(html: &str) {
    let lower = html.to_ascii_lowercase();
    for forbidden in [
        "http://", "https://", "@import", "url(", " src=", "//cdn", "<link",
    ] {
        assert!(
            !lower.contains(forbidden),
            "the page refers to `{forbidden}`"
        );
    }
    for (at, _) in lower.match_indices("href=\"") {
        let target = &lower[at + 6..];
        assert!(
            target.starts_with('#'),
            "external link: {}",
            &target[..40.min(target.len())]
        );
    }
}

/// The CSS class whose fill is `colour` (`.bN{background:#rrggbb;…}`).
fn class_of(html: &str, colour: &str) -> String {
    let rule = format!("{{background:{colour};");
    let at = html
        .find(&rule)
        .unwrap_or_else(|| panic!("no class for {colour}"));
    let start = html[..at].rfind('.').unwrap();
    html[start + 1..at].to_owned()
}

#[test]
fn sagrario_report_shows_hash_values_band_colours_and_errors() {
    let run = Run::of(SAGRARIO);
    let html = &run.html;
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert_self_contained(html);
    // The pack's identity, in full, and the data file.
    let hash_line = run
        .stderr
        .lines()
        .find(|l| l.starts_with("sagrario 2.0.0 ("))
        .unwrap();
    let at = "sagrario 2.0.0 (".len();
    let short = &hash_line[at..at + 12];
    let full = html
        .split("<code class=\"hash\">")
        .nth(1)
        .and_then(|rest| rest.split('<').next())
        .unwrap();
    assert_eq!(full.len(), 64, "{full}");
    assert!(full.starts_with(short), "{full} vs {short}");
    assert!(html.contains("examples/sagrario/balances.csv"));
    assert!(html.contains("<time datetime=\"20"), "an ISO 8601 time");
    // A known value as the table shows it: 2008 delinquency, 2 decimals, `%`.
    let morosidad = run.record("COAC_EL_SAGRARIO", Some("2008-12"), "morosidad");
    let exact = run.field(morosidad, "value");
    let shown = format!("{}%", round_for_display(exact.parse().unwrap(), 2));
    assert_eq!(shown, "2.87%");
    assert_eq!(run.field(morosidad, "band"), "CUMPLIO");
    // The cell carries its exact value, its band's colour and the displayed value.
    let green = class_of(html, "#2e7d32");
    let red = class_of(html, "#c62828");
    assert!(
        html.contains(&format!(
            "<td class=\"{green}\" data-v=\"{exact}\" title=\"CUMPLIO"
        )),
        "the delinquency cell is green"
    );
    assert!(html.contains(&format!("\">{shown}</td>")));
    assert!(html.contains(&format!(".{green}{{background:#2e7d32;color:#ffffff}}")));
    assert!(html.contains(&format!("<td class=\"{red}\" data-v=")));
    // Summary: counts per band in the band colours, and the errors.
    let cumplio = run
        .csv
        .iter()
        .filter(|r| run.field(r, "band") == "CUMPLIO")
        .count();
    assert!(html.contains(&format!(
        "<span class=\"chip {green}\" data-band=\"CUMPLIO\"><b>{cumplio}</b> CUMPLIO</span>"
    )));
    let errors = run
        .csv
        .iter()
        .filter(|r| !run.field(r, "error").is_empty())
        .count();
    assert_eq!(errors, 11);
    assert!(html.contains(&format!("data-errors=\"{errors}\"")));
    assert_eq!(html.matches("<td class=\"err\"").count(), errors);
    // Error messages are in the cells' titles, escaped.
    assert!(html.contains(
        "title=\"saldo(&quot;1401+1411+1421&quot;) for entity `COAC_EL_SAGRARIO` period `2007-12`"
    ));
    // One table per peer group; the legend has each formula (escaped) and standard.
    assert!(html.contains("<h3>Peer group: pequeñas"));
    assert!(html.contains("<dt id=\"ind-morosidad\">"));
    assert!(html.contains("percent(saldo(&quot;"));
    assert!(html.contains("standard <b class=\"standard\">4.00%</b>"));
    // No raw markup from data or rules leaked unescaped.
    assert!(!html.contains("saldo(\"1401"));
}

#[test]
fn priorizacion_report_draws_the_pareto_chart_of_the_selection() {
    let run = Run::of(PRIORIZACION);
    let html = &run.html;
    assert_self_contained(html);
    // eval's own summary: "priorizacion: 9 of 44 selected (…)".
    let summary = run
        .stderr
        .lines()
        .find(|l| l.starts_with("priorizacion:"))
        .unwrap();
    let words: Vec<&str> = summary.split_whitespace().collect();
    let selected: usize = words[1].parse().unwrap();
    let items: usize = words[3].parse().unwrap();
    assert_eq!((selected, items), (9, 44), "{summary}");
    assert!(
        html.contains(summary),
        "the page repeats the selection summary"
    );
    // The chart: one bar per item, exactly the selected ones marked.
    let start = html.find("<svg class=\"pareto\"").expect("a Pareto chart");
    let svg = &html[start..start + html[start..].find("</svg>").unwrap()];
    assert_eq!(svg.matches("<rect class=\"bar").count(), items);
    assert_eq!(
        svg.matches("<rect class=\"bar selected\"").count(),
        selected
    );
    // … and they are the items the CSV selects.
    let mut chosen: Vec<&str> = svg
        .match_indices("<rect class=\"bar selected\" data-item=\"")
        .map(|(at, m)| {
            let rest = &svg[at + m.len()..];
            &rest[..rest.find('"').unwrap()]
        })
        .collect();
    chosen.sort_unstable();
    let mut expected: Vec<&str> = run
        .csv
        .iter()
        .filter(|r| run.field(r, "selected") == "true")
        .map(|r| run.field(r, "entity"))
        .collect();
    expected.sort_unstable();
    assert_eq!(chosen, expected);
    // Bars best first: the first is a total of 15, the last the lowest (5, B.9).
    let first = svg.find("<rect class=\"bar").unwrap();
    assert!(svg[first..].starts_with("<rect class=\"bar selected\" data-item=\"B.1\""));
    assert!(svg.contains("<title>#44 B.9: 5</title>"));
    assert!(svg.contains("<polyline class=\"cumulative\""));
    assert_eq!(
        svg.matches("class=\"cut\"").count(),
        2,
        "cut after the 9th bar and at 13"
    );
    assert!(svg.contains(">cut 13</text>"));
    // The score column is in the table with its rank, and a known value.
    let b1 = run.record("B.1", None, "priorizacion");
    assert_eq!(run.field(b1, "value"), "15");
    assert!(html.contains("<td data-v=\"15\" title=\"\">15</td>"));
    // Distributions: the score across the 44 processes.
    assert!(html.contains("<figure class=\"chart distribution\" data-indicator=\"priorizacion\">"));
    // The legend shows the generated formula.
    assert!(
        html.contains("priorizacion_frecuencia + priorizacion_impacto + priorizacion_satisfaccion")
    );
}

/// A Chromium on the `PATH`, if any.
fn chromium() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .flat_map(|name| std::env::split_paths(&path).map(move |dir| dir.join(name)))
        .find(|candidate| candidate.is_file())
}

/// Runs headless Chromium on `page` with `args`; gives (stdout, stderr).
fn headless(browser: &Path, page: &Path, args: &[&str]) -> (String, String) {
    let profile = tempfile::tempdir().unwrap();
    let mut child = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-dev-shm-usage",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(args)
        .arg(format!("file://{}", page.display()))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("chromium starts");
    let stdout = child.stdout.take().unwrap();
    let stderr = child.stderr.take().unwrap();
    let out = std::thread::spawn(move || std::io::read_to_string(stdout).unwrap_or_default());
    let err = std::thread::spawn(move || std::io::read_to_string(stderr).unwrap_or_default());
    let started = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        if started.elapsed() > Duration::from_secs(120) {
            child.kill().unwrap();
            child.wait().unwrap();
            panic!(
                "chromium did not finish within 2 minutes on {}",
                page.display()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    (out.join().unwrap(), err.join().unwrap())
}

/// What went wrong running `page`'s scripts: console messages (Chromium
/// logs every one as `…:CONSOLE:…` on stderr; the page logs nothing, so any
/// is an error: an uncaught exception, a failed load), the page's own error
/// marker, or a missing ready marker (the script did not run to its end).
fn script_problems(dom: &str, log: &str) -> Vec<String> {
    let mut problems: Vec<String> = log
        .lines()
        .filter(|l| l.contains(":CONSOLE"))
        .map(str::to_owned)
        .collect();
    // The markers are attributes of the `<html>` start tag (the script's own text names them too).
    let start = dom.find("<html").map_or("", |at| {
        let tag = &dom[at..];
        &tag[..tag.find('>').unwrap_or(tag.len())]
    });
    if let Some(at) = start.find("data-js-error=") {
        problems.push(format!("the page marked a script error: {}", &start[at..]));
    }
    if !start.contains("data-ready=\"yes\"") {
        problems.push("the page's script did not finish (no data-ready=\"yes\")".to_owned());
    }
    problems
}

/// Appended to a copy of a page: sorts the results table by its last
/// numeric column both ways through clicks, checks the order, and marks the
/// outcome on `<html data-selftest>`.
const SORT_CHECK: &str = r#"<script>
(function () {
  var root = document.documentElement;
  var table = document.querySelector('table.sortable');
  var heads = table.tHead.rows[0].cells, index = -1;
  for (var i = 0; i < heads.length; i++) { if (heads[i].getAttribute('data-type') === 'num') { index = i; } }
  function values() {
    return Array.prototype.map.call(table.tBodies[0].rows, function (r) { return r.cells[index].getAttribute('data-v'); })
      .filter(function (v) { return v !== ''; }).map(parseFloat);
  }
  function sorted(vs, up) { for (var j = 1; j < vs.length; j++) { if (up ? vs[j - 1] > vs[j] : vs[j - 1] < vs[j]) { return false; } } return true; }
  heads[index].click();
  var up = sorted(values(), true) && heads[index].getAttribute('aria-sort') === 'ascending';
  heads[index].click();
  var down = sorted(values(), false) && heads[index].getAttribute('aria-sort') === 'descending';
  root.setAttribute('data-selftest', up && down ? 'ok' : 'failed');
})();
</script>"#;

#[test]
fn reports_render_in_headless_chromium_without_console_errors() {
    let Some(browser) = chromium() else {
        assert!(
            std::env::var("SEMAFORO_REQUIRE_BROWSER").as_deref() != Ok("1"),
            "SEMAFORO_REQUIRE_BROWSER=1 but no chromium or chromium-browser is on the PATH"
        );
        eprintln!("skipped: no chromium or chromium-browser on the PATH");
        return;
    };
    // The detection itself works: a page with a script error is caught.
    let dir = tempfile::tempdir().unwrap();
    let broken = dir.path().join("broken.html");
    fs::write(
        &broken,
        "<!DOCTYPE html><html><body><script>notDefined();</script></body></html>",
    )
    .unwrap();
    let (dom, log) = headless(&browser, &broken, &["--dump-dom"]);
    let problems = script_problems(&dom, &log);
    assert!(
        problems.iter().any(|p| p.contains("notDefined")),
        "a console error must be detected: {problems:?}\n{log}"
    );
    for example in [SAGRARIO, PRIORIZACION] {
        let run = Run::of(example);
        let (dom, log) = headless(&browser, &run.file, &["--dump-dom"]);
        let problems = script_problems(&dom, &log);
        assert!(problems.is_empty(), "{}: {problems:#?}", example.0);
        // The sortable tables sort, clicked as a user would.
        let checked = run.file.with_file_name("sort-check.html");
        fs::write(
            &checked,
            run.html.replace("</body>", &format!("{SORT_CHECK}</body>")),
        )
        .unwrap();
        let (dom, log) = headless(&browser, &checked, &["--dump-dom"]);
        assert!(script_problems(&dom, &log).is_empty(), "{log}");
        let html_tag = &dom[dom.find("<html").unwrap()..];
        let html_tag = &html_tag[..html_tag.find('>').unwrap()];
        assert!(
            html_tag.contains("data-selftest=\"ok\""),
            "{}: sorting failed: {html_tag}",
            example.0
        );
        // A screenshot: a real PNG of some size.
        let png = run.file.with_file_name("shot.png");
        let screenshot = format!("--screenshot={}", png.display());
        let (_, log) = headless(
            &browser,
            &run.file,
            &[&screenshot, "--window-size=1280,2000", "--hide-scrollbars"],
        );
        let bytes = fs::read(&png).unwrap_or_else(|e| panic!("no screenshot ({e}): {log}"));
        assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"), "not a PNG");
        assert!(
            bytes.len() > 20_000,
            "a {}-byte screenshot is blank",
            bytes.len()
        );
    }
}

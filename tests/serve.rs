//! `semaforo serve` as a client sees it: the real binary on a loopback port,
//! plain HTTP/1.1 over a `TcpStream`, a pack in a temporary directory edited
//! on disk while the server runs.
#![expect(
    clippy::unwrap_used,
    reason = "a server that does not answer should fail the test loudly"
)]

mod support;

use std::fs;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::Value;
use support::root;

/// How long a saved edit may take to go live before the test fails.
const LIVE_DEADLINE: Duration = Duration::from_secs(5);

const MANIFEST: &str = r#"[pack]
id = "serve-test"
version = "1.0.0"

[fields]
npl = "non-performing loans"
loans = "gross loans"

[[indicator]]
id = "delinquency"
unit = "percent"
direction = "lower"
standard = 4
formula = "npl / loans * 100"

[[indicator]]
id = "npl_amount"
unit = "money"
direction = "lower"
formula = "npl"
"#;

/// The line of `standard = 4` in [`MANIFEST`].
const STANDARD_LINE: usize = 13;

const CSV_ROWS: &str =
    "entity,npl,loans\nEl Sagrario,1084203.65,37734583.53\nBig,12345678901234567.89,30\n";

/// The same rows as JSON, numbers written as numbers, keys in another order.
const JSON_ROWS: &str = r#"[
  {"entity": "El Sagrario", "npl": 1084203.65, "loans": 37734583.53},
  {"loans": "30", "npl": 12345678901234567.89, "entity": "Big"}
]"#;

/// El Sagrario's delinquency against a standard of 4, 2 and 3.
const COMPLIANCE_4: &str = "71.83090076627115751819190675";
const COMPLIANCE_2: &str = "143.6618015325423150363838135";
const COMPLIANCE_3: &str = "95.77453435502821002425587567";

/// A running `semaforo serve`; killed when dropped, so a failing test leaves
/// no server behind.
struct Server {
    child: Child,
    addr: String,
    log: Arc<Mutex<Vec<String>>>,
    pack_dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    /// Starts the server on a free loopback port (`--addr 127.0.0.1:0`; the
    /// port is read from its log) over a copy of [`MANIFEST`], and waits
    /// until `/healthz` answers.
    fn start(extra: &[&str]) -> Self {
        Self::start_with(MANIFEST, extra)
    }

    /// [`Server::start`] over the pack `manifest`.
    fn start_with(manifest: &str, extra: &[&str]) -> Self {
        let pack = tempfile::tempdir().unwrap();
        fs::write(pack.path().join("pack.toml"), manifest).unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_semaforo"))
            .args(["serve", "--pack"])
            .arg(pack.path())
            .args(["--addr", "127.0.0.1:0"])
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let log = Arc::new(Mutex::new(Vec::new()));
        let stderr = child.stderr.take().unwrap();
        let lines = Arc::clone(&log);
        thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                lines.lock().unwrap().push(line);
            }
        });
        let mut server = Self {
            child,
            addr: String::new(),
            log,
            pack_dir: pack,
        };
        let started = Instant::now();
        while server.addr.is_empty() {
            if let Some(addr) = server
                .log()
                .lines()
                .find_map(|l| l.strip_prefix("semaforo: listening on http://"))
            {
                server.addr = addr.to_owned();
            } else if started.elapsed() > Duration::from_secs(30)
                || server.child.try_wait().unwrap().is_some()
            {
                panic!("the server did not start:\n{}", server.log());
            } else {
                thread::sleep(Duration::from_millis(10));
            }
        }
        assert!(server.addr.starts_with("127.0.0.1:"), "{}", server.addr);
        let health = server.get("/healthz");
        assert_eq!((health.status, health.body.as_str()), (200, "ok"));
        server
    }

    fn pack_dir(&self) -> &Path {
        self.pack_dir.path()
    }

    fn log(&self) -> String {
        self.log.lock().unwrap().join("\n")
    }

    fn get(&self, path: &str) -> Reply {
        http(&self.addr, "GET", path, None, b"")
    }

    fn post(&self, content_type: &str, body: &str) -> Reply {
        http(
            &self.addr,
            "POST",
            "/v1/evaluate",
            Some(content_type),
            body.as_bytes(),
        )
    }

    /// `GET /v1/pack`, parsed.
    fn pack(&self) -> Value {
        let reply = self.get("/v1/pack");
        assert_eq!(reply.status, 200, "{}", reply.body);
        reply.json()
    }

    /// Polls `check` until it holds or [`LIVE_DEADLINE`] passes.
    fn poll(&self, what: &str, mut check: impl FnMut() -> bool) {
        let started = Instant::now();
        while !check() {
            assert!(
                started.elapsed() < LIVE_DEADLINE,
                "{what}: not within {LIVE_DEADLINE:?}; server log:\n{}",
                self.log()
            );
            thread::sleep(Duration::from_millis(20));
        }
    }
}

/// One HTTP response.
#[derive(Debug)]
struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }

    /// The `error` object of a refusal, which must have `status` and `kind`.
    fn error(&self, status: u16, kind: &str) -> Value {
        assert_eq!(self.status, status, "{}", self.body);
        let error = self.json()["error"].clone();
        assert_eq!(error["kind"], kind, "{error}");
        error
    }

    fn generation(&self) -> u64 {
        self.header("x-semaforo-generation")
            .unwrap()
            .parse()
            .unwrap()
    }

    /// The `field` of the result record for `entity` × `indicator`.
    fn cell(&self, entity: &str, indicator: &str, field: &str) -> Value {
        assert_eq!(self.status, 200, "{}", self.body);
        self.json()
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["entity"] == entity && r["indicator"] == indicator)
            .unwrap_or_else(|| panic!("no {entity} × {indicator} in {}", self.body))[field]
            .clone()
    }
}

/// A minimal HTTP/1.1 client: one request per connection.
fn http(addr: &str, method: &str, path: &str, content_type: Option<&str>, body: &[u8]) -> Reply {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    if let Some(content_type) = content_type {
        request.push_str(&format!("Content-Type: {content_type}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).unwrap();
    stream.write_all(body).unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).unwrap();
    let (status, headers, body) = parts(&raw);
    let mut body = body.to_vec();
    let chunked = headers.iter().any(|(n, v)| {
        n.eq_ignore_ascii_case("transfer-encoding") && v.eq_ignore_ascii_case("chunked")
    });
    if chunked {
        body = dechunk(&body);
    }
    Reply {
        status,
        headers,
        body: String::from_utf8(body).unwrap(),
    }
}

/// A raw response's status, headers and body (as sent: chunked or not).
fn parts(raw: &[u8]) -> (u16, Vec<(String, String)>, &[u8]) {
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no header end in {:?}", String::from_utf8_lossy(raw)));
    let head = String::from_utf8(raw[..split].to_vec()).unwrap();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
        .collect();
    (status, headers, &raw[split + 4..])
}

/// The payload of a `Transfer-Encoding: chunked` body.
fn dechunk(mut raw: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    loop {
        let end = raw.windows(2).position(|w| w == b"\r\n").unwrap();
        let size =
            usize::from_str_radix(std::str::from_utf8(&raw[..end]).unwrap().trim(), 16).unwrap();
        if size == 0 {
            return body;
        }
        body.extend_from_slice(&raw[end + 2..end + 2 + size]);
        raw = &raw[end + 2 + size + 2..];
    }
}

#[test]
fn evaluates_json_and_csv_rows_exactly_as_eval_writes_them() {
    let server = Server::start(&[]);

    let csv = server.post("text/csv; charset=utf-8", CSV_ROWS);
    assert_eq!(csv.status, 200, "{}", csv.body);
    assert_eq!(csv.header("content-type"), Some("application/json"));
    assert_eq!(csv.header("x-semaforo-pack"), Some("serve-test 1.0.0"));
    assert_eq!(csv.generation(), 1);
    let hash = csv.header("x-semaforo-hash").unwrap().to_owned();
    assert_eq!(hash.len(), 64, "{hash}");

    // Byte for byte what `semaforo eval --format json` writes for the same data.
    let data = server.pack_dir().join("rows.csv");
    fs::write(&data, CSV_ROWS).unwrap();
    let eval = Command::new(env!("CARGO_BIN_EXE_semaforo"))
        .args(["eval", "--quiet", "--format", "json", "--pack"])
        .arg(server.pack_dir())
        .arg("--data")
        .arg(&data)
        .current_dir(root())
        .output()
        .unwrap();
    assert!(eval.status.success());
    assert_eq!(csv.body, String::from_utf8(eval.stdout).unwrap());

    // JSON numbers keep every digit: no f64 anywhere.
    let json = server.post("application/json", JSON_ROWS);
    assert_eq!(json.body, csv.body);
    assert_eq!(
        json.cell("Big", "npl_amount", "value"),
        "12345678901234567.89"
    );
    assert_eq!(
        json.cell("El Sagrario", "delinquency", "value"),
        "2.87323603065084630072767627"
    );
    assert_eq!(
        json.cell("El Sagrario", "delinquency", "compliance"),
        COMPLIANCE_4
    );

    // A bad cell is a cell error in the results, not a refused request.
    let bad_cell = server.post(
        "application/json",
        r#"[{"entity": "X", "npl": "12x", "loans": 3}]"#,
    );
    let error = bad_cell.cell("X", "delinquency", "error");
    assert_eq!(error["kind"], "invalid_value", "{error}");
    assert!(
        error["message"].as_str().unwrap().contains("`12x`"),
        "{error}"
    );

    let pack = server.pack();
    assert_eq!(pack["id"], "serve-test");
    assert_eq!(pack["version"], "1.0.0");
    assert_eq!(pack["hash"], hash.as_str());
    assert_eq!(pack["generation"], 1);
    assert_eq!(pack["last_reload_error"], Value::Null);
    assert_eq!(
        pack["indicators"][0],
        serde_json::json!({
            "id": "delinquency",
            "name": "delinquency",
            "unit": "percent",
            "direction": "lower",
            "standard": "4"
        })
    );
    assert_eq!(pack["indicators"][1]["standard"], Value::Null);
}

#[test]
fn edits_go_live_and_a_broken_save_keeps_the_last_good_rules() {
    let server = Server::start(&[]);
    let manifest = server.pack_dir().join("pack.toml");
    let compliance = |reply: &Reply| reply.cell("El Sagrario", "delinquency", "compliance");

    let first = server.post("application/json", JSON_ROWS);
    assert_eq!(compliance(&first), COMPLIANCE_4);
    assert_eq!(first.generation(), 1);

    // A new standard: the next responses use it.
    fs::write(&manifest, MANIFEST.replace("standard = 4", "standard = 2")).unwrap();
    let mut live = server.post("application/json", JSON_ROWS);
    server.poll("the new standard going live", || {
        live = server.post("application/json", JSON_ROWS);
        compliance(&live) == COMPLIANCE_2
    });
    let good = live.generation();
    assert!(good > 1, "generation {good}");
    assert_eq!(live.header("x-semaforo-pack"), Some("serve-test 1.0.0"));

    // A syntax error: refused with its place, and the last good rules keep serving.
    fs::write(
        &manifest,
        MANIFEST.replace("standard = 4", "standard = = 3"),
    )
    .unwrap();
    let location = format!("pack.toml:{STANDARD_LINE}:12: error[SEM");
    let mut pack = server.pack();
    server.poll("the broken save being refused", || {
        pack = server.pack();
        pack["last_reload_error"]["errors"]
            .as_array()
            .is_some_and(|errors| {
                errors
                    .iter()
                    .any(|e| e.as_str().unwrap().contains(&location))
            })
    });
    assert_eq!(pack["generation"], good, "{pack}");
    assert_eq!(pack["last_reload_error"]["serving_generation"], good);
    let during = server.post("application/json", JSON_ROWS);
    assert_eq!(during.generation(), good);
    assert_eq!(during.body, live.body);
    assert!(
        server.log().contains(&location),
        "the refusal is logged with its diagnostics:\n{}",
        server.log()
    );

    // Fixed: live, with a higher generation, and the error is gone.
    fs::write(&manifest, MANIFEST.replace("standard = 4", "standard = 3")).unwrap();
    server.poll("the fix going live", || {
        live = server.post("application/json", JSON_ROWS);
        compliance(&live) == COMPLIANCE_3
    });
    assert!(live.generation() > good, "generation {}", live.generation());
    let pack = server.pack();
    assert_eq!(pack["last_reload_error"], Value::Null, "{pack}");
    assert_eq!(pack["indicators"][0]["standard"], "3");
    assert_eq!(
        pack["hash"].as_str(),
        live.header("x-semaforo-hash"),
        "the pack and the results name the same version"
    );
}

#[test]
fn bad_requests_get_a_json_error_naming_the_problem() {
    let server = Server::start(&["--max-body", "2048"]);
    let refused = |reply: Reply, status: u16, kind: &str| -> Value {
        let error = reply.error(status, kind);
        assert_eq!(reply.header("content-type"), Some("application/json"));
        assert!(error["message"].as_str().is_some_and(|m| !m.is_empty()));
        error
    };

    let error = refused(
        server.post("text/plain", CSV_ROWS),
        415,
        "unsupported_media_type",
    );
    assert_eq!(error["field"], "Content-Type");
    refused(
        http(
            &server.addr,
            "POST",
            "/v1/evaluate",
            None,
            CSV_ROWS.as_bytes(),
        ),
        415,
        "unsupported_media_type",
    );

    let error = refused(
        server.post("application/json", "[\n  {\"entity\": \"A\",}\n]"),
        400,
        "malformed_json",
    );
    assert_eq!(
        (error["line"].clone(), error["column"].clone()),
        (2.into(), 18.into()),
        "{error}"
    );

    refused(
        server.post("application/json", r#"{"entity": "A"}"#),
        400,
        "not_an_array",
    );
    let error = refused(
        server.post("application/json", r#"[{"entity": "A"}, ["B", 1]]"#),
        400,
        "not_an_object",
    );
    assert_eq!(error["field"], "$[1]");
    let error = refused(
        server.post("application/json", r#"[{"entity": "A", "npl": true}]"#),
        400,
        "invalid_value",
    );
    assert_eq!(error["field"], "$[0].npl");

    let error = refused(
        server.post("text/csv", "name,npl\nA,1\n"),
        400,
        "missing_column",
    );
    assert_eq!(error["field"], "entity");
    let big = format!("entity,npl\n{}", "A,1\n".repeat(1000));
    refused(server.post("text/csv", &big), 413, "body_too_large");

    refused(server.get("/v1/nothing"), 404, "not_found");
    refused(server.get("/v1/evaluate"), 405, "method_not_allowed");

    // Still serving after all of that.
    let ok = server.post("text/csv", CSV_ROWS);
    assert_eq!(
        ok.cell("Big", "npl_amount", "value"),
        "12345678901234567.89"
    );
}

/// Parses one response from `raw`, as [`http`] does (its body not dechunked).
fn reply(raw: &[u8]) -> Reply {
    let (status, headers, body) = parts(raw);
    Reply {
        status,
        headers,
        body: String::from_utf8(body.to_vec()).unwrap(),
    }
}

/// Reads until the server closes the connection (bounded by a read timeout,
/// so a server that never closes fails the test instead of hanging it).
fn read_until_closed(stream: &mut TcpStream) -> Vec<u8> {
    stream
        .set_read_timeout(Some(Duration::from_secs(15)))
        .unwrap();
    let mut raw = Vec::new();
    let mut buffer = [0; 4096];
    loop {
        match stream.read(&mut buffer) {
            Ok(0) => return raw,
            Ok(n) => raw.extend_from_slice(&buffer[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return raw,
            Err(e) => panic!("the server kept the connection open: {e} after {raw:?}"),
        }
    }
}

/// A POST head for `length` bytes of CSV, without the body.
fn head(addr: &str, length: usize) -> String {
    format!(
        "POST /v1/evaluate HTTP/1.1\r\nHost: {addr}\r\nContent-Type: text/csv\r\nContent-Length: {length}\r\n\r\n"
    )
}

#[test]
fn a_busy_server_answers_503_before_reading_the_body_and_slow_clients_are_cut_off() {
    let server = Server::start(&[
        "--max-concurrent",
        "1",
        "--body-timeout",
        "1s",
        "--header-timeout",
        "1s",
    ]);

    // A sends its head and half its body, then stalls: it holds the only slot.
    let mut stalled = TcpStream::connect(&server.addr).unwrap();
    let body = CSV_ROWS.as_bytes();
    stalled
        .write_all(head(&server.addr, body.len()).as_bytes())
        .unwrap();
    stalled.write_all(&body[..body.len() / 2]).unwrap();
    thread::sleep(Duration::from_millis(300));

    // B declares 9.5 MB and sends none of it: answered at once, body unread.
    let mut busy = TcpStream::connect(&server.addr).unwrap();
    busy.write_all(head(&server.addr, 9_500_000).as_bytes())
        .unwrap();
    let refused = reply(&read_until_closed(&mut busy));
    refused.error(503, "busy");
    assert_eq!(refused.header("retry-after"), Some("1"));
    assert_eq!(refused.header("connection"), Some("close"));

    // A's half-sent body times out: 408, and the connection is closed.
    let error = reply(&read_until_closed(&mut stalled)).error(408, "body_timeout");
    assert_eq!(
        error["message"],
        "the request body did not arrive whole within 1 s (--body-timeout); send it in one go, or fewer rows per request"
    );

    // An idle connection, and one whose head never ends, are closed.
    let mut idle = TcpStream::connect(&server.addr).unwrap();
    assert!(read_until_closed(&mut idle).is_empty());
    let mut slow_head = TcpStream::connect(&server.addr).unwrap();
    slow_head
        .write_all(b"POST /v1/evaluate HTTP/1.1\r\nHost: x\r\n")
        .unwrap();
    let closed = read_until_closed(&mut slow_head);
    assert!(
        closed.is_empty() || String::from_utf8_lossy(&closed).starts_with("HTTP/1.1 408"),
        "{closed:?}"
    );

    // A keep-alive connection is closed once idle for the header timeout.
    let mut kept = TcpStream::connect(&server.addr).unwrap();
    kept.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let answered = reply(&read_until_closed(&mut kept));
    assert_eq!((answered.status, answered.body.as_str()), (200, "ok"));

    // The slot is free again.
    let ok = server.post("text/csv", CSV_ROWS);
    assert_eq!(
        ok.cell("Big", "npl_amount", "value"),
        "12345678901234567.89"
    );
}

#[test]
fn an_evaluation_past_the_deadline_is_answered_503_and_cancelled() {
    let spinning = MANIFEST.replace("formula = \"npl\"", "formula = \"loop {}\"");
    let server = Server::start_with(
        &spinning,
        &["--max-concurrent", "1", "--request-timeout", "300ms"],
    );
    let rows: String = (0..200).map(|i| format!("E{i},1,2\n")).collect();
    let late = server.post("text/csv", &format!("entity,npl,loans\n{rows}"));
    let error = late.error(503, "evaluation_timeout");
    assert_eq!(
        error["message"],
        "the evaluation did not finish within 300 ms (--request-timeout); send fewer rows per request"
    );
    // The abandoned evaluation holds its slot until it stops, and it stops
    // at the deadline: run to its end, 200 cells of `loop {}` would keep the
    // only slot for minutes (each cell stopped by the time limit, 1 s).
    let mut next = server.post("text/csv", CSV_ROWS);
    for _ in 0..100 {
        if next.status == 200 {
            break;
        }
        assert_eq!(next.json()["error"]["kind"], "busy", "{}", next.body);
        thread::sleep(Duration::from_millis(50));
        next = server.post("text/csv", CSV_ROWS);
    }
    assert_eq!(next.status, 200, "{}", next.body);
    assert_eq!(server.get("/healthz").body, "ok");
}
